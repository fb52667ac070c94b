# acu.power's decisions (when the board may go into deep sleep, what it keeps in RTC memory, its wake source,
# the loop's CPU clock) and the app's idle count that calls it (acu.app.App.step), on both interpreters: a fake
# `machine` and `esp32` stand in for the board.
import sys

import fakeboard

from acu import power, sensors


class _Pin:
    def __init__(self, n):
        self.n = n

    def value(self):
        return 1  # released (pull-up)


class _Rtc:
    def __init__(self, store):
        self.store = store

    def memory(self, data=None):
        if data is None:
            return self.store[0]
        self.store[0] = bytes(data)
        return None


class _Machine:
    """What acu.power asks of `machine`: the clock, the reset cause, the RTC memory, deep sleep."""

    def __init__(self, cause=1):
        self.hz = 240000000
        self.cause = cause
        self.rtc_mem = [b""]
        self.slept = 0
        self.slept_ms = -1
        self.reason = 0

    def freq(self, hz=None):
        if hz is None:
            return self.hz
        self.hz = hz
        return None

    def reset_cause(self):
        return self.cause

    def wake_reason(self):
        return self.reason

    def RTC(self):
        return _Rtc(self.rtc_mem)

    def deepsleep(self, ms=0):
        self.slept += 1
        self.slept_ms = ms


class _Esp32:
    def __init__(self):
        self.ext0 = None

    def wake_on_ext0(self, pin, level):
        self.ext0 = (pin, level)


def test_veto_names_why_the_board_stays_awake():
    assert power.veto(False, False, False, False, True, 300) is None
    assert power.veto(True, False, False, False, True, 300) == power.WHY_SESSION
    assert power.veto(False, True, False, False, True, 300) == power.WHY_SESSION
    assert power.veto(False, False, True, False, True, 300) == power.WHY_HOST
    assert power.veto(False, False, False, True, True, 300) == power.WHY_CALIBRATING
    assert power.veto(False, False, False, False, False, 300) == power.WHY_NO_WAKE
    assert power.veto(False, False, False, False, True, 0) == power.WHY_OFF


def test_rtc_record_round_trips_and_foreign_bytes_read_as_a_cold_start():
    b = power.pack_record(41, power.FLAG_LOW_CUED)
    assert len(b) <= 2048  # the ESP32's RTC memory
    assert power.unpack_record(b) == (41, power.FLAG_LOW_CUED)
    assert power.unpack_record(b"") == (0, 0)  # after a power cut
    assert power.unpack_record(None) == (0, 0)
    assert power.unpack_record(b"\x00" * len(b)) == (0, 0)  # not ours
    assert power.unpack_record(b[:3]) == (0, 0)


def test_the_loop_runs_at_its_own_clock():
    m = _Machine(cause=1)
    m.hz = 160000000  # the port's default at boot
    app, _, _ = fakeboard.make_app(outputs=True)
    power.loop_start(app, m)
    assert m.hz == power.LOOP_HZ < 160000000


def test_the_low_battery_cue_given_before_a_sleep_is_not_repeated_after_the_wake():
    app, clock, _ = _app_with_wake_button()
    m, e = _Machine(), _Esp32()
    app._low_battery = True
    power.idle_due(app, clock.ticks_ms(), m, e)
    assert power.unpack_record(m.rtc_mem[0])[1] & power.FLAG_LOW_CUED
    woken, _, _ = fakeboard.make_app(outputs=True)
    m.cause = power.DEEPSLEEP_RESET
    power.loop_start(woken, m)
    assert woken._low_battery  # acu.app cues only a change to low
    cold, _, _ = fakeboard.make_app(outputs=True)
    m.cause = 1  # a power-on: the record is not trusted (after a power cut it is empty anyway)
    power.loop_start(cold, m)
    assert not cold._low_battery
    app._low_battery = False  # charged: the flag goes at the next sleep
    power.idle_due(app, clock.ticks_ms(), m, e)
    assert not power.unpack_record(m.rtc_mem[0])[1] & power.FLAG_LOW_CUED


def test_wake_pin_is_the_buttons_pin_at_its_pressed_level():
    pin = _Pin(0)
    b = sensors.PinButton(pin, active_low=True)
    assert power.wake_pin(b) is None  # not wired to wake the chip: a development board stays up
    assert power.wake_pin(sensors.PinButton(pin, active_low=True)) is None
    b.wake = True
    assert power.wake_pin(b) == (pin, 0)
    b = sensors.PinButton(pin, active_low=False)
    b.wake = True
    assert power.wake_pin(b) == (pin, 1)
    assert power.wake_pin(None) is None


def _app_with_wake_button(**changes):
    app, clock, sensor = fakeboard.make_app(outputs=True, **changes)
    app.hw.button = sensors.PinButton(_Pin(0), active_low=True)
    app.hw.button.wake = True
    return app, clock, sensor


def test_idle_due_sleeps_with_the_button_as_wake_source_and_counts_the_sleep():
    app, clock, _ = _app_with_wake_button()
    m, e = _Machine(), _Esp32()
    m.rtc_mem[0] = power.pack_record(2, 0)
    assert power.idle_due(app, clock.ticks_ms(), m, e) is None
    assert m.slept == 1
    assert e.ext0[0] is app.hw.button._pin and e.ext0[1] == 0
    assert power.unpack_record(m.rtc_mem[0]) == (3, 0)
    assert app.hw.motor.level == 0 and app.hw.led.level == 0  # quiet before it sleeps


def test_idle_due_refuses_with_a_session_open_or_a_host_streaming():
    app, clock, sensor = _app_with_wake_button()
    m, e = _Machine(), _Esp32()
    app.free_session = True
    assert power.idle_due(app, clock.ticks_ms(), m, e) == power.WHY_SESSION
    app.free_session = False
    app.calibrating = True
    assert power.idle_due(app, clock.ticks_ms(), m, e) == power.WHY_CALIBRATING
    assert m.slept == 0 and e.ext0 is None


def _install(m, e):
    saved = (sys.modules.get("machine"), sys.modules.get("esp32"))
    sys.modules["machine"] = m
    sys.modules["esp32"] = e

    def restore():
        for key, old in (("machine", saved[0]), ("esp32", saved[1])):
            if old is None:
                if key in sys.modules:
                    del sys.modules[key]
            else:
                sys.modules[key] = old
    return restore


def _run_ms(app, clock, ms):
    for _ in range(ms // 5):
        clock.advance(5)
        app.step(clock.ticks_ms())


def _run_link(app, clock, ms):
    for _ in range(ms // 5):
        clock.advance(5)
        now = clock.ticks_ms()
        app.step(now)
        app.link.service(now)


def test_the_app_sleeps_after_sleep_after_s_of_idle_and_a_host_request_or_contact_restarts_the_count():
    import test_link
    con = test_link.Console()
    app, clock, sensor = fakeboard.make_app(console=con, outputs=True, sleep_after_s=3)
    app.hw.button = sensors.PinButton(_Pin(0), active_low=True)
    app.hw.button.wake = True
    m, e = _Machine(), _Esp32()
    restore = _install(m, e)
    try:
        _run_link(app, clock, 1500)  # (the runner's first tick counts up to 1 s since its start)
        con.feed(test_link.request(1, "hello"))  # a host asked something: it is there, the count starts again
        _run_link(app, clock, 2500)
        assert m.slept == 0
        sensor.raw = fakeboard.raw_for(app, 1500)  # a touch of the sensor
        _run_link(app, clock, 300)
        sensor.raw = 0
        _run_link(app, clock, 2500)
        assert m.slept == 0
        con.feed(test_link.request(2, "stream 50 60000"))  # a host streaming: idle, yet it stays up
        _run_link(app, clock, 3100)
        assert m.slept == 0
        app.link.stop_stream()
        _run_link(app, clock, 3100)
        assert m.slept == 1
    finally:
        restore()


def test_sleep_after_s_is_a_validated_setting():
    from acu import appcfg
    assert "sleep_after_s" in appcfg.SETTINGS_SPEC and power.SLEEP_AFTER_S_DEFAULT == 300
    assert appcfg._setting_problem("sleep_after_s", 600) is None
    assert appcfg._setting_problem("sleep_after_s", -1) is not None
    assert appcfg._setting_problem("sleep_after_s", "5min") is not None


def test_start_verdict_warns_once_below_low_and_refuses_below_critical():
    assert power.start_verdict(None, False) == "go"  # no battery fitted
    assert power.start_verdict(power.LOW_MV, False) == "go"
    assert power.start_verdict(power.LOW_MV - 1, False) == "warn"
    assert power.start_verdict(power.LOW_MV - 1, True) == "go"  # cued already: this press starts it
    assert power.start_verdict(power.CRITICAL_MV - 1, True) == "refuse"
    assert power.CRITICAL_MV < power.LOW_MV


def _press(app, clock):
    """A short press of the fake board's button, then the double-press gap for the decoder to report it."""
    app.hw.button.down = True
    _run_ms(app, clock, 100)
    app.hw.button.down = False
    _run_ms(app, clock, 400)


def test_a_low_cell_is_cued_before_the_routine_and_a_flat_one_starts_none():
    from routine_samples import bedtime
    from acu import feedback, runner
    app, clock, _ = fakeboard.make_app(routine=bedtime(), outputs=True)
    cues = []
    fb_cue = app.fb.cue
    app.fb.cue = lambda code, now: cues.append(code) or fb_cue(code, now)
    app.hw.battery.mv = power.LOW_MV - 20
    _press(app, clock)
    assert app.runner.state == runner.IDLE and cues == [feedback.CUE_LOW_BATTERY]
    _press(app, clock)  # pressed again: it starts, with no second warning
    assert app.runner.active() and cues == [feedback.CUE_LOW_BATTERY, feedback.CUE_START]
    # mid-routine the once-a-minute check stays quiet, however low the cell
    app.hw.battery.mv = power.CRITICAL_MV - 50
    app._low_battery = False
    _run_ms(app, clock, 61000)
    assert feedback.CUE_LOW_BATTERY not in cues[2:]
    app.runner.abort(clock.ticks_ms())
    del cues[:]
    _press(app, clock)  # flat: the cue, and no routine
    assert app.runner.state != runner.RUNNING and cues[:1] == [feedback.CUE_LOW_BATTERY]
    assert feedback.CUE_START not in cues


def test_only_the_battery_boards_button_is_a_wake_source():
    import test_boards
    for name, wakes in (("esp32_battery", True), ("esp32_devkitc", False)):
        mod, restore = test_boards._load(name)
        try:
            hw = mod.build()
            assert (power.wake_pin(hw.button) is not None) == wakes, name
        finally:
            restore()
