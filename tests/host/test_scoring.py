"""The session score on the host (docs/score.md): a session the real logger wrote with the teaching fields
(schedules, silent time, a blind check) and the score events is archived with the device's score and the
host's own computation (acu.score, the same code), shown by `sessions` and in the text and HTML reports; a
device that logged a different score is named."""
from host_tools.archive import Archive
from host_tools.commands.sessions import session_lines
from host_tools.paths import ensure_device_importable
from host_tools.report import build_report, render_html, render_text
from host_tools.scoring import session_scores

ensure_device_importable()
from acu import logfmt, logger, logread, score  # noqa: E402


class _Clock:
    def __init__(self):
        self.now = 5000

    def ticks_ms(self):
        return self.now

    def wall_s(self):
        return 1767000000 + self.now // 1000


def _session(root, device_score=None):
    """One routine session: a faded press (60 s contact, 50 in band, of which 30 s silent, 25 in band), a
    bandwidth press (20 s, all in band, 15 silent) and a check of 4000 g that measured 5400 g (35 % over)."""
    clk = _Clock()
    lg = logger.Logger(str(root), clk, {"device_id": "ab12", "firmware": "t", "board": "sim"})
    lg.stats = st = logger.StepStats()
    lg.recover()
    lg.begin_session("teach", "", 3000, 5000, now_ms=clk.now)
    for i, (kind, fb, pct, contact, inb, silent, silent_in) in enumerate((
            ("press", 1, 50, 60000, 50000, 30000, 25000), ("press", 2, 5, 20000, 20000, 15000, 15000))):
        st.reset()
        lg.step_begin(i, kind, "HT7", "left", 3000, 5000, 60, clk.now)
        st.fb, st.fb_pct = fb, pct
        st.in_ms, st.under_ms = inb, contact - inb
        st.silent_ms, st.silent_in_ms = silent, silent_in
        clk.now += contact
        lg.step_end(i, "done", st, clk.now)
    st.reset()
    lg.step_begin(2, "check", "", "centre", 3400, 4600, 10, clk.now)
    st.fb, st.over_ms, st.silent_ms = 3, 10000, 10000
    st.check_target_g, st.check_measured_g, st.check_grade = 4000, 5400, score.kr_grade(4000, 5400)
    clk.now += 10000
    lg.step_end(2, "done", st, clk.now)
    # band part: faded (60-30 s contact, 50-25 in band) + bandwidth (its silence is feedback: 20, 20)
    # = 50 s contact, 45 in band -> 90 %; check 35 % off -> (45-35)/30 -> 33; 3 of 3 steps
    want = score.session_score(50000, 45000, [(4000, 5400)], 3, 3)
    lg.event(logfmt.EV_STEPS_PLANNED, 3, clk.now)
    lg.event(logfmt.EV_SCORE, want if device_score is None else device_score, clk.now)
    lg.end_session("completed", clk.now)
    data = (root / sorted(p.name for p in root.iterdir() if p.suffix == ".acl")[-1]).read_bytes()
    return logread.split_sessions(data)[-1][2], want


def test_hand_computed_score_of_a_logged_session():
    # (50 x 90 + 30 x 33 + 20 x 100) / 100 = 74.9 -> 75
    assert score.session_score(50000, 45000, [(4000, 5400)], 3, 3) == 75


def test_the_archive_sessions_and_reports_show_the_score(tmp_path):
    (tmp_path / "log").mkdir()
    blob, want = _session(tmp_path / "log")
    d = logread.decode_session(blob)
    assert session_scores(d) == (75, 75) and want == 75
    with Archive(tmp_path / "a.sqlite") as a:
        a.store(d, blob, "000001.acl")
        s = a.sessions()[0]
        assert (s["score"], s["score_host"]) == (75, 75)
        steps = a.steps(s["id"])
        assert [st["fb"] for st in steps] == [1, 2, 3] and steps[0]["silent_ms"] == 30000
        assert (steps[2]["check_target_g"], steps[2]["check_measured_g"], steps[2]["check_grade"]) == (4000, 5400, 2)
        lines = session_lines(a)
        assert lines[0].split()[8] == "score" and lines[1].split()[8] == "75", lines
        assert "0 of 1 check accurate" in lines[1] and "host computes" not in lines[1]
        rep = build_report(a)
        assert [(x["score"], x["checks"], x["checks_accurate"]) for x in rep["scores"]] == [(75, 1, 0)]
        text = render_text(rep)
        assert "session score 0-100" in text and " 75 " in text and "0/1" in text
        assert "<h2>Session scores</h2>" in render_html(rep, {}) and "<td>75</td>" in render_html(rep, {})


def test_a_device_score_the_host_does_not_reproduce_is_named(tmp_path):
    (tmp_path / "log").mkdir()
    blob, want = _session(tmp_path / "log", device_score=60)
    with Archive(tmp_path / "a.sqlite") as a:
        a.store(logread.decode_session(blob), blob, "000001.acl")
        line = session_lines(a)[1]
        assert line.split()[8] == "60" and "the host computes score 75 from the log" in line
        assert "(host computes 75)" in render_text(build_report(a))


def test_sessions_without_a_score_show_none():
    # a free press or older firmware: no steps_planned event, no score on either side
    assert session_scores({"events": [], "steps": [], "end": {"steps_done": 1}}) == (None, None)
