"""The pinned MicroPython versions, read from docs/versions.md (the one place they are written)."""

from __future__ import annotations

import re
from pathlib import Path

from host_tools import paths
from host_tools.errors import InputError

VERSIONS_MD = paths.VERSIONS_MD
_ROW = re.compile(r"^\|\s*`([A-Za-z0-9_.-]+)`\s*\|\s*`([^`]+)`\s*\|")


def pins(path: Path | None = None) -> dict[str, str]:
    """{key: pin} from the first table of docs/versions.md (rows like | `key` | `pin` | text |)."""
    p = path or VERSIONS_MD
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise InputError("%s: cannot read the version pins (%s)" % (p, e.strerror or e)) from None
    out: dict[str, str] = {}
    for line in text.splitlines():
        m = _ROW.match(line.strip())
        if m and m.group(1) not in out:
            out[m.group(1)] = m.group(2).strip()
    if "micropython" not in out:
        raise InputError("%s: no `micropython` row in the pins table" % p)
    return out


def micropython_series(path: Path | None = None) -> str:
    """'1.29': the MicroPython major.minor the firmware is tested against."""
    return pins(path)["micropython"]


def is_tested_micropython(version: str, path: Path | None = None) -> bool:
    """True when a board's MicroPython version ('1.29.0', 'v1.29.1') is in the pinned series."""
    series = micropython_series(path)
    v = version.strip().lstrip("v")
    return v == series or v.startswith(series + ".")
