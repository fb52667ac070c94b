"""The automatic calibration capture: known loads applied to a part and its readings taken, on a simulated
part in CPython (`SimRig`: tests and the bench) or on the simulator's board (`DeviceRig`: `calibrate --auto`).
"""
from __future__ import annotations

import numpy as np

from host_tools.calibration.pointsfile import Points, family

# plans for the automatic capture (grams): more points near the band edges
AUTO_LOADS = {"divider": [1000, 2000, 2750, 3000, 3250, 4000, 4750, 5000, 5250, 6000],
              "loadcell": [1000, 3000, 5000, 6000]}
# then these again, fresh presses (the spread of repeats measures the repeatability) ...
AUTO_REPEATS = {"divider": [3000, 4000, 5000], "loadcell": [3000]}
# ... and one point read easing off from the first load to the second (hysteresis; FSR/A201)
AUTO_UNLOADING = (6000, 4000)
AUTO_READS = 12              # reads per point (and tare) of the automatic capture
AUTO_READS_LOADCELL = 20
LOADCELL_CONVERSION_MS = 100  # an HX711 at 10 samples/s (RATE low, as the boards wire it; 80/s is faster still)


class SimRig:
    """A simulated part on a virtual clock, read like the driver does (CPython: tests and the bench)."""

    min_read_gap_ms = 0  # each read is a new conversion (DeviceRig's load cell needs 100 ms between reads)

    def __init__(self, part, oversample: int = 8, loop_ms: int = 5):
        self.part = part
        self.kind = part.kind
        self.t_ms = 0
        self.force_g = 0
        self._oversample = oversample
        self._loop_ms = loop_ms
        if self.kind == "loadcell":
            self._loop_ms = 1000 // part.rate_hz

    def _tick(self):
        if self.kind == "loadcell":
            return self.part.counts(self.force_g, self.t_ms)
        n = self._oversample
        return sum(self.part.adc_u16(self.force_g, self.t_ms) for _ in range(n)) // n

    def wait_ms(self, ms: int):
        # under a constant force the part's state only depends on the time since the last change,
        # so a few reads along the way are as good as a read every loop (and the bench stays fast)
        end = self.t_ms + ms
        step = max(self._loop_ms, ms // 8)
        while self.t_ms < end:
            self._tick()
            self.t_ms += step
        self.t_ms = end

    def press(self, force_g: float, ramp_ms: int = 150):
        f0 = self.force_g
        steps = max(1, ramp_ms // self._loop_ms)
        for i in range(1, steps + 1):
            self.force_g = int(f0 + (force_g - f0) * i / steps)
            self._tick()
            self.t_ms += self._loop_ms
        self.force_g = int(force_g)

    def release(self):
        self.press(0, 100)

    def read_raw(self) -> int:
        v = self._tick()
        self.t_ms += self._loop_ms
        return v

    def now_s(self) -> float:
        return self.t_ms / 1000.0


class DeviceRig:
    """The simulator's hand through its control link, the part read through a device session.

    Waits run on the device's (virtual) clock, not the host's: at --speed 60 a 2 s settle is 2 s for the
    part (its creep and hysteresis depend on it) and 33 ms for the host. The simulated board picks up a
    new press only when it polls its link (a sleep), so every press and wait starts with sleep_ms(0):
    the ramp then starts on the device's clock at a known moment. A divider part is also read along the
    way (about 8 times per wait, at most every 5 ms), as SimRig does and as the app's loop does on a
    board: the simulated part sees a press, starts its creep clock and tracks its peak when it is read, so
    a settle without reads would capture a part that had just been pressed (no creep at ref_s)."""

    _TICKS_PERIOD = 1 << 30  # acu.ticks: ticks_ms wraps here

    def __init__(self, session, sim, kind: str):
        self.s = session
        self.sim = sim
        self.kind = kind
        # the HX711 driver gives its last conversion until the next (10 a second): reads closer than that repeat
        # one conversion (SimRig's reads are a conversion each)
        self.min_read_gap_ms = LOADCELL_CONVERSION_MS if kind == "loadcell" else 0
        self._speed = float(sim.status().get("speed") or 0.0)  # the exec timeouts allow for it
        self._t0 = self._ticks()

    def _ticks(self) -> int:
        return int(self.s.hw_call("hw.clock.ticks_ms()"))

    def _device_sleep(self, ms: int):
        ms = max(0, int(ms))
        real_s = ms / 1000.0 / self._speed if self._speed > 0 else 0.0
        if self.kind == "loadcell":  # an HX711 read waits for its conversion: it would lengthen the wait
            code = "import acu.api as _a\n_c = _a.hw().clock\n_c.sleep_ms(0)\n_c.sleep_ms(%d)\n" % ms
        else:
            code = ("import acu.api as _a\n_h = _a.hw()\n_c = _h.clock\n_c.sleep_ms(0)\n_r = %d\n"
                    "while _r > 0:\n _s = min(_r, %d)\n _c.sleep_ms(_s)\n _h.sensor.read_raw()\n _r -= _s\n"
                    % (ms, max(5, ms // 8)))
        self.s.exec(code, timeout=10.0 + 1.5 * real_s)

    def wait_ms(self, ms: int):
        self._device_sleep(ms)

    def press(self, force_g: float, ramp_ms: int = 150):
        self.sim.press(int(force_g), ramp_ms=ramp_ms)
        self._device_sleep(ramp_ms)

    def release(self):
        self.sim.release(ramp_ms=100)
        self._device_sleep(100)

    def read_raw(self) -> int:
        return int(self.s.hw_call("hw.sensor.read_raw()"))

    def now_s(self) -> float:
        return ((self._ticks() - self._t0) % self._TICKS_PERIOD) / 1000.0


def _avg_reads(rig, n: int, gap_ms: int, distinct: bool = False) -> float:
    """The median of n reads gap_ms apart: one read that went wrong (an HX711 read cut off half-way by an
    interrupt gives a value far off; on the simulator at --speed 20 a pause of the host's process of a few
    hundred microseconds holds the clock line high long enough to power the chip down mid-read) must not move
    the point. Taken as the mean, one such read of 12 moved a point by 6-10 % (refused as far off the fit) or
    the tare by enough to make the whole calibration read 2 % high. For noise that is not glitches the median
    and the mean agree; both are the reading at the middle of the reads (ref_s). distinct: a read equal to the
    one before is left out (a load cell's repeat is the driver's last conversion again, not a new one)."""
    vals: list[int] = []
    prev = None
    for _ in range(n):
        v = rig.read_raw()
        if not (distinct and v == prev):
            vals.append(v)
        prev = v
        if gap_ms:
            rig.wait_ms(gap_ms)
    return float(np.median(vals))


def auto_capture(rig, kind: str, loads=None, settle_ms: int = 2000, reads: int | None = None, read_gap_ms: int = 20,
                 condition: bool = True, creep_hold_s: float = 0.0, creep_grams: float = 4000.0,
                 progress=None, repeats=None, unloading=True) -> Points:
    """Tare, condition, capture each load after settle_ms (on loading, from release), the repeats, an
    unloading point (divider), optional creep hold."""
    fam = family(kind)
    loads = list(loads or AUTO_LOADS[fam]) + list(AUTO_REPEATS[fam] if repeats is None else repeats)
    say = progress or (lambda msg: None)
    # a load cell: one conversion per read, and a read that repeats the one before is no new conversion (24 bits
    # with the bridge's noise never repeat to the count): a bad conversion the driver kept giving while the chip
    # was stuck (until its reset, ~0.7 s) counts once, not once per read
    gap_ms = max(read_gap_ms, rig.min_read_gap_ms)
    distinct = fam == "loadcell"
    if reads is None:  # a load cell's 2 s of conversions: a stuck spell (~0.7 s) leaves most of them good
        reads = AUTO_READS_LOADCELL if distinct else AUTO_READS
    rig.release()
    rig.wait_ms(500)
    say("tare")
    zero = _avg_reads(rig, reads, gap_ms, distinct)
    if condition and fam == "divider":
        top = 1.1 * max(loads)
        for i in range(4):
            say(f"conditioning press {i + 1}/4 at {top:.0f} g")
            rig.press(top)
            rig.wait_ms(1000)
            rig.release()
            rig.wait_ms(500)
    pts = []
    for L in loads:
        say(f"capturing {L:g} g")
        rig.press(L)
        rig.wait_ms(settle_ms)
        pts.append((float(L), round(_avg_reads(rig, reads, gap_ms, distinct), 1)))
        rig.release()
        rig.wait_ms(600)
    down = []
    if unloading and fam == "divider":
        top, at = AUTO_UNLOADING
        say(f"capturing {at:g} g easing off from {top:g} g")
        rig.press(top)
        rig.wait_ms(1000)
        rig.press(at, ramp_ms=300)
        rig.wait_ms(settle_ms)
        down.append((float(at), round(_avg_reads(rig, reads, gap_ms, distinct), 1)))
        rig.release()
        rig.wait_ms(600)
    creep = []
    if creep_hold_s > 0 and fam == "divider":
        say(f"creep hold: {creep_grams:g} g for {creep_hold_s:g} s")
        rig.press(creep_grams)
        t0 = rig.now_s()
        next_t = 0.5
        while True:
            t = rig.now_s() - t0
            if t >= creep_hold_s:
                break
            if t >= next_t:
                creep.append((round(t, 3), float(rig.read_raw())))
                next_t = max(next_t * 1.25, t + 0.25)
            # straight to the next sample (a device rig pays a round trip per wait)
            rig.wait_ms(max(50, min(int((next_t - t) * 1000), int((creep_hold_s - t) * 1000) + 1)))
        rig.release()
    ref_s = (settle_ms + reads * gap_ms / 2) / 1000.0
    return Points(sensor=kind, zero_raw=int(round(zero)), points=pts,
                  creep_grams=creep_grams if creep else None,
                  creep_samples=creep, ref_s=round(ref_s, 3), reference="simulator (applied loads)",
                  source="auto", unloading=down)
