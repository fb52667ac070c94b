# Simulated force sensors: each seeded part is a different physical part (docs/sensors.md).
# Runs inside the simulator's MicroPython firmware process (the fake machine.ADC / Pin call it) and
# imports under CPython for the bench and the host tests.
#
# Hot-path rule: adc_u16(), counts(), hx711.sck()/dout() run in the firmware's sampling loop, so they
# must not allocate. All float work happens at construction (lookup tables of the part's transfer
# curve); at run time only small-int maths: table interpolation, integer creep/hysteresis state and an
# xorshift PRNG for noise. tests/device/test_simsensors.py proves it with micropython.heap_lock().
import math
from array import array

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

KINDS = ("fsr402", "fsr406", "a201", "loadcell")

_MASK30 = const((1 << 30) - 1)
_HALF30 = const(1 << 29)
_M32 = const(0xFFFFFFFF)
STEP_G = const(10)            # force step of the transfer tables
LC_STEP_G = const(100)        # load-cell table step
TABLE_MAX_G = const(25000)    # tables cover 0..25 kg; above, the last value holds
_PPM = const(1000000)
PRESS_ON_G = const(100)       # a press starts above this (new per-press repeatability draw)
PRESS_OFF_G = const(50)       # ...and ends below this
HOLD_WINDOW_PM = const(80)    # creep clock restarts when the load moves more than 8 % from its hold level
HOLD_WINDOW_MIN_G = const(150)
CREEP_TAU_MS = const(1000)    # creep grows as log10(1 + t / tau)

# Nominal circuit (docs/electrical contract): supply, measuring and bleed resistors per kind.
V_S_MV = 3300
CIRCUITS = {
    "fsr402": (470.0, 6800.0),
    "fsr406": (470.0, 6800.0),
    "a201": (22000.0, 330000.0),
}
# Typical part (mean of the spread): R = Rs + K * F^-n, F in newtons (FIELD_NOTES "Sensors").
TYPICAL = {
    "fsr402": {"rs_ohm": 150.0, "k": 5850.0, "n": 0.84},
    "fsr406": {"rs_ohm": 120.0, "k": 7000.0, "n": 0.80},   # assumption: larger area, same ink
    "a201": {"rs_ohm": 0.0, "k": 1.665e6, "n": 1.0},       # ~15 kOhm at 111 N, conductance ~ linear
}
LOADCELL_COUNTS_PER_G = 214.8   # 20 kg 2 mV/V cell, 3.3 V excitation, HX711 gain 128 (+-12.9 mV FS)
_G_N = 0.00980665               # newtons per gram


def _diff(a, b):
    return ((a - b + _HALF30) & _MASK30) - _HALF30


class _Rng:
    """Deterministic float PRNG for construction only (same sequence under CPython and MicroPython)."""

    def __init__(self, seed):
        self.x = (seed * 2654435761 + 0x9E3779B9) & _M32 or 1
        for _ in range(8):
            self.u32()

    def u32(self):
        x = self.x
        x ^= (x << 13) & _M32
        x ^= x >> 17
        x ^= (x << 5) & _M32
        self.x = x
        return x

    def uniform(self, a, b):
        return a + (b - a) * ((self.u32() >> 8) + 0.5) / 16777216.0

    def gauss(self, sigma):
        u1 = ((self.u32() >> 8) + 0.5) / 16777216.0
        u2 = ((self.u32() >> 8) + 0.5) / 16777216.0
        return sigma * math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def _log2_q(x):
    """log2(x) * 4096 for an int x >= 1, small-int maths only (no allocation)."""
    k = 0
    y = x
    while y >= 256:
        y >>= 1
        k += 1
    while y < 128:
        y <<= 1
        k -= 1
    # y in [128, 256): log2(y/128) ~ linear-corrected approximation, error < 0.01 octave
    m = y - 128  # 0..127
    frac = (m * 4096 + m * (128 - m) * 11) >> 7  # log2(1+t) ~ t + 0.34 t(1-t), t = m/128
    return (k + 7) * 4096 + frac


class _Noise:
    """xorshift32 noise, small ints only. sym(sigma) ~ approx. normal (Irwin-Hall of 4 bytes)."""

    def __init__(self, seed):
        self.x = (seed * 747796405 + 2891336453) & _M32 or 1

    def next(self):
        x = self.x
        x ^= (x << 13) & _M32
        x ^= x >> 17
        x ^= (x << 5) & _M32
        self.x = x
        return x

    def normal(self, sigma):
        x = self.next()
        s = (x & 255) + ((x >> 8) & 255) + ((x >> 16) & 255) + (x >> 24) - 510
        return (s * sigma) // 148  # the sum's std is ~147.8

    def sym(self, half):
        """Uniform integer in [-half, half]."""
        return (self.next() % (2 * half + 1)) - half


class _DividerPart:
    """FSR 402/406 or FlexiForce A201 in the divider of docs/hardware.md, read by an ESP32-like ADC."""

    def __init__(self, kind, seed, spread=True):
        self.kind = kind
        self.seed = seed
        rng = _Rng(seed * 7919 + KINDS.index(kind) + 1)
        s = 1.0 if spread else 0.0
        typ = TYPICAL[kind]
        r_m, r_b = CIRCUITS[kind]
        fsr = kind != "a201"
        # the sensor
        self.rs_ohm = max(0.0, typ["rs_ohm"] + rng.gauss(10.0 * s if fsr else 0.0))
        self.k = typ["k"] * math.exp(rng.gauss(0.08 * s))
        self.n = typ["n"] + rng.uniform(-0.05, 0.05) * s if fsr else typ["n"] + rng.uniform(-0.02, 0.02) * s
        self.lin_pct = 0.0 if fsr else rng.uniform(-3.0, 3.0) * s   # A201 linearity +-3 %
        self.rep_pct = 2.0 if fsr else 2.5          # per-press repeatability (uniform +-)
        self.hyst_pct = (10.0 + rng.uniform(-2.0, 2.0) * s) if fsr else (3.5 + rng.uniform(-1.0, 1.0) * s)
        self.creep_pct_decade = rng.uniform(2.0, 4.5) if spread else 3.2
        self.tc_pct_per_c = rng.uniform(-0.3, 0.3) * s
        # the circuit (1 % resistors, 3V3 rail +-1 %)
        self.r_m_ohm = r_m * (1.0 + rng.gauss(0.004 * s))
        self.r_b_ohm = r_b * (1.0 + rng.gauss(0.004 * s))
        self.v_s_mv = V_S_MV * (1.0 + rng.gauss(0.004 * s))
        # the ADC (ESP32, 11 dB): gain/offset error, clip floor, compression knee, saturation
        self.adc_gain_err = rng.gauss(0.015 * s)
        self.adc_offset_mv = rng.gauss(12.0 * s)
        self.adc_clip_mv = 150.0 + rng.uniform(-20.0, 20.0) * s
        self.adc_knee_mv = 2450.0
        self.adc_sat_mv = 3150.0 + rng.uniform(-50.0, 80.0) * s
        self.adc_noise_lsb = rng.uniform(4.0, 8.0) if spread else 6.0   # 12-bit LSB, std per read
        self.temp_c = 25
        # run-time state (small ints)
        n_tab = TABLE_MAX_G // STEP_G + 1
        self._tab = array("H", bytes(2 * n_tab))   # no temporary list (small heaps)
        for i in range(n_tab):
            self._tab[i] = self._code(self.node_mv(i * STEP_G))
        self._n_tab = n_tab
        self._noise = _Noise(seed + 12345)
        self._noise_u16 = int(self.adc_noise_lsb * 16)
        self._rep_half_ppm = int(self.rep_pct * 10000)
        self._hyst_ppm = int(self.hyst_pct * 10000)
        self._creep_ppm = int(self.creep_pct_decade * 10000)
        self._temp_ppm = 0
        self._pressed = 0
        self._rep_ppm = 0
        self._peak_g = 0
        self._hold_ref_g = 0
        self._hold_t0 = 0
        self._fault = 0
        self.force_g = 0
        self._force_fn = None
        self.hx711 = None

    # ---- physics (floats: construction and tests only) ----
    def resistance_ohm(self, force_g):
        """The sensor's resistance at a force (typical curve of this part, no dynamics)."""
        if force_g <= 0:
            return 1e12
        f_n = force_g * _G_N
        r = self.rs_ohm + self.k * f_n ** (-self.n)
        if self.lin_pct:
            x = min(f_n / 111.0, 1.0)
            r = r / (1.0 + self.lin_pct / 100.0 * 4.0 * x * (1.0 - x))
        return r

    def node_mv(self, force_g):
        r = self.resistance_ohm(force_g)
        r_par = r * self.r_b_ohm / (r + self.r_b_ohm)
        return self.v_s_mv * self.r_m_ohm / (self.r_m_ohm + r_par)

    def _code(self, v_mv):
        """ADC transfer: mV at the pin -> read_u16 code (no noise)."""
        if v_mv < self.adc_clip_mv:
            return 0
        if v_mv >= self.adc_sat_mv:
            return 65535
        v = v_mv
        if v > self.adc_knee_mv:  # compression above the knee: slope falls linearly to 1/2
            x = v - self.adc_knee_mv
            v = self.adc_knee_mv + x * (1.0 - x / (4.0 * (self.adc_sat_mv - self.adc_knee_mv)))
        c = (v * (1.0 + self.adc_gain_err) + self.adc_offset_mv) * 65535.0 / 3300.0
        return max(0, min(65535, int(c + 0.5)))

    def ideal_u16(self, force_g):
        """Noise-free, dynamics-free reading at a force (for tests and docs)."""
        return self._code(self.node_mv(force_g))

    def params(self):
        return {
            "kind": self.kind, "seed": self.seed, "model": "R = Rs + K*F^-n (F in N)",
            "rs_ohm": round(self.rs_ohm, 2), "k": round(self.k, 2), "n": round(self.n, 4),
            "linearity_pct": round(self.lin_pct, 3),
            "repeatability_pct": self.rep_pct, "hysteresis_pct": round(self.hyst_pct, 3),
            "creep_pct_per_decade": round(self.creep_pct_decade, 3), "creep_tau_s": CREEP_TAU_MS / 1000,
            "temp_coeff_pct_per_c": round(self.tc_pct_per_c, 4), "temp_c": self.temp_c,
            "r_m_ohm": round(self.r_m_ohm, 2), "r_b_ohm": round(self.r_b_ohm, 1),
            "v_s_mv": round(self.v_s_mv, 1),
            "adc_gain_err_pct": round(self.adc_gain_err * 100, 3),
            "adc_offset_mv": round(self.adc_offset_mv, 2),
            "adc_clip_mv": round(self.adc_clip_mv, 1), "adc_knee_mv": self.adc_knee_mv,
            "adc_sat_mv": round(self.adc_sat_mv, 1), "adc_noise_lsb": round(self.adc_noise_lsb, 2),
            "unloaded_u16": self._tab[0],
        }

    # ---- settings (not hot) ----
    def set_temp_c(self, temp_c):
        """Ambient temperature; the calibration reference is 25 C."""
        self.temp_c = temp_c
        self._temp_ppm = int(self.tc_pct_per_c * 10000 * (temp_c - 25))

    def set_fault(self, fault):
        """0 ok, 1 unplugged (reads 0), 2 shorted (reads the top rail)."""
        self._fault = fault

    def set_force(self, force_g):
        self.force_g = int(force_g)

    def attach_force(self, fn):
        self._force_fn = fn

    # ---- hot path ----
    def adc_u16(self, force_g, now_ms):
        """One ADC read (read_u16 units) with the simulated force on the tip. No allocation."""
        if self._fault:
            return 0 if self._fault == 1 else 65535
        f = int(force_g)
        if f < 0:
            f = 0
        # press detection: a new press draws a new repeatability factor
        if self._pressed:
            if f < PRESS_OFF_G:
                self._pressed = 0
                self._peak_g = 0
        elif f >= PRESS_ON_G:
            self._pressed = 1
            self._rep_ppm = self._noise.sym(self._rep_half_ppm)
            self._peak_g = f
            self._hold_ref_g = f
            self._hold_t0 = now_ms
        m = _PPM + self._temp_ppm
        if self._pressed:
            m += self._rep_ppm
            # creep: the clock restarts when the load leaves its hold window
            d = f - self._hold_ref_g
            if d < 0:
                d = -d
            w = (self._hold_ref_g * HOLD_WINDOW_PM) // 1000
            if w < HOLD_WINDOW_MIN_G:
                w = HOLD_WINDOW_MIN_G
            if d > w:
                self._hold_ref_g = f
                self._hold_t0 = now_ms
            t = _diff(now_ms, self._hold_t0)
            if t > 0:
                # log10(1 + t/tau) * 1e6 = log2(...) * 301030 ; _log2_q is log2 * 4096
                lq = _log2_q(t + CREEP_TAU_MS) - _log2_q(CREEP_TAU_MS)
                m += (self._creep_ppm * ((lq * 301030) >> 12)) // _PPM
            # hysteresis: reads high while unloading from the peak, most at half the peak
            pk = self._peak_g
            if f > pk:
                self._peak_g = f
            elif pk > 0:
                x = (f * 1000) // pk
                if x < 980:
                    m += (self._hyst_ppm * 4 * x * (1000 - x)) // _PPM
        fe = (f * m) // _PPM
        i = fe // STEP_G
        tab = self._tab
        if i >= self._n_tab - 1:
            c = tab[self._n_tab - 1]
        else:
            c0 = tab[i]
            c = c0 + ((tab[i + 1] - c0) * (fe - i * STEP_G)) // STEP_G
        if c == 0:
            return 0  # below the ADC floor: the ESP32 reads a flat 0
        if c >= 65535:
            return 65535
        c += self._noise.normal(self._noise_u16)
        if c < 0:
            return 0
        if c > 65535:
            return 65535
        return c


class Hx711Wire:
    """The HX711's two-wire protocol as seen from a bit-banged driver (ms-resolution virtual clock).

    dout(now_ms): 1 while converting; 0 when a conversion is ready (at the part's 10/80 Hz rate).
    sck(level, now_ms): each rising edge shifts the next bit (MSB first) onto DOUT; after 24 bits the
    25th/26th/27th pulse sets DOUT high and selects gain 128 (A) / 32 (B) / 64 (A) for the next
    conversion. SCK held high >= POWER_DOWN_MS powers the chip down; the next falling edge resets it
    (settling: data ready after 4 conversion periods, like the real chip).
    """

    POWER_DOWN_MS = 5  # real chip: 60 us; a ms clock cannot resolve that, and a read never takes 5 ms

    def __init__(self, cell):
        self._cell = cell
        self.period_ms = 1000 // cell.rate_hz
        self._rate = cell.rate_hz
        self._rem = 1000 % cell.rate_hz
        self._frac = 0
        self._sck = 0
        self._rise_ms = 0
        self._pulses = 0
        self._bit = 1
        self._ready = 0
        self._latched = 0
        self._gain_pulses = 25
        self._next_ms = None   # first conversion scheduled on first use
        self.conversions = 0

    def _update(self, now_ms):
        nx = self._next_ms
        if nx is None:
            # first use: the chip has been converting since the board powered up
            self._next_ms = (now_ms + self.period_ms) & _MASK30
            return
        d = _diff(now_ms, nx)
        if d < 0:
            return
        # conversions done: keep the newest. The period is 1000/rate ms exactly on average (80 SPS:
        # 12 or 13 ms), carried by a remainder accumulator.
        p = self.period_ms
        if d > 16 * p:
            nx = (now_ms - (d % p)) & _MASK30
        while _diff(now_ms, nx) >= 0:
            nx += p
            self._frac += self._rem
            if self._frac >= self._rate:
                self._frac -= self._rate
                nx += 1
        self._next_ms = nx & _MASK30
        cell = self._cell
        f = cell.force_g if cell._force_fn is None else cell._force_fn()
        g = self._gain_pulses
        if g == 26:
            v = cell._noise.normal(cell._noise_counts)   # channel B: nothing connected
        else:
            v = cell.counts(f, now_ms)
            if g == 27:
                v >>= 1    # gain 64
        self._latched = v & 0xFFFFFF
        self._ready = 1
        self.conversions += 1

    def dout(self, now_ms):
        n = self._pulses
        if 0 < n <= 24:
            return self._bit
        if n >= 25:
            self._gain_pulses = n if n <= 27 else 27
            self._pulses = 0
        self._update(now_ms)
        return 0 if self._ready else 1

    def sck(self, level, now_ms):
        if level:
            if not self._sck:
                self._sck = 1
                self._rise_ms = now_ms
                n = self._pulses + 1
                if n > 27:
                    n = 27
                self._pulses = n
                if n <= 24:
                    self._bit = (self._latched >> (24 - n)) & 1
                else:
                    self._bit = 1
                    self._ready = 0
        elif self._sck:
            self._sck = 0
            if _diff(now_ms, self._rise_ms) >= self.POWER_DOWN_MS:
                # power down then up: reset to gain 128 and restart conversions
                self._pulses = 0
                self._gain_pulses = 25
                self._ready = 0
                self._bit = 1
                self._next_ms = (now_ms + 4 * self.period_ms) & _MASK30


class _LoadCellPart:
    """Strain-gauge load cell on an HX711 (channel A, gain 128): linear, small noise, 10 or 80 SPS."""

    def __init__(self, seed, rate_hz=10, spread=True):
        self.kind = "loadcell"
        self.seed = seed
        self.rate_hz = rate_hz
        rng = _Rng(seed * 7919 + 4)
        s = 1.0 if spread else 0.0
        self.counts_per_g = LOADCELL_COUNTS_PER_G * (1.0 + rng.gauss(0.03 * s))
        self.offset_counts = int(rng.gauss(100000.0 * s))
        self.nonlin_pct = rng.uniform(-0.03, 0.03) * s     # of full scale, parabolic
        self.noise_counts = (40.0 if rate_hz <= 10 else 110.0) * (1.0 + rng.uniform(-0.2, 0.2) * s)
        self.tc_offset_counts_per_c = rng.uniform(-20.0, 20.0) * s
        self.temp_c = 25
        # counts table in 100 g steps (the float work is done here; the bow is smooth)
        n_tab = TABLE_MAX_G // LC_STEP_G + 1
        self._tab = array("i", bytes(4 * n_tab))
        for i in range(n_tab):
            self._tab[i] = int(self.ideal_counts(i * LC_STEP_G) - self.offset_counts + 0.5)
        self._n_tab = n_tab
        self._slope_q = int(self.counts_per_g * 65536)     # beyond the table
        self._offset = self.offset_counts
        self._noise = _Noise(seed + 54321)
        self._noise_counts = int(self.noise_counts)
        self._fault = 0
        self.force_g = 0
        self._force_fn = None
        self.hx711 = Hx711Wire(self)

    def ideal_counts(self, force_g):
        x = force_g / 20000.0
        return (self.offset_counts + self.counts_per_g * force_g
                + self.nonlin_pct / 100.0 * 4.0 * x * (1.0 - x) * 20000.0 * self.counts_per_g)

    def params(self):
        return {
            "kind": "loadcell", "seed": self.seed, "model": "counts = offset + k*F (+ small bow)",
            "rate_hz": self.rate_hz, "counts_per_g": round(self.counts_per_g, 3),
            "offset_counts": self.offset_counts, "nonlinearity_pct_fs": round(self.nonlin_pct, 4),
            "noise_counts": round(self.noise_counts, 1),
            "tc_offset_counts_per_c": round(self.tc_offset_counts_per_c, 2), "temp_c": self.temp_c,
            "full_scale_g": 20000,
        }

    def set_temp_c(self, temp_c):
        self.temp_c = temp_c
        self._offset = self.offset_counts + int(self.tc_offset_counts_per_c * (temp_c - 25))

    def set_fault(self, fault):
        self._fault = fault

    def set_force(self, force_g):
        self.force_g = int(force_g)

    def attach_force(self, fn):
        """fn() -> force in grams (the simulator's hand); the HX711 samples it at each conversion."""
        self._force_fn = fn

    def counts(self, force_g, now_ms):
        """One conversion (signed 24-bit counts, saturating like the HX711). No allocation."""
        if self._fault:
            return 8388607 if self._fault == 2 else -8388608
        f = int(force_g)
        if f < 0:
            f = 0
        i = f // LC_STEP_G
        tab = self._tab
        if i >= self._n_tab - 1:
            c = tab[self._n_tab - 1] + ((f - (self._n_tab - 1) * LC_STEP_G) * self._slope_q >> 16)
        else:
            c0 = tab[i]
            c = c0 + ((tab[i + 1] - c0) * (f - i * LC_STEP_G)) // LC_STEP_G
        c += self._offset + self._noise.normal(self._noise_counts)
        if c > 8388607:
            return 8388607
        if c < -8388608:
            return -8388608
        return c

    def adc_u16(self, force_g, now_ms):
        return 0  # a load-cell board has nothing on the force ADC pin


def make_part(kind, seed, spread=True, rate_hz=10):
    """A simulated part: kind in KINDS, seed selects the individual part (spread=False: the typical one)."""
    if kind == "loadcell":
        return _LoadCellPart(seed, rate_hz, spread)
    if kind in CIRCUITS:
        return _DividerPart(kind, seed, spread)
    raise ValueError("unknown sensor kind: %s" % kind)
