"""Build the heap probe's ROMFS partition: build/heap/ (tools/heap_probe.py --compile-only) as a ROMFS image
in build/heap.romfs, padded with erased flash to whole 4 KiB blocks. Used by `make bench` (bench/run.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from host_tools import romfs  # noqa: E402


def build(micropython: str) -> Path:
    subprocess.run([micropython, "tools/heap_probe.py", "--compile-only"], cwd=str(ROOT), check=True)
    src = ROOT / "build" / "heap"
    files = {str(p.relative_to(src)): p.read_bytes() for p in sorted(src.rglob("*.mpy"))}
    img = romfs.image(files)
    out = ROOT / "build" / "heap.romfs"
    out.write_bytes(img + b"\xff" * (-len(img) % 4096))
    return out


if __name__ == "__main__":
    print(build(sys.argv[1] if len(sys.argv) > 1 else str(Path(sys.executable).parent / "micropython")))
