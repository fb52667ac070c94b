"""At --speed 60 the bedtime routine runs end to end from a button press and a scripted
press profile; the output trace shows the right cues at the right virtual times, and the dose steps end
when their in-band time is reached. A bad routine upload changes nothing on the device."""

import json
from pathlib import Path

import pytest

from host_tools.session import open_session
from host_tools.errors import DeviceError
from tests.integration.conftest import deployed_simulator, run_cli, wait_for

pytestmark = pytest.mark.integration

PROFILES = Path(__file__).parent / "profiles"
NAME = "e2e-routine"
SPEED = 60
TRANSITION_MS = 4000  # acu.runner.Runner's default transition between steps
# acu.feedback cue codes and acu.band states as they appear in the trace notes
CUE_START, CUE_STEP, CUE_SIDE, CUE_DONE, CUE_REST = 1, 2, 3, 4, 11
NO_CONTACT, IN_BAND = 0, 2
LOOP_MS = 5  # the app's 200 Hz loop: every time in the trace is on this grid (give one period of slack)


@pytest.fixture(scope="module")
def sim(acu_home, tmp_path_factory):
    with deployed_simulator(NAME, 404, tmp_path_factory.mktemp("e2e4") / "flash.img", SPEED) as sim:
        # a new FSR part reads up to ~25 % off the nominal curve: calibrate it first, as a user would
        r = run_cli("calibrate", "--auto", "-y", "--port", sim.port)
        assert "written /cfg/calib.json" in r.stdout
        yield sim


def notes(trace, name):
    return [(r["t_ms"], r["value"]) for r in trace if r["kind"] == "note" and r.get("name") == name]


def in_band_ms(states, t0, t1):
    """Time the band state was IN between t0 and t1 (states: the trace's (t_ms, state) changes)."""
    total = 0
    cur, since = None, t0
    for t, v in states:
        if t <= t0:
            cur = v
            continue
        if t >= t1:
            break
        if cur == IN_BAND:
            total += t - since
        cur, since = v, t
    if cur == IN_BAND:
        total += t1 - since
    return total


def first_contact(states, t0, t1):
    """The first time in [t0, t1) with a finger on the sensor (state 1..4)."""
    cur = None
    for t, v in states:
        if t <= t0:
            cur = v
            continue
        if cur is not None and 0 < cur < 5:
            return t0
        if t >= t1:
            return None
        if 0 < v < 5:
            return t
    return t0 if cur is not None and 0 < cur < 5 else None


def test_bedtime_runs_with_the_right_cues_at_the_right_times(sim):
    port = sim.port
    r = run_cli("routine", "push", "bedtime", "--select", "--port", port)
    assert "pushed bedtime (5 steps" in r.stdout and "selected" in r.stdout
    boot = sim.status()["boot"]  # closing the session soft-reset the board: the app runs on this boot
    wait_for(lambda: notes(sim.trace(boot), "state"), 20, "the app to start")

    run_cli("sim", "button", "short", "--name", NAME)
    wait_for(lambda: CUE_START in [v for _, v in notes(sim.trace(boot), "cue")], 20, "the start cue")
    run_cli("sim", "profile", str(PROFILES / "bedtime.txt"), "--name", NAME)
    # about 390 s of virtual time: ~6.5 s at x60
    wait_for(lambda: CUE_DONE in [v for _, v in notes(sim.trace(boot), "cue")], 60, "the done cue", sim)

    tr = sim.trace(boot)
    btn = [t for t, _ in notes(tr, "button_input")][-1]
    prof = [t for t, _ in notes(tr, "profile")][-1]
    states = notes(tr, "state")
    cues = [(t, v) for t, v in notes(tr, "cue") if t >= btn]
    codes = [v for _, v in cues]
    # start; HT7 left -> right is a side switch; -> Yin Tang, -> GB20 are step changes; -> breathing is a
    # rest cue; one breathing-pace cue (the 4-7-8 cycle is 19 s, the step 38 s); done
    assert codes == [CUE_START, CUE_SIDE, CUE_STEP, CUE_STEP, CUE_REST, CUE_REST, CUE_DONE], cues
    t_start, t_side, t_yin, t_gb, t_breathe, t_pace, t_done = [t for t, _ in cues]

    print("cues (virtual s after the profile started): " + ", ".join(
        "%d@%.2f" % (v, (t - prof) / 1000.0) for t, v in cues))
    # the button's short press is recognised once the double-press window has passed (< 1 s)
    assert 0 < t_start - btn < 1000
    assert prof > t_start
    # step windows: a step begins TRANSITION_MS after the cue that ended the one before
    s1 = (t_start, t_side)
    s2 = (t_side + TRANSITION_MS, t_yin)
    s3 = (t_yin + TRANSITION_MS, t_gb)
    s4 = (t_gb + TRANSITION_MS, t_breathe)
    s5 = (t_breathe + TRANSITION_MS, t_done)
    # during transitions the device shows "no contact" (no band feedback between steps)
    for t_cue in (t_side, t_yin, t_gb, t_breathe):
        during = [v for t, v in states if t_cue <= t < t_cue + TRANSITION_MS]
        assert during and set(during) == {NO_CONTACT}, (t_cue, during)

    # dose steps (HT7 left/right, 60 s each) end exactly when 60 s in the band are reached
    for win in (s1, s2):
        got = in_band_ms(states, *win)
        assert abs(got - 60000) <= 2 * LOOP_MS, (win, got)
    # the left step had a 10 s slip under the band: its wall time is ~10 s longer than its dose
    assert 70000 <= t_side - prof <= 74000, t_side - prof
    assert s1[1] - first_contact(states, *s1) > 69000
    # the right step began with the finger already on: 60 s of dose, ~60 s of wall time
    assert 60000 <= s2[1] - s2[0] <= 61000, s2

    # clock steps count wall time from the first contact: Yin Tang 60 s, GB20 120 s
    for win, dur in ((s3, 60000), (s4, 120000)):
        fc = first_contact(states, *win)
        assert fc is not None and fc > win[0] + 500, (win, fc)   # the profile touched down after the start
        assert abs(win[1] - fc - dur) <= 2 * LOOP_MS, (win, fc, dur)
    # Yin Tang's own band (2-4 kg): the 3 kg press is in it almost all the time
    assert in_band_ms(states, *s3) > 55000
    # breathing: 38 s of clock time, paced by a cue after the first 19 s cycle
    assert abs(s5[1] - s5[0] - 38000) <= 2 * LOOP_MS, s5
    assert abs(t_pace - s5[0] - 19000) <= 2 * LOOP_MS, (t_pace, s5)

    # the virtual timeline against the profile (docs in profiles/bedtime.txt), within a second or so
    expect_s = {"side": 72, "yin": 136.3, "gb": 201.1, "breathe": 327.6, "done": 369.6}
    got_s = {"side": t_side, "yin": t_yin, "gb": t_gb, "breathe": t_breathe, "done": t_done}
    for k, v in expect_s.items():
        assert abs((got_s[k] - prof) / 1000.0 - v) < 1.5, (k, (got_s[k] - prof) / 1000.0, v)

    # the runner is back to idle, ready for the next practice, and the session was logged
    st = json.loads(run_cli("status", "--json", "--port", sim.port).stdout)
    assert st["runner"]["state"] == "idle" and st["routine"] == "bedtime"
    assert st["log"]["sessions"] >= 1 and not st["session_active"]


def test_a_bad_routine_push_changes_nothing_on_the_device(sim, tmp_path):
    port = sim.port
    run_cli("routine", "select", "bedtime", "--port", port)
    before = run_cli("routine", "pull", "bedtime", "--out", "-", "--port", port).stdout
    assert json.loads(before)["name"] == "bedtime"

    bad = json.loads(before)
    bad["steps"][0]["band_hi_g"] = 12000  # above the 10 kg safety limit
    f = tmp_path / "bedtime.json"
    f.write_text(json.dumps(bad))
    r = run_cli("routine", "push", str(f), "--select", "--port", port, check=False)
    assert r.returncode == 2, (r.stdout, r.stderr)
    err = r.stderr.strip()
    assert err.count("\n") == 0 and "bedtime.json" in err and "band_hi_g" in err, err

    f.write_text('{"format": "acu-routine", "version": 1, "name": "bedtime", "steps": [')  # truncated
    r = run_cli("routine", "push", str(f), "--port", port, check=False)
    assert r.returncode == 2 and "bedtime.json" in r.stderr and r.stderr.strip().count("\n") == 0, r.stderr

    # the device refuses a routine it cannot run even when the host's checks are bypassed
    with open_session(port) as s:
        with pytest.raises(DeviceError) as e:
            s.write_file_atomic("/routines/bedtime.json", json.dumps(bad).encode(),
                                check=("acu.routine_parse", "check_file"))
        assert "band_hi_g" in str(e.value)
        # an upload cut off by a power cut: only the .tmp file is damaged
        s.exec("f = open('/routines/bedtime.json.tmp', 'w'); f.write('{\"format\": \"acu-ro'); f.close()")
        s.keep_repl()
    boot = sim.status()["boot"]
    sim.power_cut(off_ms=100)
    wait_for(lambda: sim.status()["boot"] > boot and sim.status()["running"], 20, "the reboot")

    after = run_cli("routine", "pull", "bedtime", "--out", "-", "--port", port).stdout
    assert after == before
    listing = run_cli("routine", "list", "--port", port).stdout
    assert any(ln.startswith("* bedtime") for ln in listing.splitlines()), listing
    assert "BAD" not in listing
    with open_session(port) as s:
        assert not s.exists("/routines/bedtime.json.tmp")
        assert s.call("acu.routine_parse", "selected") == "bedtime"
