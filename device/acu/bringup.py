# The live link's `part` request (docs/protocol.md): the bring-up self-test (acutrainer selftest) drives one
# output at a time, or waits for the button, on the running app. acu.linkverbs loads this module for one
# answer only (acu.call): none of it stays in the loop's heap. An output test holds the loop for its time
# (at most _HOLD_MAX_MS; the button wait at most _WAIT_MAX_MS): the app is idle (refused during a practice),
# nothing is logged, and the feedback writes its own levels again at the next iteration.
from acu import ticks

from micropython import const

_HOLD_MAX_MS = const(3000)
_WAIT_MAX_MS = const(20000)
_SLICE_MS = const(5)
_DEBOUNCE_MS = const(20)   # a button level must hold this long to count (contact bounce is 1-10 ms)
_BUZZ_HZ = const(2000)
_ROLES = ("sensor", "led", "rgb", "motor", "haptic", "buzzer", "button", "battery")


def answer(lk, args, now_ms):
    """part: the parts this board has; part ROLE [MS | R G B MS]: drive it (see docs/protocol.md)."""
    a = lk.app
    hw = a.hw
    if not args:
        return {"parts": [r for r in _ROLES if getattr(hw, r, None) is not None], "sensor": hw.sensor.kind}
    role = args[0]
    if role not in _ROLES or role == "sensor":
        raise ValueError("part: no test for %r" % role[:20])
    dev = getattr(hw, role)
    if dev is None:
        raise ValueError("this board has no %s" % role)
    if role == "battery":
        return {"mv": dev.read_mv()}
    if a.runner.active() or a.free_session:
        raise ValueError("a practice is running: test the parts when it has ended")
    if role == "button":
        return _button(a, dev, _ms(args, 1, _WAIT_MAX_MS, _WAIT_MAX_MS))
    if role == "rgb":
        if len(args) < 4:
            raise ValueError("part rgb R G B [MS]")
        rgb = [min(255, max(0, int(v))) for v in args[1:4]]
        ms = _ms(args, 4, _HOLD_MAX_MS)
        dev.set(rgb[0], rgb[1], rgb[2])
        _hold(a, ms)
        dev.set(0, 0, 0)
    else:
        ms = _ms(args, 1, _HOLD_MAX_MS)
        if role == "buzzer":
            dev.tone(_BUZZ_HZ, 1023)
        else:
            dev.set(1023)  # LED, ERM motor (full duty: no kick), DRV2605L (real-time playback)
        _hold(a, ms)
        if role == "buzzer":
            dev.tone(0, 0)
        else:
            dev.set(0)
    _release_outputs(a.fb)
    return {"part": role, "ms": ms}


def _ms(args, i, most, default=1000):
    ms = int(args[i]) if len(args) > i else default
    if ms < 0 or ms > most:
        raise ValueError("part: time must be 0..%d ms" % most)
    return ms


def _hold(a, ms):
    clock = a.clock
    t0 = clock.ticks_ms()
    while True:
        left = ms - ticks.diff(clock.ticks_ms(), t0)
        if left <= 0:
            return
        clock.sleep_ms(min(left, 50))


def _release_outputs(fb):
    # the feedback writes an output only when its level changes: forget what it wrote, so its next show()
    # puts every output back to the band pattern's level
    fb._h = fb._l = fb._r = fb._g = fb._b = fb._f = fb._s = -1


def _button(a, btn, wait_ms):
    """The button's level now, and within wait_ms a press and its release (each held _DEBOUNCE_MS).
    {"pressed_now", "press_ms": ms to the press or None, "held_ms": how long it was held or None}.
    A press already down when the wait starts counts (from 0 ms): the host asks with wait_ms 0 first, and
    a button that reads pressed at rest is stuck, not pressed. The app's gesture decoder starts afresh
    after: the press starts nothing."""
    clock = a.clock
    t0 = clock.ticks_ms()
    now = t0
    first = btn.pressed()
    level = False
    raw = first
    raw_t = t0
    press_ms = None
    held_ms = None
    while True:
        el = ticks.diff(now, t0)
        if el >= wait_ms:
            break
        r = btn.pressed()
        if r != raw:
            raw = r
            raw_t = now
        elif r != level and ticks.diff(now, raw_t) >= _DEBOUNCE_MS:
            level = r
            if r and press_ms is None:
                press_ms = ticks.diff(raw_t, t0)
            elif not r and press_ms is not None:
                held_ms = ticks.diff(raw_t, t0) - press_ms
                break
        clock.sleep_ms(_SLICE_MS)
        now = clock.ticks_ms()
    a.buttons.reset(clock.ticks_ms())
    return {"pressed_now": bool(first), "press_ms": press_ms, "held_ms": held_ms}
