# The app's loop (acu.app.App.step) on a fake board (tests/device/fakeboard.py): a whole practice started
# with the button and pressed by a scripted hand, and the proof that step() allocates nothing wherever the
# loop spends its time (micropython.heap_lock() on the unix port): idle, a free press starting, every band
# state of a press step, a sensor fault, lost contact, the pause between steps, a breathing step. Only the
# iterations that write the log may allocate: a session or step beginning or ending, an event, a flush.
import gc

import fakeboard
from fakeboard import raw_for
from mpcompat import heap_lock, heap_unlock, needs_heap_lock
from routine_samples import bedtime

from acu import band, feedback, logfmt, logread, runner


def _loop(app, clock, n, locked=False):
    """n loop iterations 5 ms apart, each under heap_lock when locked; returns how many raised MemoryError."""
    errors = 0
    for _ in range(n):
        clock.advance(5)
        now = clock.ticks_ms()
        if locked:
            heap_lock()
            try:
                app.step(now)
            except MemoryError:
                errors += 1
            heap_unlock()
        else:
            app.step(now)
    return errors


def _until(app, clock, cond, limit=200000):
    n = 0
    while not cond():
        _loop(app, clock, 1)
        n += 1
        assert n < limit, "the condition never came"


def _click(app, clock):
    """A 100 ms press of the button; the decoder reports it once its double-press gap (350 ms) has passed."""
    app.hw.button.down = True
    _loop(app, clock, 20)
    app.hw.button.down = False
    _loop(app, clock, 80)


def _steady(app, clock, sensor, grams, fault=0, settle=20, n=180):
    """Press with grams (and the sensor's fault code), let the band and its log event settle, then n locked
    iterations: the MemoryErrors."""
    sensor.raw = raw_for(app, grams) if grams else 0
    sensor.fault_code = fault
    _loop(app, clock, settle)
    return _loop(app, clock, n, True)


def test_step_allocates_nothing_where_the_loop_lives():
    needs_heap_lock()
    app, clock, sensor = fakeboard.make_app(bedtime(), outputs=True)
    # idle: no routine running, no contact; then a light press shorter than a free press's 2 s
    assert _steady(app, clock, sensor, 0, n=400) == 0
    assert _steady(app, clock, sensor, 1500, n=300) == 0 and not app.free_session
    sensor.raw = 0
    _loop(app, clock, 400)
    # the routine, started with the button; its first press step, right after a log flush (every 10 s)
    _click(app, clock)
    assert app.runner.state == runner.RUNNING and app.log.active
    sensor.raw = raw_for(app, 4000)
    _until(app, clock, lambda: app.log.last_flush_ms == clock.ticks_ms())
    seen = []
    for grams in (4000, 2000, 5800, 4000, 8000, 4000):   # in, under, over, in, too hard, in: < 10 s
        assert _steady(app, clock, sensor, grams) == 0, grams
        seen.append(app.state)
    assert seen == [band.IN_BAND, band.UNDER, band.OVER, band.IN_BAND, band.TOO_HARD, band.IN_BAND]
    assert app.hw.motor.sets > 6 and app.hw.led.sets > 6   # the feedback followed every state
    # a sensor fault, then contact lost long enough to stop the step's clock (its cue and event)
    _until(app, clock, lambda: app.log.last_flush_ms == clock.ticks_ms())
    assert _steady(app, clock, sensor, 4000, fault=1) == 0 and app.state == band.FAULT
    assert _steady(app, clock, sensor, 0, settle=700) == 0
    assert app.runner.contact_held
    # back in the band to the step's end: the pause between steps (TRANSITION) after its log writes
    sensor.raw = raw_for(app, 4000)
    _until(app, clock, lambda: app.runner.state == runner.TRANSITION)
    _loop(app, clock, 5)
    assert _loop(app, clock, 600, True) == 0 and app.runner.state == runner.TRANSITION
    # the last step, breathing: a cue at every breath, no log writes between its flushes
    _until(app, clock, lambda: app.runner.index == 4 and app.runner.state == runner.RUNNING)
    sensor.raw = 0
    _until(app, clock, lambda: app.log.last_flush_ms == clock.ticks_ms())
    assert _loop(app, clock, 1800, True) == 0
    assert app.runner.index == 4 and app.runner.state == runner.RUNNING


def test_a_practice_on_the_button_and_only_log_writes_allocate():
    app, clock, sensor = fakeboard.make_app(bedtime(), outputs=True, boot_id=0xA1B2C3D4)
    census = hasattr(gc, "mem_alloc")   # the unix port: which iterations allocated
    _click(app, clock)
    assert app.runner.state == runner.RUNNING
    alloc_iters = 0
    iters = 0
    if census:
        gc.collect()
        gc.disable()
    try:
        while app.runner.active() or app.log.active:  # (the end record goes out an iteration after the end)
            # the hand: inside each press step's band while it is asked for, lifted between steps
            r = app.runner
            sensor.raw = raw_for(app, (r.band_lo_g + r.band_hi_g) // 2) if r.target else 0
            clock.advance(5)
            if census:
                a = gc.mem_alloc()
                app.step(clock.ticks_ms())
                if gc.mem_alloc() != a:
                    alloc_iters += 1
                    gc.collect()
            else:
                app.step(clock.ticks_ms())
            iters += 1
    finally:
        gc.enable()
    # done: the DONE cue plays then the score (one sequence), the session is closed, the routine is loaded
    # again for the next practice
    assert app.fb.cue_code == feedback.CUE_SEQ and not app.log.active and app.runner.state == runner.IDLE
    assert 0 <= app.last_score <= 100
    with open(app.log.path, "rb") as f:
        data = f.read()
    d = logread.decode_session(logread.split_sessions(data)[-1][2])
    assert d["end"]["status"] == "completed" and d["end"]["steps_done"] == 5 and not d["problems"]
    assert [s["summary"]["status"] for s in d["steps"]] == ["done"] * 5
    assert d["session"]["routine"] == "bedtime" and d["trace"]
    # the header holds this boot's id and the routine file's whole SHA-256 (format 3), not a cut string
    assert d["session"]["boot_id"] == 0xA1B2C3D4
    assert d["session"]["routine_hash"] == app.routine.digest and len(app.routine.digest) == 64
    assert d["session"]["routine_hash_truncated"] is False
    assert 60000 < iters < 80000   # ~5.8 minutes of practice at 200 Hz
    if census:
        # every iteration that allocated wrote at least one log record (a trace chunk at each flush)
        assert 0 < alloc_iters <= d["records"], (alloc_iters, d["records"])
    assert logfmt.EV_PAUSE not in [e["code"] for e in d["events"]]
    # the score is logged: the hand held the band's middle throughout and every step was done
    assert [(e["name"], e["value"]) for e in d["events"] if e["code"] >= logfmt.EV_STEPS_PLANNED] == [
        ("steps_planned", 5), ("score", app.last_score)]


def _short():
    return {"format": "acu-routine", "version": 1, "name": "short",
            "steps": [{"type": "press", "point": "HT7", "side": "left", "duration_s": 3}]}


def test_a_press_held_past_the_routines_end_starts_no_free_session():
    # 50 scripted practices made 100 sessions: the hand still on the point when the routine ended became a
    # free press. A free press now needs a new contact (the force below the contact threshold first).
    app, clock, sensor = fakeboard.make_app(_short(), outputs=True)
    _click(app, clock)
    assert app.runner.state == runner.RUNNING
    sensor.raw = raw_for(app, 4000)
    _until(app, clock, lambda: not app.runner.active())
    first = app.log.session_no
    _loop(app, clock, 2000)   # 10 s more of the same press
    assert not app.free_session and not app.log.active and app.log.session_no == first
    sensor.raw = 0            # released, then a new press: that one is a free press
    _loop(app, clock, 200)
    sensor.raw = raw_for(app, 4000)
    _loop(app, clock, 600)
    assert app.free_session and app.log.active and app.log.session_no == first + 1


def test_a_session_the_flash_refuses_is_cued():
    # the log folder replaced by a file after boot, or a flash that fails: the practice cannot be logged,
    # and the user is told at once (the flash cue); the host reads the count in status
    import builtins
    from acu import logger

    app, clock, sensor = fakeboard.make_app(outputs=True)

    def refuse(*a):
        raise OSError(28)  # ENOSPC

    logger.open = refuse
    try:
        sensor.raw = raw_for(app, 4000)
        _loop(app, clock, 600)   # 3 s of a free press: the logger tries to start a session
    finally:
        logger.open = builtins.open
    assert app.log.write_errors == 1 and not app.log.active
    assert app.fb.cue_code == feedback.CUE_FLASH_LOW


def test_an_uncalibrated_load_cells_offset_is_zero_from_its_first_reading():
    # a bridge's offset read through the nominal curve as 531 g: every boot began an endless free press, and
    # every host command that needs the REPL refused ("a practice is running"). The first reading after boot
    # is zero now (as a scale's at power-on); presses read from there.
    from mpcompat import FakeClock

    from acu import app as app_mod
    from acu import calib
    from acu.hw import Hardware

    clock = FakeClock(1000)
    sensor = fakeboard.Sensor()
    sensor.kind = "loadcell"
    hw = Hardware("test", clock, sensor, calib.nominal("loadcell"), unique_id=b"\x01\x02")
    app = app_mod.App(hw, fakeboard.settings(), 7, fakeboard.flash_root())
    app.start()

    def raw_of(grams):
        return grams * 2148 // 10   # the nominal load cell: 214.8 counts a gram from raw 0

    sensor.raw = 0                  # the HX711 has no conversion yet: nothing to take as zero
    _loop(app, clock, 5)
    sensor.raw = raw_of(531)
    _loop(app, clock, 1000)         # 5 s at rest
    assert app.force_g == 0 and app.state == band.NO_CONTACT
    assert not app.free_session and not app.log.active
    sensor.raw = raw_of(531 + 4000)
    _loop(app, clock, 200)
    assert 3950 <= app.force_g <= 4050 and app.state == band.IN_BAND


def test_a_calibrated_or_thin_film_sensor_keeps_its_zero():
    # only an uncalibrated load cell's zero is a guess: an FSR's nominal idle reading is its zero already
    app, clock, sensor = fakeboard.make_app()
    sensor.raw = raw_for(app, 1000)
    _loop(app, clock, 800)          # 4 s: a free press begins after 2 s of contact
    assert app.free_session and 950 <= app.force_g <= 1050
