# Force-sensor drivers. acu.parts builds one from the board's PARTS; the app gets it as `hw.sensor`.
# Interface (docs/architecture.md): `.kind`, `.read_raw() -> int`, `.fault() -> int` (a FAULT_* code).
# Both calls run in the sampling loop: integer maths only, no allocation. Drivers receive pins/ADCs/clocks
# from the board; they never import `machine`. The HX711 driver is in acu.hx711 (only load-cell boards load
# it); it shares the FAULT_* codes below.
from acu import ticks
from acu.hw import RealClock

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
# the bleed resistor (docs/hardware.md); an unplugged one reads 0 V, which the ESP32 clips to 0. 200 (~10 mV)
# is far below the unloaded level even with the ~150 mV ADC floor. The FSR node can never exceed ~2.3 V
# (FSR floor Rs ~150 ohm against R_M 470 ohm), so >= 60000 (~3 V) means a short across the sensor.
_OPEN_RAW = const(200)
_SHORT_RAW = const(60000)
_RAIL_MS = const(100)        # a rail must persist this long before it is a fault (no flicker on spikes)


class FsrAdc:
    """FSR 402/406 or FlexiForce A201 in a voltage divider on an ADC1 pin.

    adc: a configured machine.ADC (the board sets the attenuation, 11 dB by default); read with read_u16().
    kind: 'fsr402', 'fsr406' or 'a201' (selects the nominal calibration; informational here).
    oversample: reads averaged per read_raw() (ESP32 ADC noise is several to ~25 LSB; 8 reads ~ 0.3 ms).
    power_pin: optional machine.Pin driving the divider's top; driven high only while sampling
        (pulse powering: the divider draws ~2-7 mA under load when powered continuously).
    clock: board clock (hw.clock) used to time the rail before reporting a fault.
    open_raw/short_raw/rail_ms: fault thresholds (see module constants).
    r_m_ohm, r_bleed_ohm: the measuring and bleed resistors fitted (the board's PARTS); informational here,
        the calibration carries the curve.
    read_raw() returns the averaged reading in read_u16 units: it grows with force (FSR conductance rises).
    """

    def __init__(self, adc, kind="fsr402", oversample=8, power_pin=None, clock=None,
                 open_raw=_OPEN_RAW, short_raw=_SHORT_RAW, rail_ms=_RAIL_MS, r_m_ohm=470, r_bleed_ohm=6800):
        if oversample < 1 or oversample > 64:
            raise ValueError("oversample must be 1..64")
        self.kind = kind
        self.r_m_ohm = r_m_ohm
        self.r_bleed_ohm = r_bleed_ohm
        self.adc = adc
        self._n = oversample
        self.power_pin = power_pin
        self._clock = clock if clock is not None else RealClock()  # no board clock: time.ticks_ms
        self.open_raw = open_raw
        self.short_raw = short_raw
        self.rail_ms = rail_ms
        self._last = 0
        self._rail = FAULT_NONE     # which rail the last reading sat on
        self._rail_since = 0
        self._fault = FAULT_NONE
        if power_pin is not None:
            power_pin.value(0)

    def read_raw(self):
        p = self.power_pin
        if p is not None:
            p.value(1)  # the divider settles in well under a microsecond (470 ohm, pF of ADC input)
        adc = self.adc
        total = 0
        for _ in range(self._n):
            total += adc.read_u16()
        if p is not None:
            p.value(0)
        raw = (total + (self._n >> 1)) // self._n
        self._last = raw
        # Rail detection with a persistence time.
        if raw <= self.open_raw:
            rail = FAULT_OPEN
        elif raw >= self.short_raw:
            rail = FAULT_SHORT
        else:
            rail = FAULT_NONE
        now = self._clock.ticks_ms()
        if rail != self._rail:
            self._rail = rail
            self._rail_since = now
            if rail == FAULT_NONE:
                self._fault = FAULT_NONE
        elif rail != FAULT_NONE and ticks.diff(now, self._rail_since) >= self.rail_ms:
            self._fault = rail
        return raw

    def fault(self):
        return self._fault

    def last_raw(self):
        return self._last


class PinButton:
    """A push button on a GPIO: pressed() -> bool (raw level; acu.button debounces).
    active_low: the usual wiring to GND with the internal pull-up (the BOOT button on GPIO0).
    A board that wires it to wake the chip from deep sleep sets its `wake` (PARTS "wake", acu.power)."""

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
        self.adc = adc
        self.ratio_num = ratio_num
        self.ratio_den = ratio_den
        self._uv = hasattr(adc, "read_uv")

    def read_mv(self):
        if self._uv:
            mv = self.adc.read_uv() // 1000
        else:
            mv = self.adc.read_u16() * 3300 // 65535
        return mv * self.ratio_num // self.ratio_den

