"""Calibration on the host: points files, the fit, the checks that refuse a bad calibration, building the
/cfg/calib.json dict (validated by the device's own codec), atomic writing with the previous file kept,
restore, the automatic capture procedure and the creep measurement. Spec: docs/calibration.md.
"""
from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, NoReturn

import numpy as np

from host_tools.errors import AcuError, InputError
from host_tools.paths import ensure_device_importable

ensure_device_importable()
from acu import calib as dcal, calib_parse as dfmt  # noqa: E402  (the device codec: one spec, one codec)

CALIB_PATH = "/cfg/calib.json"
PREV_PATH = "/cfg/calib.prev.json"
KINDS = dfmt.KINDS
DIVIDER_KINDS = ("fsr402", "fsr406", "a201")
BAND_LO_G = 3000
BAND_HI_G = 5000
ADC_TOP_RAIL = 64000          # u16: at/above is a railed or saturated ADC
ADC_BOTTOM_RAIL = 300         # u16: at/below is the clipped floor / an open sensor
ADC_KNEE_RAW = int(2450 / 3300 * 65535)   # the ESP32 ADC compresses above ~2450 mV
HX_RAIL = 8388000
# far-off point: leave-one-out error above max(pct of the load, grams)
FAR_OFF = {"divider": (12.0, 250.0), "loadcell": (3.0, 60.0)}
# plans for the automatic capture (grams): more points near the band edges
AUTO_LOADS = {"divider": [1000, 2000, 2750, 3000, 3250, 4000, 4750, 5000, 5250, 6000],
              "loadcell": [1000, 3000, 5000, 6000]}
KNOT_G = [100, 250, 500, 750] + list(range(1000, 7001, 250)) + [7500, 8000, 9000, 10000, 12000, 15000]


class CalibrationRefused(AcuError):
    """The points do not make a trustworthy calibration; nothing was written."""

    exit_code = 5


@dataclass
class Points:
    """Reference loads and readings: zero_raw is the tare (nothing on the tip)."""

    sensor: str | None
    zero_raw: int | None
    points: list[tuple[float, float]]          # (grams, raw), possibly several per load
    creep_grams: float | None = None
    creep_samples: list[tuple[float, float]] = field(default_factory=list)   # (t_s from load, raw)
    ref_s: float = 2.0                         # hold time at which the points were captured
    reference: str = ""
    source: str = ""


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


def family(kind: str) -> str:
    return "loadcell" if kind == "loadcell" else "divider"


# ---------------------------------------------------------------- points files
def _num(text: Any, where: str, name: str) -> float:
    # text: a CSV cell or any JSON value (a non-number is the user's error, reported here)
    try:
        v = float(text)
    except (TypeError, ValueError):
        raise InputError(f"{where}: {name} {text!r} is not a number") from None
    if not math.isfinite(v):
        raise InputError(f"{where}: {name} {text!r} is not a finite number")
    return v


def parse_points_text(text: str, name: str) -> Points:
    """A points file (CSV or JSON, docs/calibration.md). Errors are one line naming the file."""
    s = text.lstrip()
    if s.startswith("{"):
        return _parse_points_json(text, name)
    return _parse_points_csv(text, name)


def load_points_file(path) -> Points:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise InputError(f"{p}: cannot read ({e.strerror or e})") from None
    except UnicodeDecodeError:
        raise InputError(f"{p}: not a UTF-8 text file") from None
    return parse_points_text(text, str(p))


def _parse_points_csv(text: str, name: str) -> Points:
    meta: dict[str, str] = {}
    header = None
    scale = 1.0
    pts: list[tuple[float, float]] = []
    creep: list[tuple[float, float]] = []
    for ln, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or not "".join(row).strip():
            continue
        first = row[0].strip()
        if first.startswith("#"):
            body = ",".join(row).lstrip("#").strip()
            if ":" in body:
                k, v = body.split(":", 1)
                meta[k.strip().lower()] = v.strip()
            continue
        cells = [c.strip() for c in row]
        where = f"{name} line {ln}"
        if header is None:
            header = [c.lower() for c in cells]
            if header[:2] not in (["grams", "raw"], ["kg", "raw"], ["t_s", "raw"]) and header != [
                    "grams", "raw", "t_s"]:
                raise InputError(f"{where}: header must be 'grams,raw' or 'kg,raw' (got {','.join(cells)!r})")
            scale = 1000.0 if header[0] == "kg" else 1.0
            continue
        if len(cells) not in (2, 3):
            raise InputError(f"{where}: expected 2 columns (load, raw), got {len(cells)}")
        g = _num(cells[0], where, header[0]) * scale
        r = _num(cells[1], where, "raw")
        if len(cells) == 3 and cells[2] != "":
            # an optional t_s column marks samples of the creep hold
            creep.append((_num(cells[2], where, "t_s"), r))
            meta.setdefault("creep_grams", str(g))
            continue
        if g < 0:
            raise InputError(f"{where}: load {g:g} g is negative")
        pts.append((g, r))
    if header is None:
        raise InputError(f"{name}: no header line 'grams,raw' and no points")
    sensor = meta.get("sensor")
    if sensor is not None and sensor not in KINDS:
        raise InputError(f"{name}: sensor {sensor!r} is not one of {', '.join(KINDS)}")
    return _finish_points(name, sensor, pts, creep,
                          float(meta["creep_grams"]) if "creep_grams" in meta else None,
                          _num(meta["ref_s"], name, "ref_s") if "ref_s" in meta else 2.0,
                          meta.get("reference", ""))


def _parse_points_json(text: str, name: str) -> Points:
    try:
        d = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"{name}: invalid JSON at line {e.lineno} column {e.colno}: {e.msg}") from None
    if not isinstance(d, dict):
        raise InputError(f"{name}: top level must be an object")
    sensor = d.get("sensor")
    if sensor is not None and sensor not in KINDS:
        raise InputError(f"{name}: sensor {sensor!r} is not one of {', '.join(KINDS)}")
    raw_pts = d.get("points")
    if not isinstance(raw_pts, list):
        raise InputError(f"{name}: points: must be a list")
    pts = []
    for i, p in enumerate(raw_pts):
        where = f"{name}: points[{i}]"
        if isinstance(p, dict):
            if "grams" in p:
                g = _num(p["grams"], where, "grams")
            elif "kg" in p:
                g = _num(p["kg"], where, "kg") * 1000.0
            else:
                raise InputError(f"{where}: needs 'grams' (or 'kg') and 'raw'")
            if "raw" not in p:
                raise InputError(f"{where}: needs 'raw'")
            r = _num(p["raw"], where, "raw")
        elif isinstance(p, list) and len(p) == 2:
            g = _num(p[0], where, "grams")
            r = _num(p[1], where, "raw")
        else:
            raise InputError(f"{where}: must be {{'grams': g, 'raw': r}} or [grams, raw]")
        if g < 0:
            raise InputError(f"{where}: load {g:g} g is negative")
        pts.append((g, r))
    creep = []
    cg = None
    c = d.get("creep")
    if c is not None:
        if not isinstance(c, dict) or not isinstance(c.get("samples"), list):
            raise InputError(f"{name}: creep: must be {{'grams': g, 'samples': [[t_s, raw], ...]}}")
        cg = _num(c.get("grams"), f"{name}: creep", "grams")
        for i, smp in enumerate(c["samples"]):
            if not isinstance(smp, list) or len(smp) != 2:
                raise InputError(f"{name}: creep.samples[{i}]: must be [t_s, raw]")
            creep.append((_num(smp[0], f"{name}: creep.samples[{i}]", "t_s"),
                          _num(smp[1], f"{name}: creep.samples[{i}]", "raw")))
    ref_s = d.get("ref_s", 2.0)
    ref_s = _num(ref_s, name, "ref_s")
    return _finish_points(name, sensor, pts, creep, cg, ref_s, str(d.get("reference", "")))


def _finish_points(name, sensor, pts, creep, creep_grams, ref_s, reference) -> Points:
    zeros = [r for g, r in pts if g == 0]
    loaded = [(g, r) for g, r in pts if g > 0]
    if not zeros:
        raise InputError(f"{name}: no tare reading (a row with load 0)")
    if not loaded:
        raise InputError(f"{name}: no loaded points")
    if not (0 < ref_s <= 600):
        raise InputError(f"{name}: ref_s must be in (0, 600]")
    return Points(sensor=sensor, zero_raw=int(round(sum(zeros) / len(zeros))), points=loaded,
                  creep_grams=creep_grams, creep_samples=creep, ref_s=ref_s, reference=reference,
                  source=name)


def points_to_csv(p: Points) -> str:
    out = ["# acutrainer calibration points", f"# sensor: {p.sensor}", f"# ref_s: {p.ref_s}"]
    if p.reference:
        out.append(f"# reference: {p.reference}")
    out.append("grams,raw")
    out.append(f"0,{p.zero_raw}")
    out += [f"{g:g},{r:g}" for g, r in p.points]
    if p.creep_samples:
        out.append(f"# creep_grams: {p.creep_grams:g}")
        out += [f"{p.creep_grams:g},{r:g},{t:g}" for t, r in p.creep_samples]
    return "\n".join(out) + "\n"


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
    # monotonic: per-load mean readings must rise with the load, and above the tare
    means = [(L, float(np.mean([r for g, r in pts.points if g == L]))) for L in loads]
    prev_l, prev_r = 0.0, float(pts.zero_raw)
    for L, r in means:
        if r <= prev_r:
            hint = " (load-cell wires A+/A- swapped?)" if fam == "loadcell" and prev_l == 0 else ""
            _refuse(f"not monotonic: {L:g} g reads {r:.0f}, not above {prev_l:g} g's {prev_r:.0f}{hint}", src)
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
    params, pred = _fit_any(kind, method, g, raw, pts.zero_raw)
    fitted = pred(raw)
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
            if abs(err) > max(pct_lim / 100.0 * g[i], g_lim):
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
    return Fit(sensor=kind, method=method, params=params, predict=pred, knots=knots, residuals=resid,
               rms_pct=round(rms_pct, 2), expected=expected, warnings=warnings)


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


def validate_file_bytes(data: bytes, name: str) -> dict:
    try:
        d = json.loads(data.decode("utf-8"))
        dcal.Calibration.from_dict(d)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"{name}: not valid JSON ({e})") from None
    except ValueError as e:
        raise InputError(f"{name}: {e}") from None
    return d


# ---------------------------------------------------------------- device side
def write_calibration(session, d: dict) -> dict | None:
    """Validate, then write /cfg/calib.json atomically, keeping the current one as calib.prev.json.
    Returns the calibration it replaced (None: there was none, or the old file was not valid)."""
    data = (json.dumps(d, separators=(",", ":")) + "\n").encode()
    validate_file_bytes(data, "calibration")
    session.makedirs("/cfg")
    prev = None
    if session.exists(CALIB_PATH):
        old = session.read_file(CALIB_PATH)
        try:
            prev = validate_file_bytes(old, CALIB_PATH)
        except InputError:
            prev = None  # a damaged file is not worth keeping as "previous"
        if prev is not None:
            session.write_file_atomic(PREV_PATH, old)
    session.write_file_atomic(CALIB_PATH, data)
    return prev


def restore_calibration(session) -> dict:
    """Put calib.prev.json back; the replaced one becomes the new prev (restore is reversible)."""
    if not session.exists(PREV_PATH):
        raise AcuError(f"no previous calibration on the device ({PREV_PATH})")
    prev = session.read_file(PREV_PATH)
    d = validate_file_bytes(prev, PREV_PATH)
    cur = session.read_file(CALIB_PATH) if session.exists(CALIB_PATH) else None
    session.write_file_atomic(CALIB_PATH, prev)
    if cur is not None:
        session.write_file_atomic(PREV_PATH, cur)
    return d


def device_calibration(session, kind: str | None = None) -> dcal.Calibration:
    """The calibration the device uses: its calib.json if valid, else the board's nominal curve."""
    if session.exists(CALIB_PATH):
        try:
            cal = dcal.Calibration.from_dict(json.loads(session.read_file(CALIB_PATH).decode()))
            if kind is None or cal.sensor == kind:
                return cal
        except (ValueError, UnicodeDecodeError):
            pass
    nom = session.hw_call("hw.nominal_calib")
    return dcal.Calibration.from_dict(nom)


# ---------------------------------------------------------------- capture (rigs)
class SimRig:
    """A simulated part on a virtual clock, read like the driver does (CPython: tests and the bench)."""

    def __init__(self, part, oversample: int = 8, loop_ms: int = 5):
        self.part = part
        self.kind = part.kind
        self.t_ms = 0
        self.force_g = 0
        self._oversample = oversample
        self._loop_ms = loop_ms
        if self.kind == "loadcell":
            self._loop_ms = 1000 // part.rate_hz

    def _tick(self):
        if self.kind == "loadcell":
            return self.part.counts(self.force_g, self.t_ms)
        n = self._oversample
        return sum(self.part.adc_u16(self.force_g, self.t_ms) for _ in range(n)) // n

    def wait_ms(self, ms: int):
        # under a constant force the part's state only depends on the time since the last change,
        # so a few reads along the way are as good as a read every loop (and the bench stays fast)
        end = self.t_ms + ms
        step = max(self._loop_ms, ms // 8)
        while self.t_ms < end:
            self._tick()
            self.t_ms += step
        self.t_ms = end

    def press(self, force_g: float, ramp_ms: int = 150):
        f0 = self.force_g
        steps = max(1, ramp_ms // self._loop_ms)
        for i in range(1, steps + 1):
            self.force_g = int(f0 + (force_g - f0) * i / steps)
            self._tick()
            self.t_ms += self._loop_ms
        self.force_g = int(force_g)

    def release(self):
        self.press(0, 100)

    def read_raw(self) -> int:
        v = self._tick()
        self.t_ms += self._loop_ms
        return v

    def now_s(self) -> float:
        return self.t_ms / 1000.0


class DeviceRig:
    """The simulator's hand through its control link, the part read through a device session.

    Waits run on the device's (virtual) clock, not the host's: at --speed 60 a 2 s settle is 2 s for the
    part (its creep and hysteresis depend on it) and 33 ms for the host. The simulated board picks up a
    new press only when it polls its link (a sleep), so every press and wait starts with sleep_ms(0):
    the ramp then starts on the device's clock at a known moment. A divider part is also read along the
    way (about 8 times per wait, at most every 5 ms), as SimRig does and as the app's loop does on a
    board: the simulated part sees a press, starts its creep clock and tracks its peak when it is read, so
    a settle without reads would capture a part that had just been pressed (no creep at ref_s)."""

    _TICKS_PERIOD = 1 << 30  # acu.ticks: ticks_ms wraps here

    def __init__(self, session, sim, kind: str):
        self.s = session
        self.sim = sim
        self.kind = kind
        try:
            self._speed = float(sim.status().get("speed") or 0.0)
        except Exception:  # an old launcher: assume real time (only the exec timeouts depend on it)
            self._speed = 1.0
        self._t0 = self._ticks()

    def _ticks(self) -> int:
        return int(self.s.hw_call("hw.clock.ticks_ms()"))

    def _device_sleep(self, ms: int):
        ms = max(0, int(ms))
        real_s = ms / 1000.0 / self._speed if self._speed > 0 else 0.0
        if self.kind == "loadcell":  # an HX711 read waits for its conversion: it would lengthen the wait
            code = "import acu.api as _a\n_c = _a.hw().clock\n_c.sleep_ms(0)\n_c.sleep_ms(%d)\n" % ms
        else:
            code = ("import acu.api as _a\n_h = _a.hw()\n_c = _h.clock\n_c.sleep_ms(0)\n_r = %d\n"
                    "while _r > 0:\n _s = min(_r, %d)\n _c.sleep_ms(_s)\n _h.sensor.read_raw()\n _r -= _s\n"
                    % (ms, max(5, ms // 8)))
        self.s.exec(code, timeout=10.0 + 1.5 * real_s)

    def wait_ms(self, ms: int):
        self._device_sleep(ms)

    def press(self, force_g: float, ramp_ms: int = 150):
        self.sim.press(int(force_g), ramp_ms=ramp_ms)
        self._device_sleep(ramp_ms)

    def release(self):
        self.sim.release(ramp_ms=100)
        self._device_sleep(100)

    def read_raw(self) -> int:
        return int(self.s.hw_call("hw.sensor.read_raw()"))

    def now_s(self) -> float:
        return ((self._ticks() - self._t0) % self._TICKS_PERIOD) / 1000.0


def _avg_reads(rig, n: int, gap_ms: int) -> float:
    vals = []
    for _ in range(n):
        vals.append(rig.read_raw())
        if gap_ms:
            rig.wait_ms(gap_ms)
    return float(np.mean(vals))


def auto_capture(rig, kind: str, loads=None, settle_ms: int = 2000, reads: int = 12, read_gap_ms: int = 20,
                 condition: bool = True, creep_hold_s: float = 0.0, creep_grams: float = 4000.0,
                 progress=None) -> Points:
    """Tare, condition, capture each load after settle_ms (on loading, from release), optional creep hold."""
    fam = family(kind)
    loads = list(loads or AUTO_LOADS[fam])
    say = progress or (lambda msg: None)
    rig.release()
    rig.wait_ms(500)
    say("tare")
    zero = _avg_reads(rig, reads, read_gap_ms)
    if condition and fam == "divider":
        top = 1.1 * max(loads)
        for i in range(4):
            say(f"conditioning press {i + 1}/4 at {top:.0f} g")
            rig.press(top)
            rig.wait_ms(1000)
            rig.release()
            rig.wait_ms(500)
    pts = []
    for L in loads:
        say(f"capturing {L:g} g")
        rig.press(L)
        rig.wait_ms(settle_ms)
        pts.append((float(L), round(_avg_reads(rig, reads, read_gap_ms), 1)))
        rig.release()
        rig.wait_ms(600)
    creep = []
    if creep_hold_s > 0 and fam == "divider":
        say(f"creep hold: {creep_grams:g} g for {creep_hold_s:g} s")
        rig.press(creep_grams)
        t0 = rig.now_s()
        next_t = 0.5
        while True:
            t = rig.now_s() - t0
            if t >= creep_hold_s:
                break
            if t >= next_t:
                creep.append((round(t, 3), float(rig.read_raw())))
                next_t = max(next_t * 1.25, t + 0.25)
            # straight to the next sample (a device rig pays a round trip per wait)
            rig.wait_ms(max(50, min(int((next_t - t) * 1000), int((creep_hold_s - t) * 1000) + 1)))
        rig.release()
    ref_s = (settle_ms + reads * read_gap_ms / 2) / 1000.0
    return Points(sensor=kind, zero_raw=int(round(zero)), points=pts,
                  creep_grams=creep_grams if creep else None,
                  creep_samples=creep, ref_s=round(ref_s, 3), reference="simulator (applied loads)",
                  source="auto")


def format_report(fit: Fit, d: dict | None = None) -> list[str]:
    """Human lines: residuals and the expected error at the band edges (printed BEFORE writing)."""
    lines = [f"fit: {fit.method} for {fit.sensor}; rms error {fit.rms_pct:.2f} %"]
    for r in fit.residuals:
        loo = "" if r["loo_err_g"] is None else f"  (left out: {r['loo_err_g']:+.0f} g)"
        lines.append(f"  {r['grams']:7.0f} g  raw {r['raw']:9.1f}  fit {r['fit_g']:8.1f} g  "
                     f"{r['err_g']:+7.1f} g {r['err_pct']:+6.2f} %{loo}")
    for k, v in fit.expected.items():
        lines.append(f"expected error at {int(k) / 1000:g} kg: +-{v['grams']:.0f} g ({v['pct']:.1f} %)")
    if d is not None and d.get("creep"):
        lines.append(f"creep: {d['creep']['pct_per_decade']:.2f} % per decade (compensated after "
                     f"{d['creep']['ref_s']:g} s)")
    lines += [f"warning: {w}" for w in fit.warnings]
    return lines
