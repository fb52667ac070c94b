# export: one row per step, per-session trace files, names from numbers only, private files.
import csv
import json
import os
import stat

import pytest

import test_pull as fx
from host_tools.archive import Archive
from host_tools.errors import AcuError, InputError
from host_tools.export import export, safe_path
from host_tools.pull import pull


@pytest.fixture
def filled(tmp_path):
    dev = fx.FakeSession(tmp_path / "device")
    fx.record_session(dev.log, 1, wall=1700000000)
    fx.record_session(dev.log, 2, wall=1700090000, routine="=HYPERLINK(\"http://x\")/../../etc",
                      point="../../x")
    a = Archive(tmp_path / "a.sqlite")
    pull(dev, a)
    yield a
    a.close()


def test_csv_export(filled, tmp_path):
    out = tmp_path / "exp"
    paths = export(filled, out, "csv")
    names = sorted(p.name for p in paths)
    assert names == ["steps.csv", "trace_000001.csv", "trace_000002.csv"]
    assert sorted(os.listdir(out)) == names  # nothing written anywhere else
    rows = list(csv.DictReader(open(out / "steps.csv")))
    assert len(rows) == 4
    r = rows[0]
    assert r["point"] == "HT7" and r["start_utc"] == "2023-11-14T22:13:20Z" and r["step_status"] == "done"
    assert float(r["in_s"]) > 3.0 and 3500 <= int(r["mean_g"]) <= 4400
    assert rows[2]["routine"].startswith("'=")  # a formula from a device stays text
    tr = list(csv.reader(open(out / "trace_000001.csv")))
    assert tr[0] == ["t_ms", "force_g"] and len(tr) > 70
    assert int(tr[2][0]) - int(tr[1][0]) == 100
    for p in paths:
        assert stat.S_IMODE(os.stat(p).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o700


def test_json_export_since(filled, tmp_path):
    out = tmp_path / "j"
    paths = export(filled, out, "json", since=1700050000)
    doc = json.load(open(out / "steps.json"))
    assert [s["session_no"] for s in doc["sessions"]] == [2]
    assert doc["sessions"][0]["trace_file"] == "trace_000002.json"
    assert len(doc["sessions"][0]["steps"]) == 2
    tr = json.load(open(out / "trace_000002.json"))
    assert len(tr["t_ms"]) == len(tr["force_g"]) > 70
    assert sorted(p.name for p in paths) == ["steps.json", "trace_000002.json"]


def test_path_safety(tmp_path):
    for bad in ("../x.csv", "/etc/passwd", "a/b.csv", "..", "", "x\x00.csv"):
        with pytest.raises(InputError):
            safe_path(tmp_path, bad)
    assert safe_path(tmp_path, "trace_000001.csv") == (tmp_path / "trace_000001.csv").resolve()


def test_symlink_not_followed(filled, tmp_path):
    out = tmp_path / "exp"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    os.symlink(victim, out / "steps.csv")
    with pytest.raises(AcuError):
        export(filled, out, "csv")
    assert victim.read_text() == "keep me"


def test_bad_format(filled, tmp_path):
    with pytest.raises(InputError):
        export(filled, tmp_path / "e", "xml")


def test_an_unknown_start_is_null_in_json_and_undated_sessions_come_last(tmp_path):
    dev = fx.FakeSession(tmp_path / "device")
    fx.record_session(dev.log, 1, boot_count=5)         # the clock never set, a boot nothing anchors: no date
    fx.record_session(dev.log, 2, wall=1700090000)
    fx.record_session(dev.log, 3, wall=1700000000)
    with Archive(tmp_path / "a.sqlite") as a:
        pull(dev, a, now=lambda: 1690000000)            # a pull whose time is older than every session
        assert [s["session_no"] for s in a.sessions()] == [3, 2, 1]
        export(a, tmp_path / "j", "json")
    doc = json.loads((tmp_path / "j" / "steps.json").read_text())
    by = {s["session_no"]: s for s in doc["sessions"]}
    assert by[1]["start_utc"] is None and by[1]["time_source"] == "unknown"
    assert all(st["start_utc"] is None for st in by[1]["steps"])
    assert by[3]["start_utc"] == "2023-11-14T22:13:20Z"
