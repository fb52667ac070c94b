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


class SkipTest(Exception):
    """A test that cannot run here: tools/mp_test_runner.py reports it as skipped (pytest's own skip is
    raised instead under CPython)."""


def skip(reason):
    """Skip the calling test, on both runners: pytest.skip under CPython, SkipTest on the unix port."""
    try:
        import pytest
    except ImportError:
        raise SkipTest(reason) from None
    pytest.skip(reason)


try:
    from micropython import heap_lock, heap_unlock  # the unix port (CPython's micropython stub has neither)
except ImportError:
    heap_lock = heap_unlock = None


def needs_heap_lock():
    """Skip the calling test under CPython: an allocation-free proof needs micropython.heap_lock."""
    if heap_lock is None:
        skip("an allocation-free proof: micropython.heap_lock on the unix port (tools/mp_test_runner.py)")
