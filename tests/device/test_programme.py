# Programmes (docs/programmes.md): the file's validator (good files, every kind of bad file -> one line naming
# the file), the progression rule for known check sequences, the state across reboots and damage, and the
# app's two calls on the fake board. Runs under pytest and tools/mp_test_runner.py.
import json
import os

import fakeboard
from mpcompat import raises

import acu
from acu import feedback, logfmt, logread
from acu import programme as PG
from acu import programme_parse as PP
from acu import routine as R


def _repo():
    here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
    return here + "/../.."


def _library(name):
    rel = "/host_tools/library/programmes/" + name + ".json"
    for base in (_repo(), "."):   # beside this file, or the repository the runner was started in
        try:
            with open(base + rel, "rb") as f:
                return f.read()
        except OSError:
            pass
    raise AssertionError("no " + rel)


def short(**top):
    """A shortened programme: weeks of one day, full then blind with a rule (2 of the last 3, hold 1)."""
    d = {"format": "acu-programme", "version": 1, "name": "short", "week_days": 1, "stages": [
        {"title": "feel it", "weeks": 1, "routines": ["one"], "sessions_per_week": 2, "min_sessions": 1},
        {"title": "blind", "weeks": 1, "routines": ["one", "two"], "sessions_per_week": 2, "min_sessions": 1,
         "feedback": "none", "check": {"target_g": 4000, "hold_s": 5},
         "advance": {"last": 3, "accurate": 2, "max_hold_weeks": 1}},
        {"title": "last", "weeks": 1, "routines": ["two"], "sessions_per_week": 1, "min_sessions": 1,
         "feedback": "faded", "feedback_pct": 30}]}
    d.update(top)
    return d


# ---- the file -------------------------------------------------------------------------------------

def test_shipped_programmes_validate():
    p = PP.loads(_library("sleep-4wk"), "sleep-4wk.json")
    assert p.name == "sleep-4wk" and p.weeks == 4 and p.week_days == 7
    fbs = [PP.FB_NAMES[s.feedback] for s in p.stages]
    assert fbs == ["full", "faded", "bandwidth", "none"]
    assert p.stages[1].feedback_pct == 50 and p.stages[0].check_g == 0
    assert [s.check_g for s in p.stages[1:]] == [4000, 4000, 4000]
    assert p.stages[3].last == 3 and p.stages[3].accurate == 2 and p.stages[3].max_hold == 1
    for s in p.stages:
        assert 3 <= s.min_sessions <= s.goal <= 7   # the research's 3-7 a week
    t = PP.loads(_library("sleep-taster"), "sleep-taster.json")
    assert t.weeks == 1 and PP.routine_names(t) == ["bedtime", "ht7-quick"]


def test_defaults_and_round_trip():
    p = PP.parse(short())
    s = p.stages[0]
    assert s.feedback == PP.FB_FULL and s.check_g == 0 and s.last == 0 and s.title == "feel it"
    assert p.stages[2].feedback_pct == 30 and p.stages[1].routine_for(3) == "two"
    n = PP.to_dict(p)
    assert PP.to_dict(PP.parse(n)) == n
    assert PP.parse(short(), texts=False).stages[0].title is None


def _err(d, where="my.json"):
    e = raises(ValueError, PP.parse, d, where)
    msg = str(e)
    assert "\n" not in msg and msg.startswith("programme my.json: "), msg
    return msg


def _stage_with(**kw):
    d = short()
    d["stages"][1].update(kw)
    return d


def test_every_kind_of_bad_file_is_one_line_naming_the_file():
    cases = [
        (short(format="acu-routine"), "format must be acu-programme"),
        (short(version=2), "version 2 not supported"),
        (short(version="1"), "version must be an integer"),
        (short(name="Bad Name"), "name 'Bad Name' must be"),
        (short(colour="red"), "unknown field 'colour'"),
        (short(week_days=8), "week_days 8 out of range 1..7"),
        (short(stages=[]), "stages must be a list of 1..8"),
        (short(stages="x"), "stages must be a list"),
        (_stage_with(weeks=0), "stage 2: weeks 0 out of range 1..8"),
        (_stage_with(weeks=1.5), "stage 2: weeks must be an integer"),
        (_stage_with(routines=[]), "stage 2: routines must be a list of 1..7"),
        (_stage_with(routines=["../x"]), "stage 2: routine name '../x' must be"),
        (_stage_with(sessions_per_week=30), "stage 2: sessions_per_week 30 out of range 1..21"),
        (_stage_with(min_sessions=3), "stage 2: min_sessions 3 out of range 1..2"),
        (_stage_with(feedback="some"), "stage 2: feedback 'some' not one of full|faded|bandwidth|none"),
        (_stage_with(feedback_pct=40), "stage 2: feedback_pct is only for feedback faded"),
        (_stage_with(feedback="faded", feedback_pct=100), "stage 2: feedback_pct 100 out of range 1..99"),
        (_stage_with(check={"target_g": 99999, "hold_s": 5}), "stage 2: target_g 99999 out of range"),
        (_stage_with(check={"target_g": 4000}), "stage 2: missing field hold_s"),
        (_stage_with(check={"target_g": 4000, "hold_s": 5, "x": 1}), "stage 2: check: unknown field 'x'"),
        (_stage_with(check=None), "stage 2: advance needs the blind checks"),
        (_stage_with(advance={"last": 3, "accurate": 4, "max_hold_weeks": 1}), "accurate 4 out of range 1..3"),
        (_stage_with(advance={"last": 3, "accurate": 2, "max_hold_weeks": 9}), "max_hold_weeks 9 out of range"),
        (_stage_with(days=3), "stage 2: unknown field 'days'"),
        (short(stages=[dict(short()["stages"][0], weeks=8)] * 4), "32 weeks in all, over the limit of 26"),
        ([1, 2], "must be a JSON object"),
    ]
    for d, want in cases:
        got = _err(d)
        assert want in got, (want, got)


def test_bad_bytes_are_one_line_too():
    for data, want in ((b"{not json", "not valid JSON"), (b"[" * 9000 + b"]" * 9000, "bytes, limit 16384"),
                       (b'{"format": "acu-programme"' + b" " * 17000 + b"}", "limit 16384")):
        msg = str(raises(ValueError, PP.loads, data, "big.json"))
        assert msg.startswith("programme big.json: ") and want in msg and "\n" not in msg, msg


# ---- the progression rule ---------------------------------------------------------------------------

def _new(d=None):
    p = PP.parse(d or short())
    return PG.new_state(p.name, p.digest, PP.plan(p))


def _run_week(st, day, checks, sessions=2):
    """sessions completed on day, each with its checks; then the next day's start closes the week."""
    for i in range(sessions):
        PG.roll(st, day)
        PG.add_session(st, day, True, checks[i] if i < len(checks) else ())
    PG.roll(st, day + 1)


def test_rule_advances_when_two_of_the_last_three_checks_are_accurate():
    st = _new()
    _run_week(st, 100, [])                      # stage 1: no rule, moves on with time
    assert st["stage"] == 1 and st["move"] == PG.MOVE_ADVANCED and st["checks"] == []
    _run_week(st, 101, [[(4000, 4100)], [(4000, 5600)]])   # 1 of 2: not enough yet (the week ends)
    assert st["stage"] == 1 and st["held"] == 1 and st["move"] == PG.MOVE_HELD
    _run_week(st, 102, [[(4000, 3800)], [(4000, 6000)]])   # last 3: 5600 6000 3800: 1 of 3
    assert st["stage"] == 2 and st["move"] == PG.MOVE_LIMIT   # held once already: moved on at the limit


def test_rule_advances_at_once_on_good_checks_and_finishes():
    st = _new()
    _run_week(st, 10, [])
    _run_week(st, 11, [[(4000, 4000), (4000, 4300)], [(4000, 3500)]])  # 3 checks, 2 accurate (15 %)
    assert st["stage"] == 2 and st["move"] == PG.MOVE_ADVANCED and st["held"] == 0
    _run_week(st, 12, [], sessions=1)
    assert st["finished"] and st["stage"] == 2
    n = st["sessions"]
    PG.add_session(st, 13, True, [(4000, 4000)])   # after the end nothing more is counted
    assert st["sessions"] == n


def test_hold_back_without_enough_checks_and_a_short_week_does_not_count():
    st = _new()
    _run_week(st, 0, [])
    assert st["stage"] == 1
    PG.roll(st, 1)
    PG.roll(st, 2)                              # no session on day 1: that week is not counted
    assert st["stage"] == 1 and st["short_weeks"] == 1 and st["move"] == PG.MOVE_SHORT and st["week"] == 0
    _run_week(st, 5, [[(4000, 4000)], [(4000, 4000)]])     # 2 accurate, but the rule asks for 3 checks
    assert st["stage"] == 1 and st["held"] == 1


def test_with_no_clock_weeks_are_counted_in_sessions():
    st = _new()
    PG.add_session(st, -1, True, ())
    assert st["stage"] == 0 and st["sessions_week"] == 1
    PG.add_session(st, -1, False, ())          # an aborted session is not counted
    assert st["sessions_week"] == 1
    PG.add_session(st, -1, True, ())           # the goal of 2: the week closes
    assert st["stage"] == 1 and st["sessions_week"] == 0
    assert PG.day_of_week(st, -1) == 0


def test_checks_kept_are_bounded():
    st = _new()
    for i in range(25):
        PG.add_session(st, 5, False, [(4000, 3000 + i)])
    assert len(st["checks"]) == 10 and st["checks"][-1] == [4000, 3024]


# ---- the state across reboots and damage ------------------------------------------------------------

def _flash(prog=None):
    root = fakeboard.flash_root()
    for p in (root + "/programmes",):
        try:
            os.mkdir(p)
        except OSError:
            pass
    for name in ("one", "two"):
        with open(root + "/routines/%s.json" % name, "w") as f:
            f.write(json.dumps({"format": "acu-routine", "version": 1, "name": name, "steps": [
                {"type": "press", "point": "HT7", "side": "left", "duration_s": 2}]}))
    with open(root + "/programmes/short.json", "w") as f:
        f.write(json.dumps(prog or short()))
    return root


def test_state_written_and_read_back_and_check_file():
    root = _flash()
    assert PP.check_file(root + "/programmes/short.json", root + "/routines")["stages"] == 3
    os.remove(root + "/routines/two.json")
    msg = str(raises(ValueError, PP.check_file, root + "/programmes/short.json", root + "/routines"))
    assert msg == "programme short: routine two is not on the device (push it first)", msg
    del acu.problems[:]
    PP.enrol("short", False, 3600, root)
    st = PG.read_state(root)
    assert st["programme"] == "short" and st["stage"] == 0 and st["tz_s"] == 3600 and len(st["digest"]) == 64
    st["stage"] = 1
    st["checks"] = [[4000, 4100]]
    PG.write_state(st, root)
    PP.enrol("short", False, 3600, root)          # a re-push keeps the place
    assert PG.read_state(root)["stage"] == 1
    PP.enrol("short", True, 0, root)              # --restart
    assert PG.read_state(root)["stage"] == 0
    assert PP.leave(root) and PG.read_state(root) is None and not PP.leave(root)
    assert acu.problems == []


def _state_with(**kw):
    st = _new()
    st.update(kw)
    return json.dumps(st).encode()


def test_damaged_state_is_set_aside_and_named():
    cases = (b"\x00garbage{{", b'{"format": "acu-programme-state", "vers', b"[1, 2]",
             b'{"format": "acu-programme-state", "version": 1, "programme": "short", "digest": "", "stage": -4}',
             _state_with(stages=[[1, 2]]), _state_with(stage=3), _state_with(checks=[[4000]]),
             _state_with(week_days=0))
    for data in cases:
        root = _flash()
        with open(root + PG.STATE_PATH, "wb") as f:
            f.write(data)
        del acu.problems[:]
        assert PG.read_state(root) is None
        assert acu.problems and acu.problems[0][0] == root + PG.STATE_PATH, acu.problems
        assert acu.problems[0][2] == root + PG.STATE_PATH + ".bad"
        os.stat(root + PG.STATE_PATH + ".bad")
    del acu.problems[:]


# ---- the app (fake board) -----------------------------------------------------------------------------

class Spy:
    """Records the programme's schedule calls on the runner and passes them on (None: cleared)."""

    def __init__(self, runner):
        self.calls = []
        self._set = runner.set_feedback_override
        self._clear = runner.clear_feedback_override
        runner.set_feedback_override = self.set_
        runner.clear_feedback_override = self.clear

    def set_(self, code, pct=0):
        self.calls.append((code, pct))
        self._set(code, pct)

    def clear(self):
        self.calls.append(None)
        self._clear()


def _app(root, wall):
    del acu.problems[:]
    app, clock, sensor = _make(root)
    clock.set_wall_s(wall)
    return app, clock, sensor, Spy(app.runner)


def _make(root):
    import gc
    gc.collect()
    clock = fakeboard.FakeClock(1000)
    sensor = fakeboard.Sensor()
    from acu import app as app_mod
    app = app_mod.App(fakeboard.board(clock, sensor, True), fakeboard.settings(), 1, root)
    app.start()
    return app, clock, sensor


_RAW = {}


def _raw(app, grams):
    if grams not in _RAW:
        _RAW[grams] = fakeboard.raw_for(app, grams) if grams else 0
    return _RAW[grams]


def _press(app, clock, sensor, grams, ms):
    sensor.raw = _raw(app, grams)
    for _ in range(ms // 5):
        clock.advance(5)
        app.step(clock.ticks_ms())


def _session(app, clock, sensor, check_g=0):
    """One session from the button's start to its end, completed: the hand presses 4 kg on each press step,
    check_g blind on a check step (the programme's retention check), and lets go between steps. Returns the
    routine that ran and the runner's steps' kinds."""
    r = app.runner
    assert r.start(clock.ticks_ms())
    name = r.routine.name
    kinds = [s.kind for s in r.routine.steps]
    n = 0
    while r.active() and n < 60000:
        g = 0
        if r.state == 1:   # RUNNING
            g = check_g if r.step.kind == R.STEP_CHECK else 4000
        _press(app, clock, sensor, g, 5)
        n += 1
    _press(app, clock, sensor, 0, 200)   # the next iterations close the session: the programme counts it
    assert not r.active() and not app.log.active and n < 60000
    return name, kinds


DAY = 86400
T0 = 1767225600    # 2026-01-01 00:00 UTC


def _measured(root):
    return [c[1] for c in PG.read_state(root)["checks"]]


def test_app_runs_the_programme_and_keeps_its_place_across_a_reboot():
    root = _flash()
    PP.enrol("short", False, 0, root)
    app, clock, sensor, spy = _app(root, T0 + 3600)
    assert app.programme and app.boot_faults == 0
    assert _session(app, clock, sensor) == ("one", [R.STEP_PRESS])
    assert spy.calls[-1] == (PP.FB_FULL, 0)
    _session(app, clock, sensor)
    st = PG.read_state(root)
    assert st["stage"] == 0 and st["sessions_week"] == 2
    # a power cut: a new app on the same flash, the next day: stage 2 opens each session with a blind check
    app, clock, sensor, spy = _app(root, T0 + DAY + 3600)
    assert _session(app, clock, sensor, 4050) == ("one", [R.STEP_CHECK, R.STEP_PRESS])
    assert spy.calls[-1] == (PP.FB_NONE, 0)
    assert app.runner.check_results and app.runner.check_results[0][0] == 4000
    # the session's log says where in the programme it ran: stage 2 of 3, its week 1, a goal of 2 a week
    with open(app.log.path, "rb") as f:
        d = logread.decode_session(logread.split_sessions(f.read())[-1][2])
    assert [e["value"] for e in d["events"] if e["code"] == logfmt.EV_PROGRAMME] == [2 + 256 * 1 + 65536 * 2]
    st = PG.read_state(root)
    assert st["stage"] == 1 and len(st["checks"]) == 1 and abs(st["checks"][0][1] - 4050) <= 100, st["checks"]
    summ = PP.summary(app)
    assert summ["stage"] == 2 and summ["sessions_week"] == 1 and summ["goal"] == 2 and summ["next"] == "last"
    assert "2 of the last 3 blind checks" in summ["unlock"] and summ["checks_counted"] == 1
    assert summ["checks_ok"] == 1


def test_app_with_a_garbage_state_boots_cued_and_runs_the_selected_routine():
    root = _flash()
    with open(root + PG.STATE_PATH, "wb") as f:
        f.write(b'{"format": "acu-prog')
    app, clock, sensor, spy = _app(root, T0)
    assert not app.programme and app.boot_faults == 1 and app.fb.cue_code == feedback.CUE_FAULT
    os.stat(root + PG.STATE_PATH + ".bad")
    assert app.runner.start(clock.ticks_ms()) and spy.calls == []
    del acu.problems[:]


def test_app_with_a_programme_whose_routine_is_gone_runs_the_selected_routine():
    root = _flash()
    PP.enrol("short", False, 0, root)
    os.remove(root + "/programmes/short.json")    # the plan is in the state: the file is for the texts only
    os.remove(root + "/routines/one.json")        # but stage 1's routine is gone
    app, clock, sensor, spy = _app(root, T0)
    assert app.programme and app.routine.name == "two"
    assert app.runner.start(clock.ticks_ms()) and spy.calls == [None] and app.runner.routine.name == "two"
    assert any("the programme's routine cannot run" in p[1] for p in acu.problems), acu.problems
    assert PP.summary(app)["error"].startswith("programme short: no file")
    del acu.problems[:]


def test_app_with_no_clock_counts_sessions_and_finishes():
    root = _flash()
    PP.enrol("short", False, 0, root)
    app, clock, sensor, spy = _app(root, None)          # the clock was never set
    for _ in range(2):                                  # stage 1's goal: 2 sessions close its week
        assert _session(app, clock, sensor)[0] == "one"
    st = PG.read_state(root)
    assert st["stage"] == 1 and st["week_start"] == -1 and st["sessions"] == 2
    # stage 2 (no clock: the session number of the week picks the routine): one, then two; blind presses of
    # 4.0 and 4.4 kg (10 % over: accurate)
    assert _session(app, clock, sensor, 4000)[0] == "one"
    assert _session(app, clock, sensor, 4400)[0] == "two"
    st = PG.read_state(root)
    assert st["stage"] == 1 and st["held"] == 1 and st["move"] == PG.MOVE_HELD   # 2 checks, the rule asks 3
    _session(app, clock, sensor, 3900)
    _session(app, clock, sensor, 2000)                  # 50 % under: not accurate
    st = PG.read_state(root)
    assert st["stage"] == 2 and st["move"] == PG.MOVE_ADVANCED and st["checks"] == []  # 4400 3900 2000: 2 of 3
    assert spy.calls[-1] == (PP.FB_NONE, 0)
    assert _session(app, clock, sensor)[0] == "two"     # stage 3, goal 1: the programme ends with it
    assert spy.calls[-1] == (PP.FB_FADED, 30)
    assert PG.read_state(root)["finished"] and PP.summary(app)["finished"]
    assert _session(app, clock, sensor)[0] == "one"     # finished: the selected routine (one: the first that
    assert spy.calls[-1] is None                        # loads) with the steps' own feedback


def test_app_holds_back_on_inaccurate_blind_checks():
    root = _flash()
    PP.enrol("short", False, 0, root)
    app, clock, sensor, spy = _app(root, None)
    for g in (0, 0, 5600, 6000, 2500, 5500):            # stage 1, then blind presses 40 %, 50 %, 38 %, 38 % off
        _session(app, clock, sensor, g)
    st = PG.read_state(root)
    assert st["stage"] == 2 and st["move"] == PG.MOVE_LIMIT   # held once (max_hold_weeks 1), then moved on
