"""ROMFS: the firmware as a read-only image in the board's ROM partition, executed in place.

A MicroPython built with ROMFS support (MICROPY_VFS_ROM: the simulator, an ESP32 firmware built with a
ROMFS partition) mounts the image at /rom at boot; .mpy files there run from the memory-mapped flash, so
the firmware's code and constant strings cost no heap (docs/hardware.md, memory). The image is built with
mpremote's VfsRomWriter and written through `vfs.rom_ioctl()`, the interface `mpremote romfs deploy` uses.
The writing is ours rather than mpremote's (a private function that prints and exits) for two reasons:
it goes through DeviceSession like every other transfer, and it writes the image's first chunk last, so
a power cut or pulled cable mid-deploy leaves an erased header (the board boots without /rom and the
next deploy repairs it), never a valid header over a half-written image.
"""

from __future__ import annotations

import binascii
import hashlib

from mpremote.romfs import VfsRomWriter

from host_tools.errors import AcuError, LinkError

HEADER = VfsRomWriter.ROMFS_HEADER
CHUNK = 2048  # bytes per exec, as DeviceSession's uploads: small enough for a fragmented heap

_QUERY = (
    "import vfs\n"
    "_acu_rom = hasattr(vfs, 'rom_ioctl') and vfs.rom_ioctl(1) > 0 and vfs.rom_ioctl(2, 0)\n"
    "print(-1 if not _acu_rom or isinstance(_acu_rom, int) else len(_acu_rom), "
    "_acu_rom and vfs.rom_ioctl(6, 0) or 0)\n"
)
_UMOUNT = "try:\n vfs.umount('/rom')\nexcept OSError:\n pass\n"  # before rewriting what it maps


def image(files: dict[str, bytes]) -> bytes:
    """A ROMFS image holding files: path inside the image ('acu/app.mpy') -> content."""
    tree: dict = {}
    for path, data in files.items():
        node = tree
        parts = path.strip("/").split("/")
        for d in parts[:-1]:
            node = node.setdefault(d, {})
        node[parts[-1]] = data
    w = VfsRomWriter()

    def emit(node: dict):
        for name in sorted(node):
            if isinstance(node[name], dict):
                w.opendir(name)
                emit(node[name])
                w.closedir()
            else:
                w.mkfile(name, node[name])

    emit(tree)
    return w.finalise()


def partition(session) -> tuple[int, int] | None:
    """(size, erase block size) of ROM partition 0, or None when the firmware has no ROMFS."""
    out = session.exec(_QUERY).split()
    size, block = int(out[-2]), int(out[-1])
    return None if size <= 0 else (size, block if block > 0 else size)


def rom_sha256(session, nbytes: int) -> str:
    return session.exec(
        "import hashlib, binascii\n"
        "print(binascii.hexlify(hashlib.sha256(memoryview(vfs.rom_ioctl(2, 0))[:%d]).digest()).decode())\n"
        % nbytes
    ).split()[-1]


def _ioctl(session, args: str) -> int:
    r = int(session.exec("print(vfs.rom_ioctl(%s))\n" % args).split()[-1])
    if r < 0:
        raise AcuError("the board refused vfs.rom_ioctl(%s): error %d" % (args, r))
    return r


def write(session, img: bytes, progress=None, part: tuple[int, int] | None = None) -> bool:
    """Put img in ROM partition 0 unless it is there already; True if it was written. Call it in a fresh
    raw REPL (nothing imported from /rom: its code runs from the flash being rewritten). part: what
    partition() said, if the caller asked already."""
    if not img.startswith(HEADER):
        raise AcuError("not a ROMFS image (it must start with %s)" % HEADER.hex())
    part = part or partition(session)
    if part is None:
        raise AcuError("this board's firmware has no ROMFS partition (vfs.rom_ioctl): deploy without --romfs")
    size, _block = part
    if len(img) > size:
        raise AcuError("the ROMFS image is %d bytes, the board's ROM partition %d" % (len(img), size))
    want = hashlib.sha256(img).hexdigest()
    if rom_sha256(session, len(img)) == want:
        return False
    session.exec(_UMOUNT)
    min_write = max(1, _ioctl(session, "3, 0, %d" % len(img)))  # erase what the image needs
    chunk = max(CHUNK // min_write, 1) * min_write
    offsets = list(range(chunk, len(img), chunk)) + [0]  # the header last: see the module's doc
    for n, off in enumerate(offsets):
        data = img[off:off + chunk]
        data += bytes(-len(data) % min_write)
        b64 = binascii.b2a_base64(data, newline=False).decode()
        _ioctl(session, "4, 0, %d, binascii.a2b_base64(%r)" % (off, b64))
        if progress:
            progress(min(len(img), (n + 1) * chunk), len(img))
    _ioctl(session, "5, 0")
    if rom_sha256(session, len(img)) != want:
        raise LinkError("the ROMFS image failed its sha256 check after writing: deploy again")
    return True


def erase(session) -> bool:
    """Invalidate the image in ROM partition 0 (its first block erased), so /rom is not mounted at the
    next boot. False when the board has no ROM partition or no valid image in it."""
    part = partition(session)
    if part is None:
        return False
    head = session.exec("print(bytes(memoryview(vfs.rom_ioctl(2, 0))[:3]).hex())\n").split()[-1]
    if head != HEADER.hex():
        return False
    session.exec(_UMOUNT)
    _ioctl(session, "3, 0, %d" % part[1])
    return True
