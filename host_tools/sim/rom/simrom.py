# The simulated board's ROM partition and the `vfs` module that goes with it.
# A board whose firmware is built with ROMFS support (MICROPY_VFS_ROM) has a flash partition that is
# memory-mapped: `vfs.rom_ioctl()` erases and writes it (`mpremote romfs deploy`, `acutrainer deploy
# --romfs`), and at boot the image in it is mounted at /rom, where .mpy files execute in place (their
# code costs no heap). The unix port has vfs.VfsRom but no partition: the launcher maps the partition
# file outside MicroPython's heap (romrun.py) and says where in ACU_ROM="address:size".
# simboot puts this module in sys.modules as `vfs`: the unix port's own vfs plus rom_ioctl().
import os
import sys

import uctypes
from vfs import *  # noqa: F403 (this module stands in for vfs)
from vfs import VfsRom, mount

_BLOCK = 4096  # the ESP32's flash erase block
_MIN_WRITE = 4
_EINVAL = 22
_ENODEV = 19

_rom = None
_spec = os.getenv("ACU_ROM")
if _spec:
    _a, _n = _spec.split(":")
    _rom = uctypes.bytearray_at(int(_a), int(_n))
    del _a, _n
del _spec


def rom_ioctl(op, *args):
    """MicroPython's vfs.rom_ioctl for one partition: 1 count, 2 the partition (a memoryview), 3 prepare
    (erase whole blocks; returns the smallest write), 4 write, 5 write done, 6 erase block size.
    Errors are negative errnos, as on a board."""
    if op == 1:
        return 0 if _rom is None else 1
    if _rom is None or not args or args[0] != 0:
        return -_ENODEV
    if op == 2:
        return memoryview(_rom)
    if op == 3:
        off, n = (args[1], args[2]) if len(args) > 2 else (0, args[1])
        if off < 0 or n < 0 or off % _BLOCK or off + n > len(_rom):
            return -_EINVAL
        blank = b"\xff" * _BLOCK
        end = min(len(_rom), off + n + _BLOCK - 1)
        while off < end:
            _rom[off:off + _BLOCK] = blank
            off += _BLOCK
        return _MIN_WRITE
    if op == 4:
        off, buf = args[1], args[2]
        if off < 0 or off + len(buf) > len(_rom):
            return -_EINVAL
        for i in range(len(buf)):
            _rom[off + i] &= buf[i]  # NOR flash: a write only clears bits (prepare erased them to 1)
        return 0
    if op == 5:
        return 0
    if op == 6:
        return _BLOCK
    return -_EINVAL


def mount_rom():
    """What a ROMFS-enabled firmware does at boot: mount a valid image at /rom, put /rom and /rom/lib on
    sys.path ahead of the flash's /lib. An erased or torn partition is skipped silently."""
    if _rom is None:
        return False
    try:
        mount(VfsRom(memoryview(_rom)), "/rom")
    except OSError:
        return False
    sys.path[1:1] = ["/rom", "/rom/lib"]
    return True
