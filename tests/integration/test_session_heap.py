"""A host command is not failed by the heap a stopped app left in holes.

What this guards against (issue 19's power-cut bench): an app that ran for a while leaves its heap in small
holes. The first command after it that needs a new name makes the interpreter allocate its next name pool in
one block (14 KB on the unix port, 9 KB on an ESP32), and failed with "MemoryError ... allocating 1280 bytes"
(the pool's entries, not bytes). A session whose first code is refused that way before any of it ran
soft-resets into the raw REPL (a fresh heap) and runs it again (host_tools/session.py). The test leaves the
simulated board's heap in such holes, as a program at the REPL, and runs a command that needs 300 new names."""

import pytest

from host_tools.errors import DeviceError
from host_tools.session import open_session

pytestmark = pytest.mark.integration

# Keeps every other 1 KB block of the heap: nothing bigger than ~1 KB is left free. The references live in
# the REPL's globals, as main.py's names do after a Ctrl-C.
FRAGMENT_CODE = """\
import gc
_keep = []
_drop = []
try:
    while True:
        _keep.append(bytearray(1000))
        _drop.append(bytearray(1000))
except MemoryError:
    pass
_drop = None
gc.collect()
print(len(_keep))
"""
# 300 names the interpreter has not seen: past its current name pool, so the next pool is allocated
NEW_NAMES_CODE = "=".join("zz%d" % i for i in range(300)) + "=7\nprint(zz299 + zz0)\n"


def _fragment(port):
    with open_session(port) as s:
        assert int(s.exec(FRAGMENT_CODE).split()[-1]) > 10
        s.keep_repl()  # closed at the friendly REPL: the holes stay for the next session


def test_a_first_command_refused_by_a_fragmented_heap_runs_on_a_fresh_one(deployed_sim):
    port = deployed_sim.port
    try:
        _fragment(port)
        with open_session(port) as s:  # what every host command opens
            assert s.exec(NEW_NAMES_CODE).split()[-1] == "14"
            assert s.exec("print('_keep' in globals())\n").split()[-1] == "False"  # it ran on a fresh heap
        # the control: once code of the session has run (it may hold names of its own), nothing is reset
        # behind it, and the same command on the heap as it was left fails: the holes are real
        _fragment(port)
        with open_session(port) as s:
            assert s.exec("print(len(_keep) > 10)\n").split()[-1] == "True"
            with pytest.raises(DeviceError, match="MemoryError"):
                s.exec(NEW_NAMES_CODE)
    finally:
        with open_session(port):
            pass  # closes with a soft reset that runs the app again, for the tests after this one



# Writes 12 KB (littlefs erases blocks for it) with the heap locked: any allocation on the way fails.
LOCKED_WRITE_CODE = """\
import micropython
_buf = bytes(range(256)) * 48
_f = open('/heap_lock_test.bin', 'wb')
micropython.heap_lock()
try:
    _f.write(_buf)
    _f.flush()
finally:
    micropython.heap_unlock()
_f.close()
import os
print(os.stat('/heap_lock_test.bin')[6])
os.remove('/heap_lock_test.bin')
"""


def test_the_simulated_flash_erases_and_writes_without_the_heap(deployed_sim):
    """A board's flash driver erases and writes without the heap. The simulated one once allocated its 4 KB
    erase pattern at the first erase of a boot, and an upload on a heap a practice had left in holes failed
    with "MemoryError ... allocating 4097 bytes" (a CI run): the simulator was stricter than a board there."""
    port = deployed_sim.port
    try:
        with open_session(port) as s:
            s.reset_to_raw_repl()  # a fresh boot that has erased nothing yet
            assert s.exec(LOCKED_WRITE_CODE).split()[-1] == str(12 * 1024)
    finally:
        with open_session(port):
            pass


# No free block of 4 KB: the download's buffer cannot be had. (A `bytearray` in the REPL's globals, where the
# download's code is defined, stands in for the allocator of a heap left in holes; the CI run's had 3.3 KB.)
NO_4K_CODE = """\
_acu_ba = bytearray
def bytearray(n):
    if n > 3300:
        raise MemoryError('memory allocation failed, allocating %d bytes' % n)
    return _acu_ba(n)
print('OK')
"""


def test_a_download_needs_no_4kb_block(deployed_sim):
    """A pull after a practice reads each session file in one exec with a 4 KB buffer; without a free block
    that big it reads 256 bytes at a time, and the file arrives whole, its sha256 checked."""
    port = deployed_sim.port
    data = bytes((i * 13 + 5) & 0xFF for i in range(9000))
    try:
        with open_session(port) as s:
            s.write_file_atomic("/heap_test.bin", data)
            assert s.exec(NO_4K_CODE).split()[-1] == "OK"
            assert s.read_file("/heap_test.bin") == data
            assert s.read_file("/heap_test.bin", have=data[:5000]) == data
            s.remove("/heap_test.bin")
    finally:
        with open_session(port):
            pass
