# Force-sensor drivers. A board module builds one and hands it to the app as `hw.sensor`.
# Interface (docs/architecture.md): `.kind`, `.read_raw() -> int`, `.fault() -> int` (a FAULT_* code).
# Both calls run in the sampling loop: integer maths only, no allocation. Drivers receive pins/ADCs/clocks
# from the board; they never import `machine`.
import time

from acu import ticks

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

FAULT_NONE = const(0)
FAULT_OPEN = const(1)       # divider node at the bottom rail: sensor unplugged / wire broken
FAULT_SHORT = const(2)      # node at the top rail (shorted sensor) / HX711 saturated
FAULT_NOT_READY = const(3)  # HX711 gave no conversion for too long (unpowered, DOUT wire broken)

FAULT_NAMES = ("none", "open", "short", "not_ready")

# Rail thresholds in read_u16 units (65535 ~ 3300 mV). An unloaded sensor reads ~213 mV (~4230) thanks to
# the bleed resistor (electrical.md); an unplugged one reads 0 V, which the ESP32 clips to 0. 200 (~10 mV)
# is far below the unloaded level even with the ~150 mV ADC floor. The FSR node can never exceed ~2.3 V
# (FSR floor Rs ~150 ohm against R_M 470 ohm), so >= 60000 (~3 V) means a short across the sensor.
OPEN_RAW = const(200)
SHORT_RAW = const(60000)
RAIL_MS = const(100)        # a rail must persist this long before it is a fault (no flicker on spikes)


class _TimeClock:
    # Fallback when a board passes no clock (MicroPython only: time.ticks_ms).
    def ticks_ms(self):
        # the stubs make ticks opaque (_TicksMs); on the port it is a small int, masked to ticks.PERIOD
        return time.ticks_ms() & (ticks.PERIOD - 1)  # type: ignore[operator]


class FsrAdc:
    """FSR 402/406 or FlexiForce A201 in a voltage divider on an ADC1 pin.

    adc: a configured machine.ADC (the board sets the attenuation, 11 dB by default); read with read_u16().
    kind: 'fsr402', 'fsr406' or 'a201' (selects the nominal calibration; informational here).
    oversample: reads averaged per read_raw() (ESP32 ADC noise is several to ~25 LSB; 8 reads ~ 0.3 ms).
    power_pin: optional machine.Pin driving the divider's top; driven high only while sampling
        (pulse powering: the divider draws ~2-7 mA under load when powered continuously).
    clock: board clock (hw.clock) used to time the rail before reporting a fault.
    open_raw/short_raw/rail_ms: fault thresholds (see module constants).
    r_m_ohm: the measuring resistor fitted on the board (informational; the calibration carries the curve).
    read_raw() returns the averaged reading in read_u16 units: it grows with force (FSR conductance rises).
    """

    def __init__(self, adc, kind="fsr402", oversample=8, power_pin=None, clock=None,
                 open_raw=OPEN_RAW, short_raw=SHORT_RAW, rail_ms=RAIL_MS, r_m_ohm=470):
        if oversample < 1 or oversample > 64:
            raise ValueError("oversample must be 1..64")
        self.kind = kind
        self.r_m_ohm = r_m_ohm
        self._adc = adc
        self._n = oversample
        self._power = power_pin
        self._clock = clock if clock is not None else _TimeClock()
        self._open_raw = open_raw
        self._short_raw = short_raw
        self._rail_ms = rail_ms
        self._last = 0
        self._rail = FAULT_NONE     # which rail the last reading sat on
        self._rail_since = 0
        self._fault = FAULT_NONE
        if power_pin is not None:
            power_pin.value(0)

    def read_raw(self):
        p = self._power
        if p is not None:
            p.value(1)  # the divider settles in well under a microsecond (470 ohm, pF of ADC input)
        adc = self._adc
        total = 0
        for _ in range(self._n):
            total += adc.read_u16()
        if p is not None:
            p.value(0)
        raw = (total + (self._n >> 1)) // self._n
        self._last = raw
        # Rail detection with a persistence time.
        if raw <= self._open_raw:
            rail = FAULT_OPEN
        elif raw >= self._short_raw:
            rail = FAULT_SHORT
        else:
            rail = FAULT_NONE
        now = self._clock.ticks_ms()
        if rail != self._rail:
            self._rail = rail
            self._rail_since = now
            if rail == FAULT_NONE:
                self._fault = FAULT_NONE
        elif rail != FAULT_NONE and ticks.diff(now, self._rail_since) >= self._rail_ms:
            self._fault = rail
        return raw

    def fault(self):
        return self._fault

    def last_raw(self):
        return self._last


class Hx711:
    """Load cell through an HX711, bit-banged (DOUT in, PD_SCK out), non-blocking.

    read_raw() returns signed 24-bit counts of the latest conversion: a new one is shifted out when DOUT
    is low (data ready), otherwise the previous value is returned at once (the HX711 converts at 10 or
    80 samples/s, slower than the loop). gain: 128 (channel A, 25 pulses), 64 (A, 27) or 32 (B, 26).
    fault() is FAULT_NOT_READY when no conversion arrived for not_ready_ms (default 250 ms, i.e. two
    missed samples at 10 SPS), FAULT_SHORT when the ADC is saturated (0x7FFFFF / 0x800000).
    Tare is not done here (the calibration's zero and acu.signal's zero tracking do it).
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
        self._clock = clock if clock is not None else _TimeClock()
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


class PinButton:
    """A push button on a GPIO: pressed() -> bool (raw level; acu.button debounces).
    active_low: the usual wiring to GND with the internal pull-up (the BOOT button on GPIO0)."""

    def __init__(self, pin, active_low=True):
        self._pin = pin
        self._active = 0 if active_low else 1

    def pressed(self):
        return self._pin.value() == self._active


class BatteryAdc:
    """Battery voltage through a resistor divider on an ADC1 pin: read_mv() -> int.
    ratio_num/ratio_den: divider ratio (100k/100k halves the cell voltage: 2/1). Uses read_uv() (the
    ESP32's eFuse-calibrated reading) when the ADC has it, else read_u16() against 3300 mV."""

    def __init__(self, adc, ratio_num=2, ratio_den=1):
        self._adc = adc
        self._num = ratio_num
        self._den = ratio_den
        self._uv = hasattr(adc, "read_uv")

    def read_mv(self):
        if self._uv:
            mv = self._adc.read_uv() // 1000
        else:
            mv = self._adc.read_u16() * 3300 // 65535
        return mv * self._num // self._den
