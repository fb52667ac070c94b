"""Export the archive: one row per step (CSV or JSON) and one per-sample trace file per session.

File names are built from numbers only (the archive's session id), never from anything a device sent,
and every path is checked to stay inside the output folder. Files are created readable by the user only,
whole or not at all (host_tools/outfiles.py). Text cells that a spreadsheet would run as a formula are quoted.
"""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path

from host_tools import columns, outfiles
from host_tools.archive import Archive
from host_tools.errors import InputError
from host_tools.learning import schedule_name
from host_tools.scoring import score

STEP_COLUMNS = columns.names(columns.STEP)  # one definition for every format (host_tools/columns.py)
NO_BAND_KINDS = ("rest", "breathe", "timed")  # steps without a pressure target: no band figures


def iso_utc(epoch_s) -> str:
    if epoch_s is None:
        return ""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(epoch_s)))


def _cell(v):
    """Keep device text inert in spreadsheets (CSV injection)."""
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + v
    return v


def _flag(v):
    """1/0 from the archive; unknown (a row archived before the column existed) stays empty/null."""
    return None if v is None else bool(v)


def _s(ms):
    return None if ms is None else round(ms / 1000.0, 1)


def pct_in_band(step: dict) -> float | None:
    contact = sum(step.get(k) or 0 for k in ("under_ms", "in_ms", "over_ms"))
    if not contact:
        return None
    return round(100.0 * (step.get("in_ms") or 0) / contact, 1)


def step_rows(archive: Archive, sessions: list[dict]) -> list[dict]:
    rows = []
    for s in sessions:
        for st in archive.steps(s["id"]):
            if st.get("no_band") or st["kind"] in NO_BAND_KINDS:  # (also rows archived before format 3)
                st.update(under_ms=None, in_ms=None, over_ms=None, too_hard_ms=None)
            dur = None
            if st["t_begin_ms"] is not None and st["t_end_ms"] is not None:
                dur = _s(st["t_end_ms"] - st["t_begin_ms"])
            rows.append({
                "session_id": s["id"], "device_id": s["device_id"], "session_no": s["session_no"],
                "start_utc": iso_utc(s["wall_start_s"]), "time_source": s["wall_source"] or "unknown",
                "routine": s["routine"], "session_status": s["end_status"] or "open",
                "step": st["idx"], "kind": st["kind"], "point": st["point"], "side": st["side"],
                "band_lo_g": st["band_lo_g"], "band_hi_g": st["band_hi_g"], "target_s": st["target_s"],
                "duration_s": dur, "under_s": _s(st["under_ms"]), "in_s": _s(st["in_ms"]),
                "over_s": _s(st["over_ms"]), "too_hard_s": _s(st["too_hard_ms"]),
                "no_contact_s": _s(st["no_contact_ms"]), "pct_in_band": pct_in_band(st),
                "mean_g": st["mean_g"], "peak_g": st["peak_g"],
                "dose_kg_s": None if st["dose_gs"] is None else round(st["dose_gs"] / 1000.0, 3),
                "pauses": st["pauses"], "skips": st["skips"], "step_status": st["status"],
                "partial": _flag(st.get("partial")), "reconstructed": _flag(st.get("reconstructed")),
                **teaching_cells(st), "score": s.get("score"), "score_host": s.get("score_host"),
            })
    return rows


def teaching_cells(st: dict) -> dict:
    """A step's schedule, silent time and blind check (columns.STEP's issue-19 columns); all empty (None) for
    a row archived before them."""
    t, m = st.get("check_target_g"), st.get("check_measured_g")
    is_check = bool(t) and m is not None
    return {
        "feedback": schedule_name(st.get("fb")), "feedback_pct": st.get("fb_pct"),
        "silent_s": _s(st.get("silent_ms")), "silent_in_s": _s(st.get("silent_in_ms")),
        "check_target_g": t if is_check else None, "check_measured_g": m if is_check else None,
        "check_error_pct": score.check_error_pct(t, m) if is_check else None,
        "check_grade": st.get("check_grade") if is_check else None,
        "check_accurate": bool(score.check_accurate(t, m)) if is_check else None,
    }


def safe_path(out_dir: Path, name: str) -> Path:
    """out_dir/name, refusing anything that would land outside out_dir."""
    if not name or "/" in name or "\\" in name or name in (".", "..") or "\x00" in name:
        raise InputError("export: refusing file name %r (outside the export folder)" % name[:60])
    p = (out_dir / name).resolve()
    if p.parent != out_dir.resolve():
        raise InputError("export: refusing file name %r (outside the export folder)" % name[:60])
    return p


def trace_name(session_id: int, fmt: str) -> str:
    return "trace_%06d.%s" % (int(session_id), "csv" if fmt == "csv" else "json")


def session_rows(sessions: list[dict]) -> list[dict]:
    """One row per session (columns.SESSION); sessions attributed (host_tools.attribution)."""
    return [{
        "session_id": s["id"], "device_id": s["device_id"], "participant": s.get("participant"),
        "session_no": s["session_no"], "start_utc": iso_utc(s["wall_start_s"]),
        "time_source": s["wall_source"] or "unknown", "routine": s["routine"], "routine_hash": s["routine_hash"],
        "routine_hash_truncated": _flag(s.get("routine_hash_truncated")), "firmware": s["firmware"],
        "board": s["board"], "calib_id": s["calib_id"], "session_status": s["end_status"] or "open",
        "duration_s": _s(s["duration_ms"]), "steps_done": s["steps_done"],
        "trace_stopped": _flag(s.get("trace_stopped")), "problems": list(s["problems"]),
        "score": s.get("score"), "score_host": s.get("score_host"),
    } for s in sessions]


STUDY_FORMATS = ("parquet", "bids", "redcap")  # the analysis-ready formats (docs/export.md)
FORMATS = ("csv", "json") + STUDY_FORMATS


def _export_study(archive: Archive, out_dir, fmt: str, since, until) -> list[Path]:
    from host_tools import attribution, export_bids, export_parquet, export_redcap

    if fmt == "parquet":
        export_parquet._pyarrow()  # a missing extra is said before any folder is made
    out = outfiles.out_dir(out_dir)
    sessions = attribution.attribute(archive.sessions(since=since, until=until), attribution.enrolments(archive))
    who = {s["id"]: s["participant"] for s in sessions}
    rows = step_rows(archive, sessions)
    for r in rows:
        r["participant"] = who[r["session_id"]]
    if fmt == "parquet":
        return export_parquet.write(archive, out, sessions, rows, session_rows(sessions))
    if fmt == "bids":
        return export_bids.write(archive, out, sessions, attribution.study_info(archive))
    return export_redcap.write(out, rows)


def export_learning(archive: Archive, out_dir, fmt: str = "csv", since=None, until=None,
                    start_s=None, goals=None) -> list[Path]:
    """Write learning.<fmt> (csv, json): the learning curve, one row per week (columns.LEARNING)."""
    from host_tools import learning

    if fmt not in ("csv", "json"):
        raise InputError("export --learning: format must be csv or json, not %r" % fmt)
    out = outfiles.out_dir(out_dir)
    lc = learning.curve(archive, since=since, until=until, start_s=start_s, goals=goals)
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=columns.names(columns.LEARNING), lineterminator="\n")
        w.writeheader()
        w.writerows(lc["weeks"])
        data = buf.getvalue().encode()
    else:
        data = json.dumps({"format": "acu-learning", "version": 1, "start_utc": lc["start_utc"],
                           "undated_sessions": lc["undated"], "weeks": lc["weeks"]}, indent=1).encode()
    p = safe_path(out, "learning.%s" % fmt)
    outfiles.write_atomic(p, data)
    return [p]


def export(archive: Archive, out_dir, fmt: str = "csv", since: float | None = None,
           until: float | None = None) -> list[Path]:
    """Write steps.<fmt> and trace_<id>.<fmt> files (csv, json) or a study format's files; returns the
    paths written."""
    if fmt not in FORMATS:
        raise InputError("export: format must be one of %s, not %r" % (", ".join(FORMATS), fmt))
    if fmt in STUDY_FORMATS:
        return _export_study(archive, out_dir, fmt, since, until)
    out = outfiles.out_dir(out_dir)
    sessions = archive.sessions(since=since, until=until)
    rows = step_rows(archive, sessions)
    written = []
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=STEP_COLUMNS, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: _cell(v) for k, v in r.items()})
        data = buf.getvalue().encode()
    else:
        doc = []
        for r in rows:  # JSON says "unknown" with null, not an empty string
            r["start_utc"] = r["start_utc"] or None
        for s in sessions:
            doc.append({
                "session_id": s["id"], "device_id": s["device_id"], "session_no": s["session_no"],
                "start_utc": iso_utc(s["wall_start_s"]) or None, "time_source": s["wall_source"] or "unknown",
                "routine": s["routine"], "routine_hash": s["routine_hash"],
                "routine_hash_truncated": _flag(s.get("routine_hash_truncated")), "firmware": s["firmware"],
                "board": s["board"], "calib_id": s["calib_id"], "status": s["end_status"] or "open",
                "duration_s": _s(s["duration_ms"]), "problems": s["problems"],
                "score": s.get("score"), "score_host": s.get("score_host"),
                "steps": [r for r in rows if r["session_id"] == s["id"]],
                "events": archive.events(s["id"]),
                "trace_file": trace_name(s["id"], "json"),
            })
        data = json.dumps({"format": "acu-export", "version": 1, "sessions": doc}, indent=1).encode()
    p = safe_path(out, "steps.%s" % fmt)
    outfiles.write_atomic(p, data)
    written.append(p)
    for s in sessions:
        tr = archive.trace(s["id"])
        if fmt == "csv":
            data = ("t_ms,force_g\n" + "".join("%d,%d\n" % (t, g) for t, g in tr)).encode()
        else:
            data = json.dumps({"session_id": s["id"], "t_ms": [t for t, _ in tr],
                               "force_g": [g for _, g in tr]}).encode()
        p = safe_path(out, trace_name(s["id"], fmt))
        outfiles.write_atomic(p, data)
        written.append(p)
    return written
