"""The practice archive: the sessions pulled from devices (docs/log-format.md), in an SQLite file (the default,
in the user's data dir) or on a PostgreSQL server shared by a study's laptops (docs/study.md).

One row per session (the raw file kept too, so it can be decoded again), one per step, one per event,
one per trace chunk. A session is keyed by device id + session number + the file's sha256 (a unique
constraint), and stored in one transaction with INSERT ... ON CONFLICT DO NOTHING: an interrupted pull leaves
whole sessions or nothing, and two pulls of one device at once store each session once. Nothing read from a
device is ever evaluated; strings from it are only stored and shown. The schema and its migrations:
host_tools/archive_db.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import stat
import time
import urllib.parse
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.pool import StaticPool

from host_tools import archive_db, holdpoint
from host_tools.archive_db import ADDED_COLUMNS, OUR_TABLES  # noqa: F401 (re-exported)
from host_tools.errors import AcuError, InputError
from host_tools.scoring import FB_NAMES, session_scores
from host_tools.paths import data_dir

TICKS_PERIOD = 1 << 30  # the device's ticks_ms wraps here (acu.ticks)
LOCK_WAIT_S = 5.0       # how long to wait for another acutrainer's write to finish

# the SQLite schema of the archives made before schema_version (migration 0 -> 1 opens them); kept to
# make such archives in the tests. The schema itself is archive_db.metadata.
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


def _teach_columns(s: dict) -> dict:
    """A step summary's teaching fields as the steps table stores them (fb as the schedule's code)."""
    fb = s.get("feedback")
    chk = s.get("check") or {}
    return {"fb": FB_NAMES.index(fb) if fb in FB_NAMES else None, "fb_pct": s.get("feedback_pct"),
            "silent_ms": s.get("silent_ms"), "silent_in_ms": s.get("silent_in_ms"),
            "check_target_g": chk.get("target_g"), "check_measured_g": chk.get("measured_g"),
            "check_grade": chk.get("grade")}


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




def _check_ours(db: sqlite3.Connection, path: Path) -> None:
    """Refuse another program's SQLite file before a table is added to it."""
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables:
        return  # a new (empty) file: the schema is made next
    cols = {r[1] for r in db.execute("PRAGMA table_info(sessions)")} if "sessions" in tables else set()
    if not set(OUR_TABLES) <= tables or not {"sha256", "raw", "session_no"} <= cols:
        raise InputError("%s: not an acutrainer archive (an SQLite file of another program, left unchanged)"
                         % path)


_default_target: str | None = None  # the CLI's global --archive (set per command run)


def set_default(target: str | None) -> None:
    """The archive every Archive(None) of this run opens (the CLI's global --archive)."""
    global _default_target
    _default_target = target or None


def default_target() -> str | Path:
    """--archive, else $ACUTRAINER_ARCHIVE (a postgresql:// URL, sqlite:///path or a path), else the data dir's."""
    return _default_target or os.environ.get(archive_db.ENV_VAR) or default_path()


def _sqlite_version(db: sqlite3.Connection) -> int:
    """The schema version of an SQLite archive; 0 when a column is missing too (a file changed by hand or
    by an older acutrainer after it was migrated): its migrations are run again, each idempotent."""
    if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").fetchone() is None:
        return 0
    for table, col in ADDED_COLUMNS:
        if col not in [r[1] for r in db.execute("PRAGMA table_info(%s)" % table)]:
            return 0
    row = db.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


class _RowDB:
    """The SQLite connection as callers outside this module have always had it (rows as sqlite3.Row), without
    giving the connection SQLAlchemy drives a row factory."""

    def __init__(self, conn: sqlite3.Connection):
        self._conn = conn

    def execute(self, sql: str, args=()):
        cur = self._conn.cursor()
        cur.row_factory = sqlite3.Row
        return cur.execute(sql, args)

    def __getattr__(self, name):
        return getattr(self._conn, name)


RETRY_SQLSTATES = ("40001", "40P01")  # serialization failure, deadlock: the transaction is simply run again


class ArchiveServerError(AcuError):
    """The archive's server refused or failed a statement (PostgreSQL). sqlstate: its code."""

    def __init__(self, message: str, sqlstate: str | None = None):
        super().__init__(message)
        self.sqlstate = sqlstate


class Archive:
    def __init__(self, path: str | os.PathLike | None = None):
        target = path if path not in (None, "") else default_target()
        self.kind, where = archive_db.parse(target if isinstance(target, str) else Path(target))
        self.read_only = False
        self.db: _RowDB | None = None  # SQLite only: the plain connection (repair, tests); PostgreSQL: None
        self.url: str | None = None    # PostgreSQL: the server's URL (with its password: never shown)
        self.path: Path | str          # what messages name: the file, or the URL without its password
        if self.kind == "sqlite":
            self._open_sqlite(Path(where))
        else:
            self._open_postgresql(str(where))

    # ---------------------------------------------------------------- opening
    def _open_sqlite(self, path: Path) -> None:
        self.path = path
        self.url = None
        if self.path.exists() and self.path.is_dir():
            raise InputError("%s: the archive path is a folder, not a file" % self.path)
        conn = None
        try:
            _private_file(self.path)
            # a read-only archive (a backup, a shared copy) can still be listed, reported and exported
            self.read_only = not os.access(self.path, os.W_OK)
            # another acutrainer writing (a pull) holds the lock for a moment: wait for it, then say so
            if self.read_only:
                conn = sqlite3.connect("file:%s?mode=ro" % urllib.parse.quote(str(self.path.resolve())),
                                       uri=True, timeout=LOCK_WAIT_S)
            else:
                conn = sqlite3.connect(str(self.path), timeout=LOCK_WAIT_S)
            try:
                _check_ours(conn, self.path)
            except InputError:
                conn.close()
                raise
            current = _sqlite_version(conn) == archive_db.VERSION
            if self.read_only and not current:
                # a read-only archive from an older acutrainer: read it from a migrated copy in memory
                mem = sqlite3.connect(":memory:")
                conn.backup(mem)
                conn.close()
                conn = mem
            self._conn = conn
            self.engine = sa.create_engine("sqlite://", creator=lambda: conn, poolclass=StaticPool)
            sa.event.listen(self.engine, "handle_error", _sqlite_error)
            if not current:
                with self.engine.connect() as c:
                    if not self.read_only:  # (a copy in memory is this process's alone)
                        c.exec_driver_sql("BEGIN IMMEDIATE")  # one migrator at a time
                    archive_db.migrate(c, _sqlite_version(conn))
                    c.commit()
            self.db = _RowDB(conn)
            st = os.stat(self.path)
            self._identity = (st.st_dev, st.st_ino)
        except sqlite3.OperationalError as e:
            if conn is not None:
                conn.close()
            if "locked" in str(e) or "busy" in str(e):
                raise AcuError("%s: the archive is in use by another program (another acutrainer?); "
                               "try again when it has finished" % self.path) from None
            raise AcuError("%s: cannot open the archive (%s)" % (self.path, e)) from None
        except (sqlite3.DatabaseError, UnicodeDecodeError) as e:  # (garbage where SQLite expects text)
            if conn is not None:
                conn.close()
            raise InputError("%s: not an acutrainer archive, or damaged (%s): acutrainer archive check"
                             % (self.path, str(e)[:120])) from None
        except OSError as e:
            raise AcuError("%s: cannot open the archive (%s)" % (self.path, e.strerror or e)) from None

    def _open_postgresql(self, url: str) -> None:
        self.url = url
        # what messages name: never the password
        self.path = archive_db.redact(url).replace("postgresql+psycopg://", "postgresql://", 1)
        self._password = sa.engine.make_url(url).password or ""
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise AcuError("%s: a PostgreSQL archive needs the psycopg driver: pip install 'acutrainer[postgres]'"
                           % self.path) from None
        self.engine = sa.create_engine(url, pool_size=1, max_overflow=2, connect_args={"connect_timeout": 10})
        sa.event.listen(self.engine, "handle_error", self._pg_error)
        try:
            with self.engine.begin() as c:
                tables = set(sa.inspect(c).get_table_names())
                cols = {x["name"] for x in sa.inspect(c).get_columns("sessions")} if "sessions" in tables else set()
                if "sessions" in tables and not {"sha256", "raw", "session_no"} <= cols:
                    raise InputError("%s: not an acutrainer archive (its sessions table is another program's; "
                                     "left unchanged)" % self.path)
                archive_db.migrate(c)
        except BaseException:
            self.engine.dispose()
            raise

    def _pg_error(self, ctx) -> None:
        """A server's error as one line naming the archive (without its password), never the SQL or its values."""
        orig = ctx.original_exception
        if isinstance(orig, AcuError):
            return
        msg = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
        if self._password:
            msg = msg.replace(self._password, "***")
        sqlstate = getattr(orig, "sqlstate", None)
        if ctx.is_disconnect or ctx.connection is None:
            raise ArchiveServerError("%s: the archive's server cannot be reached (%s)" % (self.path, msg),
                                     sqlstate) from None
        raise ArchiveServerError("%s: the archive's server refused: %s" % (self.path, msg), sqlstate) from None

    @contextmanager
    def _read(self):
        with self.engine.connect() as c:
            yield c

    @contextmanager
    def _write(self):
        """One transaction (committed at the end, rolled back on an error)."""
        with self.engine.begin() as c:
            yield c

    def _retrying(self, fn):
        """Run fn(conn) in a transaction; again (up to 5 times) when PostgreSQL chose it as a deadlock's victim."""
        for attempt in range(5):
            try:
                with self._write() as c:
                    return fn(c)
            except ArchiveServerError as e:
                if e.sqlstate not in RETRY_SQLSTATES or attempt == 4:
                    raise
        raise AssertionError("unreachable")

    def _rows(self, sql: str, **params) -> list[dict]:
        with self._read() as c:
            return [dict(r) for r in c.execute(sa.text(sql), params).mappings()]

    def _one(self, sql: str, **params):
        with self._read() as c:
            return c.execute(sa.text(sql), params).first()

    def moved_away(self) -> str | None:
        """Why the file at self.path is no longer the one this archive writes to (removed, or replaced by
        another file while a pull ran: what was stored went to the old file), or None. (A server: None.)"""
        if self.kind != "sqlite":
            return None
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
        """SQLite's own integrity check of the file ([] when it is sound; a server keeps its own)."""
        if self.kind != "sqlite":
            return []
        try:
            rows = [r[0] for r in self._conn.execute("PRAGMA integrity_check").fetchall()]
        except sqlite3.DatabaseError as e:
            return [str(e)]
        return [] if rows == ["ok"] else rows

    def close(self):
        self.engine.dispose()
        if self.kind == "sqlite":
            self._conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---------------------------------------------------------------- storing
    def has_sha(self, sha256: str) -> bool:
        """True if a device file with this sha256 is wholly archived (a file of several sessions, or a
        one-session file whose bytes are its session's)."""
        if self._one("SELECT 1 FROM files WHERE sha256 = :s", s=sha256) is not None:
            return True
        return self._one("SELECT 1 FROM sessions WHERE sha256 = :s", s=sha256) is not None

    def raw_sha(self, sha256: str) -> str | None:
        """The sha256 of the bytes archived for a device file with this sha256, recomputed from what is
        stored (re-verification before a device delete)."""
        row = self._one("SELECT data FROM files WHERE sha256 = :s", s=sha256)
        if row is None:
            row = self._one("SELECT raw AS data FROM sessions WHERE sha256 = :s", s=sha256)
        return hashlib.sha256(bytes(row[0])).hexdigest() if row else None

    def file_bytes(self, device_id: str, name: str) -> bytes | None:
        """The bytes of a device log file as archived at the last pull (the device may have appended
        sessions since: a pull fetches only what follows)."""
        row = self._one("SELECT data FROM files WHERE device_id = :d AND name = :n", d=device_id, n=name)
        return bytes(row[0]) if row else None

    def file_size(self, device_id: str, name: str) -> int | None:
        """How many bytes of a device log file the archive holds (None: never pulled)."""
        row = self._one("SELECT size FROM files WHERE device_id = :d AND name = :n", d=device_id, n=name)
        return int(row[0]) if row else None

    def sessions_in_file(self, name: str, device_id: str = "") -> list[int]:
        """Numbers of the archived sessions that came from a device file of this name."""
        q = "SELECT session_no FROM sessions WHERE file_name = :n"
        if device_id:
            q += " AND device_id = :d"
        return [r["session_no"] for r in self._rows(q + " ORDER BY session_no", n=name, d=device_id)]

    def max_session_no(self, device_id: str) -> int:
        """The highest session number archived for a device (0: none)."""
        row = self._one("SELECT MAX(session_no) FROM sessions WHERE device_id = :d", d=device_id)
        return int(row[0]) if row and row[0] is not None else 0

    def store_file(self, device_id: str, name: str, data: bytes, pulled_at: int | None = None) -> None:
        """Record a device file once every session in it is stored."""
        row = {"device_id": device_id, "name": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
               "data": data, "pulled_at": int(pulled_at or time.time())}
        self._retrying(lambda c: archive_db.upsert(c, archive_db.files, ["device_id", "name"], row, replace=True))

    def store(self, decoded: dict, raw: bytes, file_name: str, device_id: str = "",
              pulled_at: int | None = None) -> tuple[int, bool]:
        """Store one decoded session in one transaction. Returns (session id, inserted?). Safe against another
        process storing the same session at the same time: the unique key decides, one row is kept."""
        sha = hashlib.sha256(raw).hexdigest()
        hdr = decoded.get("session") or {}
        end = decoded.get("end") or {}
        dev = hdr.get("device_id") or device_id or "unknown"
        no = hdr.get("session_no")
        if no is None:
            no = int(file_name[:6]) if file_name[:6].isdigit() else 0
        row = self._one("SELECT id FROM sessions WHERE device_id = :d AND session_no = :n AND sha256 = :s",
                        d=dev, n=no, s=sha)
        if row:  # the common case of a re-pull, without building the rows
            return int(row[0]), False
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
        bid = hdr.get("boot_id")
        srow = {"device_id": dev, "session_no": no, "sha256": sha, "file_name": file_name, "size": len(raw),
                "boot_count": hdr.get("boot_count"), "start_ticks_ms": hdr.get("start_ticks_ms"),
                "wall_start_s": wall, "wall_source": source, "firmware": hdr.get("firmware"),
                "board": hdr.get("board"), "routine": hdr.get("routine"), "routine_hash": hdr.get("routine_hash"),
                "calib_id": hdr.get("calib_id"), "band_lo_g": hdr.get("band_lo_g"), "band_hi_g": hdr.get("band_hi_g"),
                "end_status": end.get("status"), "duration_ms": last_t, "steps_done": end.get("steps_done"),
                "trace_stopped": int(bool(end.get("trace_stopped"))), "problems": json.dumps(problems),
                "pulled_at": int(pulled_at or time.time()), "raw": raw,
                "routine_hash_truncated": int(bool(hdr.get("routine_hash_truncated"))),
                "boot_id": bid if isinstance(bid, int) and not isinstance(bid, bool) and bid > 0 else None}
        srow["score"], srow["score_host"] = session_scores(decoded)
        step_rows = []
        for st in decoded.get("steps", []):
            b = st.get("begin") or {}
            s = st.get("summary") or {}
            step_rows.append({
                "idx": st["index"], "kind": b.get("kind"), "point": b.get("point"), "side": b.get("side"),
                "band_lo_g": b.get("band_lo_g"), "band_hi_g": b.get("band_hi_g"), "target_s": b.get("target_s"),
                "t_begin_ms": b.get("t_ms"), "t_end_ms": s.get("t_ms"), "under_ms": s.get("under_ms"),
                "in_ms": s.get("in_ms"), "over_ms": s.get("over_ms"), "too_hard_ms": s.get("too_hard_ms"),
                "no_contact_ms": s.get("no_contact_ms"), "fault_ms": s.get("fault_ms"), "mean_g": s.get("mean_g"),
                "peak_g": s.get("peak_g"), "dose_gs": s.get("dose_gs"), "pauses": s.get("pauses"),
                "skips": s.get("skips"), "status": s.get("status") or ("cut_short" if b else None),
                "partial": int(bool(s.get("partial"))), "reconstructed": int(bool(s.get("reconstructed"))),
                "no_band": int(bool(s.get("no_band"))), **_teach_columns(s)})
        ev_rows = [{"t_ms": ev["t_ms"], "code": ev["code"], "name": ev["name"], "value": ev["value"]}
                   for ev in decoded.get("events", [])]
        tr_rows = [{"chunk": i, "t0_ms": ch["t0_ms"], "period_ms": ch["period_ms"],
                    "values_g": json.dumps(ch["values_g"])} for i, ch in enumerate(decoded.get("trace", []))]
        return self._retrying(lambda c: self._store_rows(c, srow, step_rows, ev_rows, tr_rows, bool(end)))

    def _store_rows(self, c, srow: dict, step_rows: list, ev_rows: list, tr_rows: list, closed: bool):
        t = archive_db.sessions
        ins = archive_db.insert(c, t).values(**srow).on_conflict_do_nothing(
            index_elements=["device_id", "session_no", "sha256"]).returning(t.c.id)
        sid = c.execute(ins).scalar()
        if sid is None:  # another pull stored it first (it waited for that pull's commit): one row, theirs
            sid = c.execute(sa.select(t.c.id).where(t.c.device_id == srow["device_id"],
                                                    t.c.session_no == srow["session_no"],
                                                    t.c.sha256 == srow["sha256"])).scalar()
            return int(sid), False
        if closed:
            # a session pulled before the device closed it (no end record) is superseded by its closed file
            stale = [r[0] for r in c.execute(sa.select(t.c.id).where(
                t.c.device_id == srow["device_id"], t.c.session_no == srow["session_no"],
                t.c.end_status.is_(None), t.c.id != sid))]
            for old in stale:
                for table in (archive_db.steps, archive_db.events, archive_db.traces):
                    c.execute(table.delete().where(table.c.session_id == old))
                c.execute(t.delete().where(t.c.id == old))
        for table, rows in ((archive_db.steps, step_rows), (archive_db.events, ev_rows),
                            (archive_db.traces, tr_rows)):
            if rows:
                c.execute(table.insert(), [dict(r, session_id=sid) for r in rows])
        holdpoint.reached("archive.store")
        return int(sid), True

    def add_anchor(self, device_id: str, boot_count: int, ticks_ms: int, wall_s: int, kind: str = "pull",
                   boot_id: int | None = None):
        """boot_id: the boot's random id from the device (None or 0: a firmware without one)."""
        bid = boot_id if isinstance(boot_id, int) and not isinstance(boot_id, bool) and boot_id > 0 else None
        with self._write() as c:
            c.execute(archive_db.anchors.insert().values(
                device_id=device_id, boot_count=int(boot_count), ticks_ms=int(ticks_ms) % TICKS_PERIOD,
                wall_s=int(wall_s), kind=kind, boot_id=bid))

    def add_calibration(self, device_id: str, d: dict, replaced: dict | None = None, written_at: int | None = None):
        """Keep a calibration written to a device (and the one it replaced, if not kept already)."""
        now = int(written_at if written_at is not None else time.time())
        keys = ["device_id", "calib_id"]

        def run(c):
            if replaced is not None and replaced.get("id"):
                archive_db.upsert(c, archive_db.calibrations, keys, {
                    "device_id": device_id, "calib_id": replaced["id"], "created": replaced.get("created"),
                    "written_at": now, "replaced_id": None, "data": json.dumps(replaced, sort_keys=True)})
            archive_db.upsert(c, archive_db.calibrations, keys, {
                "device_id": device_id, "calib_id": d["id"], "created": d.get("created"), "written_at": now,
                "replaced_id": replaced.get("id") if replaced else None, "data": json.dumps(d, sort_keys=True)},
                replace=True)
        self._retrying(run)

    def calibrations(self, device_id: str | None = None) -> list[dict]:
        """The calibrations kept for a device (or all), oldest first, with their data as dicts."""
        q = "SELECT * FROM calibrations" + (" WHERE device_id = :d" if device_id else "")
        rows = self._rows(q + " ORDER BY created, written_at", d=device_id)
        return [dict(r, data=json.loads(r["data"])) for r in rows]

    def reconstruct_wall(self, device_id: str | None = None) -> int:
        """Give sessions recorded before the clock was set a start time, from the same boot's
        sessions that have one, or from the nearest host anchor of that boot (every host connection to the
        running app records one; pull and sync too). Returns how many."""
        q = ("SELECT id, device_id, boot_count, boot_id, start_ticks_ms FROM sessions"
             " WHERE (wall_source IS NULL OR wall_source IN ('same_boot','pull'))")
        if device_id:
            q += " AND device_id = :d"
        q += " ORDER BY id"  # rows updated in one order by every process: concurrent pulls cannot deadlock

        def run(c) -> int:
            fixed = 0
            for s in [dict(r) for r in c.execute(sa.text(q), {"d": device_id}).mappings()]:
                if s["boot_count"] is None or s["start_ticks_ms"] is None:
                    continue
                t = s["start_ticks_ms"]
                best = None
                same = ("SELECT wall_start_s, start_ticks_ms FROM sessions WHERE device_id = :d"
                        " AND boot_count = :b AND %s AND wall_source IN ('device','clock_set')"
                        " AND id != :i" % ("boot_id IS NULL" if s["boot_id"] is None else "boot_id = :bid"))
                for r in c.execute(sa.text(same), {"d": s["device_id"], "b": s["boot_count"], "bid": s["boot_id"],
                                                   "i": s["id"]}).mappings():
                    d = ((r["start_ticks_ms"] - t + TICKS_PERIOD // 2) % TICKS_PERIOD) - TICKS_PERIOD // 2
                    if best is None or abs(d) < abs(best[0]):
                        best = (d, r["wall_start_s"] - d / 1000.0, "same_boot")
                if best is None:
                    for a in self._anchors_of_boot(c, s):
                        # an anchor may come before or after the session (every host connection records
                        # one): the nearest in the boot's ticks, within half a wrap
                        d = ((a["ticks_ms"] - t + TICKS_PERIOD // 2) % TICKS_PERIOD) - TICKS_PERIOD // 2
                        if best is None or abs(d) < abs(best[0]):
                            best = (d, a["wall_s"] - d / 1000.0, "pull")
                if best is not None:
                    c.execute(sa.text("UPDATE sessions SET wall_start_s = :w, wall_source = :src WHERE id = :i"),
                              {"w": int(round(best[1])), "src": best[2], "i": s["id"]})
                    fixed += 1
            return fixed
        return self._retrying(run)

    def _anchors_of_boot(self, c, s) -> list:
        """The anchors recorded in the boot a session was recorded in. A boot counter can be reset (a damaged
        state file, a re-flash) and reuse a number: with the session's random boot id only that boot's
        anchors count; without one (an older log), the boot number's anchors count only while they all
        come from one boot (none, or one boot id), so a reused number never dates a session."""
        bid = s.get("boot_id")
        if bid:
            return list(c.execute(sa.text("SELECT ticks_ms, wall_s FROM anchors WHERE device_id = :d AND boot_id = :b"
                                          " ORDER BY ticks_ms"), {"d": s["device_id"], "b": bid}).mappings())
        rows = list(c.execute(sa.text("SELECT ticks_ms, wall_s, boot_id FROM anchors WHERE device_id = :d"
                                      " AND boot_count = :b ORDER BY ticks_ms"),
                              {"d": s["device_id"], "b": s["boot_count"]}).mappings())
        if len({r["boot_id"] for r in rows if r["boot_id"]}) > 1:
            return []  # two boots with this number: which one the session belongs to is unknown
        return rows

    # ---------------------------------------------------------------- reading
    _SESSION_COLS = ("s.id, s.device_id, s.session_no, s.sha256, s.file_name, s.size, s.boot_count, s.start_ticks_ms,"
                     " s.wall_start_s, s.wall_source, s.firmware, s.board, s.routine, s.routine_hash, s.calib_id,"
                     " s.band_lo_g, s.band_hi_g, s.end_status, s.duration_ms, s.steps_done, s.trace_stopped,"
                     " s.problems, s.pulled_at, s.routine_hash_truncated, s.score, s.score_host,"
                     # the participant: the device's enrolment whose period holds the session's start
                     " (SELECT e.participant FROM enrolments e WHERE e.device_id = s.device_id"
                     " AND s.wall_start_s >= e.start_s AND (e.end_s IS NULL OR s.wall_start_s < e.end_s)"
                     " ORDER BY e.start_s DESC LIMIT 1) AS participant")

    def sessions(self, since: float | None = None, until: float | None = None, routine: str | None = None,
                 point: str | None = None) -> list[dict]:
        """Sessions (without the raw bytes), oldest first. Date filters drop sessions of unknown date.
        `participant`: whom the session is attributed to (docs/study.md), None outside any enrolment."""
        return self._sessions(since, until, routine, point)

    def _sessions(self, since=None, until=None, routine=None, point=None, session_id=None) -> list[dict]:
        q = "SELECT %s FROM sessions s WHERE 1=1" % self._SESSION_COLS
        args: dict = {}
        if since is not None:
            q += " AND s.wall_start_s >= :since"
            args["since"] = int(since)
        if until is not None:
            q += " AND s.wall_start_s < :until"
            args["until"] = int(until)
        if routine:
            q += " AND s.routine = :routine"
            args["routine"] = routine
        if point:
            q += " AND s.id IN (SELECT session_id FROM steps WHERE lower(point) = lower(:point))"
            args["point"] = point
        if session_id is not None:
            q += " AND s.id = :sid"
            args["sid"] = int(session_id)
        # dated sessions in time order, then the undated ones (unknown start) by device and number: never
        # an unknown row between two dated ones
        q += " ORDER BY s.wall_start_s IS NULL, s.wall_start_s, s.device_id, s.session_no"
        out = self._rows(q, **args)
        for d in out:
            d["problems"] = json.loads(d["problems"])
        return out

    def session(self, session_id: int) -> dict | None:
        r = self._sessions(session_id=session_id)
        return r[0] if r else None

    def raw(self, session_id: int) -> bytes | None:
        """A session's bytes as a log file of its own (file header + its records)."""
        row = self._one("SELECT raw FROM sessions WHERE id = :i", i=session_id)
        return bytes(row[0]) if row else None

    def steps(self, session_id: int) -> list[dict]:
        cols = ", ".join(c.name for c in archive_db.steps.c)
        return self._rows("SELECT %s FROM steps WHERE session_id = :i ORDER BY idx" % cols, i=session_id)

    STEPS_PER_QUERY = 900  # session ids in one IN (...): under SQLite's oldest limit of 999 parameters

    def steps_of(self, session_ids) -> dict[int, list[dict]]:
        """{session id: its steps, as steps() gives them} for many sessions in a few queries (one per
        STEPS_PER_QUERY ids), not one per session: the study report reads thousands."""
        ids = sorted({int(i) for i in session_ids})
        out: dict[int, list[dict]] = {i: [] for i in ids}
        q = sa.text("SELECT %s FROM steps WHERE session_id IN :ids ORDER BY session_id, idx"
                    % ", ".join(c.name for c in archive_db.steps.c)).bindparams(sa.bindparam("ids", expanding=True))
        with self._read() as c:
            for k in range(0, len(ids), self.STEPS_PER_QUERY):
                for r in c.execute(q, {"ids": ids[k:k + self.STEPS_PER_QUERY]}).mappings():
                    out[r["session_id"]].append(dict(r))
        return out

    def events(self, session_id: int) -> list[dict]:
        return self._rows("SELECT t_ms, code, name, value FROM events WHERE session_id = :i ORDER BY t_ms",
                          i=session_id)

    def trace(self, session_id: int) -> list[tuple[int, int]]:
        """[(t_ms since session start, grams)] in time order."""
        out = []
        for r in self._rows("SELECT t0_ms, period_ms, values_g FROM traces WHERE session_id = :i"
                            " ORDER BY t0_ms, chunk", i=session_id):
            for i, v in enumerate(json.loads(r["values_g"])):
                out.append((r["t0_ms"] + i * r["period_ms"], v))
        return out

    def count(self) -> int:
        return int(self._one("SELECT COUNT(*) FROM sessions")[0])

    def session_keys(self) -> list[tuple[str, int, str]]:
        """(device id, session number, sha256) of every session: what a duplicate or a loss is counted by."""
        return [(r["device_id"], r["session_no"], r["sha256"])
                for r in self._rows("SELECT device_id, session_no, sha256 FROM sessions ORDER BY id")]

    def device_arms(self) -> dict[int, int]:
        """{session id: the study arm its device ran (the session's `arm` event, acu.arms)} for the sessions
        that have one; a session without one ran the normal arm (0)."""
        from host_tools.paths import ensure_device_importable
        ensure_device_importable()
        from acu import logfmt
        return {r["session_id"]: r["value"] for r in self._rows(
            "SELECT session_id, value FROM events WHERE code = :c ORDER BY t_ms", c=logfmt.EV_ARM)}

    # ---------------------------------------------------------------- study mode (docs/study.md)
    def study_info(self) -> dict | None:
        """{name, weekly_goal, weeks, start_s} of the study in this archive, or None (acutrainer study init)."""
        rows = self._rows("SELECT name, weekly_goal, weeks, start_s FROM study WHERE id = 1")
        return rows[0] if rows else None

    def set_study(self, name: str, weekly_goal: int, weeks: int, start_s: int) -> None:
        row = {"id": 1, "name": name, "weekly_goal": int(weekly_goal), "weeks": int(weeks), "start_s": int(start_s)}
        self._retrying(lambda c: archive_db.upsert(c, archive_db.study, ["id"], row, replace=True))

    def participants(self) -> list[dict]:
        """[{participant, arm, added_s}] in the order they were added."""
        return self._rows("SELECT participant, arm, added_s FROM participants ORDER BY added_s, participant")

    def enrolments(self, device_id: str | None = None) -> list[dict]:
        """[{participant, device_id, arm, start_s, end_s}] oldest first; end_s None while enrolled."""
        q = "SELECT participant, device_id, arm, start_s, end_s FROM enrolments"
        if device_id:
            q += " WHERE device_id = :d"
        return self._rows(q + " ORDER BY start_s, id", d=device_id)

    def add_participant(self, participant: str, arm: str, added_s: int) -> bool:
        """Add a participant (before any enrolment); False if they were there already (their arm unchanged)."""
        row = {"participant": participant, "arm": arm, "added_s": int(added_s)}
        res = self._retrying(lambda c: archive_db.upsert(c, archive_db.participants, ["participant"], row))
        return bool(res.rowcount)

    def enrol(self, participant: str, arm: str, device_id: str, now_s: int) -> list[dict]:
        """Enrol a device to a participant from now_s (adding the participant, whose arm cannot change), ending
        the device's open enrolment. One transaction. Returns the enrolments it ended."""
        def run(c):
            if c.dialect.name == "postgresql":  # two enrolments of one device at once: one after the other
                c.execute(sa.text("SELECT pg_advisory_xact_lock(7260022)"))
            p = c.execute(sa.text("SELECT arm FROM participants WHERE participant = :p"), {"p": participant}).first()
            if p is not None and p[0] != arm:
                raise InputError("participant %s is in arm %s, not %s: a participant's arm does not change"
                                 % (participant, p[0], arm))
            if p is None:
                c.execute(archive_db.participants.insert().values(participant=participant, arm=arm, added_s=now_s))
            ended = self._end_open(c, device_id, now_s)
            c.execute(archive_db.enrolments.insert().values(participant=participant, device_id=device_id, arm=arm,
                                                            start_s=now_s, end_s=None))
            return ended
        return self._retrying(run)

    def unenrol(self, device_id: str, now_s: int) -> list[dict]:
        """End a device's open enrolment at now_s. Returns the enrolments ended ([]: it had none)."""
        return self._retrying(lambda c: self._end_open(c, device_id, now_s))

    @staticmethod
    def _end_open(c, device_id: str, now_s: int) -> list[dict]:
        e = archive_db.enrolments
        rows = [dict(r) for r in c.execute(sa.select(e.c.participant, e.c.device_id, e.c.arm, e.c.start_s, e.c.end_s)
                                           .where(e.c.device_id == device_id, e.c.end_s.is_(None))).mappings()]
        c.execute(e.update().where(e.c.device_id == device_id, e.c.end_s.is_(None)).values(end_s=now_s))
        return [dict(r, end_s=now_s) for r in rows]


def _sqlite_error(ctx) -> None:
    """Errors from an SQLite archive are sqlite3's own, as they always were (the CLI names each kind)."""
    if isinstance(ctx.original_exception, sqlite3.Error):
        raise ctx.original_exception


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
