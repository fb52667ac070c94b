# Runs tests/device/test_*.py on the MicroPython unix port (the same files pytest runs under CPython).
# Test files are plain modules with test_* functions and asserts; files named test_prop_* use
# hypothesis and are CPython-only. A test that raises an exception named SkipTest (tests/device/mpcompat.py,
# skip()) is reported as skipped. Usage: micropython tools/mp_test_runner.py tests/device
# (or one file: ... tests/device/test_x.py)
import gc
import os
import sys

root = sys.argv[1] if len(sys.argv) > 1 else "tests/device"
only = None
if root.endswith(".py"):  # one test file: tests/device/test_x.py
    root, only = root.rsplit("/", 1) if "/" in root else (".", root)
sys.path.insert(0, root)
sys.path.insert(0, "device")
sys.path.insert(0, ".")  # so `import boards` works

passed = 0
failed = 0
skipped = 0
keep = set(sys.modules)
names = [only] if only else sorted(os.listdir(root))
for fname in names:
    if not (fname.startswith("test_") and fname.endswith(".py")) or fname.startswith("test_prop_"):
        continue
    modname = fname[:-3]
    try:
        mod = __import__(modname)
    except Exception as e:
        failed += 1
        print("ERROR importing", fname)
        sys.print_exception(e)
        continue
    for name in sorted(dir(mod)):
        if not name.startswith("test_"):
            continue
        fn = getattr(mod, name)
        if not callable(fn):
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
    # free the test module (and what it alone imported) before the next file: the heap is small
    del mod
    for k in list(sys.modules):
        if k not in keep:
            del sys.modules[k]
    gc.collect()
print("micropython: %d passed, %d failed, %d skipped" % (passed, failed, skipped))
sys.exit(1 if failed else 0)
