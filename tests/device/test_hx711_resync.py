# acu.hx711 against the simulator's strict HX711 (host_tools/sim/rom/simsensors.py, Hx711Wire): a read cut
# off half-way (an interrupt or a task switch with SCK high) powers the chip down mid-read; the
# driver must notice the silence and reset the chip, not read one stale value for ever.
import simrom  # noqa: F401  (the simulator's folder on sys.path)
import simsensors
from mpcompat import FakeClock

from acu import hx711, sensors

try:
    import micropython
    _HEAP_LOCK = hasattr(micropython, "heap_lock")
except ImportError:
    micropython = None
    _HEAP_LOCK = False


class _Wire:
    """The two pins of the simulated chip as the driver sees them. stall_at_bit: on that rising edge of SCK
    the clock jumps stall_ms (the task switched away with SCK high), once."""

    def __init__(self, hx, clock, stall_at_bit=0, stall_ms=0):
        self.hx = hx
        self.clock = clock
        self.edges = 0
        self.stall_at_bit = stall_at_bit
        self.stall_ms = stall_ms
        self.dout = _Pin(self, True)
        self.sck = _Pin(self, False)


class _Pin:
    def __init__(self, wire, is_dout):
        self._w = wire
        self._is_dout = is_dout

    def value(self, v=None):
        w = self._w
        if self._is_dout:
            return w.hx.dout(w.clock.ticks_ms())
        if v:
            w.edges += 1
            w.hx.sck(1, w.clock.ticks_ms())
            if w.edges == w.stall_at_bit:
                w.clock.advance(w.stall_ms)
        else:
            w.hx.sck(0, w.clock.ticks_ms())
        return None


def _run(drv, clock, ms, step_ms=5):
    """The sampling loop at 200 Hz for ms: the last value and whether the fault ever showed."""
    faulted = False
    v = 0
    end = clock.now + ms
    while clock.now < end:
        v = drv.read_raw()
        if drv.fault() != sensors.FAULT_NONE:
            faulted = True
        clock.advance(step_ms)
    return v, faulted


def _setup(force_g, stall_ms, gain=128):
    part = simsensors.make_part("loadcell", 4712, rate_hz=10)
    part.set_force(force_g)
    clock = FakeClock(1000)
    wire = _Wire(part.hx711, clock)
    drv = hx711.Hx711(wire.dout, wire.sck, gain=gain, clock=clock, not_ready_ms=250)
    v, _ = _run(drv, clock, 1000)   # settled: conversions arrive
    p = part.params()
    expect = p["offset_counts"] + p["counts_per_g"] * force_g
    assert abs(v - expect) < 900, (v, expect)
    # the next read stalls with SCK high on its 7th bit, longer than the chip's power-down time
    wire.stall_at_bit = wire.edges + 7
    wire.stall_ms = stall_ms
    return part, clock, drv, expect


def test_a_read_cut_off_mid_way_recovers_within_two_seconds():
    part, clock, drv, expect = _setup(3000, 20)
    v, faulted = _run(drv, clock, 2500)
    assert faulted  # the silence is reported while it lasts
    assert abs(v - expect) < 900, (v, expect)
    assert drv.fault() == sensors.FAULT_NONE
    # the readings follow the force again (not one value repeated)
    part.set_force(5000)
    v, _ = _run(drv, clock, 500)
    p = part.params()
    assert abs(v - (p["offset_counts"] + p["counts_per_g"] * 5000)) < 900, v


def test_a_short_stall_within_the_chip_timing_is_not_a_reset():
    part, clock, drv, expect = _setup(3000, 1)
    v, faulted = _run(drv, clock, 1000)
    assert not faulted
    assert abs(v - expect) < 900, (v, expect)


def test_gain_64_skips_the_conversion_made_at_the_reset_gain():
    part = simsensors.make_part("loadcell", 4712, rate_hz=10)
    part.set_force(4000)
    clock = FakeClock(1000)
    wire = _Wire(part.hx711, clock)
    drv = hx711.Hx711(wire.dout, wire.sck, gain=64, clock=clock, not_ready_ms=250)
    _run(drv, clock, 1000)
    p = part.params()
    half = (p["offset_counts"] + p["counts_per_g"] * 4000) / 2
    wire.stall_at_bit = wire.edges + 3
    wire.stall_ms = 20
    seen = []
    end = clock.now + 3000
    while clock.now < end:
        seen.append(drv.read_raw())
        clock.advance(5)
    tail = seen[-100:]
    for v in tail:
        assert abs(v - half) < 900, (v, half)


def test_an_open_cable_stays_a_fault_and_the_resets_are_spaced():
    part = simsensors.make_part("loadcell", 4712, rate_hz=10)
    clock = FakeClock(1000)
    wire = _Wire(part.hx711, clock)
    drv = hx711.Hx711(wire.dout, wire.sck, clock=clock, not_ready_ms=250)
    _run(drv, clock, 1000)
    part.set_fault(1)
    wire.hx = _Open()
    edges = wire.edges
    _, faulted = _run(drv, clock, 5000)
    assert faulted and drv.fault() == sensors.FAULT_NOT_READY
    assert 3 <= wire.edges - edges <= 6, wire.edges - edges   # one power-down a second, no more


class _Open:
    """DOUT pulled high: no chip on the wire."""

    def dout(self, now_ms):
        return 1

    def sck(self, level, now_ms):
        pass


def test_the_resync_path_allocates_nothing():
    if not _HEAP_LOCK:
        return
    part, clock, drv, expect = _setup(3000, 20)
    micropython.heap_lock()
    try:
        n = 0
        acc = 0
        while n < 600:
            acc += drv.read_raw() & 1
            acc += drv.fault()
            clock.now += 5
            n += 1
    finally:
        micropython.heap_unlock()
    assert abs(drv.read_raw() - expect) < 900
