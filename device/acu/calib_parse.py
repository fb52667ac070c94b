# The calibration format (docs/calibration.md): validation of /cfg/calib.json into an acu.calib.Calibration,
# the nominal curves of the board's parts and load() with its fallback. Everything that needs floats or
# lists happens here (load time); acu.calib keeps only the loop's integer evaluation. On the device this
# module is loaded for one call of acu.calib's (from_dict, to_dict, nominal, load) and dropped after: those
# hand it the class to fill in, so it never imports acu.calib. The host reads the format's constants here.
import math
from array import array

import acu

from micropython import const


FORMAT = "acu-calib"
VERSION = const(1)
KINDS = ("fsr402", "fsr406", "a201", "loadcell")
_METHODS = const(("pchip-conductance", "power-law", "linear", "nominal"))
_MIN_POINTS = const(2)
MAX_POINTS = const(64)
_MAX_ABS_RAW = const(1 << 24)     # HX711 counts are 24-bit; ADC raw is 0..65535
_MAX_ABS_G = const(200000)
_LIM = const(1 << 29)           # bound for every product in grams()
_RAW_BITS = const(16)           # knot span is pre-shifted to fit this many bits

# Nominal circuit and typical parts (docs/sensors.md; same numbers as the simulator's typical part).
V_S_MV = 3300
DIVIDER = {
    # kind: (R_M ohm, R_B ohm, Rs ohm, K, n) with R = Rs + K * F^-n, F in newtons
    "fsr402": (470.0, 6800.0, 150.0, 5850.0, 0.84),
    "fsr406": (470.0, 6800.0, 120.0, 7000.0, 0.80),
    "a201": (22000.0, 330000.0, 0.0, 1.665e6, 1.0),
}
LOADCELL_COUNTS_PER_G = 214.8
_NOMINAL_G = const((0, 100, 250, 500, 750, 1000, 1500, 2000, 2500, 3000, 3500, 4000, 4500, 5000, 5500,
                    6000, 7000, 8000, 10000, 12000, 15000))


def _err(field, msg):
    return ValueError("calib: %s: %s" % (field, msg))


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v):
    return (isinstance(v, int) or isinstance(v, float)) and not isinstance(v, bool)


def _node_u16(kind, force_g):
    """Nominal divider reading (ideal ADC, 65535 = 3300 mV) at a force."""
    r_m, r_b, rs, k, n = DIVIDER[kind]
    if force_g <= 0:
        r_par = r_b
    else:
        r = rs + k * math.pow(force_g * 0.00980665, -n)
        r_par = r * r_b / (r + r_b)
    v_mv = V_S_MV * r_m / (r_m + r_par)
    return int(v_mv * 65535.0 / V_S_MV + 0.5)


def nominal(kind):
    """The calibration dict for an uncalibrated part of this kind in the hardware.md circuit."""
    if kind == "loadcell":
        # the offset of an uncalibrated cell is unknown: zero tracking (acu.forcefilter) removes it
        pts = [[0, 0], [int(LOADCELL_COUNTS_PER_G * 10000 + 0.5), 10000]]
    elif kind in DIVIDER:
        pts = []
        for g in _NOMINAL_G:
            pts.append([_node_u16(kind, g), g])
    else:
        raise _err("sensor", "unknown kind %r" % (kind,))
    return {
        "format": FORMAT, "version": VERSION, "id": "nominal-" + kind,
        "created": "1970-01-01T00:00:00Z", "sensor": kind, "method": "nominal",
        "zero_raw": pts[0][0], "points": pts, "creep": None,
        "fit": {"note": "datasheet-typical part, ideal ADC"},
    }


def _bitlen(x):
    n = 0
    while x:
        x >>= 1
        n += 1
    return n



def from_dict(cls, d):
    """A validated cls (acu.calib.Calibration) from the JSON dict; ValueError("calib: <field>: <problem>")."""
    if not isinstance(d, dict):
        raise _err("file", "not a JSON object")
    if d.get("format") != FORMAT:
        raise _err("format", "expected %r" % FORMAT)
    if d.get("version") != VERSION:
        raise _err("version", "unsupported %r" % (d.get("version"),))
    cal = cls()
    cid = d.get("id")
    if not isinstance(cid, str) or not cid or len(cid) > 64:
        raise _err("id", "must be a non-empty string of at most 64 characters")
    created = d.get("created")
    if not isinstance(created, str) or len(created) < 10 or created[4] != "-":
        raise _err("created", "must be an ISO date-time string")
    sensor = d.get("sensor")
    if sensor not in KINDS:
        raise _err("sensor", "unknown kind %r" % (sensor,))
    method = d.get("method")
    if method not in _METHODS:
        raise _err("method", "unknown %r" % (method,))
    zero = d.get("zero_raw")
    if not isinstance(zero, int) or isinstance(zero, bool) or abs(zero) >= _MAX_ABS_RAW:
        raise _err("zero_raw", "must be an integer raw reading")
    pts = d.get("points")
    if not isinstance(pts, list) or not (_MIN_POINTS <= len(pts) <= MAX_POINTS):
        raise _err("points", "must be a list of %d..%d [raw, grams] pairs" % (_MIN_POINTS, MAX_POINTS))
    raws = []  # type: list[int]
    grams = []  # type: list[int]
    for i in range(len(pts)):
        p = pts[i]
        if not isinstance(p, list) or len(p) != 2:
            raise _err("points[%d]" % i, "must be [raw, grams]")
        r, g = p
        if not _is_int(r) or abs(r) >= _MAX_ABS_RAW:
            raise _err("points[%d]" % i, "raw must be an integer within +-2**24")
        if not _is_num(g) or g != g or abs(g) > _MAX_ABS_G:
            raise _err("points[%d]" % i, "grams must be a number within +-%d" % _MAX_ABS_G)
        g = int(round(g))
        if i and r <= raws[-1]:
            raise _err("points[%d]" % i, "raw must be strictly increasing")
        if i and g <= grams[-1]:
            raise _err("points[%d]" % i, "grams must be strictly increasing")
        raws.append(r)
        grams.append(g)
    creep = d.get("creep")
    if creep is not None:
        if not isinstance(creep, dict):
            raise _err("creep", "must be null or an object")
        c = creep.get("pct_per_decade")
        ref = creep.get("ref_s")
        if not isinstance(c, (int, float)) or isinstance(c, bool) or not (0 <= c <= 20):
            raise _err("creep.pct_per_decade", "must be a number in 0..20")
        if not isinstance(ref, (int, float)) or isinstance(ref, bool) or not (0 < ref <= 600):
            raise _err("creep.ref_s", "must be a number in (0, 600]")
        from acu.creep import CreepComp  # its own module: loaded only when a calibration has creep
        cal.creep = CreepComp(c, ref)
    cal.id = cid
    cal.created = created
    cal.sensor = sensor
    cal.method = method
    cal.calibrated = method != "nominal"
    cal.zero_raw = zero
    cal.points = [[raws[i], grams[i]] for i in range(len(raws))]
    _build(cal, raws, grams)
    return cal


def _build(self, raws, grams):
    """The integer tables grams() reads (load time)."""
    n = len(raws)
    span = raws[-1] - raws[0]
    rs = _bitlen(span) - _RAW_BITS
    if rs < 0:
        rs = 0
    self.raw_shift = rs
    r = array("i", [v >> rs for v in raws])
    for i in range(1, n):
        if r[i] <= r[i - 1]:
            raise _err("points[%d]" % i, "raw too close to the previous point")
    # extrapolation is limited to one knot span (at least the full ADC range) beyond the ends
    w = max(r[n - 1] - r[0], (1 << 16) >> rs)
    self.raw_lo = r[0] - w
    self.raw_hi = r[n - 1] + w
    q = array("i", [0] * (n - 1))
    s = array("b", [0] * (n - 1))
    for i in range(n - 1):
        dr = r[i + 1] - r[i]
        dg = grams[i + 1] - grams[i]
        dmax = dr
        if i == 0:
            dmax = max(dmax, r[0] - self.raw_lo)
        if i == n - 2:
            dmax = max(dmax, self.raw_hi - r[n - 1])
        sh = 24
        while sh > 0 and dmax * ((dg << sh) // dr + 1) >= _LIM:
            sh -= 1
        qi = ((dg << sh) + dr // 2) // dr
        if dmax * qi >= _LIM or qi >= _LIM:
            raise _err("points[%d]" % (i + 1), "slope too steep")
        q[i] = qi
        s[i] = sh
    self.knot_raw = r
    self.knot_g = array("i", grams)
    self.slope_q = q
    self.slope_shift = s
    self.knots = n


def to_dict(self):
    """The JSON dict of a Calibration."""
    d = {"format": FORMAT, "version": VERSION, "id": self.id, "created": self.created,
         "sensor": self.sensor, "method": self.method, "zero_raw": self.zero_raw,
         "points": self.points, "creep": None}
    if self.creep is not None:
        d["creep"] = {"pct_per_decade": self.creep.pct_per_decade, "ref_s": self.creep.ref_s}
    return d



def load(cls, path_primary="/cfg/calib.json", nominal_dict=None):
    """The calibration (a cls) in path_primary, or the nominal one when it is missing, bad or for another sensor.

    The returned Calibration's load_error says why the file was not used (None when it was).
    """
    # read defensively (acu.cfgfile): a damaged file, or one this firmware refuses, is set aside and named
    # in acu.problems; a file for another sensor is kept (it is good, for another build)
    from acu import cfgfile
    why = None
    d = cfgfile.read_json(path_primary)
    if d is None:
        why = "calib: file: missing" if not acu.problems or acu.problems[-1][0] != path_primary \
            else "calib: file: " + acu.problems[-1][1]
    else:
        try:
            cal = from_dict(cls, d)
            if nominal_dict is not None and cal.sensor != nominal_dict.get("sensor"):
                why = "calib: sensor: file is for %s, board has %s" % (cal.sensor, nominal_dict.get("sensor"))
            else:
                return cal
        except Exception as e:  # noqa: BLE001  (whatever stops the parser: the file is bad, the app starts)
            why = str(e) if isinstance(e, ValueError) else "calib: %s: %s" % (type(e).__name__, e)
            cfgfile.set_aside(path_primary, why + "; using the nominal curve (not calibrated)")
    if nominal_dict is None:
        raise ValueError(why)
    cal = from_dict(cls, nominal_dict)
    cal.load_error = why
    return cal
