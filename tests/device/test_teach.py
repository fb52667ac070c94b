# The trainer that teaches (docs/feedback.md "Schedules" and "Results and the score", docs/score.md): routine
# format 2, the feedback schedules in the app's one gate (which ms are silent, exactly), the safety patterns
# that are never silenced, blind checks (what they measure, the result pattern), the score's formula on
# hand-computed inputs, and the log's silent time and check fields. Both interpreters.
import fakeboard
from fakeboard import raw_for
from mpcompat import heap_lock, heap_unlock, needs_heap_lock, raises
from routine_samples import bedtime, teach

from acu import band, feedback, logfmt, logread, runner, score
from acu import routine as R
from acu import routine_parse as RP


# ---- the routine format ------------------------------------------------------------------------------

def err(d):
    return str(raises(ValueError, RP.parse, d))


def test_version_1_files_still_load_with_full_feedback():
    r = RP.parse(bedtime())
    assert r.version == 1 and all(s.feedback == R.FB_FULL for s in r.steps)
    d = RP.to_dict(r)
    assert d["version"] == 1 and "feedback" not in d["steps"][0]


def test_version_2_schedules_and_checks_compile_and_round_trip():
    r = RP.parse(teach())
    s = r.steps
    assert r.version == 2
    assert (s[0].feedback, s[0].feedback_pct) == (R.FB_FADED, 30)
    assert (s[1].feedback, s[1].tolerance_pct) == (R.FB_BANDWIDTH, 10)
    assert s[2].feedback == R.FB_NONE and s[4].feedback == R.FB_FULL
    c = s[3]
    assert (c.kind, c.target_g, c.duration_ms, c.band_lo_g, c.band_hi_g) == (R.STEP_CHECK, 4000, 10000, 3400, 4600)
    assert R.TYPE_NAMES[R.STEP_CHECK] == "check" and R.FB_NAMES == ("full", "faded", "bandwidth", "none")
    d = RP.to_dict(r)
    assert d["steps"][3] == {"type": "check", "target_g": 4000, "hold_s": 10, "point": "HT7", "side": "left"}
    assert d["steps"][0]["feedback"] == "faded" and d["steps"][0]["feedback_pct"] == 30
    assert RP.to_dict(RP.parse(d)) == d
    # a schedule's own % defaults when left out
    d = teach()
    del d["steps"][0]["feedback_pct"]
    del d["steps"][1]["tolerance_pct"]
    r = RP.parse(d)
    assert (r.steps[0].feedback_pct, r.steps[1].tolerance_pct) == (R.DEFAULT_FEEDBACK_PCT, R.DEFAULT_TOLERANCE_PCT)


def test_version_2_errors_are_one_line_naming_the_step_and_field():
    cases = [
        (lambda d: d["steps"][0].update(feedback="sometimes"),
         "routine teach: step 1: feedback 'sometimes' not one of full|faded|bandwidth|none"),
        (lambda d: d["steps"][1].update(feedback_pct=40),
         "routine teach: step 2: feedback_pct is only for feedback faded"),
        (lambda d: d["steps"][0].update(feedback_pct=100),
         "routine teach: step 1: feedback_pct 100 out of range 1..99"),
        (lambda d: d["steps"][1].update(tolerance_pct=60),
         "routine teach: step 2: tolerance_pct 60 out of range 0..50"),
        (lambda d: d["steps"][3].update(hold_s=2), "routine teach: step 4: hold_s 2 out of range 3..60"),
        (lambda d: d["steps"][3].pop("target_g"), "routine teach: step 4: missing field target_g"),
        (lambda d: d["steps"][3].update(feedback="none"),
         "routine teach: step 4: unknown field 'feedback' for a check step"),
        (lambda d: d["steps"][3].pop("point"), "routine teach: step 4: side needs a point"),
        (lambda d: d["steps"][4].update(type="blind"),
         "routine teach: step 5: type 'blind' not one of press|rest|breathe|timed|check"),
    ]
    for change, want in cases:
        d = teach()
        change(d)
        e = err(d)
        assert e == want and "\n" not in e, (e, want)
    # version 1 keeps its own rules: no schedules, no checks
    d = teach()
    d["version"] = 1
    assert err(d) == ("routine teach: step 1: unknown field 'feedback' for a press step (version 1; schedules "
                      "need version 2)")
    d = bedtime()
    d["steps"].append({"type": "check", "target_g": 4000, "hold_s": 10})
    assert err(d) == "routine bedtime: step 6: type 'check' not one of press|rest|breathe|timed"


# ---- the schedules in the app's loop -------------------------------------------------------------------

def _routine(*steps):
    return {"format": "acu-routine", "version": 2, "name": "t", "steps": list(steps)}


def _start(routine, outputs=True):
    app, clock, sensor = fakeboard.make_app(routine, outputs=outputs)
    assert app.runner.start(clock.ticks_ms())
    return app, clock, sensor


def _run(app, clock, n, locked=False):
    """n iterations 5 ms apart: [(wall_ms, band state, state shown)] of each; MemoryErrors fail when locked."""
    out = []
    for _ in range(n):
        clock.advance(5)
        if locked:
            heap_lock()
            try:
                app.step(clock.ticks_ms())
            finally:
                heap_unlock()
        else:
            app.step(clock.ticks_ms())
        out.append((app.runner.wall_ms, app.state, app.fb.state))
    return out


def test_faded_speaks_for_the_first_feedback_pct_of_every_10_s_block_exactly():
    app, clock, sensor = _start(_routine({"type": "press", "point": "HT7", "side": "left", "duration_s": 25,
                                          "feedback": "faded", "feedback_pct": 30}))
    sensor.raw = raw_for(app, 4000)
    inband = silent = 0
    for _ in range(4000):  # 20 s
        w, st, shown = _run(app, clock, 1)[0]
        if st == band.IN_BAND:
            inband += 1
            want = band.IN_BAND if w % 10000 < 3000 else band.NO_CONTACT
            assert shown == want, (w, shown)
            silent += 5 if shown == band.NO_CONTACT else 0
    assert inband > 3500
    # the silent time the summary will log: every in-band iteration of an off block
    assert app.stats.silent_ms == silent and app.stats.silent_in_ms == silent
    assert 13000 <= silent <= 14000  # 7 s of each 10 s block, the first block less the approach
    # too hard in an off block still warns, at once
    while not 4000 <= app.runner.wall_ms % 10000 < 6000:  # into an off block
        _run(app, clock, 1)
    sensor.raw = raw_for(app, 9000)
    rows = _run(app, clock, 20)
    assert rows[-1][1] == band.TOO_HARD and rows[-1][2] == band.TOO_HARD and rows[-1][0] % 10000 >= 3000


def test_bandwidth_is_silent_within_the_widened_band_and_speaks_beyond():
    app, clock, sensor = _start(_routine({"type": "press", "point": "HT7", "side": "left", "duration_s": 60,
                                          "feedback": "bandwidth", "tolerance_pct": 10}))
    # band 3000-5000 widened by 10 %: silent from 2700 to 5500 g (and once speaking, again from 2880 to 5300)
    for grams, state, shown in ((4000, band.IN_BAND, band.NO_CONTACT), (2800, band.UNDER, band.NO_CONTACT),
                                (2500, band.UNDER, band.UNDER), (5400, band.OVER, band.NO_CONTACT),
                                (5700, band.OVER, band.OVER), (7500, band.TOO_HARD, band.TOO_HARD)):
        sensor.raw = raw_for(app, grams)
        w, st, sh = _run(app, clock, 100)[-1]
        assert (st, sh) == (state, shown), (grams, st, sh)
    # speaking (7.5 kg): 5.4 kg is within the tolerance but not the 4 % further in that silences it again
    sensor.raw = raw_for(app, 5400)
    assert _run(app, clock, 100)[-1][1:] == (band.OVER, band.OVER)
    sensor.raw = raw_for(app, 5250)
    assert _run(app, clock, 100)[-1][1:] == (band.OVER, band.NO_CONTACT)
    sensor.fault_code = 1
    assert _run(app, clock, 60)[-1][1:] == (band.FAULT, band.FAULT)


def test_none_is_silent_but_the_safety_patterns_and_an_override_in_both_directions():
    app, clock, sensor = _start(_routine({"type": "press", "point": "HT7", "side": "left", "duration_s": 60,
                                          "feedback": "none"}))
    sensor.raw = raw_for(app, 2000)
    assert _run(app, clock, 100)[-1][1:] == (band.UNDER, band.NO_CONTACT)
    sensor.raw = raw_for(app, 8000)
    assert _run(app, clock, 40)[-1][1:] == (band.TOO_HARD, band.TOO_HARD)
    # a programme stage's override: full feedback on this none step, then faded at 20 %, then its own again
    r = app.runner
    r.set_feedback_override(R.FB_FULL)
    sensor.raw = raw_for(app, 2000)
    assert _run(app, clock, 100)[-1][1:] == (band.UNDER, band.UNDER)
    r.set_feedback_override(R.FB_FADED, 20)
    assert (r.fb_code, r.fb_pct) == (R.FB_FADED, 20)
    for k in range(2000):
        w, st, sh = _run(app, clock, 1)[0]
        assert k < 20 or sh == (band.UNDER if w % 10000 < 2000 else band.NO_CONTACT), (w, sh)
    r.clear_feedback_override()
    assert (r.fb_code, _run(app, clock, 5)[-1][2]) == (R.FB_NONE, band.NO_CONTACT)
    raises(ValueError, r.set_feedback_override, 4)


def test_the_schedules_do_not_allocate_in_the_loop():
    needs_heap_lock()
    app, clock, sensor = _start(teach())
    sensor.raw = raw_for(app, 4000)
    seen = []
    while app.runner.index < 4:
        _run(app, clock, 300)  # steps change between these (a log write may allocate there)
        if app.runner.state == runner.RUNNING and app.runner.index not in seen:
            seen.append(app.runner.index)
            for grams in (4000, 2000, 5800, 8000, 4000):
                sensor.raw = raw_for(app, grams)
                _run(app, clock, 10)
                _run(app, clock, 100, True)
            sensor.raw = raw_for(app, 4000)
    assert seen == [0, 1, 2, 3]


# ---- checks ------------------------------------------------------------------------------------------------

def _check_routine(target_g=4000, hold_s=10):
    return _routine({"type": "check", "target_g": target_g, "hold_s": hold_s},
                    {"type": "press", "point": "HT7", "side": "left", "duration_s": 5})


def test_a_check_is_blind_and_measures_the_mean_force_after_the_first_second():
    app, clock, sensor = _start(_check_routine())
    # the approach: 1 s at 6 kg (not measured), then 4.48 kg (+12 %) to the end of the hold
    sensor.raw = raw_for(app, 6000)
    rows = _run(app, clock, 200)
    assert all(sh == band.NO_CONTACT for w, st, sh in rows if st != band.NO_CONTACT)  # no band feedback
    sensor.raw = raw_for(app, 4480)
    r = app.runner
    while r.state == runner.RUNNING:
        _run(app, clock, 1)
    (target, measured), = r.check_results
    assert target == 4000 and 4440 <= measured <= 4500  # the filter's few ms of settling from 6 kg
    assert score.check_error_pct(target, measured) in (11, 12)
    # the result plays at once (accurate: the hum and one long pulse), the next step's cue behind it
    assert app.fb.cue_code == feedback.CUE_SEQ
    segs = list(app.fb._seq[:app.fb._seq_n])
    kr = list(score.kr_segments(0))
    assert segs[:len(kr)] == kr
    i = (feedback.C0 - 1 + feedback.CUE_STEP) * 6
    assert segs[len(kr):] == list(feedback.SEGMENTS[feedback.PATTERNS[i]:feedback.PATTERNS[i + 1]])
    # the move to the next point waits for the result: the transition is longer by what is left of it
    t0 = clock.ticks_ms()
    while r.state == runner.TRANSITION:
        _run(app, clock, 1)
    waited = clock.ticks_ms() - t0
    assert 4000 + sum(kr[0::2]) - 10 <= waited <= 4000 + sum(kr[0::2]) + 10


def test_a_check_result_is_logged_in_its_step_summary_and_the_session_scored():
    app, clock, sensor = _start(_check_routine(hold_s=5))
    sensor.raw = raw_for(app, 5600)  # +40 %: over, grade 2
    r = app.runner
    while r.active() or app.log.active:  # the end record goes out an iteration after the session's end
        _run(app, clock, 1)
        if r.index == 1 and r.state == runner.RUNNING:
            sensor.raw = raw_for(app, 4000)
    with open(app.log.path, "rb") as f:
        d = logread.decode_session(logread.split_sessions(f.read())[-1][2])
    assert not d["problems"]
    chk = d["steps"][0]
    assert chk["begin"]["kind"] == "check" and (chk["begin"]["band_lo_g"], chk["begin"]["band_hi_g"]) == (3400, 4600)
    s = chk["summary"]
    m = r.check_results[0][1]
    assert s["check"] == {"target_g": 4000, "measured_g": m, "grade": 2} and 5500 <= m <= 5650
    assert s["feedback"] == "none" and s["silent_ms"] > 4500 and s["silent_ms"] == s["over_ms"]
    press = d["steps"][1]["summary"]
    assert press["feedback"] == "full" and press["silent_ms"] == 0
    # the score from the logged figures (acu.score: the host's computation) is the one the device logged
    fc, fi = score.feedback_parts(R.FB_FULL, press["under_ms"] + press["in_ms"] + press["over_ms"],
                                  press["in_ms"], press["silent_ms"], press["silent_in_ms"])
    want = score.session_score(fc, fi, [(4000, m)], d["end"]["steps_done"], 2)
    assert [(e["name"], e["value"]) for e in d["events"] if e["code"] >= logfmt.EV_STEPS_PLANNED] == [
        ("steps_planned", 2), ("score", want)] and app.last_score == want
    # ... and it plays after the done cue: the score's pulses end the sequence
    segs = list(app.fb._seq[:app.fb._seq_n])
    tail = list(score.score_segments(want))
    assert segs[-len(tail):] == tail


# ---- the score and the result patterns -----------------------------------------------------------------

def test_check_accuracy_grades_and_points_on_known_inputs():
    assert score.check_error_pct(4000, 4480) == 12 and score.check_error_pct(4000, 3500) == -13
    assert score.check_accurate(4000, 4600) and score.check_accurate(4000, 3400)
    assert not score.check_accurate(4000, 4601) and not score.check_accurate(4000, 3399)
    grades = [score.kr_grade(4000, m) for m in (4600, 4601, 5200, 5201, 6000, 6001, 3399, 2800, 2000, 1999)]
    assert grades == [0, 1, 1, 2, 2, 3, -1, -1, -2, -3]
    # points: 100 within 15 %, 0 from 45 %, linear between: 30 % off -> 50, 40 % off -> 16 (16.7 down)
    assert [score.check_points(4000, m) for m in (4400, 5200, 5600, 5800, 2000)] == [100, 50, 16, 0, 0]


def test_session_score_on_hand_computed_inputs():
    # band 45/60 s = 75 %; checks 100 and (45-35)/30 = 33 -> 66; 4 of 5 steps = 80 %
    # (50 x 75 + 30 x 66 + 20 x 80) / 100 = 73.3 -> 73
    assert score.session_score(60000, 45000, [(4000, 4400), (4000, 5400)], 4, 5) == 73
    # no check: the band and completion weigh 50:20; (50 x 90 + 20 x 50) / 70 = 78.6 -> 79
    assert score.session_score(10000, 9000, [], 1, 2) == 79
    # no feedback-on contact (all blind): checks and completion 30:20; (30 x 100 + 20 x 100) / 50
    assert score.session_score(0, 0, [(4000, 4000)], 3, 3) == 100
    assert score.session_score(0, 0, [], 0, 0) == 0
    # bandwidth's silence counts as feedback, the other schedules' does not
    assert score.feedback_parts(R.FB_BANDWIDTH, 10000, 8000, 7000, 6000) == (10000, 8000)
    assert score.feedback_parts(R.FB_FADED, 10000, 8000, 7000, 6000) == (3000, 2000)


def test_the_result_and_score_patterns_are_their_own_family():
    hum = score.kr_segments(0)[:4]
    assert hum == (800, 380, 400, 0)
    assert score.kr_segments(0)[4:] == (500, 1023, 300, 0)
    assert score.kr_segments(-2)[4:] == (120, 640, 480, 0) * 2
    assert score.kr_segments(3)[4:] == (60, 820, 60, 0, 60, 820, 420, 0) * 3
    # the hum's level and the score's pulse level are in no table pattern: no band state, cue or safety
    # pattern can be taken for a result or a score
    table_levels = set([feedback.SEGMENTS[i] for i in range(1, len(feedback.SEGMENTS), 2)])
    assert 380 not in table_levels and 900 not in table_levels
    assert score.score_segments(73) == (400, 0) + (400, 900, 300, 0) * 7
    assert score.score_segments(75) == (400, 0) + (400, 900, 300, 0) * 7 + (100, 900, 300, 0)
    assert score.score_segments(100) == (400, 0) + (400, 900, 300, 0) * 10
    assert score.score_segments(4) == (400, 0, 40, 400, 300, 0)
    # the longest sequence the device builds (a result, the done cue, the score) fits its buffer
    i = (feedback.C0 - 1 + feedback.CUE_DONE) * 6
    longest = (len(score.kr_segments(3)) + feedback.PATTERNS[i + 1] - feedback.PATTERNS[i]
               + len(score.score_segments(95)))
    assert longest <= feedback.SEG_CAP_U16


def test_only_checks_done_count_and_a_new_session_starts_a_new_list():
    r = runner.Runner(runner.NullSink(), transition_ms=100)
    r.load(RP.parse(_routine({"type": "check", "target_g": 4000, "hold_s": 3},
                             {"type": "check", "target_g": 3000, "hold_s": 3},
                             {"type": "check", "target_g": 5000, "hold_s": 3})))
    t = [0]

    def run(ms, grams):
        for _ in range(ms // 5):
            t[0] += 5
            r.tick(t[0], band.IN_BAND if grams else band.NO_CONTACT, grams)

    assert r.start(0) and (r.fb_code, r.target) == (R.FB_NONE, True)
    r.set_feedback_override(R.FB_FULL)  # a stage's override never gives a check feedback
    assert r.fb_code == R.FB_NONE
    run(3005, 4200)          # the first check: done; 1 s to settle, then 2 s at 4.2 kg
    assert r.check_results == [(4000, 4200)]
    run(100, 0)              # the transition
    r.skip(t[0])             # the second: skipped, not counted
    run(100, 0)
    run(1000, 5000)          # the third: aborted before its end, not counted
    r.abort(t[0])
    assert r.check_results == [(4000, 4200)]
    r.clear_feedback_override()
    assert r.start(t[0]) and r.check_results == []
