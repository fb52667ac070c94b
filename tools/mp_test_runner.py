# Runs tests/device/test_*.py on the MicroPython unix port (the same files pytest runs under CPython).
# Test files are plain modules with test_* functions and asserts; files named test_prop_* use
# hypothesis and are CPython-only. A test that raises an exception named SkipTest (tests/device/mpcompat.py,
# skip()) is reported as skipped. Usage: micropython -X heapsize=512K tools/mp_test_runner.py tests/device
# (or one file: ... tests/device/test_x.py)
# Given a folder, it runs each file in an interpreter of its own (this one, again, with the same heap size):
# a fresh heap per file, as a board has after a reset. In one process the interpreter's name pools, which are
# never freed and grow in doubling blocks, ended up scattered over the heap, and a test that needs one big
# buffer failed there or not depending on what ran before it ("MemoryError ... allocating 17028 bytes").
import gc
import os
import sys
import time


def run_folder(root):
    heap_kb = (gc.mem_alloc() + gc.mem_free()) // 1024
    counts = "/tmp/mp_test_runner.%d" % time.time_ns()  # each file's run appends "passed failed skipped"
    bad_files = 0
    for fname in sorted(os.listdir(root)):
        if fname.startswith("test_") and fname.endswith(".py") and not fname.startswith("test_prop_"):
            if os.system("%s -X heapsize=%dK %s %s/%s %s" % (sys.executable, heap_kb, sys.argv[0], root, fname,
                                                             counts)):
                bad_files += 1
    totals = [0, 0, 0]
    try:
        with open(counts) as f:
            for line in f:
                for i, n in enumerate(line.split()):
                    totals[i] += int(n)
        os.remove(counts)
    except OSError:
        pass
    print("micropython: %d passed, %d failed, %d skipped" % tuple(totals))
    return 0 if bad_files == 0 and totals[1] == 0 else 1


def run_file(root, fname):
    """The test_* functions of one file: (passed, failed, skipped)."""
    sys.path.insert(0, root)
    sys.path.insert(0, "device")
    sys.path.insert(0, ".")  # so `import boards` works
    passed = failed = skipped = 0
    try:
        mod = __import__(fname[:-3])
    except Exception as e:
        print("ERROR importing", fname)
        sys.print_exception(e)
        return 0, 1, 0
    for name in sorted(dir(mod)):
        fn = getattr(mod, name)
        if not name.startswith("test_") or not callable(fn):
            continue
        try:
            fn()
            passed += 1
        except Exception as e:
            if type(e).__name__ == "SkipTest":
                skipped += 1
                print("SKIP", fname, name, "-", e)
                continue
            failed += 1
            print("FAIL", fname, name)
            sys.print_exception(e)
    return passed, failed, skipped


path = sys.argv[1] if len(sys.argv) > 1 else "tests/device"
if not path.endswith(".py"):
    sys.exit(run_folder(path))
root, fname = path.rsplit("/", 1) if "/" in path else (".", path)
got = run_file(root, fname)
if len(sys.argv) > 2:  # run by run_folder, which sums the counts
    with open(sys.argv[2], "a") as f:
        f.write("%d %d %d\n" % got)
else:
    print("micropython: %d passed, %d failed, %d skipped" % got)
sys.exit(1 if got[1] else 0)
