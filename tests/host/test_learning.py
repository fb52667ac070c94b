"""The learning curve (host_tools.learning) and the teaching columns in reports and exports (issue 19):
sessions the real device logger writes (acu.logger, as the firmware does: every 5 ms sample through the
trace and StepStats.update with the schedule's silent flag), pulled into a real archive. Every expected
figure is worked out by hand in the comments from the holds below."""
import base64
import csv
import json
import re
import sqlite3
from pathlib import Path

import studyfx
import test_pull as fx
from host_tools import columns
from host_tools.archive import Archive
from host_tools.export import export, export_learning
from host_tools.learning import curve
from host_tools.pull import pull
from host_tools.report import build_report, render_html, render_text, write_report
from acu import logfmt, logger, score
from acu.band import IN_BAND, NO_CONTACT, OVER, UNDER
from mpcompat import FakeClock

DAY = 86400
START = studyfx.START  # 2026-01-01 00:00 UTC: week 1 of the practice starts here
FULL, FADED, BANDWIDTH, NONE = 0, 1, 2, 3


def _state(g):
    return NO_CONTACT if g < 300 else UNDER if g < 3000 else IN_BAND if g <= 5000 else OVER


def _record(log_dir, no, wall, steps, score_planned=True, routine="teach", place=None):
    """One session: steps [(kind, fb, [(force_g, seconds, silent)], check)], check = (target_g, measured_g,
    status) for a check step. The score events as the device logs them (acu.score on the same inputs)."""
    clock = FakeClock(1000)
    clock.wall = wall
    # no wall time and a boot nothing anchors: a session of unknown date
    info = {"unique_id": b"\x0c\x0d", "firmware": "0.2.0", "board": "sim", "boot_count": 1 if wall else 5,
            "calib_id": ""}
    lg = logger.Logger(str(log_dir), clock, info, free_bytes_fn=lambda: 1 << 20, volume_bytes=0)
    lg.begin_session(routine, studyfx.DIGEST, 3000, 5000, now_ms=clock.now, session_no=no)
    if place:  # a programme's session: (stage, week, goal), as acu.app logs it at the start
        lg.event(logfmt.EV_PROGRAMME, place[0] + 256 * place[1] + 65536 * place[2], clock.now)
    fb_contact = fb_in = done = 0
    checks = []
    for i, (kind, fb, holds, check) in enumerate(steps):
        st = logger.StepStats()
        st.fb = fb
        st.fb_pct = 50 if fb == FADED else 10 if fb == BANDWIDTH else 0
        lg.step_begin(i, kind, "" if kind == "check" else "HT7", "left", 3000, 5000, sum(h[1] for h in holds),
                      clock.now)
        for force_g, seconds, silent in holds:
            for _ in range(seconds * 200):
                lg.sample(force_g, clock.now)
                st.update(_state(force_g), force_g, 5, silent)
                lg.poll(clock.now)
                clock.advance(5)
        status = "done"
        if check:
            status = check[2]
            if status == "done":  # as the device: a check's result is set only when it ends done
                st.check_target_g, st.check_measured_g = check[:2]
                st.check_grade = score.kr_grade(check[0], check[1])
                checks.append(check[:2])
        else:
            c, n = score.feedback_parts(fb, st.under_ms + st.in_ms + st.over_ms, st.in_ms, st.silent_ms,
                                        st.silent_in_ms)
            fb_contact, fb_in = fb_contact + c, fb_in + n
        done += status == "done"
        lg.step_end(i, status, st, clock.now)
    if score_planned:
        lg.event(logfmt.EV_STEPS_PLANNED, len(steps), clock.now)
        lg.event(logfmt.EV_SCORE, score.session_score(fb_contact, fb_in, checks, done, len(steps)), clock.now)
    lg.end_session("completed", clock.now)


# week 1 (days 0 and 3), week 2 nothing, week 3 (day 15), and one session the device could not date
SESSIONS = (
    (1, START + 20 * 3600, [
        ("press", FULL, [(4500, 10, False), (2500, 10, False)], None),     # 20 s, 10 in band; errors 500, 1500
        ("press", NONE, [(3800, 10, True), (5600, 10, True)], None),       # silent 20 s, 10 in; errors 200, 1600
        ("check", NONE, [(4400, 10, True)], (4000, 4400, "done"))]),       # 10 % over: accurate, error 400
    (2, START + 3 * DAY + 20 * 3600, [
        # faded 50 %: 5 s on, 5 s off from the first contact (the device's rule), twice: on 10 s in band (error 0),
        # silent 10 s under (error 2000)
        ("press", FADED, [(4000, 5, False), (2000, 5, True), (4000, 5, False), (2000, 5, True)], None),
        ("check", NONE, [(5400, 10, True)], (4000, 5400, "done"))]),       # 35 % over: not accurate, error 1400
    (3, START + 15 * DAY + 20 * 3600, [
        ("press", BANDWIDTH, [(4200, 10, True), (6000, 10, False)], None),  # all feedback: 20 s, 10 in; 200, 2000
        ("check", NONE, [(3500, 10, True)], (4000, 3500, "done")),         # 12.5 % under: accurate, error 500
        ("check", NONE, [(1000, 2, True)], (4000, 1000, "skipped"))]),     # skipped: no result, not counted
    (4, None, [("press", FULL, [(4000, 5, False)], None)]),
)


def _archive(tmp_path):
    dev = fx.FakeSession(tmp_path / "device", device_id="0c0d")
    for no, wall, steps in SESSIONS:
        _record(dev.log, no, wall, steps)
    a = Archive(tmp_path / "a.sqlite")
    assert len(pull(dev, a).new) == len(SESSIONS)
    return a


def test_the_learning_curve_of_known_sessions(tmp_path):
    with _archive(tmp_path) as a:
        lc = curve(a)
    assert lc["start_utc"] == "2026-01-01" and lc["undated"] == 1
    w1, w2, w3 = lc["weeks"]
    assert (w1["week"], w1["from_date"], w1["sessions"]) == (1, "2026-01-01", 2)
    # with feedback: the full press (20 s, 10 in band) + the faded press's on part (10 s, 10 in) = 30 s, 20 in
    assert (w1["fb_press_s"], w1["fb_pct_in_band"]) == (30.0, 66.7)
    # its error: the full press's 100 samples at 500 g and 100 at 1500 g, and the faded press's samples the
    # schedule surely had on: 46 of each 5 s on part at 0 g (faded_sides leaves out those within 200 ms of doubt
    # and a 100 ms window of a switch: 2 before its start, 3 before its end): 200 000 / 292
    assert w1["fb_mae_g"] == round(200000 / 292)
    # without: the none press (20 s, 10 in) + the faded press's silent part (10 s, 0 in) = 30 s, 10 in
    assert (w1["silent_press_s"], w1["silent_pct_in_band"]) == (30.0, 33.3)
    # the none press's 100 samples at 200 g and 100 at 1600 g, and 46 of each faded silent part at 2000 g
    assert w1["silent_mae_g"] == round((100 * 200 + 100 * 1600 + 92 * 2000) / 292)
    # blind checks: 4400 (accurate) and 5400 (35 % over) against 4000
    assert (w1["checks"], w1["checks_accurate"], w1["check_accuracy_pct"], w1["check_mae_g"]) == (2, 1, 50.0, 900)
    assert (w2["week"], w2["from_date"], w2["sessions"], w2["fb_press_s"], w2["checks"]) == (2, "2026-01-08", 0,
                                                                                           0.0, 0)
    assert w2["fb_pct_in_band"] is None and w2["check_accuracy_pct"] is None and w2["check_mae_g"] is None
    # bandwidth: its silence is the message, all 20 s count as feedback on; errors 200 and 2000 g
    assert (w3["fb_press_s"], w3["fb_pct_in_band"], w3["fb_mae_g"]) == (20.0, 50.0, 1100)
    assert (w3["silent_press_s"], w3["silent_pct_in_band"], w3["silent_mae_g"]) == (0.0, None, None)
    # the done check only (3500: 12.5 % under, accurate); the skipped one is left out
    assert (w3["checks"], w3["checks_accurate"], w3["check_accuracy_pct"], w3["check_mae_g"]) == (1, 1, 100.0, 500)


def test_adherence_per_week_against_a_goal_or_a_programmes_goals(tmp_path):
    with _archive(tmp_path) as a:
        plain, one, per_week = curve(a), curve(a, goals=3), curve(a, goals=[3, 5])
    assert [(w["completed"], w["goal"], w["adherence_pct"]) for w in plain["weeks"]] == [
        (2, None, None), (0, None, None), (1, None, None)]
    # 2 of 3, 0 of 3, 1 of 3
    assert [w["adherence_pct"] for w in one["weeks"]] == [66.7, 0.0, 33.3]
    # a two-week programme: week 3 is past its end (no goal)
    assert [(w["goal"], w["adherence_pct"]) for w in per_week["weeks"]] == [(3, 66.7), (5, 0.0), (None, None)]


def test_week_one_can_start_on_a_programmes_first_day(tmp_path):
    with _archive(tmp_path) as a:
        lc = curve(a, start_s=START + 2 * DAY)  # session 1 is before it: left out
    assert lc["start_utc"] == "2026-01-03"
    assert [(w["week"], w["sessions"]) for w in lc["weeks"]] == [(1, 1), (2, 1)]  # day 3 and day 15
    assert lc["weeks"][0]["checks"] == 1 and lc["weeks"][0]["check_mae_g"] == 1400


def test_the_text_and_html_reports_have_the_curve_and_the_scores(tmp_path):
    with _archive(tmp_path) as a:
        rep, paths = write_report(a, tmp_path / "out", html_page=True, goal=3)
        rep_scores = [(s["score"], s["score_host"]) for s in rep["scores"]]
    # session 1: feedback 20 s, 10 in -> 50 %; its check 100 points; 3 of 3 done: (50x50 + 30x100 + 20x100)
    # / 100 = 75. Session 2: the faded on part 10 s all in band -> 100; check 35 % off -> (45-35) x 100 / 30
    # = 33; 2 of 2: (5000 + 990 + 2000) / 100 = 79.9 -> 80. Session 3: 50 %; one check 100; 2 of 3 done ->
    # 66: (2500 + 3000 + 1320) / 100 = 68.2 -> 68. The undated session 4: 100 %, no check, 1/1 -> 100
    assert rep_scores == [(75, 75), (80, 80), (68, 68), (100, 100)]
    text = render_text(rep)
    lines = text.splitlines()
    head = next(i for i, s in enumerate(lines) if s.startswith("learning curve, week 1 from 2026-01-01"))
    w1 = lines[head + 2].split()
    assert w1[:3] == ["1", "2026-01-01", "2/3"] and w1[4:7] == ["30.0", "66.7%", "685g"], lines[head + 2]
    assert w1[8:11] == ["30.0", "33.3%", "1247g"] and w1[12:15] == ["2", "50.0%", "900g"], lines[head + 2]
    assert lines[head + 4].split()[12:15] == ["1", "100.0%", "500g"]
    assert "session score 0-100" in text and "goal 3 a week" in text
    names = sorted(p.name for p in paths)
    assert {"learning.png", "scores.png", "report.html"} <= set(names)
    page = (tmp_path / "out" / "report.html").read_text()
    assert "<h2>Learning curve</h2>" in page and "<td>1 / 2</td>" in page and "<td>66.7 %</td>" in page
    for name in ("learning.png", "scores.png"):  # each plot inlined: the very bytes written beside the page
        png = (tmp_path / "out" / name).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        assert base64.b64encode(png).decode() in page
    assert "alt='Learning curve: with and without feedback'" in page and "alt='Session score per session'" in page


def test_device_text_in_the_learning_html_is_escaped(tmp_path):
    with _archive(tmp_path) as a:
        rep = build_report(a)
    rep["learning"]["start_utc"] = "<script>x</script>"  # nothing a device sends reaches it; escaped anyway
    page = render_html(rep, {})
    assert "<script>x</script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page


def _csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_the_exports_carry_schedule_silence_check_and_score(tmp_path):
    with _archive(tmp_path) as a:
        export(a, tmp_path / "csv", "csv")
        export(a, tmp_path / "json", "json")
    rows = _csv(tmp_path / "csv" / "steps.csv")
    names = columns.names(columns.STEP)
    assert list(rows[0]) == names and names[:29][-1] == "reconstructed"  # the older columns first, unmoved
    by = {(r["session_no"], r["step"]): r for r in rows}
    none_press, check1 = by[("1", "1")], by[("1", "2")]
    assert (none_press["feedback"], none_press["silent_s"], none_press["silent_in_s"]) == ("none", "20.0", "10.0")
    assert none_press["check_target_g"] == "" and none_press["check_accurate"] == ""
    assert (by[("2", "0")]["feedback"], by[("2", "0")]["feedback_pct"], by[("2", "0")]["silent_s"]) == (
        "faded", "50", "10.0")
    assert (check1["check_target_g"], check1["check_measured_g"], check1["check_error_pct"],
            check1["check_grade"], check1["check_accurate"]) == ("4000", "4400", "10", "0", "True")
    c2 = by[("2", "1")]
    assert (c2["check_error_pct"], c2["check_grade"], c2["check_accurate"]) == ("35", "2", "False")
    c3 = by[("3", "1")]  # 12.5 % under rounds to 13; accurate: grade 0
    assert (c3["check_error_pct"], c3["check_grade"], c3["check_accurate"]) == ("-13", "0", "True")
    assert {(r["session_no"], r["score"], r["score_host"]) for r in rows} == {
        ("1", "75", "75"), ("2", "80", "80"), ("3", "68", "68"), ("4", "100", "100")}
    doc = json.loads((tmp_path / "json" / "steps.json").read_text())
    s1 = next(s for s in doc["sessions"] if s["session_no"] == 1)
    assert (s1["score"], s1["score_host"]) == (75, 75)
    assert s1["steps"][2]["check_accurate"] is True and s1["steps"][2]["check_measured_g"] == 4400


def test_the_learning_export_reads_back(tmp_path):
    with _archive(tmp_path) as a:
        want = curve(a)["weeks"]
        (p,) = export_learning(a, tmp_path / "out", "csv")
        (pj,) = export_learning(a, tmp_path / "out", "json")
    rows = _csv(p)
    assert list(rows[0]) == columns.names(columns.LEARNING) and len(rows) == 3
    assert (rows[0]["fb_pct_in_band"], rows[0]["silent_pct_in_band"], rows[0]["check_accuracy_pct"]) == (
        "66.7", "33.3", "50.0")
    assert rows[1]["fb_pct_in_band"] == "" and rows[2]["check_mae_g"] == "500"
    doc = json.loads(pj.read_text())
    assert doc["format"] == "acu-learning" and doc["weeks"] == want and doc["undated_sessions"] == 1


def test_an_older_archive_without_the_teaching_fields_still_reports(tmp_path):
    """Rows archived before migration 4 have NULL schedule, silence, check and score: the report and the
    exports run, those columns stay empty, and press time counts as feedback on (full, as it ran then)."""
    dev = fx.FakeSession(tmp_path / "device", device_id="0c0d")
    studyfx.record(dev.log, b"\x0c\x0d", 1, START, [("press", "HT7", [(4500, 10), (2500, 10)])])
    with Archive(tmp_path / "a.sqlite") as a:
        pull(dev, a)
    db = sqlite3.connect(tmp_path / "a.sqlite")
    db.execute("UPDATE steps SET fb = NULL, fb_pct = NULL, silent_ms = NULL, silent_in_ms = NULL,"
               " check_target_g = NULL, check_measured_g = NULL, check_grade = NULL")
    db.execute("UPDATE sessions SET score = NULL, score_host = NULL")
    db.commit()
    db.close()
    with Archive(tmp_path / "a.sqlite") as a:
        rep, paths = write_report(a, tmp_path / "out", html_page=True)
        export(a, tmp_path / "csv", "csv")
        (lp,) = export_learning(a, tmp_path / "csv", "csv")
    w1 = rep["learning"]["weeks"][0]
    assert (w1["fb_press_s"], w1["fb_pct_in_band"], w1["fb_mae_g"]) == (20.0, 50.0, 1000)
    assert (w1["silent_press_s"], w1["checks"]) == (0.0, 0) and rep["scores"] == []
    # no practice without feedback: no curve to set beside it (the weeks' table has the in-band share)
    assert "learning curve" not in render_text(rep) and "Learning curve" not in render_html(rep, {})
    assert sorted(p.name for p in paths) == ["adherence.png", "report.html", "session_000001.png"]
    (row,) = _csv(tmp_path / "csv" / "steps.csv")
    assert all(row[k] == "" for k in ("feedback", "feedback_pct", "silent_s", "check_target_g", "check_accurate",
                                      "score", "score_host"))
    assert _csv(lp)[0]["fb_press_s"] == "20.0"


def test_the_learning_columns_are_documented():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "export.md").read_text()
    section = doc[doc.index("## The learning curve"):]
    for c in columns.LEARNING:
        assert re.search(r"^\| `%s` \| [a-z]" % c.name, section, re.M), c.name


def test_the_cli_report_and_learning_export(tmp_path, capsys):
    from host_tools import cli

    _archive(tmp_path).close()
    arc = str(tmp_path / "a.sqlite")
    assert cli.main(["report", "--archive", arc, "--weekly-goal", "2", "--out", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    # week 1: 2 completed sessions of routine teach against the goal of 2
    assert "goal 2 a week" in out and re.search(r"^\d{4}-W\d\d +2/2 +100.0%", out, re.M)
    assert "learning curve, week 1 from 2026-01-01" in out and "wrote %s" % (tmp_path / "r" / "learning.png") in out
    assert cli.main(["export", "--archive", arc, "--learning", "--start", "2026-01-03", "--weekly-goal", "2",
                     "--out", str(tmp_path / "e")]) == 0
    assert [(r["sessions"], r["adherence_pct"]) for r in _csv(tmp_path / "e" / "learning.csv")] == [("1", "50.0")] * 2
    capsys.readouterr()
    assert cli.main(["export", "--archive", arc, "--learning", "--format", "parquet",
                     "--out", str(tmp_path / "p")]) == 2  # a usage error
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--learning: format must be csv or json" in err
    assert not (tmp_path / "p").exists()


def test_parquet_and_redcap_carry_the_new_columns(tmp_path):
    import pyarrow.parquet as pq

    with _archive(tmp_path) as a:
        export(a, tmp_path / "pq", "parquet")
        export(a, tmp_path / "rc", "redcap")
    ses = {r["session_no"]: r for r in pq.read_table(tmp_path / "pq" / "sessions.parquet").to_pylist()}
    assert [(ses[n]["score"], ses[n]["score_host"]) for n in (1, 2, 3, 4)] == [(75, 75), (80, 80), (68, 68),
                                                                               (100, 100)]
    steps = pq.read_table(tmp_path / "pq" / "steps.parquet")
    assert steps.schema.field("check_measured_g").metadata[b"unit"] == b"g"
    by = {(r["session_no"], r["step"]): r for r in steps.to_pylist()}
    assert (by[(2, 1)]["check_target_g"], by[(2, 1)]["check_measured_g"], by[(2, 1)]["check_accurate"]) == (
        4000, 5400, False)
    assert (by[(1, 1)]["feedback"], by[(1, 1)]["silent_s"], by[(1, 1)]["check_target_g"]) == ("none", 20.0, None)
    rows = list(csv.DictReader(open(tmp_path / "rc" / "redcap_import.csv", newline="")))
    first_check = next(r for r in rows if r["acu_check_target_g"])
    assert (first_check["acu_check_measured_g"], first_check["acu_check_accurate"], first_check["acu_score"]) == (
        "4400", "1", "75")
    dd = {r[0]: r for r in csv.reader(open(tmp_path / "rc" / "redcap_data_dictionary.csv"))}
    assert "acu_check_error_pct" in dd and "acu_score_host" in dd


def test_a_programmes_weekly_goals_week_by_week(tmp_path):
    from host_tools.learning import programme_goals

    # stages of 1 week at 5 a week, 2 weeks at 3, 1 at 4 (as planned: holds are not in the log)
    goals = programme_goals([(1, 5), (2, 3), (1, 4)])
    assert goals == [5, 3, 3, 4]
    with _archive(tmp_path) as a:
        rep = build_report(a, goal=2, week_goals=goals)
    # the learning weeks against the programme's goals: 2 of 5, 0 of 3, 1 of 3; the ISO weeks keep goal 2
    assert [(w["completed"], w["goal"], w["adherence_pct"]) for w in rep["learning"]["weeks"]] == [
        (2, 5, 40.0), (0, 3, 0.0), (1, 3, 33.3)]
    assert {w["goal"] for w in rep["weeks"]} == {2}
    assert re.search(r"^1 +2026-01-01 +2/5 \|", render_text(rep), re.M)


def test_report_programme_counts_weeks_against_the_library_plan(tmp_path, capsys):
    from host_tools import cli

    _archive(tmp_path).close()
    arc = str(tmp_path / "a.sqlite")
    # sleep-4wk asks 5 sessions a week in each of its 4 weeks: week 1 has 2 completed
    assert cli.main(["report", "--archive", arc, "--programme", "sleep-4wk", "--start", "2026-01-01",
                     "--out", str(tmp_path / "r")]) == 0
    assert re.search(r"^1 +2026-01-01 +2/5 \|", capsys.readouterr().out, re.M)
    assert cli.main(["report", "--archive", arc, "--programme", "no-such", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no library programme of that name" in err


def test_the_goal_a_programmes_sessions_logged_wins(tmp_path):
    dev = fx.FakeSession(tmp_path / "device", device_id="0c0d")
    press = [("press", FULL, [(4000, 5, False)], None)]
    check = [("check", NONE, [(4400, 5, True)], (4000, 4400, "done"))]
    _record(dev.log, 1, START, press + check, place=(1, 1, 4))          # stage 1, its week 1, goal 4
    _record(dev.log, 2, START + DAY, press + check, place=(1, 1, 4))
    _record(dev.log, 3, START + 8 * DAY, press + check, place=(2, 1, 3))  # week 2: stage 2, goal 3
    _record(dev.log, 4, START + 15 * DAY, press + check)                 # week 3: outside a programme
    with Archive(tmp_path / "a.sqlite") as a:
        pull(dev, a)
        lc = curve(a, goals=5)
    assert [(w["completed"], w["goal"], w["adherence_pct"], w["programme_stage"]) for w in lc["weeks"]] == [
        (2, 4, 50.0, 1), (1, 3, 33.3, 2), (1, 5, 20.0, None)]
