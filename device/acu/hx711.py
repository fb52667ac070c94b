# Load-cell driver: an HX711 bit-banged on two pins (docs/hardware.md). Only load-cell boards load this
# module (acu.parts imports it when a board's sensor is a load cell). read_raw() and fault() run in the
# loop: integer maths only, no allocation; the driver receives its pins and clock from the board and never
# imports `machine`.
from micropython import const

from acu import ticks
from acu.hw import RealClock
from acu.sensors import FAULT_NONE, FAULT_NOT_READY, FAULT_SHORT

# A read cut off half-way (an interrupt, a task switch, a glitch on the wire) leaves the chip waiting for
# the rest of its pulses with DOUT showing one bit: if that bit is 1 the chip looks "not ready" for ever.
# The cure the datasheet gives is a power-down: SCK high for > 60 us, then low; the chip restarts at
# channel A, gain 128, with its first data after 4 conversion periods (400 ms at 10 SPS).
_RESET_HOLD_MS = const(10)     # SCK high this long (>> 60 us; a loop period or two, never a busy wait)
_RESYNC_EVERY_MS = const(1000)  # between resets while no data comes: longer than the 400 ms restart


class Hx711:
    """Load cell through an HX711, bit-banged (DOUT in, PD_SCK out), non-blocking.

    read_raw() returns signed 24-bit counts of the latest conversion: a new one is shifted out when DOUT
    is low (data ready), otherwise the previous value is returned at once (the HX711 converts at 10 or
    80 samples/s, slower than the loop). gain: 128 (channel A, 25 pulses), 64 (A, 27) or 32 (B, 26).
    fault() is FAULT_NOT_READY when no conversion arrived for not_ready_ms (default 250 ms, i.e. two
    missed samples at 10 SPS), FAULT_SHORT when the ADC is saturated (0x7FFFFF / 0x800000).
    While no conversion arrives the chip is reset (power-down, power-up) every _RESYNC_EVERY_MS, so a
    read that was cut off half-way never leaves the sensor stuck; a cable that is really open stays
    FAULT_NOT_READY.
    Tare is not done here (the calibration's zero and acu.forcefilter's zero tracking do it).
    """

    def __init__(self, dout_pin, sck_pin, gain=128, clock=None, not_ready_ms=250, kind="loadcell"):
        if gain == 128:
            self._extra = 1
        elif gain == 64:
            self._extra = 3
        elif gain == 32:
            self._extra = 2
        else:
            raise ValueError("gain must be 128, 64 or 32")
        self.kind = kind
        self.gain = gain
        self._dout = dout_pin
        self._sck = sck_pin
        self._clock = clock if clock is not None else RealClock()  # no board clock: time.ticks_ms
        self._not_ready_ms = not_ready_ms
        self._last = 0
        self._saturated = False
        self._last_ok_ms = self._clock.ticks_ms()
        self._reset_ms = self._last_ok_ms   # when the last reset began (SCK went high)
        self._resetting = False             # SCK held high: the chip is powering down
        self._skip = False                  # the next conversion is at the reset's gain 128: not ours
        sck_pin.value(0)  # SCK high for > 60 us powers the chip down

    def read_raw(self):
        now = self._clock.ticks_ms()
        dout = self._dout
        sck = self._sck
        if self._resetting:
            if ticks.diff(now, self._reset_ms) >= _RESET_HOLD_MS:
                sck.value(0)  # power up: a fresh start, data after 4 conversion periods
                self._resetting = False
                self._skip = self.gain != 128
            return self._last
        if dout.value():
            # conversion not ready: keep the last value, never block; no data for long: reset the chip
            if (ticks.diff(now, self._last_ok_ms) > self._not_ready_ms
                    and ticks.diff(now, self._reset_ms) >= _RESYNC_EVERY_MS):
                sck.value(1)
                self._resetting = True
                self._reset_ms = now
            return self._last
        v = 0
        for _ in range(24):
            sck.value(1)
            v = (v << 1) | dout.value()  # data valid while SCK is high (MSB first)
            sck.value(0)
        for _ in range(self._extra):  # selects channel/gain of the next conversion
            sck.value(1)
            sck.value(0)
        if self._skip:  # converted at gain 128 after a reset; the pulses above set ours for the next
            self._skip = False
            return self._last
        self._saturated = v == 0x7FFFFF or v == 0x800000
        if v & 0x800000:
            v -= 0x1000000
        self._last = v
        self._last_ok_ms = now
        return v

    def fault(self):
        if ticks.diff(self._clock.ticks_ms(), self._last_ok_ms) > self._not_ready_ms:
            return FAULT_NOT_READY
        if self._saturated:
            return FAULT_SHORT
        return FAULT_NONE

    def power_down(self):
        self._resetting = False
        self._sck.value(1)

    def power_up(self):
        self._sck.value(0)
        self._skip = self.gain != 128
        self._reset_ms = self._clock.ticks_ms()  # the chip is settling: no resync for a while
