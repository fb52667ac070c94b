"""Export the archive as Parquet (docs/export.md, "Parquet"): sessions.parquet, steps.parquet and
traces.parquet, typed columns from host_tools/columns.py (each field carries its unit and description as
metadata). pyarrow is the `study` extra: without it, one line says what to install."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from host_tools import columns, outfiles
from host_tools.errors import AcuError


def _pyarrow():
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise AcuError("export --format parquet needs pyarrow: pip install 'acutrainer[study]'") from None
    return pyarrow, pyarrow.parquet


def _utc(v):
    if v is None or v == "":
        return None
    if isinstance(v, str):
        return dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
    return dt.datetime.fromtimestamp(int(v), dt.timezone.utc)


def _type(pa, kind):
    return {"int": pa.int64(), "float": pa.float64(), "str": pa.string(), "bool": pa.bool_(),
            "utc": pa.timestamp("s", tz="UTC"), "strlist": pa.list_(pa.string())}[kind]


def table(cols, rows: list[dict]):
    """A pyarrow Table of rows (dicts keyed by column name) with the columns' types and metadata."""
    pa, _ = _pyarrow()
    fields, arrays = [], []
    for c in cols:
        vals = [r.get(c.name) for r in rows]
        if c.kind == "utc":
            vals = [_utc(v) for v in vals]
        f = pa.field(c.name, _type(pa, c.kind), metadata={"unit": c.unit, "description": c.description})
        fields.append(f)
        arrays.append(pa.array(vals, type=f.type))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def to_bytes(tbl) -> bytes:
    pa, pq = _pyarrow()
    buf = pa.BufferOutputStream()
    pq.write_table(tbl, buf)
    return buf.getvalue().to_pybytes()


def write(archive, out: Path, sessions: list[dict], step_rows: list[dict], session_rows: list[dict]) -> list[Path]:
    """sessions: attributed (participant set); rows from host_tools.export. Returns the paths written."""
    from host_tools.export import safe_path

    _pyarrow()  # before anything is written
    trace_rows: list[dict] = []
    for s in sessions:
        trace_rows.extend({"session_id": s["id"], "t_ms": t, "force_g": g} for t, g in archive.trace(s["id"]))
    written = []
    for name, cols, rows in (("sessions.parquet", columns.SESSION, session_rows),
                             ("steps.parquet", columns.with_participant(columns.STEP), step_rows),
                             ("traces.parquet", columns.TRACE, trace_rows)):
        p = safe_path(out, name)
        outfiles.write_atomic(p, to_bytes(table(cols, rows)))
        written.append(p)
    return written
