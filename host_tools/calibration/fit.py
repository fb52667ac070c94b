"""The fit of a sensor's curve to calibration points, the checks that refuse a bad calibration, the creep
measurement, and the /cfg/calib.json dict they build (validated by the device's own codec). Spec:
docs/calibration.md.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, NoReturn

import numpy as np

from host_tools.calibration import sensitivity
from host_tools.calibration.pointsfile import KINDS, Points, family
from host_tools.errors import AcuError, InputError
from host_tools.paths import ensure_device_importable

ensure_device_importable()
from acu import calib as dcal, calib_parse as dfmt  # noqa: E402  (the device codec: one spec, one codec)

BAND_LO_G = 3000
BAND_HI_G = 5000
ADC_TOP_RAIL = 64000          # u16: at/above is a railed or saturated ADC
ADC_BOTTOM_RAIL = 300         # u16: at/below is the clipped floor / an open sensor
ADC_KNEE_RAW = int(2450 / 3300 * 65535)   # the ESP32 ADC compresses above ~2450 mV
HX_RAIL = 8388000
MONO_GAP = 1.10               # a load must read above every load at least 10 % lighter
# far-off point: leave-one-out error above max(pct of the load, grams)
FAR_OFF = {"divider": (12.0, 250.0), "loadcell": (3.0, 60.0)}
KNOT_G = [100, 250, 500, 750] + list(range(1000, 7001, 250)) + [7500, 8000, 9000, 10000, 12000, 15000]

# The expected error of a reading (docs/calibration.md, "Expected error"): COVER_K standard deviations of
# one press read on loading in the band, from the points themselves where they allow it.
COVER_K = 2.0                 # about 95 % of readings if the errors were normal
NEAR_BAND_G = 1250            # points this close to the 3-5 kg band count for it
REPEAT_SAME = 0.03            # loads within 3 % of each other are repeats of one load
# without repeats (or with few), the datasheets' figures (1 sigma, % of force); PRIOR_DOF: their weight
REPEAT_PRIOR_PCT = {"fsr402": 2.0, "fsr406": 2.0, "a201": 2.5, "loadcell": 0.05}
PRIOR_DOF = 2
HYST_PRIOR_PCT = {"fsr402": 10.0, "fsr406": 10.0, "a201": 4.5, "loadcell": 0.0}
# no reading is promised closer than this; a load cell's check on the simulator read -0.1 to -0.5 % (six
# checks at 3-5 kg of part 2026 right after calibrating), so 0.1 % promised what a check did not give
FLOOR_PCT = {"divider": 1.0, "loadcell": 0.5}


class CalibrationRefused(AcuError):
    """The points do not make a trustworthy calibration; nothing was written."""

    exit_code = 5


@dataclass
class Fit:
    sensor: str
    method: str
    params: dict
    predict: Callable[[Any], Any]   # raw (array) -> grams (array)
    knots: list[list[int]]
    residuals: list[dict]
    rms_pct: float
    expected: dict          # {"3000": {"grams": e, "pct": p}, "5000": ...}
    warnings: list[str]
    expect: dict | None = None   # the expected error of a reading in the band (expected_error())
    sensitivity: dict | None = None   # 5 vs 5.5 kg against the noise (sensitivity.assess()); dividers only


# ---------------------------------------------------------------- physics of the divider (nominal circuit)
def raw_to_r_ohm(kind: str, raw):
    """Sensor resistance from a u16 reading through the nominal divider (ideal ADC); inf if unloaded."""
    r_m, r_b = dfmt.DIVIDER[kind][0], dfmt.DIVIDER[kind][1]
    v = np.asarray(raw, dtype=float) * dfmt.V_S_MV / 65535.0
    with np.errstate(divide="ignore", invalid="ignore"):
        r_par = r_m * (dfmt.V_S_MV / v - 1.0)
        g = 1.0 / r_par - 1.0 / r_b
        return np.where(g > 0, 1.0 / g, np.inf)


def r_ohm_to_raw(kind: str, r_ohm):
    r_m, r_b = dfmt.DIVIDER[kind][0], dfmt.DIVIDER[kind][1]
    r = np.asarray(r_ohm, dtype=float)
    r_par = r * r_b / (r + r_b)
    return dfmt.V_S_MV * r_m / (r_m + r_par) * 65535.0 / dfmt.V_S_MV


# ---------------------------------------------------------------- fits
def _fit_power(kind, g, raw):
    """log F = a + b*log(R - Rs): the FSR model R = Rs + K F^-n solved for F, Rs by a 1-D search."""
    r = raw_to_r_ohm(kind, raw)
    lf = np.log(g)
    best = None
    rmin = float(np.min(r))
    for rs in np.linspace(0.0, 0.9 * rmin, 60):
        x = np.log(r - rs)
        b, a = np.polyfit(x, lf, 1)
        sse = float(np.sum((a + b * x - lf) ** 2))
        if best is None or sse < best[0]:
            best = (sse, rs, a, b)
    _, rs, a, b = best
    return {"rs_ohm": float(rs), "a": float(a), "b": float(b)}


def _power_predict(kind, p):
    def f(raw):
        r = raw_to_r_ohm(kind, raw)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.exp(p["a"] + p["b"] * np.log(np.maximum(r - p["rs_ohm"], 1e-9)))
        return np.where(np.isfinite(r), out, 0.0)
    return f


def _power_raw_at(kind, p, grams):
    r = p["rs_ohm"] + np.exp((np.log(np.asarray(grams, dtype=float)) - p["a"]) / p["b"])
    return r_ohm_to_raw(kind, r)


def _pchip_slopes(x, y):
    h = np.diff(x)
    d = np.diff(y) / h
    m = np.zeros_like(y)
    for i in range(1, len(y) - 1):
        if d[i - 1] * d[i] <= 0:
            m[i] = 0.0
        else:
            w1 = 2 * h[i] + h[i - 1]
            w2 = h[i] + 2 * h[i - 1]
            m[i] = (w1 + w2) / (w1 / d[i - 1] + w2 / d[i])
    m[0] = d[0]
    m[-1] = d[-1]
    return m


def _pchip_eval(x, y, m, xq):
    xq = np.asarray(xq, dtype=float)
    out = np.empty_like(xq)
    lo = np.clip(np.searchsorted(x, xq) - 1, 0, len(x) - 2)
    for j, (q, i) in enumerate(zip(xq.ravel(), lo.ravel(), strict=True)):
        if q <= x[0]:
            out.flat[j] = y[0] + m[0] * (q - x[0])
        elif q >= x[-1]:
            out.flat[j] = y[-1] + m[-1] * (q - x[-1])
        else:
            h = x[i + 1] - x[i]
            t = (q - x[i]) / h
            h00 = 2 * t**3 - 3 * t**2 + 1
            h10 = t**3 - 2 * t**2 + t
            h01 = -2 * t**3 + 3 * t**2
            h11 = t**3 - t**2
            out.flat[j] = h00 * y[i] + h10 * h * m[i] + h01 * y[i + 1] + h11 * h * m[i + 1]
    return out


def _fit_pchip(kind, g, raw):
    """Monotone cubic of log F against log G (conductance) through the per-load averages."""
    loads = np.unique(g)
    rr = np.array([np.mean(raw[g == L]) for L in loads])
    x = -np.log(raw_to_r_ohm(kind, rr))   # log conductance, increasing with load
    y = np.log(loads)
    order = np.argsort(x)
    x, y = x[order], y[order]
    return {"x": x.tolist(), "y": y.tolist(), "m": _pchip_slopes(x, y).tolist()}


def _pchip_predict(kind, p):
    x, y, m = np.array(p["x"]), np.array(p["y"]), np.array(p["m"])

    def f(raw):
        r = raw_to_r_ohm(kind, raw)
        lg = -np.log(np.where(np.isfinite(r), r, 1e12))
        out = np.exp(_pchip_eval(x, y, m, lg))
        return np.where(np.isfinite(r), out, 0.0)
    return f


def _fit_linear(g, raw):
    b, a = np.polyfit(raw, g, 1)
    return {"a": float(a), "b": float(b)}


def _fit_any(kind, method, g, raw, zero_raw):
    if method == "linear":
        gg = np.concatenate([[0.0], g])
        rr = np.concatenate([[float(zero_raw)], raw])
        p = _fit_linear(gg, rr)
        return p, (lambda x, p=p: p["a"] + p["b"] * np.asarray(x, dtype=float))
    if method == "power-law":
        p = _fit_power(kind, g, raw)
        return p, _power_predict(kind, p)
    p = _fit_pchip(kind, g, raw)
    return p, _pchip_predict(kind, p)


def _refuse(msg: str, source: str = "") -> NoReturn:
    raise CalibrationRefused(("%s: " % source if source else "") + "calibration refused: " + msg)


def check_points(kind: str, pts: Points) -> list[str]:
    """Refuse inputs that cannot make a good calibration; returns warnings for the report."""
    src = pts.source
    warnings = []
    if kind not in KINDS:
        _refuse(f"unknown sensor kind {kind!r}", src)
    if pts.sensor is not None and pts.sensor != kind:
        _refuse(f"points are for {pts.sensor} but the device has {kind}", src)
    fam = family(kind)
    if pts.zero_raw is None:
        _refuse("no tare reading (nothing on the tip)", src)
    loads = sorted({g for g, _ in pts.points})
    need = 2 if fam == "loadcell" else 5
    if len(loads) < need:
        _refuse(f"too few points: {len(loads)} distinct loads, need at least {need}", src)
    if fam == "divider":
        if loads[0] > BAND_LO_G or loads[-1] < BAND_HI_G:
            _refuse(f"points must cover the {BAND_LO_G}-{BAND_HI_G} g band (have "
                    f"{loads[0]:g}-{loads[-1]:g} g)", src)
        for g, r in [(0.0, pts.zero_raw)] + list(pts.points):
            if r >= ADC_TOP_RAIL:
                _refuse(f"saturated ADC at {g:g} g (raw {r:g} at the top rail): sensor shorted or "
                        "R_M too large", src)
            if r <= ADC_BOTTOM_RAIL:
                _refuse(f"railed ADC at {g:g} g (raw {r:g} at the bottom rail): sensor unplugged?", src)
        if any(r > ADC_KNEE_RAW for _, r in pts.points):
            warnings.append("some readings are above ~2450 mV where the ESP32 ADC compresses")
    else:
        if loads[-1] < 1000:
            _refuse("the largest load must be at least 1000 g", src)
        for g, r in [(0.0, pts.zero_raw)] + list(pts.points):
            if abs(r) >= HX_RAIL:
                _refuse(f"saturated HX711 at {g:g} g (raw {r:g})", src)
    # monotonic: per-load mean readings must rise with the load, and above the tare. Loads closer than
    # MONO_GAP may swap within an FSR's press-to-press repeatability (a warning); farther ones may not
    means = [(L, float(np.mean([r for g, r in pts.points if g == L]))) for L in loads]
    below = [(0.0, float(pts.zero_raw))]
    prev_l, prev_r = 0.0, float(pts.zero_raw)
    for L, r in means:
        lower = [(lo, rl) for lo, rl in below if lo == 0.0 or lo * MONO_GAP <= L]
        lo, rl = max(lower, key=lambda x: x[1])
        if r <= rl:
            hint = " (load-cell wires A+/A- swapped?)" if fam == "loadcell" and lo == 0 else ""
            _refuse(f"not monotonic: {L:g} g reads {r:.0f}, not above {lo:g} g's {rl:.0f}{hint}", src)
        if r <= prev_r:
            warnings.append(f"{L:g} g reads {r:.0f}, below {prev_l:g} g's {prev_r:.0f}: within the sensor's "
                            "repeatability, but a fresh calibration may fit better")
        below.append((L, r))
        prev_l, prev_r = L, r
    return warnings


def fit_points(kind: str, pts: Points, method: str | None = None) -> Fit:
    """Check, fit, and cross-validate. Raises CalibrationRefused with the reason."""
    warnings = check_points(kind, pts)
    fam = family(kind)
    if method is None:
        method = "linear" if fam == "loadcell" else "power-law"
    if method not in ("linear", "power-law", "pchip-conductance"):
        raise InputError(f"unknown fit method {method!r}")
    if (method == "linear") != (fam == "loadcell"):
        raise InputError(f"method {method} does not suit a {kind}")
    g = np.array([p[0] for p in pts.points], dtype=float)
    raw = np.array([p[1] for p in pts.points], dtype=float)
    try:
        params, pred = _fit_any(kind, method, g, raw, pts.zero_raw)
        fitted = pred(raw)
    except (np.linalg.LinAlgError, ValueError, ZeroDivisionError, FloatingPointError) as fit_error:
        _refuse(f"the points do not define a curve ({fit_error})", pts.source)
    if not np.all(np.isfinite(fitted)):
        _refuse("the points do not define a curve (the fit gives no finite forces)", pts.source)
    # leave-one-load-out: how far each load is from the fit of all the others
    loads = np.unique(g)
    loo = np.full(len(g), np.nan)
    min_left = 2 if fam == "loadcell" else 4
    if len(loads) - 1 >= min_left:
        for L in loads:
            keep = g != L
            _, p2 = _fit_any(kind, method if method != "pchip-conductance" else "power-law",
                             g[keep], raw[keep], pts.zero_raw)
            loo[~keep] = p2(raw[~keep])
    pct_lim, g_lim = FAR_OFF[fam]
    for i in range(len(g)):
        if np.isfinite(loo[i]):
            err = loo[i] - g[i]
            # the lightest and heaviest loads, left out, are extrapolated from the others: twice the room (a
            # mistyped reading is still caught; a steep part's top point off by its hysteresis is not refused)
            room = 2 if g[i] == loads[0] or g[i] == loads[-1] else 1
            if abs(err) > room * max(pct_lim / 100.0 * g[i], g_lim):
                _refuse(f"point far off the fit: {g[i]:g} g (raw {raw[i]:g}) is {err:+.0f} g "
                        f"({100 * err / g[i]:+.1f} %) from the fit of the other points", pts.source)
    resid = [{"grams": float(g[i]), "raw": float(raw[i]), "fit_g": round(float(fitted[i]), 1),
              "err_g": round(float(fitted[i] - g[i]), 1),
              "err_pct": round(float(100 * (fitted[i] - g[i]) / g[i]), 2),
              "loo_err_g": None if not np.isfinite(loo[i]) else round(float(loo[i] - g[i]), 1)}
             for i in range(len(g))]
    rms_pct = float(np.sqrt(np.mean(((fitted - g) / g) ** 2)) * 100)
    expected = {}
    err_src = np.where(np.isfinite(loo), loo, fitted) - g
    for target in (BAND_LO_G, BAND_HI_G):
        near = np.argsort(np.abs(g - target))[: max(3, int(np.sum(np.abs(g - target) <= 1250)))]
        e = float(np.sqrt(np.mean(err_src[near] ** 2)))
        expected[str(target)] = {"grams": round(e, 1), "pct": round(100 * e / target, 2)}
    knots = _knots(kind, method, params, pred, pts.zero_raw)
    down_pct = []
    if pts.unloading:
        gd = np.array([p[0] for p in pts.unloading], dtype=float)
        down_pct = list(100 * (pred(np.array([p[1] for p in pts.unloading], dtype=float)) - gd) / gd)
    expect = expected_error(kind, g, np.asarray(fitted, dtype=float), loo, down_pct)
    # the host cannot see the board's noise here: judge against the worst documented (doctor measures it)
    sens = sensitivity.assess(kind, knots, sensitivity.documented_noise_raw())
    if sens and not sens["ok"]:
        warnings.append(sensitivity.warning(kind, sens, "the worst ESP32 ADC noise FIELD_NOTES report, "
                                            "8 reads averaged"))
    return Fit(sensor=kind, method=method, params=params, predict=pred, knots=knots, residuals=resid,
               rms_pct=round(rms_pct, 2), expected=expected, warnings=warnings, expect=expect,
               sensitivity=sens)


def repeat_groups(g) -> list[list[int]]:
    """Indices of points whose loads are within REPEAT_SAME of each other (2 or more each)."""
    order = sorted(range(len(g)), key=lambda i: g[i])
    groups: list[list[int]] = []
    cur: list[int] = []
    for i in order:
        if cur and g[i] > g[cur[0]] * (1 + REPEAT_SAME):
            groups.append(cur)
            cur = []
        cur.append(i)
    if cur:
        groups.append(cur)
    return [x for x in groups if len(x) >= 2]


def expected_error(kind: str, g, fitted, loo, down_pct=()) -> dict:
    """The error a user should expect when a press in the 3-5 kg band is read (on loading), from the points:
    - fit_pct: rms of the leave-one-load-out errors of the points near the band (each is one press read
      against a curve that never saw it, so it holds that press's repeatability and the fit's error);
    - repeat_pct: the spread of repeated loads about the curve (pooled standard deviation), mixed with the
      datasheet's figure with the weight of PRIOR_DOF presses (few repeats give a noisy spread);
    - pct = COVER_K * the larger of the two (the repeatability is already inside the left-out errors),
      at least FLOOR_PCT;
    - hysteresis_pct: how much higher a press reads while easing off from a harder one, from the unloading
      points (their mean error), else the datasheet's figure. Not part of pct: a check presses on loading."""
    fam = family(kind)
    g = np.asarray(g, dtype=float)
    rel = 100 * (np.asarray(fitted, dtype=float) - g) / g
    loo_rel = 100 * (np.where(np.isfinite(loo), loo, fitted) - g) / g
    near = (g >= BAND_LO_G - NEAR_BAND_G) & (g <= BAND_HI_G + NEAR_BAND_G)
    if fam == "loadcell" or int(np.sum(near)) < 3:
        near = np.ones(len(g), dtype=bool)
    fit_pct = float(np.sqrt(np.mean(loo_rel[near] ** 2)))
    ss, dof, n_rep = 0.0, 0, 0
    for grp in repeat_groups(g):
        x = rel[grp]
        ss += float(np.sum((x - np.mean(x)) ** 2))
        dof += len(grp) - 1
        n_rep += len(grp)
    prior = REPEAT_PRIOR_PCT[kind]
    rep_pct = float(np.sqrt((ss + PRIOR_DOF * prior ** 2) / (dof + PRIOR_DOF)))
    sigma = max(fit_pct, rep_pct)
    pct = max(COVER_K * sigma, FLOOR_PCT[fam])
    if len(down_pct):
        hyst, hyst_basis = float(np.mean(down_pct)), "%d unloading point%s" % (
            len(down_pct), "" if len(down_pct) == 1 else "s")
    else:
        hyst, hyst_basis = HYST_PRIOR_PCT[kind], "datasheet"
    return {"pct": round(pct, 1), "lo_g": BAND_LO_G, "hi_g": BAND_HI_G, "cover_sigmas": COVER_K,
            "fit_pct": round(fit_pct, 2), "repeat_pct": round(rep_pct, 2),
            "repeat_basis": ("%d presses at %d repeated loads" % (n_rep, n_rep - dof)) if dof else "datasheet",
            "hysteresis_pct": round(max(hyst, 0.0), 1), "hysteresis_basis": hyst_basis}


def expect_lines(e: dict) -> list[str]:
    """The expected error as the wizard, `calibrate --points` and `--auto` print it (before writing)."""
    lo, hi = e["lo_g"] / 1000, e["hi_g"] / 1000
    rep = ("from " + e["repeat_basis"]) if e["repeat_basis"] != "datasheet" else "datasheet figure: no repeated loads"
    out = [f"expect +-{e['pct']:.1f} % at {lo:g}-{hi:g} kg when pressing up to a load (about 19 readings in 20; "
           f"left-out points {e['fit_pct']:.1f} %, repeatability {e['repeat_pct']:.1f} % {rep})"]
    if e["hysteresis_pct"] > 0:
        basis = "measured" if e["hysteresis_basis"] != "datasheet" else "datasheet figure"
        out.append(f"easing off from a harder press reads up to about +{e['hysteresis_pct']:.0f} % more "
                   f"(hysteresis, {basis})")
    return out


def _knots(kind, method, params, pred, zero_raw) -> list[list[int]]:
    if method == "linear":
        a, b = params["a"], params["b"]
        r0 = int(round(-a / b))
        r1 = int(round((20000 - a) / b))
        return [[r0, 0], [r1, 20000]]
    grams = np.array(KNOT_G, dtype=float)
    if method == "power-law":
        raws = _power_raw_at(kind, params, grams)
    else:
        # invert the monotone pchip numerically on a fine raw grid
        grid = np.linspace(zero_raw + 1, 65000, 16000)
        gg = pred(grid)
        ok = np.concatenate([[True], np.diff(gg) > 0])
        raws = np.interp(grams, gg[ok], grid[ok], left=np.nan, right=np.nan)
    knots = [[int(zero_raw), 0]]
    for G, R in zip(grams, raws, strict=True):
        if not np.isfinite(R) or R >= 65000:
            continue
        R = int(round(R))
        if R > knots[-1][0] and int(G) > knots[-1][1]:
            knots.append([R, int(G)])
    if len(knots) < 2:
        _refuse("the fit gives no usable curve")
    return knots[: dfmt.MAX_POINTS]


# ---------------------------------------------------------------- creep
def measure_creep(fit: Fit, samples, ref_s: float) -> float:
    """Creep rate in % of force per decade of hold time beyond ref_s, from a hold at a known load."""
    t = np.array([s[0] for s in samples], dtype=float)
    g = fit.predict(np.array([s[1] for s in samples], dtype=float))
    if len(t) < 5 or t.max() < 10 * ref_s:
        raise CalibrationRefused("creep hold too short: need samples over at least 10x ref_s")
    g_ref = float(np.interp(ref_s, t, g))
    sel = t >= ref_s
    x = np.log10(t[sel] / ref_s)
    y = g[sel] / g_ref - 1.0
    c = float(np.sum(x * y) / np.sum(x * x)) * 100.0
    return round(min(max(c, 0.0), 20.0), 3)


# ---------------------------------------------------------------- the file
def new_id(now: datetime) -> str:
    return "cal-" + now.strftime("%Y%m%dT%H%M%SZ")


def build_calibration(kind: str, pts: Points, method: str | None = None, creep: bool = True,
                      now: datetime | None = None) -> tuple[dict, Fit]:
    """Fit and build the calib.json dict; validated with the device codec before it is returned."""
    fit = fit_points(kind, pts, method)
    now = now or datetime.now(timezone.utc)
    creep_d = None
    creep_pct = None
    assert pts.zero_raw is not None  # check_points (in fit_points) refuses a missing tare
    if creep and pts.creep_samples and family(kind) == "divider":
        creep_pct = measure_creep(fit, pts.creep_samples, pts.ref_s)
        creep_d = {"pct_per_decade": creep_pct, "ref_s": pts.ref_s}
    d = {
        "format": dfmt.FORMAT, "version": dfmt.VERSION, "id": new_id(now),
        "created": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "sensor": kind, "method": fit.method,
        "zero_raw": int(pts.zero_raw), "points": fit.knots, "creep": creep_d,
        "fit": {"params": fit.params, "rms_pct": fit.rms_pct, "expected_error": fit.expected,
                "expect": fit.expect,
                "creep_hold_grams": pts.creep_grams if creep_pct is not None else None},
        "residuals": fit.residuals,
        "reference": {"kind": pts.reference or "unspecified", "source": pts.source},
    }
    d = json.loads(json.dumps(d))
    try:
        dcal.Calibration.from_dict(d)
    except ValueError as e:   # a bug here must never reach the device
        raise CalibrationRefused(f"built calibration failed validation ({e})") from None
    return d, fit


def format_report(fit: Fit, d: dict | None = None) -> list[str]:
    """Human lines: residuals and the expected error at the band edges (printed BEFORE writing)."""
    lines = [f"fit: {fit.method} for {fit.sensor}; rms error {fit.rms_pct:.2f} %"]
    for r in fit.residuals:
        loo = "" if r["loo_err_g"] is None else f"  (left out: {r['loo_err_g']:+.0f} g)"
        lines.append(f"  {r['grams']:7.0f} g  raw {r['raw']:9.1f}  fit {r['fit_g']:8.1f} g  "
                     f"{r['err_g']:+7.1f} g {r['err_pct']:+6.2f} %{loo}")
    for k, v in fit.expected.items():
        lines.append(f"left-out error near {int(k) / 1000:g} kg: +-{v['grams']:.0f} g ({v['pct']:.1f} %)")
    if fit.expect:
        lines += expect_lines(fit.expect)
    if d is not None and d.get("creep"):
        lines.append(f"creep: {d['creep']['pct_per_decade']:.2f} % per decade (compensated after "
                     f"{d['creep']['ref_s']:g} s)")
    if fit.sensitivity:
        sv = fit.sensitivity
        lines.append(f"sensitivity: 5 kg and 5.5 kg read {sv['apart_raw']:.0f} ADC counts apart "
                     f"(at least {sv['need_raw']:.0f} needed against the worst documented ADC noise; "
                     f"acutrainer doctor measures yours)")
    lines += [f"warning: {w}" for w in fit.warnings]
    return lines
