"""Build the heap probe's ROMFS partition: build/heap/ (tools/heap_probe.py --compile-only) as a ROMFS image,
padded with erased flash to whole 4 KiB blocks. `make bench` (bench/run.py) runs the probe from it on the
unix port (host_tools/sim/romrun.py maps it outside the heap) and on the 32-bit WebAssembly port
(tools/heap_probe_wasm.mjs --rom: the port's own romfs option, malloc'd outside its GC heap).

    python tools/heap_rom.py [--overlay DIR] [--out FILE] [--no-compile]

--overlay DIR: its .mpy files replace build/heap's of the same name (the wasm tool's driven probe body).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from host_tools import romfs  # noqa: E402


def build(micropython: str, overlay: Path | None = None, out: Path | None = None, compile: bool = True) -> Path:
    if compile:
        subprocess.run([micropython, "tools/heap_probe.py", "--compile-only"], cwd=str(ROOT), check=True)
    files = {}
    for src in [ROOT / "build" / "heap"] + ([overlay] if overlay else []):
        files.update({str(p.relative_to(src)): p.read_bytes() for p in sorted(src.rglob("*.mpy"))})
    img = romfs.image(files)
    out = out or ROOT / "build" / "heap.romfs"
    out.write_bytes(img + b"\xff" * (-len(img) % 4096))
    return out


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--overlay", type=Path)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--no-compile", action="store_true")
    ap.add_argument("--micropython", default=str(Path(sys.executable).parent / "micropython"))
    a = ap.parse_args()
    print(build(a.micropython, a.overlay, a.out, not a.no_compile))
