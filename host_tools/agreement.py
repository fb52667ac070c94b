"""Agreement statistics for `acutrainer validate` (docs/validation.md): the device's force against a reference.

Bland-Altman (Bland & Altman 1986, Lancet i:307-310): the differences d = device - reference, their mean (the
bias), their sample SD, and the 95 % limits of agreement bias +- 1.96 SD. The same on differences expressed
as a percentage of the reference (an FSR's error grows with the load, so percent limits are the ones that
carry over between loads). Band decisions: does a press land under/in/over the 3-5 kg band on the device as
it does on the reference. Drift: the least-squares slope of the device's reading over a constant-load hold.

Plain functions on lists of numbers, no device and no I/O: tests check them against hand-computed values.
"""
from __future__ import annotations

import math

from host_tools.errors import InputError

LOA_Z = 1.96          # two-sided 95 % of a normal distribution
BAND_LO_G = 3000      # the firmware's default band (device/acu/band.py)
BAND_HI_G = 5000
EDGE_PCT = 5.0        # a press whose reference is this close to an edge is an "edge press"
CLASSES = ("under", "in", "over")


def _mean(xs):
    return sum(xs) / len(xs)


def _sd(xs):
    """Sample standard deviation (n - 1)."""
    m = _mean(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))


def _check_pairs(device_g, reference_g, need: int = 2):
    if len(device_g) != len(reference_g):
        raise InputError("%d device readings but %d reference readings" % (len(device_g), len(reference_g)))
    if len(device_g) < need:
        raise InputError("agreement needs at least %d pairs, got %d" % (need, len(device_g)))
    for r in reference_g:
        if not (r > 0 and math.isfinite(r)):
            raise InputError("a reference reading of %r g: each must be a positive number" % (r,))
    for d in device_g:
        if not math.isfinite(d):
            raise InputError("a device reading of %r g is not a number" % (d,))


def bland_altman(device_g, reference_g) -> dict:
    """Bias, SD and 95 % limits of agreement, in grams and in % of the reference. loa_pct: the wider of the
    two percent limits (95 % of presses read within +-loa_pct of the reference)."""
    _check_pairs(device_g, reference_g)
    diffs = [d - r for d, r in zip(device_g, reference_g, strict=True)]
    pcts = [100.0 * (d - r) / r for d, r in zip(device_g, reference_g, strict=True)]
    bias, sd = _mean(diffs), _sd(diffs)
    bias_p, sd_p = _mean(pcts), _sd(pcts)
    out = {"n": len(diffs), "bias_g": bias, "sd_g": sd, "loa_lo_g": bias - LOA_Z * sd,
           "loa_hi_g": bias + LOA_Z * sd, "bias_pct": bias_p, "sd_pct": sd_p,
           "loa_lo_pct": bias_p - LOA_Z * sd_p, "loa_hi_pct": bias_p + LOA_Z * sd_p}
    out["loa_pct"] = max(abs(out["loa_lo_pct"]), abs(out["loa_hi_pct"]))
    return out


def per_load(targets_g, device_g, reference_g) -> list[dict]:
    """Bias and SD at each asked-for load (repeats at one load are not independent: a bias that changes
    with the load shows here, not in the pooled limits)."""
    _check_pairs(device_g, reference_g, need=1)
    groups: dict[float, list[tuple[float, float]]] = {}
    for t, d, r in zip(targets_g, device_g, reference_g, strict=True):
        groups.setdefault(t, []).append((d, r))
    rows = []
    for t in sorted(groups):
        diffs = [d - r for d, r in groups[t]]
        pcts = [100.0 * (d - r) / r for d, r in groups[t]]
        rows.append({"target_g": t, "n": len(diffs), "bias_g": _mean(diffs), "bias_pct": _mean(pcts),
                     "sd_g": _sd(diffs) if len(diffs) > 1 else None})
    return rows


def classify(force_g: float, lo_g: float = BAND_LO_G, hi_g: float = BAND_HI_G) -> str:
    """The band a force belongs to without hysteresis: the edges themselves are in the band."""
    if force_g < lo_g:
        return "under"
    return "in" if force_g <= hi_g else "over"


def near_edge(force_g: float, lo_g: float = BAND_LO_G, hi_g: float = BAND_HI_G, edge_pct: float = EDGE_PCT):
    """lo_g or hi_g when force_g is within edge_pct % of that edge, else None."""
    for e in (lo_g, hi_g):
        if abs(force_g - e) <= e * edge_pct / 100.0:
            return e
    return None


def band_agreement(device_class, reference_g, lo_g: float = BAND_LO_G, hi_g: float = BAND_HI_G,
                   edge_pct: float = EDGE_PCT) -> dict:
    """Share of presses the device puts in the same class (under/in/over; anything else, e.g. a fault,
    disagrees) as the reference does. Also split by edge: presses with a reference below the band's middle
    decide the lo_g edge, the others the hi_g edge; and the presses within edge_pct % of an edge apart
    (there the firmware's hysteresis decides by the direction the press came from)."""
    if len(device_class) != len(reference_g) or not reference_g:
        raise InputError("band agreement needs one device class per reference reading, and at least one")
    mid = (lo_g + hi_g) / 2.0

    def share(idx):
        if not idx:
            return {"n": 0, "agree": 0, "share": None}
        a = sum(1 for i in idx if device_class[i] == classify(reference_g[i], lo_g, hi_g))
        return {"n": len(idx), "agree": a, "share": a / len(idx)}

    every = list(range(len(reference_g)))
    edge = [i for i in every if near_edge(reference_g[i], lo_g, hi_g, edge_pct) is not None]
    return {"all": share(every),
            "lo_edge": share([i for i in every if reference_g[i] < mid]),
            "hi_edge": share([i for i in every if reference_g[i] >= mid]),
            "near_edges": share(edge),
            "clear_of_edges": share([i for i in every if i not in edge]),
            "lo_g": lo_g, "hi_g": hi_g, "edge_pct": edge_pct}


def drift(samples, reference_g: float) -> dict:
    """samples: (t_s, device_g) over a hold at a constant reference load. The least-squares slope in g per
    minute and in % of the reference per minute, and the change from the first to the last 10 % of the hold
    (means, in % of the reference)."""
    if len(samples) < 3:
        raise InputError("drift needs at least 3 readings over the hold, got %d" % len(samples))
    if not reference_g > 0:
        raise InputError("drift needs a positive reference load, got %r g" % (reference_g,))
    ts = [t for t, _ in samples]
    gs = [g for _, g in samples]
    span = ts[-1] - ts[0]
    if span <= 0:
        raise InputError("the hold's readings span no time")
    mt, mg = _mean(ts), _mean(gs)
    slope_g_per_s = sum((t - mt) * (g - mg) for t, g in samples) / sum((t - mt) ** 2 for t in ts)
    tenth = span / 10.0
    first = [g for t, g in samples if t <= ts[0] + tenth]
    last = [g for t, g in samples if t >= ts[-1] - tenth]
    return {"n": len(samples), "hold_s": span, "reference_g": reference_g,
            "slope_g_per_min": slope_g_per_s * 60.0,
            "pct_per_min": 100.0 * slope_g_per_s * 60.0 / reference_g,
            "change_pct": 100.0 * (_mean(last) - _mean(first)) / reference_g}
