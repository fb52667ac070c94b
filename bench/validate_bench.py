"""`make bench --only validate`: the validation kit (docs/validation.md) on each simulated sensor after
`calibrate --auto`: 30 presses at 1-6 kg and a 120 s hold at 4 kg, the same run as the docs' table.

Keys, per sensor (fsr402, fsr406, a201, loadcell):
  validate_<sensor>_loa_pct           95 % of presses read within +- this % of the reference (Bland-Altman)
  validate_<sensor>_bias_pct          mean difference, % of the reference
  validate_<sensor>_band_agree_clear  share of presses clear of the 3/5 kg edges classified as the reference
  validate_<sensor>_drift_pct_per_min drift over the hold, % of the load per minute
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from host_tools.sim import control

BIN = Path(sys.executable).parent
# the docs' parts; the load cell at x20: at x60 its simulated HX711 repeats one reading through calibration
SENSORS = [("fsr402", 2026), ("fsr406", 2026), ("a201", 2026), ("loadcell", 4712)]
SPEED = 20


def _cli(*args, timeout=600) -> str:
    r = subprocess.run([str(BIN / "acutrainer"), *args], capture_output=True, text=True, timeout=timeout)
    if r.returncode:
        raise RuntimeError("acutrainer %s: %s" % (" ".join(args), (r.stderr or r.stdout).strip()[-300:]))
    return r.stdout


def one(work: Path, sensor: str, seed: int) -> dict:
    name = "bench-validate-" + sensor
    control.stop(name)
    st = control.start(name, speed=SPEED, seed=seed, sensor=sensor, flash=str(work / ("validate-%s.img" % sensor)))
    try:
        port = st["port"]
        _cli("deploy", "--board", "sim", "--port", port)
        _cli("calibrate", "--auto", "-y", "--port", port)
        out = work / ("validate-" + sensor)
        _cli("validate", "--auto", "--port", port, "--out", str(out))
    finally:
        control.stop(name)
    f = json.loads((out / "results.json").read_text())
    p = "validate_%s_" % sensor
    return {p + "loa_pct": round(f["bland_altman"]["loa_pct"], 2),
            p + "bias_pct": round(f["bland_altman"]["bias_pct"], 2),
            p + "band_agree_clear": f["band"]["clear_of_edges"]["share"],
            p + "drift_pct_per_min": round(f["drift"]["pct_per_min"], 3) if f["drift"] else None}


def run(work: Path) -> dict:
    got: dict = {}
    for sensor, seed in SENSORS:
        try:
            got.update(one(work, sensor, seed))
        except Exception as e:   # one sensor's failure must not hide the others' figures
            got["validate_%s_error" % sensor] = str(e)[:300]
    return got
