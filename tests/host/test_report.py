# report: weekly adherence against the goal, per-point figures, trend, PNG plots, self-contained HTML.
import base64
import os
import re

import pytest
import test_pull as fx
from host_tools.archive import Archive
from host_tools.errors import InputError
from host_tools.pull import pull
from host_tools.report import build_report, render_text, write_report

WEEK = 7 * 86400
MON = 1704067200  # 2024-01-01, a Monday (ISO week 2024-W01)


def _archive(tmp_path):
    dev = fx.FakeSession(tmp_path / "device")
    n = 1
    # week 1: 3 sessions, week 2: none, week 3: 2 sessions (+1 cut short)
    for day in (0, 1, 2):
        fx.record_session(dev.log, n, wall=MON + day * 86400 + 3600 * 21, point="HT7")
        n += 1
    for day in (14, 15):
        fx.record_session(dev.log, n, wall=MON + day * 86400, point="GB20")
        n += 1
    fx.record_session(dev.log, n, wall=MON + 16 * 86400, end="aborted", point="<script>alert(1)</script>")
    a = Archive(tmp_path / "a.sqlite")
    pull(dev, a)
    return a


def test_weekly_adherence_and_points(tmp_path):
    a = _archive(tmp_path)
    rep = build_report(a)
    assert rep["routine"] == "bedtime" and rep["goal"] == 7  # the library routine's weekly_goal
    assert [w["week"] for w in rep["weeks"]] == ["2024-W01", "2024-W02", "2024-W03"]
    assert [w["sessions"] for w in rep["weeks"]] == [3, 0, 2]
    assert rep["weeks"][0]["adherence_pct"] == round(300 / 7, 1)
    assert rep["weeks"][1]["minutes"] == 0
    pts = {p["point"]: p for p in rep["points"]}
    assert pts["HT7"]["steps"] == 6 and pts["GB20"]["steps"] == 4
    assert abs(pts["HT7"]["minutes"] - 6 * 4 / 60.0) < 0.05
    assert 50 <= pts["HT7"]["pct_in_band"] <= 100 and 3500 <= pts["HT7"]["mean_g"] <= 4400
    assert rep["completed"] == 5 and rep["sessions"] == 6
    rep5 = build_report(a, goal=2)
    assert rep5["weeks"][0]["adherence_pct"] == 100.0
    txt = render_text(rep)
    assert "2024-W01" in txt and "HT7" in txt
    a.close()


def test_plots_and_html(tmp_path):
    a = _archive(tmp_path)
    out = tmp_path / "rep"
    rep, paths = write_report(a, out, html_page=True)
    names = sorted(p.name for p in paths)
    assert names == ["adherence.png", "report.html", "session_000006.png"]
    for p in paths:
        if p.suffix == ".png":
            assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 5000
    page = (out / "report.html").read_text()
    imgs = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", page)
    assert len(imgs) == 2 and base64.b64decode(imgs[0])[:4] == b"\x89PNG"
    assert "<script>" not in page and "&lt;script&gt;" in page   # device text is escaped
    assert "src='http" not in page and "href=" not in page        # self-contained
    assert oct(os.stat(out / "report.html").st_mode & 0o777) == "0o600"
    a.close()


def test_empty_archive(tmp_path):
    a = Archive(tmp_path / "a.sqlite")
    rep, paths = write_report(a, tmp_path / "r", html_page=True)
    assert rep["sessions"] == 0 and rep["weeks"] == []
    assert [p.name for p in paths] == ["report.html"]
    a.close()


def test_free_presses_do_not_set_the_weekly_goal(tmp_path):
    dev = fx.FakeSession(tmp_path / "device")
    for n in range(1, 5):  # more free presses than routine sessions
        fx.record_session(dev.log, n, wall=MON + n * 3600, routine="free", steps=1, seconds=1)
    fx.record_session(dev.log, 5, wall=MON + 86400, routine="bedtime", steps=1, seconds=1)
    a = Archive(tmp_path / "a.sqlite")
    pull(dev, a)
    rep = build_report(a)
    assert rep["routine"] == "bedtime" and rep["goal"] == 7
    a.close()


def test_only_the_goal_routines_sessions_count_toward_it(tmp_path):
    dev = fx.FakeSession(tmp_path / "device")
    for n, routine in enumerate(("bedtime", "free", "bedtime", "free", "ht7-quick"), start=1):
        fx.record_session(dev.log, n, wall=MON + n * 3600, routine=routine)
    with Archive(tmp_path / "a.sqlite") as a:
        pull(dev, a)
        rep = build_report(a)
        assert rep["routine"] == "bedtime" and rep["goal"] == 7
        w = rep["weeks"][0]
        assert (w["sessions"], w["other"]) == (2, 3)           # 2/7, not 5/7: free presses are not the goal
        assert w["adherence_pct"] == round(200 / 7, 1)
        assert "other" in render_text(rep)
        rep = build_report(a, routine="ht7-quick")
        assert rep["goal"] == 3 and (rep["weeks"][0]["sessions"], rep["weeks"][0]["other"]) == (1, 4)


def test_a_session_that_is_not_in_the_archive_is_named_and_nothing_written(tmp_path):
    a = _archive(tmp_path)
    out = tmp_path / "rep"
    with pytest.raises(InputError) as e:
        write_report(a, out, html_page=True, session_id=99)
    assert str(e.value).startswith("--session 99: no such session in ") and "\n" not in str(e.value)
    assert not out.exists()
    _, paths = write_report(a, out, html_page=True, session_id=2)
    assert sorted(p.name for p in paths) == ["adherence.png", "report.html", "session_000002.png"]
    assert "Force trace of session 2" in (out / "report.html").read_text()
    a.close()
