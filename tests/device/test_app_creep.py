# Creep compensation in the app's force path (docs/calibration.md, "Creep compensation"): App.step()
# divides the filtered force by the calibration's creep factor for the time the current press has lasted.
# A calibration with creep keeps a creeping sensor's long hold flat and changes a steady reading over a
# long hold; one without creep leaves the force as the curve gives it; a release starts a new hold; and
# step() stays allocation-free with creep on (micropython.heap_lock() on the unix port).
import json
from array import array

import fakeboard
from mpcompat import FakeClock, heap_lock, heap_unlock

from acu import app as app_mod
_ZERO_RAW = 4200
_PCT = 3.0           # creep of the test sensor and of the calibration, % per decade
_REF_S = 2.0
_DT = 20             # ms per loop iteration in these tests (50 Hz: long holds stay quick to run)


def _calib(creep):
    # grams = (raw - 30000) / 3 + 3000 between 30000 and 36000: 4000 g at raw 33000
    return {"format": "acu-calib", "version": 1, "id": "c-creep" if creep else "c-plain",
            "created": "2025-01-02T03:04:05Z", "sensor": "fsr402", "method": "power-law",
            "zero_raw": _ZERO_RAW,
            "points": [[_ZERO_RAW, 0], [20000, 1000], [30000, 3000], [36000, 5000], [40000, 8000]],
            "creep": {"pct_per_decade": _PCT, "ref_s": _REF_S} if creep else None}


def _raw_of(g):
    return 30000 + 3 * (g - 3000)


def _log10(x):
    import math
    return math.log(x) / math.log(10)


class Sensor:
    """An FSR under a steady 4 kg press: raws[i] is the reading in the i-th 100 ms of the press (precomputed,
    so read_raw() allocates nothing); _ZERO_RAW while released."""

    kind = "fsr402"

    def __init__(self, clock, creep_pct, seconds=300):
        self.clock = clock
        n = seconds * 10 + 1
        self.raws = array("H", bytes(2 * n))
        for i in range(n):
            g = 4000.0
            t = (i + 0.5) / 10   # the middle of the 100 ms
            if t > _REF_S:
                g *= 1 + creep_pct / 100.0 * _log10(t / _REF_S)
            self.raws[i] = _raw_of(int(g + 0.5))
        self.pressed_ms = -1

    def press(self):
        self.pressed_ms = self.clock.now

    def release(self):
        self.pressed_ms = -1

    def read_raw(self):
        if self.pressed_ms < 0:
            return _ZERO_RAW
        i = (self.clock.now - self.pressed_ms) // 100
        if i >= len(self.raws):
            i = len(self.raws) - 1
        return self.raws[i]

    def fault(self):
        return 0


def _app(creep, sensor_creep_pct):
    """An App on a fake board whose flash holds a calibration with or without creep."""
    root = fakeboard.flash_root()
    with open(root + "/cfg/calib.json", "w") as f:
        json.dump(_calib(creep), f)
    clock = FakeClock(1000)
    sensor = Sensor(clock, sensor_creep_pct)
    a = app_mod.App(fakeboard.board(clock, sensor), fakeboard.settings(loop_hz=50, free_sessions=False), 1, root)
    assert a.cal.calibrated and a.cal.load_error is None
    assert (a.cal.creep is not None) == creep
    return a, clock, sensor


def _run(a, clock, ms):
    end = clock.now + ms
    while clock.now < end:
        clock.advance(_DT)
        a.step(clock.ticks_ms())
    return a.force_g


def _hold_profile(creep, sensor_creep_pct, marks_s):
    """The app's force at each mark (seconds into a steady 4 kg press)."""
    a, clock, sensor = _app(creep, sensor_creep_pct)
    _run(a, clock, 500)
    sensor.press()
    out = []
    t = 0
    for m in marks_s:
        out.append(_run(a, clock, m * 1000 - t))
        t = m * 1000
    return out


_MARKS = (1, 10, 60, 120, 200)


def test_creep_keeps_a_creeping_sensors_hold_flat():
    plain = _hold_profile(False, _PCT, _MARKS)
    comp = _hold_profile(True, _PCT, _MARKS)
    # without creep compensation the reading drifts up with the sensor: +6.9 % after 200 s
    assert abs(plain[0] - 4000) <= 5, plain
    assert plain[-1] >= 4230, plain
    assert plain[1] < plain[2] < plain[3] < plain[4], plain
    # with it the app's force stays at the true 4 kg through the hold (same as without before ref_s)
    assert comp[0] == plain[0], (comp, plain)
    for g in comp:
        assert abs(g - 4000) <= 12, comp


def test_creep_changes_a_steady_reading_and_a_release_starts_a_new_hold():
    # a sensor that does not creep: the calibration's creep lowers the force as the hold goes on
    comp = _hold_profile(True, 0.0, _MARKS)
    plain = _hold_profile(False, 0.0, _MARKS)
    for g in plain:
        assert abs(g - 4000) <= 5, plain
    want = [4000 / (1 + _PCT / 100 * _log10(max(m, _REF_S) / _REF_S)) for m in _MARKS]
    for i in range(len(want)):
        assert abs(comp[i] - want[i]) <= 12, (comp, want)
    # released and pressed again: the new hold starts from 0 (no correction before ref_s)
    a, clock, sensor = _app(True, 0.0)
    sensor.press()
    g_long = _run(a, clock, 100000)
    sensor.release()
    assert _run(a, clock, 1000) == 0
    sensor.press()
    g_new = _run(a, clock, 1000)
    assert g_long < 3830 and abs(g_new - 4000) <= 5, (g_long, g_new)


def _locked_loop(a, clock, sensor, forces):
    # a 70 s press, a release, a new press: every force into a preallocated array at each second
    i = 0
    t = 0
    while t < 75000:
        if t == 0 or t == 72000:
            sensor.press()
        elif t == 70000:
            sensor.release()
        clock.advance(_DT)
        t += _DT
        a.step(clock.ticks_ms())
        if t % 1000 == 0:
            forces[i] = a.force_g
            i += 1
    return i


def test_step_with_creep_allocates_nothing():
    a, clock, sensor = _app(True, _PCT)
    _run(a, clock, 3000)  # warm up (first-use paths) unloaded
    forces = array("l", [0] * 80)
    if heap_lock is not None:  # the unix port; under CPython the same loop checks the forces only
        heap_lock()
        try:
            n = _locked_loop(a, clock, sensor, forces)
        finally:
            heap_unlock()
    else:
        n = _locked_loop(a, clock, sensor, forces)
    assert n == 75
    # the compensation ran under the lock: the creeping sensor's hold stayed at 4 kg (1..70 s)
    for k in range(0, 70):
        assert abs(forces[k] - 4000) <= 12, list(forces[:n])
    assert forces[70] == 0 and forces[71] == 0   # released
    assert abs(forces[74] - 4000) <= 12          # a new press
