# Study arms (acu.arms, docs/study.md): the device senses, classifies and logs the same in every arm; only what
# the feedback shows changes. Feedback off shows no band, a sham band shows the band moved 1.5 kg away, and the
# too-hard warning and the fault cue come through in both. The loop stays allocation-free.
import fakeboard
from fakeboard import raw_for
from mpcompat import heap_lock, heap_unlock, needs_heap_lock
from routine_samples import bedtime

from acu import appcfg, arms, band, logfmt, logread, runner


def _loop(app, clock, n, locked=False):
    errors = 0
    for _ in range(n):
        clock.advance(5)
        if locked:
            heap_lock()
            try:
                app.step(clock.ticks_ms())
            except MemoryError:
                errors += 1
            heap_unlock()
        else:
            app.step(clock.ticks_ms())
    return errors


def _started(arm):
    app, clock, sensor = fakeboard.make_app(bedtime(), outputs=True, arm=arm)
    app.hw.button.down = True  # a click starts the routine
    _loop(app, clock, 20)
    app.hw.button.down = False
    _loop(app, clock, 80)
    assert app.runner.state == runner.RUNNING and app.runner.target
    return app, clock, sensor


def _press(app, clock, sensor, grams, fault=0, n=60):
    """(the real band state, the state the feedback shows) after n iterations at grams."""
    sensor.raw = raw_for(app, grams) if grams else 0
    sensor.fault_code = fault
    _loop(app, clock, n)
    return app.state, app.fb.state


def _arm_events(app):
    app.log.flush(app.clock.ticks_ms())
    with open(app.log.path, "rb") as f:
        d = logread.decode_session(logread.split_sessions(f.read())[-1][2])
    return [e["value"] for e in d["events"] if e["code"] == logfmt.EV_ARM]


def test_the_setting_is_checked_like_every_other():
    assert appcfg._setting_problem("arm", 1) is None and appcfg._setting_problem("arm", 2) is None
    assert "outside" in appcfg._setting_problem("arm", 3)
    assert appcfg._setting_problem("arm", "sham") is not None


def test_the_normal_arm_loads_nothing_and_logs_no_arm():
    app, clock, sensor = _started(0)
    assert app.arm is None
    assert _press(app, clock, sensor, 4000) == (band.IN_BAND, band.IN_BAND)
    assert _arm_events(app) == []


def test_feedback_off_shows_no_band_and_still_warns_and_logs():
    app, clock, sensor = _started(arms.NO_FEEDBACK)
    for grams, real in ((4000, band.IN_BAND), (2000, band.UNDER), (5800, band.OVER)):
        assert _press(app, clock, sensor, grams) == (real, band.NO_CONTACT), grams
    assert _press(app, clock, sensor, 8000) == (band.TOO_HARD, band.TOO_HARD)  # safety is never silenced
    assert _press(app, clock, sensor, 4000, fault=1) == (band.FAULT, band.FAULT)
    assert app.stats.in_ms > 0 and app.stats.under_ms > 0  # the log counts the real band as ever
    assert _arm_events(app) == [arms.NO_FEEDBACK]


def test_a_sham_band_shows_the_band_moved_down_by_1_5_kg():
    app, clock, sensor = _started(arms.SHAM_BAND)
    assert (app.runner.band_lo_g, app.runner.band_hi_g) == (3000, 5000)
    # the sham band is 1500-3500 g: in the real band reads as over, under it as in
    assert _press(app, clock, sensor, 4000) == (band.IN_BAND, band.OVER)
    assert _press(app, clock, sensor, 2500) == (band.UNDER, band.IN_BAND)
    assert _press(app, clock, sensor, 1000) == (band.UNDER, band.UNDER)
    assert _press(app, clock, sensor, 8000) == (band.TOO_HARD, band.TOO_HARD)
    assert _press(app, clock, sensor, 0) == (band.NO_CONTACT, band.NO_CONTACT)
    assert _arm_events(app) == [arms.SHAM_BAND]


def test_a_gentle_points_sham_band_moves_up_instead():
    class Real:
        lo_g, hi_g, too_hard_g, contact_g = 1000, 2000, 7000, 300
    a = arms.Arm(arms.SHAM_BAND, Real())
    for t in range(0, 100, 5):
        shown = a.shown(band.UNDER, 3000, t)
    assert (a.sham.lo_g, a.sham.hi_g) == (2500, 3500) and shown == band.IN_BAND


def test_the_arms_allocate_nothing_in_the_loop():
    needs_heap_lock()
    for arm in (arms.NO_FEEDBACK, arms.SHAM_BAND):
        app, clock, sensor = _started(arm)
        for grams in (4000, 2500, 8000, 4000):
            sensor.raw = raw_for(app, grams)
            _loop(app, clock, 20)
            assert _loop(app, clock, 150, True) == 0, (arm, grams)
