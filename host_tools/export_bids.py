"""Export the archive in a BIDS-physio-like layout (docs/export.md, "BIDS"): per session a headerless
sub-<label>/ses-<n>/beh/..._physio.tsv.gz (time_s, force_g, step) and its JSON sidecar (SamplingFrequency,
StartTime, Columns, units, device, routine, calibration), a sub-<label>_sessions.tsv per subject, and
participants.tsv and dataset_description.json at the top.

The device's trace is sampled at one period per session (100 ms) within each chunk, but a chunk can
start off that grid (after a loop stall) and there are gaps (a stall, dropped or damaged records). BIDS
physio needs one sampling frequency, so each sample is put on the grid that starts at the first sample
(t0 + k x period, k the nearest whole number: a shift of at most half a period) and the rows the device
never sampled are n/a, not interpolated: no force is invented. The sidecar counts what was moved.
Folder and file names are built from the participant's or device's letters and digits and numbers only.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections import Counter
from pathlib import Path

from host_tools import __version__, outfiles
from host_tools.export import iso_utc, safe_path

DEFAULT_PERIOD_MS = 100  # the logger's trace period (docs/log-format.md): a one-sample trace has no other clue
BIDS_VERSION = "1.10.0"
COLUMNS = ["time_s", "force_g", "step"]
NA = "n/a"


def _alnum(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", text or "")[:32]


def labels(sessions: list[dict]) -> dict[tuple, str]:
    """{(participant, device_id) source: BIDS subject label}. A participant's label is its id's letters
    and digits; a session of nobody is its device's ("dev" + the id's letters and digits). Two sources with
    one label (or an empty one) get a hash of the source added, so no two share a folder."""
    wanted: dict[tuple, str] = {}
    for s in sessions:
        src = ("p", s["participant"]) if s.get("participant") else ("d", s["device_id"])
        wanted[src] = _alnum(src[1]) if src[0] == "p" else "dev" + _alnum(src[1])
    count = Counter(wanted.values())
    out = {}
    for src, lab in wanted.items():
        if count[lab] > 1 or lab in ("", "dev"):
            lab += "x" + hashlib.sha256(("%s:%s" % src).encode()).hexdigest()[:8]
        out[src] = lab
    return out


def source(s: dict) -> tuple:
    return ("p", s["participant"]) if s.get("participant") else ("d", s["device_id"])


def period_ms(trace: list[tuple[int, int]]) -> int:
    """The trace's sampling period: the most common step between samples (the logger writes one period
    per session; gaps and off-grid chunk starts are the exceptions)."""
    steps = Counter(b[0] - a[0] for a, b in zip(trace, trace[1:], strict=False) if b[0] > a[0])
    return steps.most_common(1)[0][0] if steps else DEFAULT_PERIOD_MS


def on_grid(trace: list[tuple[int, int]], period: int) -> tuple[list, dict]:
    """([force_g or None per grid row], resampling counts). Row k is at t0 + k x period."""
    if not trace:
        return [], {"GridPeriodMs": period, "Samples": 0, "SamplesShifted": 0, "MaxShiftMs": 0,
                    "GapRows": 0, "SamplesDropped": 0}
    t0 = trace[0][0]
    rows: dict[int, int] = {}
    shifted = dropped = max_shift = 0
    for t, g in trace:
        k = (t - t0 + period // 2) // period
        shift = abs(t - (t0 + k * period))
        if k in rows:
            dropped += 1  # two samples on one grid row (overlapping records): the first is kept
            continue
        rows[k] = g
        if shift:
            shifted += 1
            max_shift = max(max_shift, shift)
    n = max(rows) + 1
    values = [rows.get(k) for k in range(n)]
    return values, {"GridPeriodMs": period, "Samples": len(trace), "SamplesShifted": shifted,
                    "MaxShiftMs": max_shift, "GapRows": n - len(rows), "SamplesDropped": dropped}


def _step_at(steps: list[dict], t_ms: int):
    for st in steps:
        if st["t_begin_ms"] is not None and st["t_end_ms"] is not None and st["t_begin_ms"] <= t_ms < st["t_end_ms"]:
            return st["idx"]
    return None


def physio_tsv(trace, steps, period: int) -> tuple[bytes, dict]:
    """The gzipped headerless TSV and the resampling counts."""
    values, counts = on_grid(trace, period)
    t0 = trace[0][0] if trace else 0
    lines = []
    for k, g in enumerate(values):
        t = t0 + k * period
        st = _step_at(steps, t)
        lines.append("%.3f\t%s\t%s\n" % (t / 1000.0, NA if g is None else g, NA if st is None else st))
    return gzip.compress("".join(lines).encode(), mtime=0), counts


def _calibration(archive, s: dict):
    if not s["calib_id"]:
        return None
    for c in archive.calibrations(s["device_id"]):
        if c["calib_id"] == s["calib_id"]:
            return {"Id": c["calib_id"], "Created": c["created"], "WrittenUTC": iso_utc(c["written_at"]) or None,
                    "Data": c["data"]}
    return {"Id": s["calib_id"]}  # written by another computer: only its id is known here


def sidecar(archive, s: dict, trace, period: int, counts: dict) -> dict:
    return {
        "SamplingFrequency": 1000.0 / period,
        "StartTime": (trace[0][0] if trace else 0) / 1000.0,
        "Columns": COLUMNS,
        "time_s": {"Description": "time since the session start (the grid time of the row)", "Units": "s"},
        "force_g": {"Description": "force on the point, mean of the device's sampling window; n/a: no sample",
                    "Units": "g"},
        "step": {"Description": "index (from 0) of the routine step running at this time; n/a: none"},
        "TaskName": "practice",
        "Manufacturer": "acutrainer",
        "DeviceSerialNumber": s["device_id"],
        "SoftwareVersions": s["firmware"] or "",
        "RecordingStartUTC": iso_utc(s["wall_start_s"]) or None,
        "RecordingStartSource": s["wall_source"] or "unknown",
        "Routine": s["routine"],
        "RoutineHash": s["routine_hash"],
        "SessionStatus": s["end_status"] or "open",
        "Participant": s.get("participant"),
        "ArchiveSessionId": s["id"],
        "DeviceSessionNo": s["session_no"],
        "BandLowG": s["band_lo_g"],
        "BandHighG": s["band_hi_g"],
        "Calibration": _calibration(archive, s),
        "Resampling": counts,
    }


def _tsv(rows: list[list]) -> bytes:
    """A TSV with a header (participants.tsv, sessions.tsv): tabs and newlines in text become spaces."""
    def cell(v):
        return NA if v is None or v == "" else re.sub(r"[\t\r\n]", " ", str(v))
    return "".join("\t".join(cell(v) for v in r) + "\n" for r in rows).encode()


def write(archive, out: Path, sessions: list[dict], study: dict | None) -> list[Path]:
    """sessions: attributed, in time order. Returns the paths written."""
    labs = labels(sessions)
    written = []

    def put(folder: Path, name: str, data: bytes):
        p = safe_path(folder, name)
        outfiles.write_atomic(p, data)
        written.append(p)

    desc = {"Name": (study or {}).get("name") or "acutrainer practice sessions", "BIDSVersion": BIDS_VERSION,
            "DatasetType": "raw", "GeneratedBy": [{"Name": "acutrainer", "Version": __version__}]}
    put(out, "dataset_description.json", json.dumps(desc, indent=1).encode())
    subjects: dict[str, list] = {}
    for s in sessions:
        subjects.setdefault(labs[source(s)], []).append(s)
    part_rows: list[list] = [["participant_id", "source_id", "source"]]
    for lab in sorted(subjects):
        s0 = subjects[lab][0]
        kind, ident = source(s0)
        part_rows.append(["sub-" + lab, ident, "participant" if kind == "p" else "device"])
        ses_rows: list[list] = [["session_id", "acq_time", "archive_session_id", "device_id", "routine", "status"]]
        for n, s in enumerate(subjects[lab], 1):
            ses = "ses-%d" % n
            folder = outfiles.out_dir(out / ("sub-" + lab) / ses / "beh")
            stem = "sub-%s_%s_task-practice_recording-force_physio" % (lab, ses)
            trace = archive.trace(s["id"])
            period = period_ms(trace)
            data, counts = physio_tsv(trace, archive.steps(s["id"]), period)
            put(folder, stem + ".tsv.gz", data)
            put(folder, stem + ".json", json.dumps(sidecar(archive, s, trace, period, counts), indent=1).encode())
            acq = iso_utc(s["wall_start_s"])[:-1] if s["wall_start_s"] is not None else None
            ses_rows.append([ses, acq, s["id"], s["device_id"], s["routine"], s["end_status"] or "open"])
        put(outfiles.out_dir(out / ("sub-" + lab)), "sub-%s_sessions.tsv" % lab, _tsv(ses_rows))
    put(out, "participants.tsv", _tsv(part_rows))
    return written
