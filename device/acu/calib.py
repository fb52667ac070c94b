# Calibration on the device (format: docs/calibration.md): the validated Calibration the app keeps, with
# the allocation-free raw -> grams evaluation (creep compensation: acu.creep, loaded only for a
# calibration that has it). grams() and CreepComp.adjust() run every loop iteration: integer maths on
# preallocated arrays only, with every intermediate product kept below 2**29 so it stays a small int on
# the ESP32 (31-bit small ints).
# The format itself (validation, its constants, the nominal curves: floats, math) is acu.calib_parse. The
# functions below load it for their call only (acu.call) and hand it the Calibration class to fill in; it
# never imports this module.
import acu

if False:  # for mypy only (MicroPython compiles this block away)
    from array import array


class Calibration:
    """A validated calibration. grams(raw) -> int is allocation-free."""

    # grams()'s integer tables, which acu.calib_parse.from_dict sets (bare annotations: no code, no attributes)
    raw_shift: int
    raw_lo: int
    raw_hi: int
    knots: int
    knot_raw: "array[int]"
    knot_g: "array[int]"
    slope_q: "array[int]"
    slope_shift: "array[int]"

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
        return acu.call("calib_parse", "from_dict", cls, d)

    def grams(self, raw):
        """Force in grams for a raw reading (may be negative below the zero point). No allocation."""
        x = raw >> self.raw_shift
        if x < self.raw_lo:
            x = self.raw_lo
        elif x > self.raw_hi:
            x = self.raw_hi
        r = self.knot_raw
        n = self.knots
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
        sh = self.slope_shift[i]
        p = (x - r[i]) * self.slope_q[i]
        if sh:
            p = (p + (1 << (sh - 1))) >> sh
        return self.knot_g[i] + p

    def to_dict(self):
        return acu.call("calib_parse", "to_dict", self)


def nominal(kind):
    """The calibration dict for an uncalibrated part of this kind in the hardware.md circuit."""
    return acu.call("calib_parse", "nominal", kind)


def load(path_primary="/cfg/calib.json", nominal_dict=None):
    """The calibration in path_primary, or the nominal one when it is missing, bad or for another sensor.

    The returned Calibration's load_error says why the file was not used (None when it was).
    """
    return acu.call("calib_parse", "load", Calibration, path_primary, nominal_dict)

