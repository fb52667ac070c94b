"""The archive's database layer: one schema in code for SQLite and PostgreSQL, its migrations, and archive URLs.

SQLAlchemy Core (not its ORM): the tables are declared once and rendered in each dialect (INTEGER/BLOB in
SQLite, BIGINT/BYTEA in PostgreSQL), INSERT ... ON CONFLICT is spelled by each dialect's own `insert`, and the
same code drives the standard library's sqlite3 and psycopg 3. docs/study.md says why.

Migrations: a `schema_version` table holds one number; `MIGRATIONS` are ordered steps in code, each idempotent
(create what is missing, add missing columns), so an archive from before this table (version 0) is brought up
by running them all. On PostgreSQL they run in one transaction under an advisory lock: two laptops opening a
new server at once make the schema once.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from host_tools.errors import InputError

ENV_VAR = "ACUTRAINER_ARCHIVE"  # the setting: a PostgreSQL URL, an SQLite path or sqlite:///path

# one integer type: INTEGER in SQLite (where `id INTEGER PRIMARY KEY` is the rowid, which the carver and
# repair rely on), BIGINT in PostgreSQL (wall clocks past 2038, 32-bit boot ids, u32 event values)
INT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

metadata = sa.MetaData()

# column order is the first archives' (archive_carve reads a session row's raw bytes by position)
sessions = sa.Table(
    "sessions", metadata,
    sa.Column("id", INT, primary_key=True, autoincrement=True),
    sa.Column("device_id", sa.Text, nullable=False),
    sa.Column("session_no", INT, nullable=False),
    sa.Column("sha256", sa.Text, nullable=False),
    sa.Column("file_name", sa.Text, nullable=False),
    sa.Column("size", INT, nullable=False),
    sa.Column("boot_count", INT),
    sa.Column("start_ticks_ms", INT),
    sa.Column("wall_start_s", INT),         # best known start (epoch s) or NULL
    sa.Column("wall_source", sa.Text),      # device | clock_set | same_boot | pull | implausible | NULL
    sa.Column("firmware", sa.Text), sa.Column("board", sa.Text), sa.Column("routine", sa.Text),
    sa.Column("routine_hash", sa.Text), sa.Column("calib_id", sa.Text),
    sa.Column("band_lo_g", INT), sa.Column("band_hi_g", INT),
    sa.Column("end_status", sa.Text),       # completed | aborted | cut_short | interrupted | NULL (no end record)
    sa.Column("duration_ms", INT),
    sa.Column("steps_done", INT),
    sa.Column("trace_stopped", INT),
    sa.Column("problems", sa.Text, nullable=False),  # JSON list of messages from the decoder
    sa.Column("pulled_at", INT, nullable=False),
    sa.Column("raw", sa.LargeBinary, nullable=False),
    sa.Column("routine_hash_truncated", INT),  # 1: a log before format 3 kept 63 of the hash's 64 hex digits
    sa.Column("boot_id", INT),
    sa.Column("score", INT),       # the session score the device logged (docs/score.md), NULL: none
    sa.Column("score_host", INT),  # the same computed here from the log (host_tools.scoring), NULL: none
    sa.UniqueConstraint("device_id", "session_no", "sha256", name="sessions_key"),
)
sa.Index("sessions_sha", sessions.c.sha256)

steps = sa.Table(
    "steps", metadata,
    sa.Column("session_id", INT, sa.ForeignKey("sessions.id"), nullable=False, primary_key=True),
    sa.Column("idx", INT, nullable=False, primary_key=True),
    sa.Column("kind", sa.Text), sa.Column("point", sa.Text), sa.Column("side", sa.Text),
    sa.Column("band_lo_g", INT), sa.Column("band_hi_g", INT), sa.Column("target_s", INT),
    sa.Column("t_begin_ms", INT), sa.Column("t_end_ms", INT),
    sa.Column("under_ms", INT), sa.Column("in_ms", INT), sa.Column("over_ms", INT), sa.Column("too_hard_ms", INT),
    sa.Column("no_contact_ms", INT), sa.Column("fault_ms", INT),
    sa.Column("mean_g", INT), sa.Column("peak_g", INT), sa.Column("dose_gs", INT), sa.Column("pauses", INT),
    sa.Column("skips", INT),
    sa.Column("status", sa.Text),
    sa.Column("partial", INT),        # 1: the step did not run to its end (figures up to the stop)
    sa.Column("reconstructed", INT),  # 1: rebuilt from the trace by the reader (the device's summary missing)
    sa.Column("no_band", INT),        # 1: no pressure target (rest, breathe, timed): band figures NULL
    sa.Column("fb", INT), sa.Column("fb_pct", INT),  # the feedback schedule (acu.routine.FB_*) and its %
    sa.Column("silent_ms", INT), sa.Column("silent_in_ms", INT),  # contact (in-band) time kept silent
    sa.Column("check_target_g", INT), sa.Column("check_measured_g", INT), sa.Column("check_grade", INT),
)

events = sa.Table(
    "events", metadata,
    sa.Column("session_id", INT, sa.ForeignKey("sessions.id"), nullable=False),
    sa.Column("t_ms", INT), sa.Column("code", INT), sa.Column("name", sa.Text), sa.Column("value", INT),
)
sa.Index("events_session", events.c.session_id)

traces = sa.Table(
    "traces", metadata,
    sa.Column("session_id", INT, sa.ForeignKey("sessions.id"), nullable=False, primary_key=True),
    sa.Column("chunk", INT, nullable=False, primary_key=True),
    sa.Column("t0_ms", INT), sa.Column("period_ms", INT),
    sa.Column("values_g", sa.Text, nullable=False),  # JSON list of grams
)

anchors = sa.Table(  # device ticks seen at a known host time (every connection, pull, sync)
    "anchors", metadata,
    sa.Column("device_id", sa.Text, nullable=False), sa.Column("boot_count", INT, nullable=False),
    sa.Column("ticks_ms", INT, nullable=False), sa.Column("wall_s", INT, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("boot_id", INT),  # the boot's random id (NULL: firmware without one)
)

files = sa.Table(  # device log files whose every session is stored (a file holds 1+)
    "files", metadata,
    sa.Column("device_id", sa.Text, nullable=False, primary_key=True),
    sa.Column("name", sa.Text, nullable=False, primary_key=True),
    sa.Column("size", INT, nullable=False), sa.Column("sha256", sa.Text, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False), sa.Column("pulled_at", INT, nullable=False),
)
sa.Index("files_sha", files.c.sha256)

calibrations = sa.Table(  # every calibration written to a device, and the one it replaced
    "calibrations", metadata,
    sa.Column("device_id", sa.Text, nullable=False, primary_key=True),
    sa.Column("calib_id", sa.Text, nullable=False, primary_key=True),
    sa.Column("created", sa.Text), sa.Column("written_at", INT, nullable=False),
    sa.Column("replaced_id", sa.Text), sa.Column("data", sa.Text, nullable=False),
)

# study mode (docs/study.md): one study per archive, its participants, and which device each had when
study = sa.Table(
    "study", metadata,
    sa.Column("id", INT, primary_key=True),  # always 1
    sa.Column("name", sa.Text, nullable=False), sa.Column("weekly_goal", INT, nullable=False),
    sa.Column("weeks", INT, nullable=False), sa.Column("start_s", INT, nullable=False),
)

participants = sa.Table(
    "participants", metadata,
    sa.Column("participant", sa.Text, primary_key=True),  # pseudonymous id
    sa.Column("arm", sa.Text, nullable=False), sa.Column("added_s", INT, nullable=False),
)

enrolments = sa.Table(
    "enrolments", metadata,
    sa.Column("id", INT, primary_key=True, autoincrement=True),
    sa.Column("participant", sa.Text, sa.ForeignKey("participants.participant"), nullable=False),
    sa.Column("device_id", sa.Text, nullable=False),
    sa.Column("arm", sa.Text, nullable=False),
    sa.Column("start_s", INT, nullable=False),
    sa.Column("end_s", INT),  # NULL while enrolled
)
sa.Index("enrolments_device", enrolments.c.device_id, enrolments.c.start_s)

schema_version = sa.Table("schema_version", metadata, sa.Column("version", INT, nullable=False))

ARCHIVE_TABLES = (sessions, steps, events, traces, anchors, files, calibrations)
STUDY_TABLES = (study, participants, enrolments)
OUR_TABLES = ("sessions", "steps", "events", "traces")

# columns added since the first archives: an older archive gets them (NULL in its rows)
ADDED_COLUMNS = (("sessions", "routine_hash_truncated"), ("steps", "partial"), ("steps", "reconstructed"),
                 ("steps", "no_band"), ("anchors", "boot_id"), ("sessions", "boot_id"), ("sessions", "score"),
                 ("sessions", "score_host"), ("steps", "fb"), ("steps", "fb_pct"), ("steps", "silent_ms"),
                 ("steps", "silent_in_ms"), ("steps", "check_target_g"), ("steps", "check_measured_g"),
                 ("steps", "check_grade"))


def _create(conn, tables) -> None:
    metadata.create_all(conn, tables=list(tables), checkfirst=True)


def _add_columns(conn) -> None:
    insp = sa.inspect(conn)
    for table, col in ADDED_COLUMNS:
        if col not in [c["name"] for c in insp.get_columns(table)]:
            conn.execute(sa.text("ALTER TABLE %s ADD COLUMN %s %s"
                                 % (table, col, "INTEGER" if conn.dialect.name == "sqlite" else "BIGINT")))


def _events_index(conn) -> None:
    conn.execute(sa.text("CREATE INDEX IF NOT EXISTS events_session ON events (session_id)"))


def _archive_tables(conn) -> None:
    _create(conn, ARCHIVE_TABLES)
    _add_columns(conn)


def _study_tables(conn) -> None:
    _create(conn, STUDY_TABLES)


# ordered steps: MIGRATIONS[i] brings a version-i archive to version i+1
MIGRATIONS = (
    _archive_tables,  # 1: the archive as it was before study mode (and before this table)
    _study_tables,    # 2: study, participants, enrolments
    _events_index,    # 3: events by session (big archives, the study report)
    _add_columns,     # 4: the session score and the steps' feedback schedule and check (issue 19)
)
VERSION = len(MIGRATIONS)


def version(conn) -> int:
    if not sa.inspect(conn).has_table("schema_version"):
        return 0
    v = conn.execute(sa.select(schema_version.c.version)).scalar()
    return int(v or 0)


def migrate(conn, had: int | None = None) -> int:
    """Bring the archive on conn (inside a transaction) to VERSION from version `had` (default: the one it
    records). Returns the version it had."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(7260021)"))  # one migrator at a time
    had = version(conn) if had is None else had
    if had > VERSION:
        raise InputError("the archive was made by a newer acutrainer (schema %d, this one knows %d): update "
                         "acutrainer" % (had, VERSION))
    for step in MIGRATIONS[had:]:
        step(conn)
    if had < VERSION or version(conn) < VERSION:
        _create(conn, (schema_version,))
        conn.execute(schema_version.delete())
        conn.execute(schema_version.insert().values(version=VERSION))
    return had


def insert(conn, table: sa.Table) -> Any:
    """The dialect's INSERT, which has ON CONFLICT (SQLite and PostgreSQL spell it alike)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql
        return postgresql.insert(table)
    from sqlalchemy.dialects import sqlite
    return sqlite.insert(table)


def upsert(conn, table: sa.Table, keys: list[str], values: dict | list[dict], replace: bool = False):
    """INSERT ... ON CONFLICT (keys) DO NOTHING (or DO UPDATE: replace) in the connection's dialect."""
    stmt = insert(conn, table)
    if replace:
        stmt = stmt.on_conflict_do_update(index_elements=keys,
                                          set_={c.name: stmt.excluded[c.name] for c in table.c if c.name not in keys})
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=keys)
    return conn.execute(stmt, values)


# ------------------------------------------------------------------------------------------- archive URLs
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)


def is_url(target) -> bool:
    return isinstance(target, str) and bool(_URL.match(target))


def redact(url: str) -> str:
    """The URL as it may be shown: never its password."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 (an unparsable URL: show its scheme only)
        return url.split("://", 1)[0] + "://..."


def parse(target) -> tuple[str, Path | str]:
    """('sqlite', path) or ('postgresql', sqlalchemy URL with the psycopg driver) for an archive target."""
    if target is None or isinstance(target, os.PathLike) or not is_url(target):
        return "sqlite", Path(target) if target is not None else None  # type: ignore[return-value]
    scheme = target.split("://", 1)[0].lower()
    if scheme == "sqlite":
        path = target[len("sqlite:///"):] if target.lower().startswith("sqlite:///") else ""
        if not path:
            raise InputError("%s: an SQLite archive URL is sqlite:///path/to/archive.sqlite" % redact(target))
        return "sqlite", Path(path)
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        try:
            u = sa.engine.make_url("postgresql" + target[len(scheme):])
        except Exception:  # noqa: BLE001
            raise InputError("%s: not a valid PostgreSQL URL (postgresql://user:password@host:port/database)"
                             % redact(target)) from None
        return "postgresql", u.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    raise InputError("%s: an archive is an SQLite file or a postgresql:// URL" % redact(target))

# the --archive option's help, one wording for every command that reads or writes the archive
ARCHIVE_HELP = "archive file or postgresql:// URL (default: $ACUTRAINER_ARCHIVE, else archive.sqlite in the data dir)"
