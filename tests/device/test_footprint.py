# The firmware's heap footprint (issue 3): tools/heap_probe.py runs the whole firmware (.mpy) through a
# practice on a fake board in a fixed heap. Unix port only (it starts a second micropython with its own
# -X heapsize); skipped under CPython.
#
# Where this stands (tools/heap_probe.py, 64-bit unix port): the target is a 64 KB heap with a
# peak <= 48 KB; the firmware is not there yet. It needs a 117K heap (114-115K happen to fit, 116K runs out:
# at start-up the heap is near full and fragmented, so which size works jumps by a few K with the layout)
# and heap_peak_bytes is ~82.5 KB (160K / ~127 KB before the parsers, the log decoder and the log
# administration moved out of the running app's heap; 144K / ~100 KB before the board's builders, the
# feedback pattern source and the unwired drivers left it; 122K / ~87 KB before the logger wrote records in
# place and the routine was read first; 118K / ~84 KB before fewer interned names, steps holding only their
# own fields and the routine file read streamed; ~78 KB since the build folds constants across modules).
# These limits guard that figure against regressions:
# lower them as the firmware shrinks, and set 64K / 48 KB once it fits.
# This is the firmware loaded from .mpy files (the code in the heap, `deploy --no-romfs`); run from a ROMFS
# image (deploy's default where the board has one) it peaks at ~54.5 KB and needs 76K: tests/host/test_romfs.py.
import json
import os
import sys

HEAP = "125K"                  # the smallest heap that works today is 117K: 8K of margin
PEAK_LIMIT_BYTES = 80 * 1024   # heap_peak_bytes measured 78336


def _root():
    here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
    return here + "/../.."


def test_firmware_runs_its_practice_in_the_reached_heap():
    if sys.implementation.name != "micropython":
        return  # CPython: the heap figures are the unix port's
    out = "/tmp/acu_footprint_test.json"
    cmd = "cd %s && %s -X heapsize=%s tools/heap_probe.py > %s 2>/dev/null" % (
        _root(), sys.executable, HEAP, out)
    rc = os.system(cmd)
    with open(out) as f:
        lines = f.read().strip().split("\n")
    r = json.loads(lines[-1])
    assert rc == 0 and r["ok"], r
    assert r["routine_done"] and r["sessions_logged"] >= 1, r
    assert r["loop_allocs_per_iter"] == 0, r
    assert r["heap_peak_bytes"] <= PEAK_LIMIT_BYTES, r
