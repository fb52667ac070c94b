# Wrapping millisecond ticks, the same arithmetic as MicroPython's time.ticks_*.
# Small ints stay small (no heap allocation) because values wrap at 2**30.
from micropython import const

PERIOD = const(1 << 30)
_MASK = const((1 << 30) - 1)
_HALF = const(1 << 29)


def add(t, delta_ms):
    return (t + delta_ms) & _MASK


def diff(a, b):
    """a - b in ms, correct across one wrap."""
    return ((a - b + _HALF) & _MASK) - _HALF
