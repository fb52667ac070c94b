# The simulated board's boot ROM, run as `micropython -i simboot.py` by the launcher.
# Like the ESP32 port's frozen _boot.py it mounts the flash (a LittleFS2 image file) at "/", then runs
# /boot.py and, unless the board was reset into the raw REPL, /main.py. The simulated hardware modules
# are imported first and stay in sys.modules, as frozen modules do on a board. When the launcher maps a
# ROM partition (romrun.py), the board is one built with ROMFS: `vfs.rom_ioctl()` exists and a valid image
# in the partition is mounted at /rom, ahead of /lib on sys.path (simrom.py).
import os
import sys
import vfs

import simhw
import simrom

_FLASH = os.getenv("ACU_FLASH") or "flash.img"
_BLOCKS = int(os.getenv("ACU_FLASH_BLOCKS") or "512")  # 512 x 4 KiB = 2 MiB, the ESP32 vfs partition
_BS = 4096


class _FlashImage:
    """A block device on a file. Each write goes straight to the file (no user-space buffering), so a
    killed process leaves exactly the blocks written so far: the same failure a power cut causes."""

    def __init__(self, path, nblocks):
        self.n = nblocks
        # allocated once, at boot: a board's flash driver erases without the heap, and an erase must not
        # fail on a heap the firmware has left in holes (a 4 KB block asked for later did, in CI)
        self.blank = b"\xff" * _BS
        try:
            self.f = open(path, "r+b")
        except OSError:
            self.f = open(path, "w+b")
            for _ in range(nblocks):
                self.f.write(self.blank)
            self.f.flush()

    def readblocks(self, n, buf, off=0):
        self.f.seek(n * _BS + off)
        self.f.readinto(buf)

    def writeblocks(self, n, buf, off=0):
        self.f.seek(n * _BS + off)
        self.f.write(buf)
        self.f.flush()

    def ioctl(self, op, arg):
        if op == 4:
            return self.n
        if op == 5:
            return _BS
        if op == 6:
            # erase, as NOR flash does: littlefs relies on an erased block reading 0xFF, or stale
            # commits left in a re-used block can come back to life after a torn write
            self.f.seek(arg * _BS)
            self.f.write(self.blank)
            self.f.flush()
            return 0
        return 0


def _rom_boot():
    world = simhw.start()
    import simmachine
    sys.modules["machine"] = simmachine
    import simneopixel
    sys.modules["neopixel"] = simneopixel
    import simesp32
    sys.modules["esp32"] = simesp32
    import simsensors
    part = simsensors.make_part(os.getenv("ACU_SENSOR") or "fsr402", int(os.getenv("ACU_SEED") or "1"),
                                population=os.getenv("ACU_POPULATION") or "datasheet")
    simmachine._setup(world, part)

    bdev = _FlashImage(_FLASH, _BLOCKS)
    try:
        fs = vfs.VfsLfs2(bdev)
    except OSError:
        # A blank or unreadable flash: format it, as the ESP32 port does on first boot.
        vfs.VfsLfs2.mkfs(bdev)
        fs = vfs.VfsLfs2(bdev)
    vfs.umount("/")
    vfs.mount(fs, "/")
    os.chdir("/")
    sys.path.clear()
    sys.path.append("")
    sys.path.append("/lib")
    sys.modules["vfs"] = simrom
    simrom.mount_rom()
    return os.getenv("ACU_MODE") or "normal"


def _run(path):
    try:
        os.stat(path)
    except OSError:
        return
    with open(path) as f:
        code = f.read()
    exec(code, globals())  # like a board: main.py's names are visible at the REPL after Ctrl-C


try:
    _mode = _rom_boot()
except BaseException as e:
    # Never fall through to a REPL on the host's filesystem (sys.exit does not end `micropython -i`):
    # drop the host's filesystem, tell the launcher, and halt like a board whose ROM failed.
    sys.print_exception(e)
    print("simulated board: ROM boot failed; halting")
    try:
        vfs.umount("/")
    except OSError:
        pass
    simhw.halt(7)
del _rom_boot
# boot.py and main.py can be interrupted by the host's Ctrl-C (at a safe point, see simhw.set_interruptible);
# said before HELLO, so the launcher knows it before it passes on the first byte
simhw.world.set_interruptible(True)
simhw.world.hello()  # the board is up: the launcher may now pass the host's bytes (Ctrl-C included)
try:
    _run("boot.py")
    if _mode == "normal":
        # main.py's loop: virtual time moves by its sleeps only, never by real-time catch-up (a firmware
        # process descheduled on a busy host would otherwise jump seconds of virtual time mid-routine)
        simhw.world.in_app = True
        _run("main.py")
except KeyboardInterrupt:
    # Ctrl-C during boot.py or main.py: handled here (the REPL follows, as on a board)
    print("KeyboardInterrupt")
finally:
    simhw.world.in_app = False
    simhw.world.set_interruptible(False)  # at the REPL a Ctrl-C is a byte of input again
del _mode
