"""A shortened programme (weeks of one day) on the simulator, through the real host tools: pushed with
`acutrainer programme push`, practised with press profiles on virtual days (the device's wall clock is set
day by day), the stage moves on with time, is held back when the blind checks are not good enough, a
power cut mid-programme keeps the place, and `acutrainer status` / `programme status` say where the user is
(docs/programmes.md)."""

import json
from pathlib import Path

import pytest

from host_tools.session import open_session
from tests.integration.conftest import deployed_simulator, run_cli, wait_for

pytestmark = pytest.mark.integration

PROFILES = Path(__file__).parent / "profiles"
NAME = "e2e-programme"
SPEED = 60
DAY_S = 86400
T0 = 1767268800          # 2026-01-01 12:00 UTC: the programme is pushed at UTC offset 0 (TZ below)
CUE_START, CUE_DONE = 1, 4

SHORT = {
    "format": "acu-programme", "version": 1, "name": "short", "title": "Shortened", "week_days": 1,
    "stages": [
        {"title": "feel it", "weeks": 1, "routines": ["ht7-quick"], "sessions_per_week": 1, "min_sessions": 1},
        {"title": "blind", "weeks": 1, "routines": ["ht7-quick"], "sessions_per_week": 1, "min_sessions": 1,
         "feedback": "none", "check": {"target_g": 4000, "hold_s": 5},
         "advance": {"last": 1, "accurate": 1, "max_hold_weeks": 2}},
        {"title": "last", "weeks": 1, "routines": ["ht7-quick"], "sessions_per_week": 1, "min_sessions": 1},
    ],
}


@pytest.fixture(scope="module")
def sim(acu_home, tmp_path_factory):
    with deployed_simulator(NAME, 1919, tmp_path_factory.mktemp("e2eprog") / "flash.img", SPEED) as sim:
        r = run_cli("calibrate", "--auto", "-y", "--port", sim.port)
        assert "written /cfg/calib.json" in r.stdout
        yield sim


def cli(*args, **kw):
    env = dict(__import__("os").environ, TZ="UTC")
    return run_cli(*args, env=env, **kw)


def set_day(sim, day):
    with open_session(sim.port) as s:
        s.call("acu.api", "set_clock", T0 + day * DAY_S)


def cues(sim, boot):
    return [r["value"] for r in sim.trace(boot) if r["kind"] == "note" and r.get("name") == "cue"]


def practise(sim, profile="ht7-quick.txt"):
    """One session from the button, the hand following profile, until the done cue."""
    boot = sim.status()["boot"]
    wait_for(lambda: [r for r in sim.trace(boot) if r.get("name") == "state"], 20, "the app to start")
    done = cues(sim, boot).count(CUE_DONE)
    cli("sim", "button", "short", "--name", NAME)
    wait_for(lambda: CUE_START in cues(sim, boot), 20, "the start cue", sim)
    cli("sim", "profile", str(PROFILES / profile), "--name", NAME)
    wait_for(lambda: cues(sim, boot).count(CUE_DONE) > done, 60, "the done cue", sim)
    wait_for(lambda: not json.loads(cli("status", "--json", "--port", sim.port).stdout)["session_active"], 20,
             "the session's end")


def place(sim):
    return json.loads(cli("programme", "status", "--json", "--port", sim.port).stdout)


def test_a_shortened_programme_advances_holds_and_survives_a_power_cut(sim, tmp_path):
    f = tmp_path / "short.json"
    f.write_text(json.dumps(SHORT))
    r = cli("programme", "push", str(f), "--port", sim.port)
    assert "pushed short (3 stages, 3 weeks)" in r.stdout, r.stdout
    assert "short, stage 1 of 3 (feel it), week 1 of 1, day 1" in r.stdout

    # day 0: one session of the first stage (full feedback): its week's goal is met
    set_day(sim, 0)
    practise(sim)
    p = place(sim)
    assert (p["stage"], p["sessions_week"], p["sessions"], p["clock"]) == (1, 1, 1, True), p

    # day 1: the week of stage 1 has ended: stage 2 (blind) begins with this session, opened by a blind
    # check the hand misses (6.4 kg for 4 kg)
    set_day(sim, 1)
    practise(sim, "check-bad-ht7.txt")
    p = place(sim)
    assert (p["stage"], p["stage_title"], p["feedback"], p["sessions_week"]) == (2, "blind", "none", 1), p

    # day 2: the rule at the end of stage 2's week: no accurate blind check -> held back one week
    set_day(sim, 2)
    practise(sim, "check-bad-ht7.txt")
    p = place(sim)
    assert (p["stage"], p["held"], p["move"], p["weeks"]) == (2, 1, "held", 2), p

    # day 3 begins with the held week's end: still no accurate check -> held again (max_hold_weeks 2); a power
    # cut in the middle of that session: the place is kept, the cut session is not counted
    set_day(sim, 3)
    boot = sim.status()["boot"]
    wait_for(lambda: [r for r in sim.trace(boot) if r.get("name") == "state"], 20, "the app to start")
    cli("sim", "button", "short", "--name", NAME)
    wait_for(lambda: CUE_START in cues(sim, boot), 20, "the start cue", sim)
    # during the practice `programme status` answers over the live link, and the practice goes on
    assert (place(sim)["stage"], sim.status()["boot"]) == (2, boot)
    assert json.loads(cli("status", "--json", "--port", sim.port).stdout)["session_active"]
    sim.power_cut(off_ms=200)
    sim.wait_boot(boot + 1)
    wait_for(lambda: sim.status()["running"], 20, "the reboot")
    set_day(sim, 3)   # the cut stopped the simulated RTC
    p = place(sim)
    assert (p["stage"], p["held"], p["sessions"], p["sessions_week"]) == (2, 2, 3, 0), p

    # `acutrainer status` says where the user is (over the live link, the app running)
    out = cli("status", "--port", sim.port).stdout
    assert "programme short, stage 2 of 3 (blind), week 3 of 3, day 4" in out, out
    assert "next: last, when 1 of the last 1 blind checks accurate" in out and "held back 2 weeks" in out, out

    # day 3's session done, day 4: held the most it may be, the user moves on (the rule still not met)
    practise(sim, "check-bad-ht7.txt")
    set_day(sim, 4)
    practise(sim)
    p = place(sim)
    assert (p["stage"], p["move"], p["held"], p["sessions"]) == (3, "moved on at the hold limit", 0, 5), p

    # a bad programme upload changes nothing: the old file and the place stay
    bad = dict(SHORT, stages=[dict(SHORT["stages"][0], routines=["no-such-routine"])])
    f.write_text(json.dumps(bad))
    r = cli("programme", "push", str(f), "--port", sim.port, check=False)
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0 and "no-such-routine" in r.stderr, r.stderr
    assert place(sim)["stage"] == 3


BLIND = {
    "format": "acu-programme", "version": 1, "name": "blind", "title": "Blind checks", "week_days": 1,
    "stages": [
        {"title": "feel it", "weeks": 1, "routines": ["ht7-quick"], "sessions_per_week": 1, "min_sessions": 1},
        {"title": "blind", "weeks": 1, "routines": ["ht7-quick"], "sessions_per_week": 1, "min_sessions": 1,
         "feedback": "none", "check": {"target_g": 4000, "hold_s": 5},
         "advance": {"last": 1, "accurate": 1, "max_hold_weeks": 2}},
        {"title": "last", "weeks": 1, "routines": ["ht7-quick"], "sessions_per_week": 1, "min_sessions": 1,
         "feedback": "faded", "feedback_pct": 50},
    ],
}


def band_fb(sim, boot, t0):
    """The feedback gate's verdicts (1 speaks, 0 silent) the trace noted from t0 on."""
    return [r["value"] for r in sim.trace(boot) if r.get("name") == "band_fb" and r["t_ms"] >= t0]


def test_blind_checks_hold_back_and_advance_and_the_schedule_is_silent(sim, tmp_path):
    f = tmp_path / "blind.json"
    f.write_text(json.dumps(BLIND))
    r = cli("programme", "push", str(f), "--restart", "--port", sim.port)
    assert "pushed blind (3 stages, 3 weeks)" in r.stdout, r.stdout

    # day 0: stage 1, full feedback: the gate speaks
    set_day(sim, 10)
    boot = sim.status()["boot"]
    practise(sim)
    assert band_fb(sim, boot, 0) and set(band_fb(sim, boot, 0)) == {1}
    assert place(sim)["stage"] == 1

    # day 1: stage 2 opens with a blind check; the hand presses 6.4 kg (not accurate); no band feedback at all
    set_day(sim, 11)
    boot = sim.status()["boot"]
    practise(sim, "check-bad-ht7.txt")
    assert set(band_fb(sim, boot, 0)) == {0}, band_fb(sim, boot, 0)
    p = place(sim)
    assert (p["stage"], p["checks_counted"], p["checks_ok"]) == (2, 1, 0), p

    # day 2: the rule at the end of the week: held back; this session's check is accurate (4.1 kg)
    set_day(sim, 12)
    practise(sim, "check-good-ht7.txt")
    p = place(sim)
    assert (p["stage"], p["held"], p["move"], p["checks_ok"]) == (2, 1, "held", 1), p

    # day 3: the held week ends with the last check accurate: on to stage 3 (faded: the gate speaks and is
    # silent in turn)
    set_day(sim, 13)
    boot = sim.status()["boot"]
    practise(sim)
    p = place(sim)
    assert (p["stage"], p["move"], p["feedback"], p["held"]) == (3, "advanced", "faded", 0), p
    assert set(band_fb(sim, boot, 0)) == {0, 1}
    out = cli("status", "--port", sim.port).stdout
    assert "programme blind, stage 3 of 3 (last), week 1 of 1, day 4" in out, out
    assert "last stage: the programme ends after 1 week with at least 1 sessions each" in out, out

    # pulled, the report shows the learning curve (with feedback beside without: the blind stage's silent
    # press time and its two blind checks, one accurate) and each session's score
    arch = tmp_path / "arch.sqlite"
    r = cli("pull", "--port", sim.port, "--archive", str(arch))
    assert r.returncode == 0, r.stderr
    r = cli("report", "--archive", str(arch), "--html", "--out", str(tmp_path / "rep"))
    text = r.stdout
    assert "learning curve, week 1 from" in text, text
    assert "score" in text, text
    html = (tmp_path / "rep" / "report.html").read_text()
    assert "<h2>Learning curve</h2>" in html and "Learning curve: with and without feedback" in html
    from host_tools.archive import Archive
    with Archive(arch) as a:
        mine = [s for s in a.sessions() if s["routine"] == "ht7-quick" and (s["wall_start_s"] or 0) >= T0 + 10 * DAY_S]
        assert len(mine) == 4 and all(s.get("score") is not None for s in mine), mine
        checks = [st for s in mine for st in a.steps(s["id"]) if st.get("kind") == "check"]
        from acu import score
        assert sorted(score.check_accurate(st["check_target_g"], st["check_measured_g"]) for st in checks) == [
            False, True], checks
        places = [[e["value"] for e in a.events(s["id"]) if e["code"] == 15] for s in mine]
        assert [[v & 0xFF for v in p] for p in places] == [[1], [2], [2], [3]], places
