# Calibration on the device (format: docs/calibration.md): the validated Calibration the app keeps, with
# the allocation-free raw -> grams evaluation (creep compensation: acu.creep, loaded only for a
# calibration that has it). grams() and CreepComp.adjust() run every loop iteration: integer maths on
# preallocated arrays only, with every intermediate product kept below 2**29 so it stays a small int on
# the ESP32 (31-bit small ints).
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
        self.creep = None          # acu.creep.CreepComp or None
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
    # creep compensation (acu.creep, loaded only for a calibration that has it); the format's constants
    # and validators (host, tests): acu.calib_parse on demand
    if name == "CreepComp":
        from acu import creep
        return creep.CreepComp
    from acu import calib_parse
    try:
        return getattr(calib_parse, name)
    except AttributeError:
        raise AttributeError(name) from None
