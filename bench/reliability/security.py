"""Security basics: device strings never make paths, the archive and exports are private, and nothing from a
device is evaluated on the host (docs/reliability.md, promise 5)."""

from __future__ import annotations

import re
from pathlib import Path

from host_tools.archive import Archive
from host_tools.paths import ensure_device_importable

from .common import REPO

ensure_device_importable()
from acu import logread  # noqa: E402


_EVAL_RE = re.compile(r"(?<![.\w])(?<!def )(eval|exec)\(|\bpickle\b|\bmarshal\b|\bshelve\b|yaml\.load\(|literal_eval")


# Sites that read the project's own files, never a device's bytes, each with its reason. A new entry needs
# the same: data that comes from a device must never reach one of these.
_OWN_FILES_ONLY = {
    ("host_tools/selftest.py", "ast.literal_eval(node.value)"):
        "the literal PARTS dict of boards/<name>.py in this acutrainer (the board name is checked first)",
}


def host_eval_sites() -> list[str]:
    """Places in host_tools that could evaluate data (eval/exec/pickle...): must be none, but for the reads
    of the project's own files listed above."""
    out = []
    for f in sorted((REPO / "host_tools").rglob("*.py")):
        if "/sim/rom/" in str(f):
            continue  # the simulated board's own firmware side, not host code
        rel = str(f.relative_to(REPO))
        for i, line in enumerate(f.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if _EVAL_RE.search(code) and not any(rel == name and snippet in code
                                                 for name, snippet in _OWN_FILES_ONLY):
                out.append("%s:%d" % (rel, i))
    return out


def scenario_security(work: Path) -> dict:
    """Device strings never make paths; archive and exports are private; nothing is evaluated."""
    from host_tools import export as hexport
    d = work / "sec"
    d.mkdir(parents=True, exist_ok=True)
    arc_path = d / "data" / "archive.sqlite"
    hostile = "../../../../tmp/acu_escape"
    from acu import logger as dlogger
    lg_dir = d / "log"
    lg_dir.mkdir(exist_ok=True)
    lg = dlogger.Logger(str(lg_dir), None, {"device_id": hostile, "firmware": "../x", "board": "/etc/passwd"})
    lg.begin_session(hostile, routine_hash="../../h", now_ms=0)
    lg.step_begin(0, "press", "../../p", "/s", 3000, 5000, 5, now_ms=0)
    lg.step_end(0, "done", None, now_ms=10)
    lg.end_session("completed", 20)
    raw = (lg_dir / "000001.acl").read_bytes()
    escapes = 0
    with Archive(arc_path) as arc:
        arc.store(logread.decode_session(raw), raw, "000001.acl", device_id=hostile)
        out = d / "export"
        for fmt in ("csv", "json"):
            hexport.export(arc, out, fmt=fmt)
    for p in out.rglob("*"):
        if not str(p.resolve()).startswith(str(out.resolve())):
            escapes += 1
    if Path("/tmp/acu_escape").exists():
        escapes += 1
    bad_perm = 0
    for p in [arc_path, out] + list(out.rglob("*")):
        mode = p.stat().st_mode & 0o777
        if mode & 0o077:
            bad_perm += 1
    # a listing entry with a path in its name is refused by pull before any download
    from host_tools.pull import _valid_entry
    refused = sum(1 for n in ("../000001.acl", "/etc/passwd", "000001.acl/../../x", "..", "000001.acl\x00")
                  if _valid_entry({"name": n, "size": 1, "sha256": "0" * 64}))
    return {"rel_security_path_escapes": escapes, "rel_security_non_private_files": bad_perm,
            "rel_security_bad_names_refused": refused, "rel_security_eval_sites": len(host_eval_sites())}
