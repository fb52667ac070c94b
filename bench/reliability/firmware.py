"""Firmware builds for the power-cut scenario's deploys: the firmware of this tree, and variants with a few
modules rebuilt byte-different (same behaviour), so a deploy has real work to do, like an upgrade."""

from __future__ import annotations

import shutil
import tempfile
import threading
from pathlib import Path

from host_tools import deploy as hdeploy

from .common import sha

_VARIANT_MODULES = ("runner", "feedback", "band", "routine", "button")
_variant_cache: dict[int, dict[str, bytes]] = {}
_variant_lock = threading.Lock()
_fw_shas: set[str] = set()


def variant_plan(n: int) -> dict[str, bytes]:
    """Device path -> content of build n (0: this tree's firmware; 1, 2: variants), as deploy's plan()
    gives it, without depending on two firmware versions being compatible."""
    with _variant_lock:
        if n not in _variant_cache:  # built once per run: the tree does not change meanwhile
            files = dict(hdeploy.plan("sim", False))
            if n:
                tmp = Path(tempfile.mkdtemp(prefix="relfw_"))
                mods = ["acu." + m for m in _VARIANT_MODULES]
                srcs = hdeploy.firmware_sources("sim", {m: hdeploy.source_path(m).read_text()
                                                        + "\n_rel_build = %d\n" % n for m in mods})
                for m in mods:
                    files[hdeploy.module_path(m) + ".mpy"] = hdeploy.compile_source(m, srcs[m], tmp / "cache",
                                                                                   hdeploy.source_path(m))
                shutil.rmtree(tmp, ignore_errors=True)
            _variant_cache[n] = files
        return _variant_cache[n]


def firmware_shas() -> set[str]:
    """Every known build's file digests, computed once per run (the tree does not change meanwhile)."""
    with _variant_lock:
        if _fw_shas:
            return _fw_shas
    shas = {sha(d) for n in (0, 1, 2) for d in variant_plan(n).values()}
    with _variant_lock:
        _fw_shas.update(shas)
    return _fw_shas
