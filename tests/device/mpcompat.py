# Helpers shared by device tests that run under both pytest (CPython) and tools/mp_test_runner.py.


def raises(exc_type, fn, *args, **kwargs):
    """Assert that fn(*args) raises exc_type; return the exception."""
    try:
        fn(*args, **kwargs)
    except exc_type as e:
        return e
    raise AssertionError("expected %s" % exc_type.__name__)


class FakeClock:
    """A deterministic board clock for logic tests."""

    def __init__(self, start_ms=0):
        self.now = start_ms
        self.wall = None

    def ticks_ms(self):
        return self.now & ((1 << 30) - 1)

    def sleep_ms(self, ms):
        if ms > 0:
            self.now += ms

    def advance(self, ms):
        self.now += ms

    def wall_s(self):
        return self.wall

    def set_wall_s(self, s):
        self.wall = s
