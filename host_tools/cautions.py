"""Cautions a user sees before a routine is put to use (docs/routines.md, "Cautions").

`routine push`, `routine select` and `routine new --push/--select` call confirm() before the device is
changed: the first time a routine's cautions are met they are shown in full and must be confirmed (a
y/N question on a terminal, --yes otherwise); the confirmation is recorded in the user's data dir as
(routine name, digest of its cautions), so later uses show them as one line. A routine whose cautions
change (a new cautioned point, a reworded caution) is asked about again. The device plays nothing
different: this is the host's promise that nobody starts a cautioned routine without having seen why.
"""
from __future__ import annotations

import hashlib
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

from host_tools import outfiles, paths, points, strictjson
from host_tools.errors import InputError

SEEN_FILE = "cautions-seen.json"
FORMAT = "acu-cautions-seen"
VERSION = 1


def point_cautions(r) -> list[tuple[points.Point, str]]:
    """(point, caution) for each cautioned point a routine presses, in step order, each pair once."""
    out = []
    for s in r.steps:
        if not s.point:   # press steps, and checks on a point
            continue
        p = points.get(s.point)
        if p is None:   # parse_bytes refuses unknown points; nothing to show for one anyway
            continue
        for c in p.cautions:
            if (p, c) not in out:
                out.append((p, c))
    return out


def digest(pairs: list[tuple[points.Point, str]]) -> str:
    """What is confirmed: the set of (point code, caution text), not the step order or the bands."""
    text = "\n".join(sorted("%s: %s" % (p.code, c) for p, c in pairs))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def seen_path() -> Path:
    return paths.data_dir() / SEEN_FILE


def load_seen(warn=None) -> list[dict]:
    """The recorded confirmations; a damaged file is one warning and counts as none (asked again)."""
    p = seen_path()
    try:
        d = strictjson.loads(p.read_text(encoding="utf-8"))
        if not (isinstance(d, dict) and d.get("format") == FORMAT and isinstance(d.get("seen"), list)):
            raise ValueError("not an %s file" % FORMAT)
        return [e for e in d["seen"] if isinstance(e, dict) and isinstance(e.get("routine"), str)
                and isinstance(e.get("digest"), str)]
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as e:   # UnicodeDecodeError and strictjson's refusals are ValueErrors
        (warn or _stderr)("warning: %s is unreadable (%s): cautions will be asked again" % (p, e))
        return []


def is_seen(name: str, dg: str, seen: list[dict]) -> bool:
    return any(e["routine"] == name and e["digest"] == dg for e in seen)


def record_seen(name: str, dg: str, seen: list[dict], now: datetime | None = None) -> None:
    now = now or datetime.now(timezone.utc)
    keep = [e for e in seen if not (e["routine"] == name and e["digest"] == dg)]
    keep.append({"routine": name, "digest": dg, "at": now.strftime("%Y-%m-%dT%H:%M:%SZ")})
    data = {"format": FORMAT, "version": VERSION, "seen": keep}
    outfiles.write_atomic(seen_path(), (json.dumps(data, indent=1) + "\n").encode("utf-8"))


def _stderr(line: str) -> None:
    print(line, file=sys.stderr)


def _is_terminal() -> bool:
    return sys.stdin.isatty() and sys.stderr.isatty()


def one_line(name: str, pairs) -> str:
    """The reminder once confirmed: each caution once, with the points it concerns."""
    by_text: dict[str, list[str]] = {}
    for p, c in pairs:
        by_text.setdefault(c, []).append(p.code)
    codes = [p.code for p, _ in pairs]
    parts = ["%s: %s" % (", ".join(cs), c.rstrip(".")) for c, cs in by_text.items()]
    return "caution (confirmed before) for %s: %s (acutrainer points %s)" % (
        name, "; ".join(parts), " ".join(dict.fromkeys(codes)))


def full_lines(name: str, pairs) -> list[str]:
    out = ["routine %s presses points with cautions:" % name]
    out += ["  caution: %s, %s: %s" % (p.label(), p.location.rstrip("."), c) for p, c in pairs]
    out += ["  note: " + c for c in points.GENERAL_CAUTIONS]
    return out


def confirm(r, yes: bool = False, ask=None, out=None, interactive=None) -> None:
    """Before a routine is pushed or selected: nothing to do, a one-line reminder, or the full cautions
    and a confirmation (recorded). Raises InputError when not confirmed: the caller changes nothing."""
    out = out or _stderr
    pairs = point_cautions(r)
    if not pairs:
        return
    dg = digest(pairs)
    seen = load_seen(out)
    if is_seen(r.name, dg, seen):
        out(one_line(r.name, pairs))
        return
    for ln in full_lines(r.name, pairs):
        out(ln)
    if not yes:
        if interactive is None:
            interactive = _is_terminal()
        if not interactive:
            raise InputError("routine %s: its cautions (above) are not confirmed yet: run the command on a "
                             "terminal to confirm them, or add --yes; nothing was changed" % r.name)
        ask = ask or input
        try:
            answer = ask("Use routine %s with these cautions in mind? [y/N] " % r.name)
        except EOFError:
            answer = ""
        if answer.strip().lower() not in ("y", "yes"):
            raise InputError("routine %s: cautions not confirmed; nothing was changed" % r.name)
    record_seen(r.name, dg, seen)
