"""Checking and rebuilding the archive. The archive keeps every session's raw bytes (and every device file's),
so the tables derived from them (steps, events, traces) can always be made again: `check` runs SQLite's
integrity check and verifies each session's bytes against its sha256; `rebuild` reads whatever rows can
still be read from a damaged file into a new archive, decoding each session again with the device's codec.
Nothing is deleted: the damaged file is kept beside the rebuilt one.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from host_tools.archive import Archive
from host_tools.errors import AcuError
from host_tools.paths import ensure_device_importable

ensure_device_importable()
from acu import logread  # noqa: E402


@dataclass
class CheckResult:
    sessions: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check(path) -> CheckResult:
    """SQLite's integrity check, then every session's raw bytes against its recorded sha256."""
    res = CheckResult()
    with Archive(path) as arc:
        res.problems += ["sqlite: %s" % p for p in arc.integrity_problems()[:20]]
        for sid, sha in _ids(arc.db, "sessions", "sha256"):
            try:
                row = arc.db.execute("SELECT raw FROM sessions WHERE id = ?", (sid,)).fetchone()
            except sqlite3.DatabaseError as e:
                res.problems.append("session %d: unreadable (%s)" % (sid, e))
                continue
            res.sessions += 1
            if row is None or hashlib.sha256(bytes(row["raw"])).hexdigest() != sha:
                res.problems.append("session %d: its bytes do not match their sha256" % sid)
    return res


def _ids(db, table: str, extra: str) -> list[tuple[int, str]]:
    """(rowid, extra column) of every row that can still be read, one at a time past damaged pages."""
    out: list[tuple[int, str]] = []
    try:
        top = db.execute("SELECT MAX(rowid) FROM %s" % table).fetchone()[0] or 0
    except sqlite3.DatabaseError:
        top = 100000
    for rid in range(1, top + 1):
        try:
            r = db.execute("SELECT rowid, %s FROM %s WHERE rowid = ?" % (extra, table), (rid,)).fetchone()
        except sqlite3.DatabaseError:
            continue
        if r is not None:
            out.append((r[0], r[1]))
    return out


@dataclass
class RebuildResult:
    path: Path
    sessions: int = 0
    files: int = 0
    lost: list[str] = field(default_factory=list)


def rebuild(src, dst) -> RebuildResult:
    """A new archive at dst from what can be read of src: sessions decoded again from their raw bytes,
    device files, time anchors and calibrations. dst must not exist."""
    src, dst = Path(src), Path(dst)
    if dst.exists():
        raise AcuError("%s already exists: remove it or choose another --out" % dst)
    try:
        old = sqlite3.connect("file:%s?mode=ro" % src, uri=True)
    except sqlite3.DatabaseError as e:
        raise AcuError("%s: cannot be opened at all (%s)" % (src, e)) from None
    old.row_factory = sqlite3.Row
    res = RebuildResult(dst)
    with Archive(dst) as new:
        for sid, _ in _ids(old, "sessions", "id"):
            try:
                r = old.execute("SELECT device_id, file_name, pulled_at, sha256, raw FROM sessions WHERE id = ?",
                                (sid,)).fetchone()
                raw = bytes(r["raw"])
            except (sqlite3.DatabaseError, TypeError) as e:
                res.lost.append("session row %d: unreadable (%s)" % (sid, e))
                continue
            if hashlib.sha256(raw).hexdigest() != r["sha256"]:
                res.lost.append("session row %d: its bytes are damaged (sha256 differs)" % sid)
                continue
            try:
                decoded = logread.decode_session(raw)
            except ValueError as e:
                res.lost.append("session row %d: cannot be decoded (%s)" % (sid, e))
                continue
            _, inserted = new.store(decoded, raw, r["file_name"], device_id=r["device_id"],
                                    pulled_at=r["pulled_at"])
            res.sessions += int(inserted)
        for rid, _ in _ids(old, "files", "name"):
            try:
                r = old.execute("SELECT device_id, name, data, pulled_at, sha256 FROM files WHERE rowid = ?",
                                (rid,)).fetchone()
                data = bytes(r["data"])
            except (sqlite3.DatabaseError, TypeError):
                continue
            if hashlib.sha256(data).hexdigest() == r["sha256"]:
                new.store_file(r["device_id"], r["name"], data, r["pulled_at"])
                res.files += 1
        for rid, _ in _ids(old, "anchors", "kind"):
            try:
                a = old.execute("SELECT * FROM anchors WHERE rowid = ?", (rid,)).fetchone()
                new.add_anchor(a["device_id"], a["boot_count"], a["ticks_ms"], a["wall_s"], a["kind"],
                               a["boot_id"] if "boot_id" in a.keys() else None)
            except (sqlite3.DatabaseError, TypeError):
                continue
        for rid, _ in _ids(old, "calibrations", "calib_id"):
            try:
                c = old.execute("SELECT * FROM calibrations WHERE rowid = ?", (rid,)).fetchone()
                new.add_calibration(c["device_id"], json.loads(c["data"]), None, c["written_at"])
            except (sqlite3.DatabaseError, TypeError, ValueError, KeyError):
                continue
        new.reconstruct_wall()
    old.close()
    return res


def replace_with(archive_path, rebuilt_path) -> Path:
    """Put the rebuilt archive in place; the damaged one is kept as archive.damaged-<time>.sqlite."""
    archive_path, rebuilt_path = Path(archive_path), Path(rebuilt_path)
    keep = archive_path.with_name("%s.damaged-%s%s" % (archive_path.stem, time.strftime("%Y%m%dT%H%M%S"),
                                                       archive_path.suffix))
    archive_path.rename(keep)
    rebuilt_path.rename(archive_path)
    return keep
