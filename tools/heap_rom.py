"""Build the heap probe's files: build/heap/ (the firmware compiled for esp32_devkitc exactly as
`acutrainer deploy` compiles it, constants folded, plus the probe's body and machine fake) and its ROMFS
partition, build/heap.romfs (build/heap as a ROMFS image padded with erased flash to whole 4 KiB blocks).
`make bench` (bench/run.py) runs the probe from it on the unix port (host_tools/sim/romrun.py maps it
outside the heap) and on the 32-bit WebAssembly port (tools/heap_probe_wasm.mjs --rom: the port's own
romfs option, malloc'd outside its GC heap).

    python tools/heap_rom.py [--overlay DIR] [--out FILE] [--no-compile] [--dir-only]

--overlay DIR: its .mpy files replace build/heap's of the same name (the wasm tool's driven probe body).
--dir-only: build build/heap/ only (what `micropython tools/heap_probe.py` runs from).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from host_tools import deploy, romfs  # noqa: E402


HEAP_DIR = ROOT / "build" / "heap"
PROBE_MODULES = ("heap_probe_machine", "heap_probe_main", "heap_probe_programme")


def build_dir(board: str = "esp32_devkitc") -> Path:
    """build/heap/: the board's firmware modules as deploy compiles them, and the probe's modules."""
    cache = ROOT / "build" / "mpy-cache"
    want = {}
    for module, text in deploy.firmware_sources(board).items():
        rel = deploy.module_path(module)[len("/lib/"):] + ".mpy"
        want[rel] = deploy.compile_source(module, text, cache, deploy.source_path(module))
    for name in PROBE_MODULES:
        src = ROOT / "tools" / (name + ".py")
        want[name + ".mpy"] = deploy.compile_source(name, src.read_text(), cache, src)
    for p in HEAP_DIR.rglob("*.mpy") if HEAP_DIR.exists() else ():
        if str(p.relative_to(HEAP_DIR)) not in want:
            p.unlink()   # a module that no longer exists
    for rel, data in want.items():
        dest = HEAP_DIR / rel
        if not dest.exists() or dest.read_bytes() != data:
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
    return HEAP_DIR


def build(overlay: Path | None = None, out: Path | None = None, compile: bool = True) -> Path:
    """build/heap.romfs (or out); compile: bring build/heap up to date first."""
    if compile:
        build_dir()
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
    ap.add_argument("--dir-only", action="store_true")
    a = ap.parse_args()
    print(build_dir() if a.dir_only else build(a.overlay, a.out, not a.no_compile))
