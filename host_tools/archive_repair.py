"""Checking and rebuilding the archive. The archive keeps every session's raw bytes (and every device file's),
so the tables derived from them (steps, events, traces) can always be made again: `check` runs SQLite's
integrity check and verifies each session's bytes against its sha256; `rebuild` reads whatever rows can
still be read from a damaged file into a new archive, decoding each session again with the device's codec.
Nothing is deleted: the damaged file is kept beside the rebuilt one.
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from host_tools import archive_carve
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
        if arc.kind != "sqlite":  # a server checks its own pages: the sessions' bytes are what is left to check
            import sqlalchemy as sa
            with arc.engine.connect() as c:
                for sid, sha, raw in c.execute(sa.text("SELECT id, sha256, raw FROM sessions ORDER BY id")):
                    res.sessions += 1
                    if hashlib.sha256(bytes(raw)).hexdigest() != sha:
                        res.problems.append("session %d: its bytes do not match their sha256" % sid)
            return res
        res.problems += ["sqlite: %s" % p for p in arc.integrity_problems()[:20]]
        for sid, sha in _ids(arc.db, "sessions", "sha256"):
            try:
                row = arc.db.execute("SELECT raw FROM sessions WHERE id = ?", (sid,)).fetchone()
            except (sqlite3.DatabaseError, UnicodeDecodeError) as e:
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
    except (sqlite3.DatabaseError, UnicodeDecodeError):
        top = 20000  # the b-tree's top is unreadable: look rows up one at a time (carving finds the rest)
    for rid in range(1, top + 1):
        try:
            r = db.execute("SELECT rowid, %s FROM %s WHERE rowid = ?" % (extra, table), (rid,)).fetchone()
        except (sqlite3.DatabaseError, UnicodeDecodeError):
            continue
        if r is not None:
            out.append((r[0], r[1]))
    return out


@dataclass
class RebuildResult:
    path: Path
    sessions: int = 0
    files: int = 0
    carved: int = 0        # sessions found only by reading the file's pages directly (archive_carve)
    lost: list[str] = field(default_factory=list)


def _open_ro(src: Path) -> sqlite3.Connection:
    try:
        old = sqlite3.connect("file:%s?mode=ro" % urllib.parse.quote(str(src.resolve())), uri=True, timeout=5)
        old.execute("SELECT 1").fetchone()
    except (sqlite3.DatabaseError, UnicodeDecodeError) as e:
        raise AcuError("%s: cannot be opened at all (%s)" % (src, e)) from None
    try:
        old.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError as e:
        if "locked" in str(e) or "busy" in str(e):
            old.close()
            raise AcuError("%s: the archive is in use by another program (another acutrainer?); try again when "
                           "it has finished" % src) from None
    except (sqlite3.DatabaseError, UnicodeDecodeError):
        pass  # a damaged schema: the rows are carved from the pages below
    old.row_factory = sqlite3.Row
    return old


def rebuild(src, dst) -> RebuildResult:
    """A new archive at dst from what can be read of src: sessions decoded again from their raw bytes (rows
    SQLite can still reach, then rows carved from the file's pages, then sessions split again from archived
    device files), device files, time anchors and calibrations. dst must not exist; it appears only complete
    (built under a temporary name, then renamed), and not at all when nothing could be recovered."""
    src, dst = Path(src), Path(dst)
    if dst.exists():
        raise AcuError("%s already exists: remove it or choose another --out" % dst)
    if not dst.parent.is_dir():
        raise AcuError("%s: the folder %s does not exist" % (dst, dst.parent))
    try:
        raw_file = src.read_bytes()
    except OSError as e:
        raise AcuError("%s: cannot be read (%s)" % (src, e.strerror or e)) from None
    old = _open_ro(src)
    res = RebuildResult(dst)
    tmp = dst.with_name(".%s.%d.tmp" % (dst.name, os.getpid()))
    try:
        with Archive(tmp) as new:
            _rebuild_into(old, raw_file, new, res)
            if res.sessions == 0 and res.files == 0:
                raise AcuError("%s: no session could be recovered from it (%d row(s) lost); nothing was written "
                               "and the archive is left as it is" % (src, len(res.lost)))
        os.replace(tmp, dst)
    except BaseException:
        for p in (tmp, Path(str(tmp) + "-journal")):
            try:
                p.unlink()
            except OSError:
                pass
        raise
    finally:
        old.close()
    return res


def _sessions_by_end(items):
    """Open sessions (no end record) first: a closed copy stored after supersedes its open one."""
    decoded = []
    for it in items:
        try:
            d = logread.decode_session(it["raw"])
        except ValueError:
            continue
        decoded.append((d.get("end") is not None, d, it))
    return sorted(decoded, key=lambda x: x[0])


def _rebuild_into(old, raw_file: bytes, new: Archive, res: RebuildResult) -> None:
    rows = []
    for sid, _ in _ids(old, "sessions", "id"):
        try:
            r = old.execute("SELECT device_id, file_name, pulled_at, sha256, raw FROM sessions WHERE id = ?",
                            (sid,)).fetchone()
            raw = bytes(r["raw"])
        except (sqlite3.DatabaseError, UnicodeDecodeError, TypeError) as e:
            res.lost.append("session row %d: unreadable (%s)" % (sid, e))
            continue
        if hashlib.sha256(raw).hexdigest() != r["sha256"]:
            res.lost.append("session row %d: its bytes are damaged (sha256 differs)" % sid)
            continue
        rows.append({"device_id": r["device_id"], "file_name": r["file_name"], "pulled_at": r["pulled_at"],
                     "raw": raw})
    files = []
    for rid, _ in _ids(old, "files", "name"):
        try:
            r = old.execute("SELECT device_id, name, data, pulled_at, sha256 FROM files WHERE rowid = ?",
                            (rid,)).fetchone()
            data = bytes(r["data"])
        except (sqlite3.DatabaseError, UnicodeDecodeError, TypeError):
            continue
        if hashlib.sha256(data).hexdigest() == r["sha256"]:
            files.append({"device_id": r["device_id"], "name": r["name"], "pulled_at": r["pulled_at"], "data": data})
    carved = archive_carve.carve(raw_file)
    have = {hashlib.sha256(x["raw"]).hexdigest() for x in rows}
    extra = [x for x in carved["sessions"] if hashlib.sha256(x["raw"]).hexdigest() not in have]
    fhave = {hashlib.sha256(x["data"]).hexdigest() for x in files}
    files += [x for x in carved["files"] if hashlib.sha256(x["data"]).hexdigest() not in fhave]
    # sessions split again from archived device files: found when their own rows are gone
    for f in files:
        try:
            parts = logread.split_sessions(f["data"])
        except ValueError:
            continue
        for _s, _e, blob in parts:
            extra.append({"device_id": f["device_id"], "file_name": f["name"], "pulled_at": f["pulled_at"],
                          "raw": blob})
    for is_carved, group in ((False, rows), (True, extra)):
        for _closed, decoded, it in _sessions_by_end(group):
            if is_carved and decoded.get("session") is None:
                continue  # a fragment without its header: nothing to key it by
            _, inserted = new.store(decoded, it["raw"], it["file_name"], device_id=it["device_id"],
                                    pulled_at=it["pulled_at"])
            res.sessions += int(inserted)
            res.carved += int(inserted and is_carved)
    for f in files:
        new.store_file(f["device_id"], f["name"], f["data"], f["pulled_at"])
        res.files += 1
    for rid, _ in _ids(old, "anchors", "kind"):
        try:
            a = old.execute("SELECT * FROM anchors WHERE rowid = ?", (rid,)).fetchone()
            new.add_anchor(a["device_id"], a["boot_count"], a["ticks_ms"], a["wall_s"], a["kind"],
                           a["boot_id"] if "boot_id" in a.keys() else None)
        except (sqlite3.DatabaseError, UnicodeDecodeError, TypeError):
            continue
    for rid, _ in _ids(old, "calibrations", "calib_id"):
        try:
            c = old.execute("SELECT * FROM calibrations WHERE rowid = ?", (rid,)).fetchone()
            new.add_calibration(c["device_id"], json.loads(c["data"]), None, c["written_at"])
        except (sqlite3.DatabaseError, TypeError, ValueError, KeyError):
            continue
    new.reconstruct_wall()


def replace_with(archive_path, rebuilt_path) -> Path:
    """Put the rebuilt archive in place; the damaged one is kept as archive.damaged-<time>.sqlite."""
    archive_path, rebuilt_path = Path(archive_path), Path(rebuilt_path)
    keep = archive_path.with_name("%s.damaged-%s%s" % (archive_path.stem, time.strftime("%Y%m%dT%H%M%S"),
                                                       archive_path.suffix))
    archive_path.rename(keep)
    rebuilt_path.rename(archive_path)
    return keep
