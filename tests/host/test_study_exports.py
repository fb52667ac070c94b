# The analysis-ready exports (docs/export.md): Parquet, BIDS-physio and REDCap from a real archive of real
# device sessions, read back with pyarrow, gzip + csv and the REDCap rules; attribution by enrolment.
import csv
import errno
import gzip
import json
import re
import sys

import pyarrow.parquet as pq  # the study extra: make setup installs it
import pytest

import studyfx as sf
from host_tools import attribution, cli, columns, export_bids, export_redcap, outfiles
from host_tools.archive import Archive
from host_tools.errors import AcuError
from host_tools.export import export, step_rows

DAY = sf.DAY


@pytest.fixture(scope="module")
def arc(tmp_path_factory):
    a = sf.study_archive(tmp_path_factory.mktemp("study"))
    yield a
    a.close()


def _who(arc):
    return {s["id"]: s["participant"] for s in attribution.attribute(arc.sessions(), arc.enrolments())}


# ---------------------------------------------------------------- attribution
def test_sessions_are_attributed_by_device_and_enrolment_period():
    enr = [{"participant": "P05", "device_id": "dd", "arm": "feedback", "start_s": 1000, "end_s": 2000},
           {"participant": "P06", "device_id": "dd", "arm": "sham_band", "start_s": 2000, "end_s": None}]
    ss = [{"device_id": "dd", "wall_start_s": t} for t in (999, 1000, 1999, 2000, 10 ** 9, None)]
    ss += [{"device_id": "ee", "wall_start_s": 1500}, {"device_id": "dd", "wall_start_s": 1500, "participant": "Z"}]
    got = [s["participant"] for s in attribution.attribute(ss, enr)]
    assert got == [None, "P05", "P05", "P06", "P06", None, None, "Z"]  # the archive's own attribution wins
    assert "participant" not in ss[0]  # the input is not changed


def test_a_plain_archive_has_no_study():
    class Bare:  # today's Archive has none of the study methods
        pass
    assert (attribution.study_info(Bare()), attribution.participants(Bare()), attribution.enrolments(Bare())) == \
        (None, [], [])


# ---------------------------------------------------------------- Parquet
def test_parquet_reads_back_typed(arc, tmp_path):
    paths = export(arc, tmp_path / "pq", "parquet")
    assert sorted(p.name for p in paths) == ["sessions.parquet", "steps.parquet", "traces.parquet"]
    ses = pq.read_table(tmp_path / "pq" / "sessions.parquet")
    assert ses.column_names == columns.names(columns.SESSION)
    assert str(ses.schema.field("start_utc").type).startswith("timestamp") and "UTC" in str(
        ses.schema.field("start_utc").type)
    assert str(ses.schema.field("session_id").type) == "int64"
    assert ses.schema.field("duration_s").metadata[b"unit"] == b"s"
    rows = ses.to_pylist()
    sessions = arc.sessions()
    assert [r["session_id"] for r in rows] == [s["id"] for s in sessions]
    who = _who(arc)
    assert [r["participant"] for r in rows] == [who[s["id"]] for s in sessions]
    assert {r["participant"] for r in rows} == {"P01", "P02", None}
    assert [int(r["start_utc"].timestamp()) for r in rows] == [s["wall_start_s"] for s in sessions]
    assert rows[0]["problems"] == [] and rows[0]["trace_stopped"] is False
    steps = pq.read_table(tmp_path / "pq" / "steps.parquet")
    assert steps.column_names == columns.names(columns.with_participant(columns.STEP))
    want = step_rows(arc, sessions)
    got = steps.to_pylist()
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):  # the same figures as the CSV export's rows
        for k in ("session_id", "step", "point", "in_s", "dose_kg_s", "pct_in_band", "mean_g", "partial"):
            assert g[k] == w[k], k
    tr = pq.read_table(tmp_path / "pq" / "traces.parquet").to_pylist()
    sid = sessions[0]["id"]
    assert [(r["t_ms"], r["force_g"]) for r in tr if r["session_id"] == sid] == arc.trace(sid)


def test_missing_pyarrow_is_one_line(arc, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow raises ImportError
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(AcuError, match=r"pip install 'acutrainer\[study\]'"):
        export(arc, tmp_path / "x", "parquet")
    assert not (tmp_path / "x").exists()
    assert cli.main(["export", "--archive", str(arc.path), "--format", "parquet", "--out", str(tmp_path / "y")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "acutrainer[study]" in err


# ---------------------------------------------------------------- BIDS
def _physio(path):
    with gzip.open(path, "rt") as f:
        return list(csv.reader(f, delimiter="\t"))


def test_bids_layout_sidecar_and_tsv(arc, tmp_path):
    out = tmp_path / "bids"
    export(arc, out, "bids")
    files = sf.files_under(out)
    assert "dataset_description.json" in files and "participants.tsv" in files
    p01 = [f for f in files if f.startswith("sub-P01/ses-") and f.endswith("_physio.tsv.gz")]
    assert p01 == ["sub-P01/ses-%d/beh/sub-P01_ses-%d_task-practice_recording-force_physio.tsv.gz" % (n, n)
                   for n in range(1, 6)]
    assert len([f for f in files if f.startswith("sub-P02/") and f.endswith(".tsv.gz")]) == 6
    assert len([f for f in files if f.startswith("sub-devdd000004/") and f.endswith(".tsv.gz")]) == 1
    parts = list(csv.reader(open(out / "participants.tsv"), delimiter="\t"))
    assert parts[0] == ["participant_id", "source_id", "source"]
    assert ["sub-P01", "P01", "participant"] in parts and ["sub-devdd000004", "dd000004", "device"] in parts
    sessions = [s for s in arc.sessions() if _who(arc)[s["id"]] == "P01"]
    ses_tsv = list(csv.reader(open(out / "sub-P01" / "sub-P01_sessions.tsv"), delimiter="\t"))
    assert ses_tsv[1][:3] == ["ses-1", "2026-01-01T01:00:00", str(sessions[0]["id"])]
    for n, s in enumerate(sessions, 1):
        stem = out / "sub-P01" / ("ses-%d" % n) / "beh" / ("sub-P01_ses-%d_task-practice_recording-force_physio" % n)
        side = json.load(open(str(stem) + ".json"))
        trace = arc.trace(s["id"])
        assert side["SamplingFrequency"] == 10.0                 # the logger's 100 ms windows
        assert side["StartTime"] == trace[0][0] / 1000.0
        assert side["ArchiveSessionId"] == s["id"] and side["Participant"] == "P01"
        assert side["DeviceSerialNumber"] == sf.A.hex() and side["Routine"] == "bedtime"
        assert side["RecordingStartUTC"] == "2026-01-%02dT01:00:00Z" % (1 + [0, 2, 4, 8, 10][n - 1])
        assert side["force_g"]["Units"] == "g" and side["time_s"]["Units"] == "s"
        rows = _physio(str(stem) + ".tsv.gz")
        assert all(len(r) == len(side["Columns"]) for r in rows) and side["Columns"] == ["time_s", "force_g", "step"]
        # no gap in these sessions: one row per sample, at the sample's own time, with its force
        assert [(round(float(r[0]) * 1000), int(r[1])) for r in rows] == trace
        assert side["Resampling"]["GapRows"] == 0 and side["Resampling"]["Samples"] == len(trace)
    first = _physio(str(out / "sub-P01/ses-1/beh/sub-P01_ses-1_task-practice_recording-force_physio.tsv.gz"))
    assert first[0][2] == "0" and first[-1][2] == "1"  # the HT7 step, then the PC6 step
    assert {r[1] for r in first[:90]} == {"4000"} and {r[1] for r in first[110:]} == {"2000"}


def test_bids_grid_keeps_gaps_as_na_and_moves_off_grid_samples():
    # chunk 1 at 0..200 ms; a stall; chunk 2 starts off the grid at 530 ms (530, 630): rows 5 and 6, moved
    # 30 ms; rows 3 and 4 were never sampled
    trace = [(0, 100), (100, 120), (200, 140), (530, 300), (630, 320)]
    assert export_bids.period_ms(trace) == 100
    values, counts = export_bids.on_grid(trace, 100)
    assert values == [100, 120, 140, None, None, 300, 320]
    assert counts == {"GridPeriodMs": 100, "Samples": 5, "SamplesShifted": 2, "MaxShiftMs": 30, "GapRows": 2,
                      "SamplesDropped": 0}
    data, _ = export_bids.physio_tsv(trace, [], 100)
    rows = gzip.decompress(data).decode().splitlines()
    assert rows[3] == "0.300\tn/a\tn/a" and rows[5] == "0.500\t300\tn/a"


def test_bids_trace_with_a_stall_from_the_real_logger(tmp_path):
    arc = Archive(tmp_path / "a.sqlite")
    dev = sf.fx.FakeSession(tmp_path / "dev", device_id="ee000005")
    sf.record(dev.log, b"\xee\x00\x00\x05", 1, sf.START, [("press", "HT7", [(4000, 3)]), ("press", "LI4", [(4000, 3)])],
              stall_ms=1234)
    sf.pull(dev, arc)
    export(arc, tmp_path / "b", "bids")
    stem = tmp_path / "b/sub-devee000005/ses-1/beh/sub-devee000005_ses-1_task-practice_recording-force_physio"
    side = json.load(open(str(stem) + ".json"))
    rows = _physio(str(stem) + ".tsv.gz")
    trace = arc.trace(arc.sessions()[0]["id"])
    r = side["Resampling"]
    assert r["GapRows"] > 0                                   # the stall left rows the device never sampled
    assert len(rows) == len(trace) + r["GapRows"] - r["SamplesDropped"]
    assert sum(1 for x in rows if x[1] != "n/a") == len(trace) - r["SamplesDropped"]
    assert r["MaxShiftMs"] <= 50                              # at most half a period
    arc.close()


def test_bids_sidecar_carries_the_sessions_calibration(tmp_path):
    arc = Archive(tmp_path / "a.sqlite")
    cal = {"id": "c-2026-01", "created": "2026-01-01T00:00:00", "points": [[0, 0], [4000, 1800]]}
    arc.add_calibration("ee000005", cal, written_at=sf.START)
    dev = sf.fx.FakeSession(tmp_path / "dev", device_id="ee000005")
    sf.record(dev.log, b"\xee\x00\x00\x05", 1, sf.START + 60, sf.S2, calib_id="c-2026-01")
    sf.record(dev.log, b"\xee\x00\x00\x05", 2, sf.START + 120, sf.S2, calib_id="c-elsewhere")
    sf.pull(dev, arc)
    export(arc, tmp_path / "b", "bids")
    sides = [json.load(open(tmp_path / ("b/sub-devee000005/ses-%d/beh/sub-devee000005_ses-%d_task-practice_"
                                        "recording-force_physio.json" % (n, n)))) for n in (1, 2)]
    assert sides[0]["Calibration"] == {"Id": "c-2026-01", "Created": "2026-01-01T00:00:00",
                                       "WrittenUTC": "2026-01-01T00:00:00Z", "Data": cal}
    assert sides[1]["Calibration"] == {"Id": "c-elsewhere"}  # written from another computer: its id alone
    arc.close()


def test_bids_labels_are_letters_and_digits_only():
    ss = [{"participant": "P-01", "device_id": "x"}, {"participant": "P01", "device_id": "y"},
          {"participant": None, "device_id": "../../etc"}, {"participant": "Q7", "device_id": "z"}]
    labs = export_bids.labels(ss)
    assert labs[("p", "Q7")] == "Q7" and labs[("d", "../../etc")] == "devetc"
    assert labs[("p", "P-01")] != labs[("p", "P01")]           # one label, two sources: both made unique
    assert all(re.fullmatch(r"[A-Za-z0-9]+", v) for v in labs.values())


# ---------------------------------------------------------------- REDCap
def test_redcap_import_matches_its_data_dictionary(arc, tmp_path):
    out = tmp_path / "rc"
    export(arc, out, "redcap")
    dd = list(csv.reader(open(out / "redcap_data_dictionary.csv")))
    assert dd[0] == export_redcap.DICT_HEADER and len(dd[0]) == 18
    assert dd[1][:4] == ["record_id", "participant", "", "text"]
    names = [r[0] for r in dd[1:]]
    for n in names:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", n) and len(n) <= 26, n
    assert len(set(names)) == len(names)
    assert {r[1] for r in dd[2:]} == {"acupressure_step"}
    rows = list(csv.reader(open(out / "redcap_import.csv")))
    assert rows[0] == ["record_id", "redcap_repeat_instrument", "redcap_repeat_instance"] + names[1:] + \
        ["acupressure_step_complete"]
    body = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert len(body) == len(step_rows(arc, arc.sessions()))
    p01 = [r for r in body if r["record_id"] == "P01"]
    assert [r["redcap_repeat_instance"] for r in p01] == [str(i) for i in range(1, len(p01) + 1)]
    assert len(p01) == 9                                      # 4 sessions of 2 steps and one of 1
    assert p01[0]["acu_start_utc"] == "2026-01-01 01:00:00"   # datetime_seconds_ymd
    assert (p01[0]["acu_point"], p01[0]["acu_in_s"], p01[0]["acu_partial"]) == ("HT7", "10.0", "0")
    assert {r["record_id"] for r in body} == {"P01", "P02", "device-dd000004"}
    types = {r[0]: (r[3], r[7]) for r in dd[1:]}
    assert types["acu_in_s"] == ("text", "number") and types["acu_step"] == ("text", "integer")
    assert types["acu_partial"] == ("yesno", "") and types["acu_start_utc"] == ("text", "datetime_seconds_ymd")


def test_redcap_refuses_a_column_redcap_would_refuse():
    with pytest.raises(AcuError, match="not a valid REDCap variable name"):
        export_redcap.field_name(columns.Column("Bad-Name", "int", "", ""))
    with pytest.raises(AcuError):
        export_redcap.field_name(columns.Column("a_very_long_column_name_here", "int", "", ""))


# ---------------------------------------------------------------- output folder, docs
def test_bad_output_folder_and_full_disk_are_one_line(arc, tmp_path, capsys, monkeypatch):
    afile = tmp_path / "f"
    afile.write_text("x")
    for fmt in ("parquet", "bids", "redcap"):
        assert cli.main(["export", "--archive", str(arc.path), "--format", fmt, "--out", str(afile)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "is a file, not a folder" in err

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(outfiles.os, "fsync", full)
    for fmt in ("parquet", "bids", "redcap"):
        out = tmp_path / ("full-" + fmt)
        assert cli.main(["export", "--archive", str(arc.path), "--format", fmt, "--out", str(out)]) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "No space left on device" in err and "nothing was left half-written" in err
        assert [f for f in sf.files_under(out) if not f.endswith("/")] == []  # no file, whole or half


def test_every_column_is_documented():
    doc = open(sf.os.path.join(sf.os.path.dirname(__file__), "..", "..", "docs", "export.md")).read()
    for c in columns.STEP + columns.SESSION + columns.TRACE:
        assert re.search(r"^\| `%s` \|" % c.name, doc, re.M), c.name
    for name in export_bids.COLUMNS:
        assert "`%s`" % name in doc
    sdoc = open(sf.os.path.join(sf.os.path.dirname(__file__), "..", "..", "docs", "study.md")).read()
    from host_tools import study_report as sr
    for name in sr.WEEK_COLUMNS + sr.POINT_COLUMNS + sr.PARTICIPANT_COLUMNS:
        assert "`%s`" % name in sdoc, name
