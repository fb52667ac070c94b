# Calibration on the device (format: docs/calibration.md): the validated Calibration the app keeps, with
# the allocation-free raw -> grams evaluation and creep compensation. grams() and CreepComp.adjust() run
# every loop iteration: integer maths on preallocated arrays only, with every intermediate product kept
# below 2**29 so it stays a small int on the ESP32 (31-bit small ints).
# The format's validation, the nominal curves (floats, math) and load() live in acu.calib_parse, loaded
# only while a calibration is read or a board is built and dropped after; every name of it is reachable
# here too (calib.nominal, calib.KINDS, calib._DIVIDER...): __getattr__ at the end forwards them.
if False:  # for mypy only (MicroPython compiles this block away)
    from array import array


def _parser(fn_name):
    """(function from acu.calib_parse, whether this call loaded the module)."""
    import sys
    had = "acu.calib_parse" in sys.modules
    from acu import calib_parse
    return getattr(calib_parse, fn_name), not had


def _call(fn_name, *args):
    fn, loaded = _parser(fn_name)
    try:
        return fn(*args)
    finally:
        if loaded:
            import acu
            acu.forget("calib_parse")


class CreepComp:
    """Undo FSR creep during a long hold: adjust(force_g, hold_ms) -> force_g / (1 + c*log10(t/ref)).

    pct_per_decade: measured creep rate (% of force per decade of hold time); ref_s: the hold time at
    which the calibration points were captured (no correction before it). adjust() allocates nothing.
    """

    def __init__(self, pct_per_decade, ref_s=2.0):
        self.pct_per_decade = pct_per_decade
        self.ref_s = ref_s
        self._c_q = int(pct_per_decade * 100 + 0.5)   # 1e-4 per decade
        self._ref_ms = int(ref_s * 1000)
        if self._ref_ms < 1:
            self._ref_ms = 1
        self._ref_l2 = _log2_q(self._ref_ms)

    def factor_q(self, hold_ms):
        """Reading / true force at this hold time, in 1e-4 (10000 = no creep)."""
        if hold_ms <= self._ref_ms:
            return 10000
        if hold_ms > 1 << 28:
            hold_ms = 1 << 28
        # log10(t/ref) in 1e-4 decades = (log2 diff / 4096) * 0.30103 * 1e4
        l10 = ((_log2_q(hold_ms) - self._ref_l2) * 3010) >> 12
        return 10000 + (self._c_q * l10) // 10000

    def adjust(self, force_g, hold_ms):
        if force_g <= 0:
            return force_g
        if force_g > 100000:
            force_g = 100000
        return (force_g * 10000) // self.factor_q(hold_ms)


def _log2_q(x):
    """log2(x) * 4096 for an int x >= 1 (small ints only; error < 0.01 octave)."""
    k = 0
    y = x
    while y >= 256:
        y >>= 1
        k += 1
    while y < 128:
        y <<= 1
        k -= 1
    m = y - 128
    return (k + 7) * 4096 + ((m * 4096 + m * (128 - m) * 11) >> 7)


class Calibration:
    """A validated calibration. grams(raw) -> int is allocation-free."""

    # grams()'s integer tables, set by acu.calib_parse._build (bare annotations: no code, no attributes)
    _rs: int
    _lo: int
    _hi: int
    _n: int
    _r: "array[int]"
    _g: "array[int]"
    _q: "array[int]"
    _s: "array[int]"

    def __init__(self):
        self.id = ""
        self.created = ""
        self.sensor = ""
        self.method = ""
        self.calibrated = False
        self.zero_raw = 0
        self.creep = None          # CreepComp or None
        self.points = None
        self.load_error = None     # set by load() when it fell back to the nominal curve

    @classmethod
    def from_dict(cls, d):
        """A validated Calibration from the JSON dict; ValueError("calib: <field>: <problem>")."""
        return _call("from_dict", cls, d)

    def grams(self, raw):
        """Force in grams for a raw reading (may be negative below the zero point). No allocation."""
        x = raw >> self._rs
        if x < self._lo:
            x = self._lo
        elif x > self._hi:
            x = self._hi
        r = self._r
        n = self._n
        if x <= r[0]:
            i = 0
        elif x >= r[n - 1]:
            i = n - 2
        else:
            lo = 0
            hi = n - 1
            while hi - lo > 1:
                mid = (lo + hi) >> 1
                if r[mid] <= x:
                    lo = mid
                else:
                    hi = mid
            i = lo
        sh = self._s[i]
        p = (x - r[i]) * self._q[i]
        if sh:
            p = (p + (1 << (sh - 1))) >> sh
        return self._g[i] + p

    def to_dict(self):
        return _call("to_dict", self)


def nominal(kind):
    """The calibration dict for an uncalibrated part of this kind in the electrical.md circuit."""
    return _call("nominal", kind)


def load(path_primary="/cfg/calib.json", nominal_dict=None):
    """The calibration in path_primary, or the nominal one when it is missing, bad or for another sensor.

    The returned Calibration's load_error says why the file was not used (None when it was).
    """
    return _call("load", path_primary, nominal_dict)


def __getattr__(name):
    # the format's constants and validators (host, tests): acu.calib_parse on demand
    from acu import calib_parse
    try:
        return getattr(calib_parse, name)
    except AttributeError:
        raise AttributeError(name) from None
