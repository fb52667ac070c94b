# Power states (docs/architecture.md, "Power"): practising and idle-awake run the app's loop; after
# settings sleep_after_s of idle (no contact, no routine, no session, no host) the board goes into deep sleep
# and wakes on its button (esp32.wake_on_ext0), which boots the firmware again.
#
# Loaded per call (acu.call), never held by the loop: App.step only counts idle time (allocation-free) and
# calls idle_due() when it reaches sleep_after_s; acu.app.main calls loop_start() once. The decisions (veto, the CPU
# clock, the RTC record) take plain values, so CPython and MicroPython tests can check them without a board.
#
# What survives the sleep: sessions, settings and calibration are on flash already. The little the app keeps
# in RAM about power lives in the RTC slow memory (machine.RTC().memory(), kept through deep sleep and
# resets, lost at a power cut): how many times it slept, whether the low-battery cue was given, and what the
# bedtime reminder needs of the past (acu.remind: the newest session seen, the last day with a session and its
# week's count, the last day reminded). RTC memory,
# not flash: a record written every time the board sleeps (every few minutes of idle, for years) would wear
# the flash and cost a LittleFS commit; and every field is a cache whose loss (a power cut) is harmless.
import struct

import acu
from micropython import const

_MAGIC = const(0x5041)     # "AP": an RTC record this firmware wrote (anything else: a cold start)
_FMT = "<HBBIiiBi"         # magic, version, flags, sleeps; last_no, last_day, week_n, reminded_day (acu.remind)
_VERSION = const(2)
FLAG_LOW_CUED = const(1)   # the low-battery cue was given since the last charge
DEEPSLEEP_RESET = const(4)  # machine.reset_cause() after a deep-sleep wake (the ESP32 port's number)
TIMER_WAKE = const(4)       # machine.wake_reason() of the RTC timer (the ESP32 port's number): a reminder
SLEEP_AFTER_S_DEFAULT = const(300)
LOW_MV = const(3450)       # acu.app's low-battery cue (the cell under the awake board's load)
CRITICAL_MV = const(3350)  # below this the cell is on its knee (minutes left): no routine starts
# the loop's CPU clock: the ESP32's lowest full-speed clock keeps the 200 Hz loop with room to spare
# (docs/hardware.md, "Energy": the loop's measured work per iteration against its period); the boot runs at
# the port's default (160 MHz): loading acu.power before the app would intern its names in the start-up heap
LOOP_HZ = const(80000000)

# why the board stays awake (veto); None: it may sleep
WHY_SESSION = "session"
WHY_HOST = "host"
WHY_CALIBRATING = "calibrating"
WHY_NO_WAKE = "no wake button"
WHY_OFF = "sleep_after_s is 0"


def veto(session_open, routine_active, host_streaming, calibrating, can_wake, sleep_after_s):
    """Why the board must not go into deep sleep now, or None. A session or routine would be cut short; a host
    streaming (acu.link's lease) is attached and would lose the board; a board without a wake button could
    not be woken by its user."""
    if sleep_after_s <= 0:
        return WHY_OFF
    if session_open or routine_active:
        return WHY_SESSION
    if calibrating:
        return WHY_CALIBRATING
    if host_streaming:
        return WHY_HOST
    if not can_wake:
        return WHY_NO_WAKE
    return None


def pack_record(sleeps, flags, practice=None):
    """practice: acu.remind's (last_no, last_day, week_n, reminded_day); None: none known yet."""
    p = practice or (-1, -1, 0, -1)
    return struct.pack(_FMT, _MAGIC, _VERSION, flags & 0xFF, sleeps & 0xFFFFFFFF, p[0], p[1], min(p[2], 255),
                       p[3])


def _unpack(b):
    n = struct.calcsize(_FMT)
    if b is None or len(b) < n:
        return None
    r = struct.unpack(_FMT, bytes(b[:n]))
    return r if r[0] == _MAGIC and r[1] == _VERSION else None


def unpack_record(b):
    """(sleeps, flags) from the RTC memory, (0, 0) for anything this firmware did not write (a power cut
    leaves it empty; another firmware's bytes are not ours)."""
    r = _unpack(b)
    return (0, 0) if r is None else (r[3], r[2])


def unpack_practice(b):
    """acu.remind's (last_no, last_day, week_n, reminded_day) from the RTC memory, or None (none kept)."""
    r = _unpack(b)
    return None if r is None or r[4] < 0 else r[4:]


def start_verdict(mv, cued):
    """At a routine's start, from the cell's mV (None: no battery) and whether the low cue was given since the
    cell went low: "go", "warn" (cue the low cell; this press does not start: the next one does) or "refuse"
    (cue it; no routine starts below CRITICAL_MV)."""
    if mv is None or mv >= LOW_MV:
        return "go"
    if mv < CRITICAL_MV:
        return "refuse"
    return "go" if cued else "warn"


def may_start(app, gesture, now_ms):
    """The button's gesture may go to the idle runner (App.step): a short press starts the routine, and the
    low-battery cue comes before a routine, never in the middle of a point; below the critical level the cue
    comes and nothing starts."""
    from acu import button, feedback, logfmt
    if gesture != button.SHORT or app.runner.routine is None:
        return True
    b = app.hw.battery
    v = start_verdict(None if b is None else b.read_mv(), app._low_battery)
    if v == "go":
        return True
    app.fb.cue(feedback.CUE_LOW_BATTERY, now_ms)
    if not app._low_battery:
        app._low_battery = True
        if app.log.active:
            app.log.event(logfmt.EV_LOW_BATTERY, 0, now_ms)
    return False


def wake_pin(hw_button):
    """(pin, level) of the button as a wake source: level 0 for a button to GND (active low); None without
    one, or when the board does not wire it to wake the chip (PARTS button "wake": only a battery build
    sleeps; a USB-powered development board stays up for its host). acu.sensors.PinButton keeps its pin and
    active level."""
    if hw_button is None or not getattr(hw_button, "wake", False) or not hasattr(hw_button, "_pin"):
        return None
    return hw_button._pin, hw_button._active


def _machine():
    import machine
    return machine


def _freq(m, hz):
    try:
        m.freq(hz)
    except (ValueError, AttributeError):
        pass  # a board or port without this clock keeps its own


def loop_start(app, machine=None):
    """Once, as the app's loop starts (acu.app.main): the loop's CPU clock, and what the RTC record kept for
    the app (the low-battery cue already given: not repeated at every wake while the cell stays low)."""
    m = machine or _machine()
    _freq(m, LOOP_HZ)
    rtc = m.RTC()
    mem = rtc.memory()
    sleeps, flags = unpack_record(mem)
    practice = unpack_practice(mem)
    if m.reset_cause() == DEEPSLEEP_RESET:
        if flags & FLAG_LOW_CUED:
            app._low_battery = True
        if m.wake_reason() == TIMER_WAKE:  # the RTC timer: only a reminder arms it (acu.remind)
            rtc.memory(pack_record(sleeps, flags, acu.call("remind", "woke", app, practice)))
    elif practice is None and wake_pin(app.hw.button) is not None:
        # a cold start on a board that sleeps: the reminder's record starts at the log's newest session
        rtc.memory(pack_record(sleeps, flags, acu.call("remind", "practice_now", app, None, None, None)))


def idle_due(app, now_ms, machine=None, esp32=None):
    """The app has been idle for sleep_after_s (App.step counted it): go into deep sleep unless veto() says
    why not (returned). Does not return when the board sleeps."""
    r = app.runner
    lk = app.link
    wp = wake_pin(app.hw.button)
    why = veto(app.log.active or app.free_session, r.active(), lk is not None and lk.every_ms > 0,
               app.calibrating, wp is not None, app.settings.get("sleep_after_s", SLEEP_AFTER_S_DEFAULT))
    # (App.step's default for a settings file without the key is the same 300)
    if why is not None:
        return why
    try:
        m = machine or _machine()
        if esp32 is None:
            import esp32
    except ImportError:
        return WHY_NO_WAKE  # no board underneath (a test's fake hardware): nothing to sleep
    if not hasattr(m, "deepsleep"):
        return WHY_NO_WAKE
    esp32.wake_on_ext0(wp[0], wp[1])  # ValueError on a pin that cannot wake the chip: the board stays up
    rtc = m.RTC()
    mem = rtc.memory()
    sleeps, flags = unpack_record(mem)
    flags = (flags | FLAG_LOW_CUED) if app._low_battery else (flags & ~FLAG_LOW_CUED)
    # the next reminder's time on the RTC timer (0: none), and the record of the practice it was decided on
    timer_ms, practice = acu.call("remind", "before_sleep", app, unpack_practice(mem))
    rtc.memory(pack_record(sleeps + 1, flags, practice))
    # quiet and closed: the log has nothing open (veto), its last batch goes to flash; the outputs off
    app.log.flush(now_ms)
    app.fb.off()
    if app.hw.annotate is not None:
        app.hw.annotate("state", -1)
    if timer_ms:
        m.deepsleep(timer_ms)
    else:
        m.deepsleep()
    return None  # a fake machine (tests) returns here
