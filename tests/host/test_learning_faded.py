"""A faded step's trace split by its schedule (host_tools.learning.faded_sides) against the device's own gate:
the real App (acu.app, on tests/device/fakeboard) runs a faded press with a scripted hand (an approach, short
and long lifts, a pause), its logger writes the session, acu.logread decodes it; each trace sample the host
puts on a side must lie wholly in iterations where the app's gate (App._band_fb) said the same, and a steady
press must have most of its samples placed."""
import os

import fakeboard
from fakeboard import raw_for
from hypothesis import given, settings
from hypothesis import strategies as st

from acu import logread
from host_tools.learning import faded_sides

PERIOD_MS = 100


def _run(pct, approach_ms, script, pause=None, level_g=4000):
    """Run the step; script: [(from_ms, to_ms)] lifts (times from the first contact); pause: (at_ms, for_ms).
    Returns ({session ms: the gate's verdict}, the step's archive-like row, its events, its trace)."""
    app, clock, sensor = fakeboard.make_app({
        "format": "acu-routine", "version": 2, "name": "f", "steps": [
            {"type": "press", "point": "HT7", "side": "left", "duration_s": 30, "feedback": "faded",
             "feedback_pct": pct}]})
    t_start = clock.ticks_ms()
    assert app.runner.start(t_start)
    press, free = raw_for(app, level_g), raw_for(app, 0)
    verdict = {}
    t = 0
    while app.runner.active() and t < 120000:
        clock.advance(5)
        t = clock.ticks_ms() - t_start
        rel = t - approach_ms
        down = rel >= 0 and not any(a <= rel < b for a, b in script)
        if pause and rel == pause[0]:
            app.runner.pause(clock.ticks_ms())
        if pause and rel == pause[0] + pause[1]:
            app.runner.resume(clock.ticks_ms())
        sensor.raw = press if down else free
        app.step(clock.ticks_ms())
        verdict[t] = app._band_fb
    app.stop()
    log = app.root + "/log"
    names = [n for n in os.listdir(log) if n.endswith(".acl")]
    with open(log + "/" + names[0], "rb") as f:
        s = logread.decode_session(f.read())
    step = s["steps"][0]
    row = {"idx": 0, "band_lo_g": step["begin"]["band_lo_g"], "band_hi_g": step["begin"]["band_hi_g"],
           "t_begin_ms": step["begin"]["t_ms"], "t_end_ms": step["summary"]["t_ms"],
           "fb_pct": step["summary"]["feedback_pct"]}
    trace = [(ch["t0_ms"] + k * ch["period_ms"], g) for ch in s["trace"] for k, g in enumerate(ch["values_g"])]
    return verdict, row, s["events"], trace


def _check(verdict, placed):
    for t, g, on in placed:
        seen = [verdict[m] for m in range(t, t + PERIOD_MS, 5) if m in verdict]  # the iterations in its window
        assert seen and all(v == (1 if on else 0) for v in seen), (t, g, on, seen)


def test_a_steady_press_is_split_as_the_gate_ran():
    verdict, row, events, trace = _run(50, 1230, [])
    placed = faded_sides(trace, row, events)
    _check(verdict, placed)
    contact = [t for t, g in trace if row["t_begin_ms"] <= t < row["t_end_ms"] and g >= 300]
    assert len(placed) >= 0.85 * len(contact), (len(placed), len(contact))
    on = sum(1 for _, _, o in placed if o)
    assert abs(on - (len(placed) - on)) <= 0.1 * len(placed)  # 50 %: as many on as silent


def test_lifts_and_a_pause_stop_and_restart_the_clock_as_on_the_device():
    # a short lift (the clock runs on), a long one (contact lost after 3 s: the clock stands until contact
    # is back), a pause with the finger down (after the resume the clock waits for a first contact again)
    verdict, row, events, trace = _run(30, 700, [(4000, 5500), (9000, 14200)], pause=(17000, 2500))
    codes = [e["name"] for e in events]
    assert {"contact_lost", "contact_back", "pause", "resume"} <= set(codes), codes
    placed = faded_sides(trace, row, events)
    _check(verdict, placed)
    assert len(placed) > 150 and {o for _, _, o in placed} == {True, False}


@settings(max_examples=12, deadline=None)
@given(pct=st.sampled_from([10, 30, 50, 70, 90]), approach_ms=st.integers(0, 2500),
       lifts=st.lists(st.tuples(st.integers(1000, 9000), st.integers(50, 6000)), max_size=3),
       pause=st.none() | st.tuples(st.integers(500, 20000), st.integers(200, 4000)))
def test_no_sample_is_ever_put_on_the_wrong_side(pct, approach_ms, lifts, pause):
    script = []
    at = 0
    for gap, length in lifts:
        at += gap
        script.append((at, at + length))
        at += length
    verdict, row, events, trace = _run(pct, approach_ms, script, pause)
    _check(verdict, faded_sides(trace, row, events))
