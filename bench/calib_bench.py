"""Calibration bench (issue 6): seeded simulated parts calibrated with the automatic procedure, then
measured on fresh presses. run() -> dict of figures for build/bench.json. CPython only, < 60 s.

Figures (over N_PARTS parts each):
  calib_fsr402_mae_pct             mean |error| / load on loading, loads 2-6 kg, calibrated (target <= 5)
  calib_fsr402_uncal_mae_pct       the same with the nominal curve (uncalibrated part)
  calib_fsr402_band_agreement_pct  presses > 2 N away from a band edge classified on the right side
  calib_fsr402_uncal_band_agreement_pct
  calib_fsr402_hold_drift_pct      mean |error| after a 120 s hold at 4 kg, creep-compensated (<= 5)
  calib_fsr402_hold_drift_uncomp_pct   the same without compensation
  calib_loadcell_mae_pct           (target <= 1), calib_loadcell_uncal_mae_pct (nominal, tared)
"""
from __future__ import annotations

import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "device", ROOT / "host_tools" / "sim" / "rom"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

import simsensors  # noqa: E402
from acu import calib as dcal  # noqa: E402

from host_tools import calibration as hc  # noqa: E402

N_PARTS = 50
TWO_N_G = 204           # 2 N in grams
TEST_READ_MS = 1000     # a test press is read after this long at its load (like a user's settled press)


def _measure(rig, cal, load_g, hold_ms=TEST_READ_MS, creep=None):
    rig.press(load_g)
    rig.wait_ms(hold_ms)
    raw = sum(rig.read_raw() for _ in range(4)) // 4
    g = cal.grams(raw)
    if creep is not None:
        g = creep.adjust(g, hold_ms)
    rig.release()
    rig.wait_ms(500)
    return g


def _side(g):
    return 0 if g < hc.BAND_LO_G else (1 if g <= hc.BAND_HI_G else 2)


def _band_loads(rng):
    """Test loads in 1.5-7 kg, each more than 2 N from both band edges."""
    out = []
    while len(out) < 12:
        x = rng.uniform(1500, 7000)
        if abs(x - hc.BAND_LO_G) > TWO_N_G and abs(x - hc.BAND_HI_G) > TWO_N_G:
            out.append(int(x))
    return out


def _fsr_part(seed, stats):
    part = simsensors.make_part("fsr402", 1000 + seed)
    rig = hc.SimRig(part)
    pts = hc.auto_capture(rig, "fsr402", creep_hold_s=60.0)
    d, _fit = hc.build_calibration("fsr402", pts)
    cal = dcal.Calibration.from_dict(d)
    nom = dcal.Calibration.from_dict(dcal.nominal("fsr402"))
    rng = random.Random(seed)
    for load in [rng.uniform(2000, 6000) for _ in range(10)]:
        load = int(load)
        stats["mae"].append(abs(_measure(rig, cal, load) - load) / load * 100)
        stats["uncal"].append(abs(_measure(rig, nom, load) - load) / load * 100)
    for load in _band_loads(rng):
        stats["band"].append(_side(_measure(rig, cal, load)) == _side(load))
        stats["uncal_band"].append(_side(_measure(rig, nom, load)) == _side(load))
    g_comp = _measure(rig, cal, 4000, hold_ms=120000, creep=cal.creep)
    g_raw = _measure(rig, cal, 4000, hold_ms=120000)
    stats["hold"].append(abs(g_comp - 4000) / 40)
    stats["hold_uncomp"].append(abs(g_raw - 4000) / 40)
    stats["creep_est"].append(d["creep"]["pct_per_decade"] if d["creep"] else 0.0)
    stats["creep_true"].append(part.creep_pct_decade)


def _loadcell_part(seed, stats):
    part = simsensors.make_part("loadcell", 2000 + seed)
    rig = hc.SimRig(part)
    pts = hc.auto_capture(rig, "loadcell", settle_ms=500, reads=8, read_gap_ms=0)
    d, _fit = hc.build_calibration("loadcell", pts)
    cal = dcal.Calibration.from_dict(d)
    nom = dcal.Calibration.from_dict(dcal.nominal("loadcell"))
    rng = random.Random(seed)
    rig.release()
    rig.wait_ms(500)
    tare = sum(rig.read_raw() for _ in range(4)) // 4   # the uncalibrated device only knows its zero
    for load in [int(rng.uniform(2000, 6000)) for _ in range(10)]:
        stats["lc_mae"].append(abs(_measure(rig, cal, load) - load) / load * 100)
        rig.press(load)
        rig.wait_ms(TEST_READ_MS)
        raw = sum(rig.read_raw() for _ in range(4)) // 4
        rig.release()
        rig.wait_ms(300)
        stats["lc_uncal"].append(abs(nom.grams(raw - tare) - load) / load * 100)


def run(n_parts: int = N_PARTS) -> dict:
    t0 = time.time()
    stats = {k: [] for k in ("mae", "uncal", "band", "uncal_band", "hold", "hold_uncomp", "creep_est",
                             "creep_true", "lc_mae", "lc_uncal")}
    for seed in range(n_parts):
        _fsr_part(seed, stats)
        _loadcell_part(seed, stats)

    def mean(x):
        return round(sum(x) / len(x), 3)

    return {
        "calib_parts": n_parts,
        "calib_fsr402_mae_pct": mean(stats["mae"]),
        "calib_fsr402_uncal_mae_pct": mean(stats["uncal"]),
        "calib_fsr402_band_agreement_pct": round(100 * sum(stats["band"]) / len(stats["band"]), 2),
        "calib_fsr402_uncal_band_agreement_pct": round(
            100 * sum(stats["uncal_band"]) / len(stats["uncal_band"]), 2),
        "calib_fsr402_hold_drift_pct": mean(stats["hold"]),
        "calib_fsr402_hold_drift_uncomp_pct": mean(stats["hold_uncomp"]),
        "calib_fsr402_creep_rate_err_pct_per_decade": mean(
            [abs(a - b) for a, b in zip(stats["creep_est"], stats["creep_true"], strict=True)]),
        "calib_loadcell_mae_pct": mean(stats["lc_mae"]),
        "calib_loadcell_uncal_mae_pct": mean(stats["lc_uncal"]),
        "calib_bench_s": round(time.time() - t0, 1),
    }


if __name__ == "__main__":
    import json

    n = int(sys.argv[1]) if len(sys.argv) > 1 else N_PARTS
    print(json.dumps(run(n), indent=2))
