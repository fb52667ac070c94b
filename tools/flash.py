"""make flash: install MicroPython on the board with esptool (from the venv).

    make flash PORT=/dev/ttyUSB0 [BOARD=esp32_devkitc] [FIRMWARE=path/to/ESP32_GENERIC-...-v1.29.0.bin]
    python tools/flash.py --port COM5 --board esp32s3_devkitc --dry-run

Without FIRMWARE it takes the newest file for the board's chip and the MicroPython series pinned in
docs/versions.md from build/firmware/, the current folder or ~/Downloads. It erases the flash (all files on
the board go) and writes the firmware at the chip's offset. This cannot be exercised without a board;
tests/host/test_flash.py checks the argument handling and the esptool commands it builds.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from host_tools import ports, versions  # noqa: E402

# board module -> (esptool chip, MicroPython firmware variant, flash offset of the .bin)
BOARDS = {
    "esp32_devkitc": ("esp32", "ESP32_GENERIC", 0x1000),
    "esp32_loadcell": ("esp32", "ESP32_GENERIC", 0x1000),
    "esp32_battery": ("esp32", "ESP32_GENERIC", 0x1000),
    "m5stack_atom": ("esp32", "ESP32_GENERIC", 0x1000),
    "esp32s3_devkitc": ("esp32s3", "ESP32_GENERIC_S3", 0x0),
}
DEFAULT_BAUD = 460800
ESP_IMAGE_MAGIC = 0xE9  # first byte of an ESP32 bootloader/app image
MIN_FIRMWARE_BYTES = 256 * 1024


class FlashError(Exception):
    pass


def search_dirs() -> list[Path]:
    return [REPO / "build" / "firmware", Path.cwd(), Path.home() / "Downloads"]


def _version_key(p: Path):
    m = re.search(r"-(\d{8})-v(\d+)\.(\d+)\.(\d+)", p.name)
    return (int(m.group(2)), int(m.group(3)), int(m.group(4)), m.group(1)) if m else (0, 0, 0, "")


def find_firmware(variant: str, series: str, dirs: list[Path]) -> Path:
    """The newest VARIANT-<date>-v<series>.<n>.bin (the names micropython.org gives its release files)."""
    pat = re.compile(r"^%s-(\d{8}-)?v%s\.\d+\.bin$" % (re.escape(variant), re.escape(series)))
    found = [p for d in dirs if d.is_dir() for p in d.iterdir() if pat.match(p.name)]
    if not found:
        raise FlashError(
            "no %s v%s.x firmware found in %s: download the newest .bin from "
            "https://micropython.org/download/%s/ into build/firmware/ (or name it with FIRMWARE=...)"
            % (variant, series, ", ".join(str(d) for d in dirs), variant)
        )
    return max(found, key=_version_key)


def check_firmware(path: Path, board: str) -> None:
    chip, variant, _ = BOARDS[board]
    if not path.is_file():
        raise FlashError("%s: no such firmware file" % path)
    data = path.read_bytes()[:1]
    if path.suffix != ".bin" or not data or data[0] != ESP_IMAGE_MAGIC:
        raise FlashError(
            "%s: not an ESP32 firmware image (.bin starting with 0xE9); the .uf2/.app-bin files "
            "are for other tools" % path
        )
    if path.stat().st_size < MIN_FIRMWARE_BYTES:
        raise FlashError(
            "%s: only %d bytes, too small for MicroPython (a partial download?)" % (path, path.stat().st_size)
        )
    name = path.name.upper()
    other = [v for _, v, _ in BOARDS.values() if v != variant and name.startswith(v + "-")]
    if other:
        raise FlashError(
            "%s: firmware for %s, but board %s has an %s chip: download %s"
            % (path, other[0], board, chip, variant)
        )


def esptool_version() -> tuple[int, ...]:
    try:
        v = importlib.metadata.version("esptool")
    except importlib.metadata.PackageNotFoundError:
        raise FlashError(
            "esptool is not installed in this environment: .venv/bin/pip install esptool "
            "(make setup installs it)"
        ) from None
    return tuple(int(x) for x in re.findall(r"\d+", v)[:3])


def build_commands(
    port: str,
    board: str,
    firmware: Path,
    baud: int = DEFAULT_BAUD,
    erase: bool = True,
    esptool_ver: tuple[int, ...] = (5, 0, 0),
    python: str = sys.executable,
) -> list[list[str]]:
    """The esptool invocations: erase the flash, then write the firmware at the chip's offset."""
    chip, _, offset = BOARDS[board]
    dash = esptool_ver >= (5,)  # esptool 5 renamed erase_flash/write_flash to erase-flash/write-flash
    base = [python, "-m", "esptool", "--chip", chip, "--port", port]
    cmds = []
    if erase:
        cmds.append(base + ["erase-flash" if dash else "erase_flash"])
    cmds.append(
        base
        + ["--baud", str(baud), "write-flash" if dash else "write_flash", "-z", hex(offset), str(firmware)]
    )
    return cmds


def choose_port(port: str | None) -> str:
    if port:
        return port
    boards = ports.usb_boards()
    if len(boards) == 1:
        return boards[0]["port"]
    if not boards:
        raise FlashError(
            "no board found: plug it in with a data USB cable and name the port, e.g. "
            "make flash PORT=/dev/ttyUSB0 (docs/troubleshooting.md: wrong port, no board found)"
        )
    raise FlashError(
        "several boards found, choose one with PORT=...: "
        + "; ".join("%s (%s)" % (b["port"], b["chip"]) for b in boards)
    )


def main(argv=None, run=subprocess.run) -> int:
    ap = argparse.ArgumentParser(
        prog="flash", description="install MicroPython on the trainer's ESP32 (erases it)"
    )
    ap.add_argument("--port", default="", help="serial port (default: the one ESP32 board plugged in)")
    ap.add_argument("--board", default="esp32_devkitc", help="board module: " + ", ".join(sorted(BOARDS)))
    ap.add_argument("--firmware", default="", help="the .bin to write (default: found, see docs/versions.md)")
    ap.add_argument("--baud", type=int, default=DEFAULT_BAUD, help="write speed (115200 for flaky cables)")
    ap.add_argument(
        "--no-erase", action="store_true", help="do not erase the flash first (keeps nothing useful)"
    )
    ap.add_argument("--dry-run", action="store_true", help="print the esptool commands, run nothing")
    a = ap.parse_args(argv)
    try:
        if a.board not in BOARDS:
            raise FlashError("unknown board %r (known: %s)" % (a.board, ", ".join(sorted(BOARDS))))
        chip, variant, _ = BOARDS[a.board]
        fw = (
            Path(a.firmware).expanduser()
            if a.firmware
            else find_firmware(variant, versions.micropython_series(), search_dirs())
        )
        check_firmware(fw, a.board)
        port = choose_port(a.port or None)
        cmds = build_commands(
            port, a.board, fw, a.baud, not a.no_erase, (5, 0, 0) if a.dry_run else esptool_version()
        )
    except FlashError as e:
        print("flash: error: %s" % e, file=sys.stderr)
        return 2
    print("flashing %s (%s) on %s for board %s" % (fw.name, chip, port, a.board))
    for c in cmds:
        print("  $ " + " ".join(c))
        if a.dry_run:
            continue
        r = run(c)
        if r.returncode:
            print(
                "flash: error: esptool failed (exit %d). If it cannot connect: hold BOOT, tap EN/RST, "
                "release "
                "BOOT, and run make flash again (docs/troubleshooting.md)" % r.returncode,
                file=sys.stderr,
            )
            return 1
    if not a.dry_run:
        print(
            "done: MicroPython is on the board. Next: acutrainer deploy --port %s --board %s"
            % (port, a.board)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
