"""Can a calibrated sensor tell 5 kg from 5.5 kg? (docs/calibration.md, "Sensitivity at the top of the band")

An FSR works in its compressed region at the top of the 3-5 kg band: its curve flattens, so half a
kilogram moves the reading fewer raw counts than lower down. The test: on the calibration's own curve (the
knots the device interpolates), the raw readings at 5.0 and 5.5 kg must lie at least TELL_K noise standard
deviations apart. TELL_K = 4 is 2 x 1.96: one sample at 5.0 kg and one at 5.5 kg then each fall on their own
side of the 5.25 kg midpoint about 97.5 % of the time. The noise is one device sample's (read_raw(), the
average of `oversample` ADC reads): measured by `doctor` on the idle sensor when it can, else the worst the
FIELD_NOTES report for the ESP32 ADC (25 LSB of 12 bits per read, 16 u16 counts each) over the boards'
8-read average; never below one ADC step (16 counts), the quantisation.
"""
from __future__ import annotations

import math

TELL_LO_G = 5000
TELL_HI_G = 5500
TELL_K = 4.0
ADC_STEP_U16 = 16              # one 12-bit LSB in read_u16 units
ADC_NOISE_WORST_LSB = 25       # FIELD_NOTES: "noise of several to ~25 LSB" per read
BOARD_OVERSAMPLE = 8           # PARTS "oversample" of the hardware boards (docs/hardware.md)
DIVIDER_KINDS = ("fsr402", "fsr406", "a201")
# expected range of n normal draws in standard deviations (d2 of quality control tables)
_D2 = {5: 2.326, 10: 3.078, 20: 3.735}
IDLE_MAX_G = 200               # a sample taken while this much is pressed says nothing about noise


def documented_noise_raw(oversample: int = BOARD_OVERSAMPLE) -> float:
    """Worst-case sample noise (1 sigma, u16 counts) from the FIELD_NOTES figure."""
    return ADC_NOISE_WORST_LSB * ADC_STEP_U16 / math.sqrt(max(1, oversample))


def noise_from_sample(sample: dict, n: int) -> float | None:
    """1-sigma noise of one sample from acu.api.sample(n, ...) on an idle sensor (range / d2), or None."""
    try:
        lo, hi, grams = int(sample["raw_min"]), int(sample["raw_max"]), sample.get("grams")
    except (KeyError, TypeError, ValueError):
        return None
    if n not in _D2 or sample.get("fault") or (grams is not None and abs(grams) > IDLE_MAX_G):
        return None
    return (hi - lo) / _D2[n]


def raw_at_g(knots, grams: float) -> float | None:
    """The raw reading the calibration maps to grams (knots: [[raw, g], ...] rising); None past the end."""
    for (r0, g0), (r1, g1) in zip(knots[:-1], knots[1:], strict=True):
        if g0 <= grams <= g1 and g1 > g0:
            return r0 + (r1 - r0) * (grams - g0) / (g1 - g0)
    return None


def assess(kind: str, knots, noise_raw: float) -> dict | None:
    """{'apart_raw', 'need_raw', 'noise_raw', 'ok'} for a divider sensor; None for a load cell (its counts
    per gram are hundreds of times its noise)."""
    if kind not in DIVIDER_KINDS:
        return None
    lo, hi = raw_at_g(knots, TELL_LO_G), raw_at_g(knots, TELL_HI_G)
    apart = 0.0 if lo is None or hi is None else hi - lo
    noise = max(float(noise_raw), float(ADC_STEP_U16))
    need = TELL_K * noise
    return {"apart_raw": round(apart, 1), "need_raw": round(need, 1), "noise_raw": round(noise, 1),
            "ok": apart >= need}


def warning(kind: str, a: dict, basis: str) -> str:
    return ("the %s cannot reliably tell %g kg from %g kg: they are %.0f ADC counts apart on its calibrated "
            "curve, under %g x the noise (%.0f counts, %s); readings at the top of the band are coarse "
            "(docs/sensors.md: a load cell is the accurate build)"
            % (kind, TELL_LO_G / 1000, TELL_HI_G / 1000, a["apart_raw"], TELL_K, a["noise_raw"], basis))
