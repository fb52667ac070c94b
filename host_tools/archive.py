"""The practice archive: an SQLite database of the sessions pulled from devices (docs/log-format.md).

One row per session (the raw file kept too, so it can be decoded again), one per step, one per event,
one per trace chunk. A session is keyed by device id + session number + the file's sha256, and stored in
one transaction: an interrupted pull leaves whole sessions or nothing. Nothing read from a device is ever
evaluated; strings from it are only stored and shown.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import stat
import time
import urllib.parse
from pathlib import Path

from host_tools.errors import AcuError, InputError
from host_tools.scoring import FB_NAMES, session_scores
from host_tools.paths import data_dir

TICKS_PERIOD = 1 << 30  # the device's ticks_ms wraps here (acu.ticks)
LOCK_WAIT_S = 5.0       # how long to wait for another acutrainer's write to finish

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id INTEGER PRIMARY KEY,
    device_id TEXT NOT NULL,
    session_no INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    file_name TEXT NOT NULL,
    size INTEGER NOT NULL,
    boot_count INTEGER,
    start_ticks_ms INTEGER,
    wall_start_s INTEGER,          -- best known start (epoch s) or NULL
    wall_source TEXT,              -- device | clock_set | same_boot | pull | NULL (unknown)
    firmware TEXT, board TEXT, routine TEXT, routine_hash TEXT, calib_id TEXT,
    band_lo_g INTEGER, band_hi_g INTEGER,
    end_status TEXT,               -- completed | aborted | cut_short | interrupted | NULL (no end record)
    duration_ms INTEGER,
    steps_done INTEGER,
    trace_stopped INTEGER,
    problems TEXT NOT NULL,        -- JSON list of messages from the decoder
    pulled_at INTEGER NOT NULL,
    raw BLOB NOT NULL,
    routine_hash_truncated INTEGER, -- 1: a log before format 3 kept only 63 of the hash's 64 hex digits
    score INTEGER,                 -- the session score the device logged (docs/score.md), NULL: none
    score_host INTEGER,            -- the same computed here from the log (host_tools.scoring), NULL: none
    UNIQUE (device_id, session_no, sha256)
);
CREATE INDEX IF NOT EXISTS sessions_sha ON sessions (sha256);
CREATE TABLE IF NOT EXISTS steps (
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    idx INTEGER NOT NULL,
    kind TEXT, point TEXT, side TEXT,
    band_lo_g INTEGER, band_hi_g INTEGER, target_s INTEGER,
    t_begin_ms INTEGER, t_end_ms INTEGER,
    under_ms INTEGER, in_ms INTEGER, over_ms INTEGER, too_hard_ms INTEGER,
    no_contact_ms INTEGER, fault_ms INTEGER,
    mean_g INTEGER, peak_g INTEGER, dose_gs INTEGER, pauses INTEGER, skips INTEGER,
    status TEXT,
    partial INTEGER,               -- 1: the step did not run to its end (figures up to the stop)
    reconstructed INTEGER,         -- 1: rebuilt from the trace by the reader (the device's summary missing)
    no_band INTEGER,               -- 1: no pressure target (rest, breathe, timed): band figures NULL
    fb INTEGER, fb_pct INTEGER,    -- the feedback schedule (acu.routine.FB_*) and its %; NULL: no band
    silent_ms INTEGER, silent_in_ms INTEGER,  -- contact (in-band) time the schedule kept silent
    check_target_g INTEGER, check_measured_g INTEGER, check_grade INTEGER,  -- a check step's; NULL otherwise
    PRIMARY KEY (session_id, idx)
);
CREATE TABLE IF NOT EXISTS events (
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    t_ms INTEGER, code INTEGER, name TEXT, value INTEGER
);
CREATE TABLE IF NOT EXISTS traces (
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    chunk INTEGER NOT NULL,
    t0_ms INTEGER, period_ms INTEGER,
    values_g TEXT NOT NULL,        -- JSON list of grams
    PRIMARY KEY (session_id, chunk)
);
CREATE TABLE IF NOT EXISTS anchors (  -- device ticks seen at a known host time (every connection, pull, sync)
    device_id TEXT NOT NULL, boot_count INTEGER NOT NULL, ticks_ms INTEGER NOT NULL,
    wall_s INTEGER NOT NULL, kind TEXT NOT NULL,
    boot_id INTEGER               -- the boot's random id (NULL: firmware without one)
);
CREATE TABLE IF NOT EXISTS files (  -- device log files whose every session is stored (a file holds 1+)
    device_id TEXT NOT NULL, name TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL,
    data BLOB NOT NULL, pulled_at INTEGER NOT NULL,
    PRIMARY KEY (device_id, name)
);
CREATE INDEX IF NOT EXISTS files_sha ON files (sha256);
CREATE TABLE IF NOT EXISTS calibrations (  -- every calibration written to a device, and the one it replaced
    device_id TEXT NOT NULL, calib_id TEXT NOT NULL, created TEXT, written_at INTEGER NOT NULL,
    replaced_id TEXT, data TEXT NOT NULL,
    PRIMARY KEY (device_id, calib_id)
);
"""


# columns added since the first archives: an older archive gets them (NULL in its rows) when opened
ADDED_COLUMNS = (("sessions", "routine_hash_truncated"), ("steps", "partial"), ("steps", "reconstructed"),
                 ("steps", "no_band"), ("anchors", "boot_id"), ("sessions", "boot_id"), ("sessions", "score"),
                 ("sessions", "score_host"), ("steps", "fb"), ("steps", "fb_pct"), ("steps", "silent_ms"),
                 ("steps", "silent_in_ms"), ("steps", "check_target_g"), ("steps", "check_measured_g"),
                 ("steps", "check_grade"))


def _add_columns(db: sqlite3.Connection) -> None:
    for table, col in ADDED_COLUMNS:
        if col not in [r[1] for r in db.execute("PRAGMA table_info(%s)" % table)]:
            db.execute("ALTER TABLE %s ADD COLUMN %s INTEGER" % (table, col))


def _teach_columns(s: dict) -> tuple:
    """A step summary's teaching fields as the steps table stores them (fb as the schedule's code)."""
    fb = s.get("feedback")
    chk = s.get("check") or {}
    return (FB_NAMES.index(fb) if fb in FB_NAMES else None, s.get("feedback_pct"), s.get("silent_ms"),
            s.get("silent_in_ms"), chk.get("target_g"), chk.get("measured_g"), chk.get("grade"))


def default_path() -> Path:
    return data_dir() / "archive.sqlite"


def _private_file(path: Path) -> None:
    """Create path (if missing) readable by the user only; take group and other access from an existing one
    (never add any: a read-only archive stays read-only)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            pass
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        os.chmod(path, mode & 0o700)


OUR_TABLES = ("sessions", "steps", "events", "traces")


def _check_ours(db: sqlite3.Connection, path: Path) -> None:
    """Refuse another program's SQLite file before a table is added to it."""
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables:
        return  # a new (empty) file: the schema is made next
    cols = {r[1] for r in db.execute("PRAGMA table_info(sessions)")} if "sessions" in tables else set()
    if not set(OUR_TABLES) <= tables or not {"sha256", "raw", "session_no"} <= cols:
        raise InputError("%s: not an acutrainer archive (an SQLite file of another program, left unchanged)"
                         % path)


class Archive:
    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path) if path else default_path()
        if self.path.exists() and self.path.is_dir():
            raise InputError("%s: the archive path is a folder, not a file" % self.path)
        self.read_only = False
        try:
            _private_file(self.path)
            # a read-only archive (a backup, a shared copy) can still be listed, reported and exported
            self.read_only = not os.access(self.path, os.W_OK)
            # another acutrainer writing (a pull) holds the lock for a moment: wait for it, then say so
            if self.read_only:
                self.db = sqlite3.connect("file:%s?mode=ro" % urllib.parse.quote(str(self.path.resolve())),
                                          uri=True, timeout=LOCK_WAIT_S)
            else:
                self.db = sqlite3.connect(str(self.path), timeout=LOCK_WAIT_S)
            self.db.row_factory = sqlite3.Row
            try:
                _check_ours(self.db, self.path)
            except InputError:
                self.db.close()
                raise
            if self.read_only:
                self._read_only_columns()
            else:
                self.db.executescript(SCHEMA)
                with self.db:
                    _add_columns(self.db)
            st = os.stat(self.path)
            self._identity = (st.st_dev, st.st_ino)
        except sqlite3.OperationalError as e:
            if "locked" in str(e) or "busy" in str(e):
                raise AcuError("%s: the archive is in use by another program (another acutrainer?); "
                               "try again when it has finished" % self.path) from None
            raise AcuError("%s: cannot open the archive (%s)" % (self.path, e)) from None
        except sqlite3.DatabaseError as e:
            raise InputError("%s: not an acutrainer archive, or damaged (%s): acutrainer archive check"
                             % (self.path, e)) from None
        except OSError as e:
            raise AcuError("%s: cannot open the archive (%s)" % (self.path, e.strerror or e)) from None

    def _read_only_columns(self) -> None:
        """A read-only archive from before a column was added: read it from a copy in memory that has them."""
        missing = [(t, c) for t, c in ADDED_COLUMNS
                   if c not in [r[1] for r in self.db.execute("PRAGMA table_info(%s)" % t)]]
        if not missing:
            return
        mem = sqlite3.connect(":memory:")
        self.db.backup(mem)
        self.db.close()
        self.db = mem
        self.db.row_factory = sqlite3.Row
        with self.db:
            _add_columns(self.db)

    def moved_away(self) -> str | None:
        """Why the file at self.path is no longer the one this archive writes to (removed, or replaced by
        another file while a pull ran: what was stored went to the old file), or None."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return "%s was removed while acutrainer was using it" % self.path
        except OSError as e:
            return "%s cannot be checked (%s)" % (self.path, e.strerror or e)
        if (st.st_dev, st.st_ino) != self._identity:
            return "%s was replaced by another file while acutrainer was using it" % self.path
        return None

    def integrity_problems(self) -> list[str]:
        """SQLite's own integrity check of the file ([] when it is sound)."""
        try:
            rows = [r[0] for r in self.db.execute("PRAGMA integrity_check").fetchall()]
        except sqlite3.DatabaseError as e:
            return [str(e)]
        return [] if rows == ["ok"] else rows

    def close(self):
        self.db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---------------------------------------------------------------- storing
    def has_sha(self, sha256: str) -> bool:
        """True if a device file with this sha256 is wholly archived (a file of several sessions, or a
        one-session file whose bytes are its session's)."""
        if self.db.execute("SELECT 1 FROM files WHERE sha256 = ?", (sha256,)).fetchone() is not None:
            return True
        return self.db.execute("SELECT 1 FROM sessions WHERE sha256 = ?", (sha256,)).fetchone() is not None

    def raw_sha(self, sha256: str) -> str | None:
        """The sha256 of the bytes archived for a device file with this sha256, recomputed from what is
        stored (re-verification before a device delete)."""
        row = self.db.execute("SELECT data FROM files WHERE sha256 = ?", (sha256,)).fetchone()
        if row is None:
            row = self.db.execute("SELECT raw AS data FROM sessions WHERE sha256 = ?", (sha256,)).fetchone()
        return hashlib.sha256(row["data"]).hexdigest() if row else None

    def file_bytes(self, device_id: str, name: str) -> bytes | None:
        """The bytes of a device log file as archived at the last pull (the device may have appended
        sessions since: a pull fetches only what follows)."""
        row = self.db.execute("SELECT data FROM files WHERE device_id = ? AND name = ?", (device_id, name)).fetchone()
        return bytes(row["data"]) if row else None

    def file_size(self, device_id: str, name: str) -> int | None:
        """How many bytes of a device log file the archive holds (None: never pulled)."""
        row = self.db.execute("SELECT size FROM files WHERE device_id = ? AND name = ?", (device_id, name)).fetchone()
        return int(row["size"]) if row else None

    def sessions_in_file(self, name: str, device_id: str = "") -> list[int]:
        """Numbers of the archived sessions that came from a device file of this name."""
        q = "SELECT session_no FROM sessions WHERE file_name = ?"
        args: tuple = (name,)
        if device_id:
            q += " AND device_id = ?"
            args += (device_id,)
        return [r[0] for r in self.db.execute(q + " ORDER BY session_no", args)]

    def store_file(self, device_id: str, name: str, data: bytes, pulled_at: int | None = None) -> None:
        """Record a device file once every session in it is stored."""
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO files VALUES (?,?,?,?,?,?)",
                            (device_id, name, len(data), hashlib.sha256(data).hexdigest(), data,
                             int(pulled_at or time.time())))

    def store(self, decoded: dict, raw: bytes, file_name: str, device_id: str = "",
              pulled_at: int | None = None) -> tuple[int, bool]:
        """Store one decoded session in one transaction. Returns (session id, inserted?)."""
        sha = hashlib.sha256(raw).hexdigest()
        hdr = decoded.get("session") or {}
        end = decoded.get("end") or {}
        dev = hdr.get("device_id") or device_id or "unknown"
        no = hdr.get("session_no")
        if no is None:
            no = int(file_name[:6]) if file_name[:6].isdigit() else 0
        row = self.db.execute("SELECT id FROM sessions WHERE device_id = ? AND session_no = ? AND sha256 = ?",
                              (dev, no, sha)).fetchone()
        if row:
            return row["id"], False
        # a session pulled before the device closed it (no end record) is superseded by its closed file
        stale = []
        if end:
            stale = [r["id"] for r in self.db.execute(
                "SELECT id FROM sessions WHERE device_id = ? AND session_no = ? AND end_status IS NULL",
                (dev, no))]
        wall = hdr.get("wall_start_s")
        source = "device" if wall else None
        if not wall:
            for ev in decoded.get("events", []):
                if ev["name"] == "clock_set" and ev["value"] > 0:
                    wall = ev["value"] - ev["t_ms"] // 1000
                    source = "clock_set"
                    break
        problems = list(decoded.get("problems", []))
        if wall and not plausible_time(wall):
            # a clock that was never right (1970, 2100, a wrapped u32): no date at all beats a wrong one, and
            # keeps the session out of adherence and trends (it is still listed, with this note)
            problems.append("implausible start time %s (the device clock was wrong): left undated"
                            % time.strftime("%Y-%m-%d", time.gmtime(wall)))
            wall, source = None, "implausible"
        last_t = end.get("t_ms")
        if last_t is None:
            ts = [s["summary"]["t_ms"] for s in decoded.get("steps", []) if s.get("summary")]
            ts += [c["t0_ms"] + c["period_ms"] * len(c["values_g"]) for c in decoded.get("trace", [])]
            last_t = max(ts) if ts else 0
        with self.db:
            for old in stale:
                for table in ("steps", "events", "traces"):
                    self.db.execute("DELETE FROM %s WHERE session_id = ?" % table, (old,))
                self.db.execute("DELETE FROM sessions WHERE id = ?", (old,))
            cur = self.db.execute(
                "INSERT INTO sessions (device_id, session_no, sha256, file_name, size, boot_count,"
                " start_ticks_ms, wall_start_s, wall_source, firmware, board, routine, routine_hash,"
                " calib_id, band_lo_g, band_hi_g, end_status, duration_ms, steps_done, trace_stopped,"
                " problems, pulled_at, raw, routine_hash_truncated, score, score_host)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (dev, no, sha, file_name, len(raw), hdr.get("boot_count"), hdr.get("start_ticks_ms"), wall,
                 source, hdr.get("firmware"), hdr.get("board"), hdr.get("routine"), hdr.get("routine_hash"),
                 hdr.get("calib_id"), hdr.get("band_lo_g"), hdr.get("band_hi_g"), end.get("status"), last_t,
                 end.get("steps_done"), int(bool(end.get("trace_stopped"))),
                 json.dumps(problems), int(pulled_at or time.time()), raw,
                 int(bool(hdr.get("routine_hash_truncated")))) + session_scores(decoded))
            sid = cur.lastrowid
            assert sid is not None  # sqlite3 sets it after a successful INSERT
            bid = hdr.get("boot_id")
            if isinstance(bid, int) and not isinstance(bid, bool) and bid > 0:
                self.db.execute("UPDATE sessions SET boot_id = ? WHERE id = ?", (bid, sid))
            for st in decoded.get("steps", []):
                b = st.get("begin") or {}
                s = st.get("summary") or {}
                self.db.execute(
                    "INSERT INTO steps (session_id, idx, kind, point, side, band_lo_g, band_hi_g, target_s,"
                    " t_begin_ms, t_end_ms, under_ms, in_ms, over_ms, too_hard_ms, no_contact_ms, fault_ms,"
                    " mean_g, peak_g, dose_gs, pauses, skips, status, partial, reconstructed, no_band, fb, fb_pct,"
                    " silent_ms, silent_in_ms, check_target_g, check_measured_g, check_grade)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (sid, st["index"], b.get("kind"), b.get("point"), b.get("side"), b.get("band_lo_g"),
                     b.get("band_hi_g"), b.get("target_s"), b.get("t_ms"), s.get("t_ms"), s.get("under_ms"),
                     s.get("in_ms"), s.get("over_ms"), s.get("too_hard_ms"), s.get("no_contact_ms"),
                     s.get("fault_ms"), s.get("mean_g"), s.get("peak_g"), s.get("dose_gs"), s.get("pauses"),
                     s.get("skips"), s.get("status") or ("cut_short" if b else None),
                     int(bool(s.get("partial"))), int(bool(s.get("reconstructed"))), int(bool(s.get("no_band"))))
                    + _teach_columns(s))
            for ev in decoded.get("events", []):
                self.db.execute("INSERT INTO events VALUES (?,?,?,?,?)",
                                (sid, ev["t_ms"], ev["code"], ev["name"], ev["value"]))
            for i, ch in enumerate(decoded.get("trace", [])):
                self.db.execute("INSERT INTO traces VALUES (?,?,?,?,?)",
                                (sid, i, ch["t0_ms"], ch["period_ms"], json.dumps(ch["values_g"])))
        return sid, True

    def add_anchor(self, device_id: str, boot_count: int, ticks_ms: int, wall_s: int, kind: str = "pull",
                   boot_id: int | None = None):
        """boot_id: the boot's random id from the device (None or 0: a firmware without one)."""
        bid = boot_id if isinstance(boot_id, int) and not isinstance(boot_id, bool) and boot_id > 0 else None
        with self.db:
            self.db.execute("INSERT INTO anchors (device_id, boot_count, ticks_ms, wall_s, kind, boot_id)"
                            " VALUES (?,?,?,?,?,?)",
                            (device_id, int(boot_count), int(ticks_ms) % TICKS_PERIOD, int(wall_s), kind, bid))

    def add_calibration(self, device_id: str, d: dict, replaced: dict | None = None, written_at: int | None = None):
        """Keep a calibration written to a device (and the one it replaced, if not kept already)."""
        now = int(written_at if written_at is not None else time.time())
        with self.db:
            if replaced is not None and replaced.get("id"):
                self.db.execute("INSERT OR IGNORE INTO calibrations VALUES (?,?,?,?,?,?)",
                                (device_id, replaced["id"], replaced.get("created"), now, None,
                                 json.dumps(replaced, sort_keys=True)))
            self.db.execute("INSERT OR REPLACE INTO calibrations VALUES (?,?,?,?,?,?)",
                            (device_id, d["id"], d.get("created"), now,
                             replaced.get("id") if replaced else None, json.dumps(d, sort_keys=True)))

    def calibrations(self, device_id: str | None = None) -> list[dict]:
        """The calibrations kept for a device (or all), oldest first, with their data as dicts."""
        q = "SELECT * FROM calibrations" + (" WHERE device_id = ?" if device_id else "")
        rows = self.db.execute(q + " ORDER BY created, written_at", (device_id,) if device_id else ()).fetchall()
        return [dict(r, data=json.loads(r["data"])) for r in rows]

    def reconstruct_wall(self, device_id: str | None = None) -> int:
        """Give sessions recorded before the clock was set a start time, from the same boot's
        sessions that have one, or from the nearest host anchor of that boot (every host connection to the
        running app records one; pull and sync too). Returns how many."""
        q = "SELECT * FROM sessions WHERE (wall_source IS NULL OR wall_source IN ('same_boot','pull'))"
        args: tuple = ()
        if device_id:
            q += " AND device_id = ?"
            args = (device_id,)
        fixed = 0
        with self.db:
            for s in self.db.execute(q, args).fetchall():
                if s["boot_count"] is None or s["start_ticks_ms"] is None:
                    continue
                t = s["start_ticks_ms"]
                best = None
                for r in self.db.execute(
                        "SELECT wall_start_s, start_ticks_ms FROM sessions WHERE device_id = ?"
                        " AND boot_count = ? AND boot_id IS ? AND wall_source IN ('device','clock_set')"
                        " AND id != ?", (s["device_id"], s["boot_count"], s["boot_id"], s["id"])):
                    d = ((r["start_ticks_ms"] - t + TICKS_PERIOD // 2) % TICKS_PERIOD) - TICKS_PERIOD // 2
                    if best is None or abs(d) < abs(best[0]):
                        best = (d, r["wall_start_s"] - d / 1000.0, "same_boot")
                if best is None:
                    for a in self._anchors_of_boot(s):
                        # an anchor may come before or after the session (every host connection records
                        # one): the nearest in the boot's ticks, within half a wrap
                        d = ((a["ticks_ms"] - t + TICKS_PERIOD // 2) % TICKS_PERIOD) - TICKS_PERIOD // 2
                        if best is None or abs(d) < abs(best[0]):
                            best = (d, a["wall_s"] - d / 1000.0, "pull")
                if best is not None:
                    self.db.execute("UPDATE sessions SET wall_start_s = ?, wall_source = ? WHERE id = ?",
                                    (int(round(best[1])), best[2], s["id"]))
                    fixed += 1
        return fixed

    def _anchors_of_boot(self, s) -> list:
        """The anchors recorded in the boot a session was recorded in. A boot counter can be reset (a damaged
        state file, a re-flash) and reuse a number: with the session's random boot id only that boot's
        anchors count; without one (an older log), the boot number's anchors count only while they all
        come from one boot (none, or one boot id), so a reused number never dates a session."""
        bid = s["boot_id"] if "boot_id" in s.keys() else None
        if bid:
            return self.db.execute("SELECT ticks_ms, wall_s FROM anchors WHERE device_id = ? AND boot_id = ?"
                                   " ORDER BY ticks_ms", (s["device_id"], bid)).fetchall()
        rows = self.db.execute("SELECT ticks_ms, wall_s, boot_id FROM anchors WHERE device_id = ? AND boot_count = ?"
                               " ORDER BY ticks_ms", (s["device_id"], s["boot_count"])).fetchall()
        if len({r["boot_id"] for r in rows if r["boot_id"]}) > 1:
            return []  # two boots with this number: which one the session belongs to is unknown
        return rows

    # ---------------------------------------------------------------- reading
    def sessions(self, since: float | None = None, until: float | None = None, routine: str | None = None,
                 point: str | None = None) -> list[dict]:
        """Sessions (without the raw bytes), oldest first. Date filters drop sessions of unknown date."""
        q = ("SELECT id, device_id, session_no, sha256, file_name, size, boot_count, start_ticks_ms,"
             " wall_start_s, wall_source, firmware, board, routine, routine_hash, calib_id, band_lo_g,"
             " band_hi_g, end_status, duration_ms, steps_done, trace_stopped, problems, pulled_at,"
             " routine_hash_truncated, score, score_host FROM sessions WHERE 1=1")
        args: list = []
        if since is not None:
            q += " AND wall_start_s >= ?"
            args.append(int(since))
        if until is not None:
            q += " AND wall_start_s < ?"
            args.append(int(until))
        if routine:
            q += " AND routine = ?"
            args.append(routine)
        if point:
            q += " AND id IN (SELECT session_id FROM steps WHERE lower(point) = lower(?))"
            args.append(point)
        # dated sessions in time order, then the undated ones (unknown start) by device and number: never
        # an unknown row between two dated ones
        q += " ORDER BY wall_start_s IS NULL, wall_start_s, device_id, session_no"
        out = []
        for r in self.db.execute(q, args):
            d = dict(r)
            d["problems"] = json.loads(d["problems"])
            out.append(d)
        return out

    def session(self, session_id: int) -> dict | None:
        r = [s for s in self.sessions() if s["id"] == session_id]
        return r[0] if r else None

    def raw(self, session_id: int) -> bytes | None:
        """A session's bytes as a log file of its own (file header + its records)."""
        row = self.db.execute("SELECT raw FROM sessions WHERE id = ?", (session_id,)).fetchone()
        return bytes(row["raw"]) if row else None

    def steps(self, session_id: int) -> list[dict]:
        return [dict(r) for r in self.db.execute("SELECT * FROM steps WHERE session_id = ? ORDER BY idx",
                                                 (session_id,))]

    def events(self, session_id: int) -> list[dict]:
        return [dict(r) for r in self.db.execute(
            "SELECT t_ms, code, name, value FROM events WHERE session_id = ? ORDER BY t_ms", (session_id,))]

    def trace(self, session_id: int) -> list[tuple[int, int]]:
        """[(t_ms since session start, grams)] in time order."""
        out = []
        for r in self.db.execute("SELECT t0_ms, period_ms, values_g FROM traces WHERE session_id = ?"
                                 " ORDER BY t0_ms, chunk", (session_id,)):
            for i, v in enumerate(json.loads(r["values_g"])):
                out.append((r["t0_ms"] + i * r["period_ms"], v))
        return out

    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0]


EARLIEST_S = 1577836800   # 2020-01-01: no trainer recorded a session before this
LATEST_S = 4102444800     # 2100-01-01, excluded: the device refuses clocks from here (its log's u32 wraps in 2106)


def plausible_time(epoch_s, now: float | None = None) -> bool:
    """A session or clock time that can be right: from 2020 to two days after this computer's clock."""
    now = time.time() if now is None else now
    return EARLIEST_S <= epoch_s <= now + 2 * 86400


def parse_date(text: str | None, option: str = "--since") -> float | None:
    """YYYY-MM-DD (local midnight) or YYYY-MM-DDTHH:MM -> epoch seconds; InputError naming the option."""
    if text is None:
        return None
    import datetime as dt
    for fmt in ("%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"):
        try:
            return dt.datetime.strptime(text, fmt).timestamp()
        except ValueError:
            continue
    raise InputError("%s %r: not a date (use YYYY-MM-DD)" % (option, text[:40]))
