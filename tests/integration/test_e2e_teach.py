"""The trainer that teaches, end to end in the simulator (virtual time, --speed 60): a format 2 routine
pushed with the host tools (faded, bandwidth and none steps, two blind checks) and run from a button press
by a press profile (tests/integration/profiles/teach.txt). The output trace shows the band feedback silent
exactly where each schedule says while the too-hard warning still sounds, the checks' results and the score
pattern; `pull` then `sessions` shows the score the device logged, which the host reproduces."""

import json
import re
from pathlib import Path

import pytest

from host_tools.archive import Archive
from host_tools.paths import ensure_device_importable
from host_tools.sim import profile as P
from tests.integration.conftest import deployed_simulator, run_cli, wait_for

ensure_device_importable()
from acu import feedback, logread, score  # noqa: E402

pytestmark = pytest.mark.integration

NAME = "e2e-teach"
SPEED = 60
TRANSITION_MS = 4000
CUE_START, CUE_STEP, CUE_SIDE, CUE_DONE = 1, 2, 3, 4
TOO_HARD = 4
SLACK_MS = 10  # two loop periods
ROUTINE = {
    "format": "acu-routine", "version": 2, "name": "teach", "title": "teach e2e",
    "steps": [
        {"type": "press", "point": "HT7", "side": "left", "duration_s": 20, "feedback": "faded", "feedback_pct": 50},
        {"type": "press", "point": "HT7", "side": "right", "duration_s": 10, "feedback": "bandwidth",
         "tolerance_pct": 20},
        {"type": "press", "point": "YINTANG", "side": "centre", "duration_s": 10, "feedback": "none"},
        {"type": "check", "target_g": 4000, "hold_s": 10},
        {"type": "check", "target_g": 4000, "hold_s": 10},
    ],
}


@pytest.fixture(scope="module")
def sim(acu_home, tmp_path_factory):
    with deployed_simulator(NAME, 1919, tmp_path_factory.mktemp("teach") / "flash.img", SPEED) as sim:
        # calibrated, as a user would, so a blind 4 kg reads as 4 kg (without the creep hold: not the subject)
        r = run_cli("calibrate", "--auto", "--no-creep", "-y", "--port", sim.port)
        assert "written /cfg/calib.json" in r.stdout
        yield sim


def notes(trace, name):
    return [(r["t_ms"], r["value"]) for r in trace if r["kind"] == "note" and r.get("name") == name]


def value_at(changes, t):
    v = None
    for tc, val in changes:
        if tc > t:
            break
        v = val
    return v


def test_a_v2_routine_is_silent_where_its_schedules_say_checks_and_scores(sim, tmp_path):
    f = tmp_path / "teach.json"
    f.write_text(json.dumps(ROUTINE))
    assert "teach, 5 steps" in run_cli("routine", "validate", str(f)).stdout
    r = run_cli("routine", "show", str(f))
    assert "feedback faded (on the first 50 % of every 10 s)" in r.stdout and "check: press what you" in r.stdout
    r = run_cli("routine", "push", str(f), "--select", "--port", sim.port)
    assert "pushed teach (5 steps" in r.stdout
    boot = sim.status()["boot"]
    wait_for(lambda: notes(sim.trace(boot), "state"), 20, "the app to start")
    text = (Path(__file__).parent / "profiles" / "teach.txt").read_text()
    _, _, quiet = P.parse_plan(text, "teach.txt")
    run_cli("sim", "profile", str(Path(__file__).parent / "profiles" / "teach.txt"), "--name", NAME)
    wait_for(lambda: notes(sim.trace(boot), "score"), 30, "the score", sim)

    tr = sim.trace(boot)
    prof = [t for t, _ in notes(tr, "profile")][-1]
    tr = [r for r in tr if r["t_ms"] >= prof]
    cues = [(t, v) for t, v in notes(tr, "cue")]
    codes = [v for _, v in cues]
    assert codes[:4] == [CUE_START, CUE_SIDE, CUE_STEP, CUE_STEP] and codes[-2:] == [CUE_STEP, CUE_DONE], cues
    states = notes(tr, "state")
    fb = notes(tr, "band_fb")
    t_start = cues[0][0]
    contact = [t for t, v in states if t >= t_start and 0 < v < 5][0]

    # step 1, faded 50 %: speaks on 0-5 s and 10-15 s of its clock (from the first contact), silent between
    # (the step speaks from its start, before the first contact: the user finds the band)
    s1 = [(t - contact, v) for t, v in fb if t_start <= t < cues[1][0]]
    assert [v for _, v in s1] == [1, 0, 1, 0] and s1[0][0] <= 0, s1
    for (dt, _), want in zip(s1[1:], (5000, 10000, 15000), strict=True):
        assert abs(dt - want) <= SLACK_MS, s1
    assert abs(cues[1][0] - contact - 20000) <= SLACK_MS
    # ... and the too-hard warning sounded inside the silent block
    hard = [t for t, v in states if v == TOO_HARD and contact + 5000 <= t < contact + 10000]
    assert hard and all(value_at(fb, t) == 0 for t in hard), (hard, fb)

    # step 2, bandwidth: silent at 4 and 5 kg (within 2.4-6 kg), speaks at 2 kg
    s2 = (cues[1][0] + TRANSITION_MS, cues[2][0])
    in2 = [(t - s2[0], v) for t, v in fb if s2[0] - SLACK_MS <= t < s2[1]]
    assert [v for _, v in in2] == [0, 1, 0], in2
    assert 4000 <= in2[1][0] <= 4400 and 7000 <= in2[2][0] <= 7400, in2  # the 2 kg hold, ~4.1-7.1 s in
    # step 3, none: never speaks, but too hard warns
    s3 = (cues[2][0] + TRANSITION_MS, cues[3][0])
    assert [v for t, v in fb if s3[0] - SLACK_MS <= t < s3[1]] == [0]
    assert any(v == TOO_HARD for t, v in states if s3[0] <= t < s3[1])
    # the checks: blind (never speaks), then a result each; the profile's quiet lines hold throughout
    kr = notes(tr, "kr")
    assert [v for _, v in kr] == [0, -1], kr
    assert P.quiet_violations(tr, prof, quiet) == []
    # the score played after the done cue
    (t_score, sc), = notes(tr, "score")
    assert t_score >= cues[-1][0] and 0 <= sc <= 100
    # ... as pulses to count on the LED (the haptic's twin): the last check's result, the done cue behind it,
    # then one long pulse per ten points and a short one for 5-9 more (docs/feedback.md), all in one sequence
    i = (feedback.C0 - 1 + feedback.CUE_DONE) * 6
    seq = (list(score.kr_segments(kr[-1][1])) + list(feedback.SEGMENTS[feedback.PATTERNS[i]:feedback.PATTERNS[i + 1]])
           + list(score.score_segments(sc)))
    want_rises = sum(1 for k in range(1, len(seq), 2) if seq[k] and (k == 1 or not seq[k - 2]))
    seq_ms = sum(seq[0::2])
    assert kr[-1][0] == t_score  # the last check, the done cue and the score end one iteration
    led = [(r["t_ms"], r["value"]) for r in tr if r["kind"] == "level" and r.get("name") == "led"
           and t_score <= r["t_ms"] < t_score + seq_ms]
    rises = sum(1 for (_, a), (_, b) in zip([(t_score, 0)] + led, led, strict=False) if not a and b)
    assert rises == want_rises and want_rises >= 2 + 3 + sc // 10, (sc, want_rises, led)

    # pull, then sessions shows the score the device logged; the host computes the same from the log
    arc = tmp_path / "a.sqlite"
    run_cli("pull", "--port", sim.port, "--archive", str(arc))
    out = run_cli("sessions", "--archive", str(arc)).stdout
    row = [ln for ln in out.splitlines() if " teach " in ln][-1]
    assert re.search(r" %d +.*1 of 2 checks accurate" % sc, row), out
    with Archive(arc) as a:
        s = [x for x in a.sessions() if x["routine"] == "teach"][-1]
        assert (s["score"], s["score_host"]) == (sc, sc)
        d = logread.decode_session(a.raw(s["id"]))
    sums = [st["summary"] for st in d["steps"]]
    assert [x["feedback"] for x in sums] == ["faded", "bandwidth", "none", "none", "none"]
    # two 5 s off blocks of contact, less the too-hard spike (a warning is never silent)
    hard_ms = sum(min(t1, contact + 20000) - t0 for (t0, v), (t1, _) in zip(states, states[1:], strict=False)
                  if v == TOO_HARD and contact <= t0 < contact + 20000)
    assert 1000 <= hard_ms <= 1400 and abs(sums[0]["silent_ms"] - (10000 - hard_ms)) <= 2 * SLACK_MS, hard_ms
    # none and the checks: every contact ms silent but the too-hard ones
    for x in sums[2:]:
        assert x["silent_ms"] == x["under_ms"] + x["in_ms"] + x["over_ms"] - x["too_hard_ms"], x
    assert sums[2]["too_hard_ms"] >= 1000 and sums[2]["silent_ms"] >= 8000
    c1, c2 = sums[3]["check"], sums[4]["check"]
    assert c1["target_g"] == 4000 and abs(c1["measured_g"] - 4000) <= 500 and c1["grade"] == 0, c1
    assert 2700 <= c2["measured_g"] <= 3300 and c2["grade"] == -1, c2
