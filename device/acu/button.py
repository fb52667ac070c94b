# One-button gesture decoder: debounce, then SHORT, DOUBLE and LONG presses from raw levels.
# update() is called every loop iteration with hw.button.pressed() and hw.clock.ticks_ms();
# it is allocation-free (small ints and attribute stores only).
from micropython import const

from acu import ticks

NONE = const(0)
SHORT = const(1)    # start / pause / resume
DOUBLE = const(2)   # skip step
LONG = const(3)     # abort
NAMES = ("none", "short", "double", "long")

# Gesture states (private).
_IDLE = const(0)
_DOWN1 = const(1)     # first press held, not yet long
_UP1 = const(2)       # released once; waiting to see if a second press follows
_WAIT_UP = const(3)   # gesture already reported; ignore until the button is released


class ButtonDecoder:
    """Debounced one-button gestures.

    debounce_ms: a raw level must hold this long before it counts (contact bounce is 1-10 ms).
    double_gap_ms: a second press starting within this time of the first release is a DOUBLE;
      a SHORT is reported only once this gap has passed (the price of having double presses).
    long_ms: holding this long reports LONG at once, while still held, so the user feels the
      abort cue without having to guess when to let go.
    DOUBLE is reported when the second press is confirmed (no need to wait for its release).
    """

    def __init__(self, debounce_ms=30, double_gap_ms=350, long_ms=1200):
        self.debounce_ms = debounce_ms
        self.double_gap_ms = double_gap_ms
        self.long_ms = long_ms
        self.reset(0)

    def reset(self, now_ms):
        self._raw = False
        self._raw_t = now_ms
        self.level = False        # debounced level
        self._state = _IDLE
        self._t = now_ms          # time of the last debounced edge that matters to the state

    def update(self, raw_pressed, now_ms):
        """Feed the raw level; returns NONE or the gesture that completed at this call."""
        raw = True if raw_pressed else False
        if raw != self._raw:
            self._raw = raw
            self._raw_t = now_ms
        elif raw != self.level and ticks.diff(now_ms, self._raw_t) >= self.debounce_ms:
            self.level = raw
            return self._edge(raw, now_ms)
        return self._timeout(now_ms)

    def _edge(self, down, now_ms):
        st = self._state
        if down:
            if st == _IDLE:
                self._state = _DOWN1
                self._t = now_ms
            elif st == _UP1:
                self._state = _WAIT_UP
                return DOUBLE
            return NONE
        # released
        if st == _DOWN1:
            self._state = _UP1
            self._t = now_ms
        elif st == _WAIT_UP:
            self._state = _IDLE
        return NONE

    def _timeout(self, now_ms):
        st = self._state
        if st == _DOWN1:
            if ticks.diff(now_ms, self._t) >= self.long_ms:
                self._state = _WAIT_UP
                return LONG
        elif st == _UP1:
            if ticks.diff(now_ms, self._t) >= self.double_gap_ms:
                self._state = _IDLE
                return SHORT
        return NONE
