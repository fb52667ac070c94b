# Load-cell driver: an HX711 bit-banged on two pins (docs/hardware.md). Only load-cell boards load this
# module (acu.parts imports it when a board's sensor is a load cell). read_raw() and fault() run in the
# loop: integer maths only, no allocation; the driver receives its pins and clock from the board and never
# imports `machine`.
from acu import ticks
from acu.hw import RealClock
from acu.sensors import FAULT_NONE, FAULT_NOT_READY, FAULT_SHORT


class Hx711:
    """Load cell through an HX711, bit-banged (DOUT in, PD_SCK out), non-blocking.

    read_raw() returns signed 24-bit counts of the latest conversion: a new one is shifted out when DOUT
    is low (data ready), otherwise the previous value is returned at once (the HX711 converts at 10 or
    80 samples/s, slower than the loop). gain: 128 (channel A, 25 pulses), 64 (A, 27) or 32 (B, 26).
    fault() is FAULT_NOT_READY when no conversion arrived for not_ready_ms (default 250 ms, i.e. two
    missed samples at 10 SPS), FAULT_SHORT when the ADC is saturated (0x7FFFFF / 0x800000).
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
        sck_pin.value(0)  # SCK high for > 60 us powers the chip down

    def read_raw(self):
        now = self._clock.ticks_ms()
        dout = self._dout
        if dout.value():
            return self._last  # conversion not ready: keep the last value, never block
        sck = self._sck
        v = 0
        for _ in range(24):
            sck.value(1)
            v = (v << 1) | dout.value()  # data valid while SCK is high (MSB first)
            sck.value(0)
        for _ in range(self._extra):  # selects channel/gain of the next conversion
            sck.value(1)
            sck.value(0)
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
        self._sck.value(1)

    def power_up(self):
        self._sck.value(0)
