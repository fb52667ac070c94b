"""Calibration bench: seeded simulated parts calibrated with the automatic procedure, then
measured on fresh presses. run() -> dict of figures for build/bench.json.

Every FSR part comes from the wide part population (docs/sensors.md "Part population": half near the
datasheet curve, half like measured parts with Rs ~ 0 and n 1.05-1.26), seeds 1000 + i.
  calib_population, calib_parts_measured_family   which population, and how many parts are "measured"

Accuracy figures: CPython, the host's calibration code and the device codec on the simulated part
(simsensors, the same model the simulator's firmware reads), read like the driver does; < 10 s.
Over N_PARTS parts each:
  calib_fsr402_mae_pct             mean |error| / load on loading, loads 2-6 kg, calibrated (target <= 5)
  calib_fsr402_uncal_mae_pct       the same with the nominal curve (uncalibrated part)
  calib_fsr402_band_agreement_pct  presses > 2 N away from a band edge classified on the right side
  calib_fsr402_uncal_band_agreement_pct
  calib_fsr402_creep_rate_err_pct_per_decade   |measured - true| creep rate of the part
  calib_loadcell_mae_pct           (target <= 1), calib_loadcell_uncal_mae_pct (nominal, tared)

Hold and check figures: the firmware itself, on the MicroPython unix port in the simulator
(firmware_hold_run()), over FW_PARTS seeded FSR 402 parts (the parts of the accuracy figures),
FW_PARALLEL simulators at a time:
  calib_fsr402_expected_error_pct  mean of the "expect +-X % at 3-5 kg" that `calibrate --auto` printed
  calib_expected_error_covered_pct share of the `acutrainer check --weight` readings (3, 4 and 5 kg, one
                                   each, right after the calibration) that `check` found within the +-X %
                                   printed for that part (target >= 90)
  calib_fsr402_check_err_p50_pct, _p90_pct, _max_pct   |error| of those check readings (nearest rank)
  calib_fsr402_check_err_signed_pct                    their mean signed error
  calib_fw_checks, calib_fw_population
  calib_fsr402_hold_drift_pct      mean |error| of the app's force after a 120 s hold at 4 kg, with the
                                   calibration's creep compensation (target <= 5)
  calib_fsr402_hold_drift_uncomp_pct   the same part and points, calibrated without creep (--no-creep)
  calib_fsr402_hold_drift_signed_pct, ..._uncomp_signed_pct   the mean signed errors (creep reads high)
  calib_fw_parts, calib_fw_bench_s
How: for each part a simulator (--speed 0: virtual time runs as fast as the firmware loops, and it moves
only with the firmware's sleeps while the app runs, so the hold's timing is exact whatever the machine's
load) gets the firmware (`acutrainer deploy`) and `acutrainer calibrate --auto` (with its 60 s creep
hold; the points are saved); then `acutrainer check --weight` runs at 3, 4 and 5 kg as a user would (the
simulator's hand applies the load; the app's own filtered, creep-compensated force over 2 s of steady
reading; check's own verdict against the expected error is what counts).
The simulated hand then rests 2 s and presses 4 kg (150 ms ramp, no tremor:
the sensor adds its own noise, per-press repeatability and creep) and keeps pressing. The running app
(App.run, as booted; nobody talks to it during the hold) turns the press into a free-press session after
2 s of contact and logs its own force, the force_g it feeds the band and the feedback, as the session
trace (10 Hz means, 20 g steps). After 130 s of virtual time the bench takes the REPL (the app closes the
session), reads the log file and decodes it with the device codec, checking that the newest session is
this boot's free press and used the calibration on file. The hold time of each trace sample is its time
in the session plus the 2 s of contact before the session began (acu.app's free-press rule; the app's
hold clock starts at the same contact); the figure is the mean of the 20 samples 119-121 s into the hold
against the hand's 4000 g. Then the same part is calibrated from the saved points with `--no-creep` (the
same fit, no compensation) and held again.
Why the log: it is the firmware's own record of the force it computed, timed on its own clock, so the
bench needs no hook in the firmware and does not depend on when the host happens to interrupt the app
(reading force_g over the REPL gives one sample at a moment the host cannot place in virtual time).
"""
from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
for p in (ROOT, ROOT / "host_tools" / "sim" / "rom"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from host_tools.paths import ensure_device_importable  # noqa: E402

ensure_device_importable()
import simsensors  # noqa: E402
from acu import calib as dcal  # noqa: E402

from host_tools.calibration import fit as calfit  # noqa: E402
from host_tools.calibration import rigs as calrigs  # noqa: E402

N_PARTS = 24
POPULATION = "wide"     # the FSR parts of docs/sensors.md "Part population": datasheet curve and measured parts
TWO_N_G = 204           # 2 N in grams
TEST_READ_MS = 1000     # a test press is read after this long at its load (like a user's settled press)


def _measure(rig, cal, load_g, hold_ms=TEST_READ_MS):
    rig.press(load_g)
    rig.wait_ms(hold_ms)
    raw = sum(rig.read_raw() for _ in range(4)) // 4
    g = cal.grams(raw)
    rig.release()
    rig.wait_ms(500)
    return g


def _side(g):
    return 0 if g < calfit.BAND_LO_G else (1 if g <= calfit.BAND_HI_G else 2)


def _band_loads(rng):
    """Test loads in 1.5-7 kg, each more than 2 N from both band edges."""
    out = []
    while len(out) < 12:
        x = rng.uniform(1500, 7000)
        if abs(x - calfit.BAND_LO_G) > TWO_N_G and abs(x - calfit.BAND_HI_G) > TWO_N_G:
            out.append(int(x))
    return out


def _fsr_part(seed, stats):
    part = simsensors.make_part("fsr402", 1000 + seed, population=POPULATION)
    stats["measured"].append(part.family == "measured")
    rig = calrigs.SimRig(part)
    pts = calrigs.auto_capture(rig, "fsr402", creep_hold_s=60.0)
    d, _fit = calfit.build_calibration("fsr402", pts)
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
    stats["creep_est"].append(d["creep"]["pct_per_decade"] if d["creep"] else 0.0)
    stats["creep_true"].append(part.creep_pct_decade)


def _loadcell_part(seed, stats):
    part = simsensors.make_part("loadcell", 2000 + seed)
    rig = calrigs.SimRig(part)
    pts = calrigs.auto_capture(rig, "loadcell", settle_ms=500, reads=8, read_gap_ms=0)
    d, _fit = calfit.build_calibration("loadcell", pts)
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


def accuracy_run(n_parts: int = N_PARTS) -> dict:
    """The CPython figures (module docstring)."""
    t0 = time.time()
    stats = {k: [] for k in ("mae", "uncal", "band", "uncal_band", "creep_est",
                             "creep_true", "lc_mae", "lc_uncal", "measured")}
    for seed in range(n_parts):
        _fsr_part(seed, stats)
        _loadcell_part(seed, stats)

    def mean(x):
        return round(sum(x) / len(x), 3)

    return {
        "calib_parts": n_parts,
        "calib_population": POPULATION,
        "calib_parts_measured_family": sum(stats["measured"]),
        "calib_fsr402_mae_pct": mean(stats["mae"]),
        "calib_fsr402_uncal_mae_pct": mean(stats["uncal"]),
        "calib_fsr402_band_agreement_pct": round(100 * sum(stats["band"]) / len(stats["band"]), 2),
        "calib_fsr402_uncal_band_agreement_pct": round(
            100 * sum(stats["uncal_band"]) / len(stats["uncal_band"]), 2),
        "calib_fsr402_creep_rate_err_pct_per_decade": mean(
            [abs(a - b) for a, b in zip(stats["creep_est"], stats["creep_true"], strict=True)]),
        "calib_loadcell_mae_pct": mean(stats["lc_mae"]),
        "calib_loadcell_uncal_mae_pct": mean(stats["lc_uncal"]),
        "calib_bench_s": round(time.time() - t0, 1),
    }


# ---- the hold figures, measured on the firmware in the simulator ---------------------------------------
FW_PARTS = 24           # seeded FSR 402 parts (1000 + i: the accuracy figures' parts)
CHECK_KG = (3.0, 4.0, 5.0)   # `acutrainer check --weight` after the calibration, one each
FW_PARALLEL = 2         # simulators at a time
HOLD_G = 4000
HOLD_PROFILE = "hold 2s at 0\npress %dg for 10min ramp 150ms\n" % HOLD_G
HOLD_AT_S = 120         # the figure: the app's force this long into the hold ...
HOLD_WINDOW_MS = 2000   # ... as the mean of the trace samples within +-1 s of it
HOLD_RUN_MS = 130000    # virtual time the hand presses before the bench takes the REPL


def _cli(*args, timeout=300):
    r = subprocess.run([str(BIN / "acutrainer"), *args], capture_output=True, text=True, timeout=timeout)
    if r.returncode:
        raise RuntimeError("acutrainer %s: %s" % (" ".join(args), (r.stderr or r.stdout).strip()[-300:]))
    return r.stdout


_CHECK_RE = re.compile(r"reads ([0-9.]+) kg: error [+-]?\d+ g \(([+-]?[0-9.]+) %")
_EXPECT_RE = re.compile(r"(within|outside) the expected \+-([0-9.]+) %")


def _check(port: str, kg: float) -> dict:
    """`acutrainer check --weight KG` as a user runs it: its error and what it says of the expected error."""
    r = subprocess.run([str(BIN / "acutrainer"), "check", "--weight", "%g" % kg, "--port", port],
                       capture_output=True, text=True, timeout=300)
    m, e = _CHECK_RE.search(r.stdout), _EXPECT_RE.search(r.stdout)
    if r.returncode not in (0, 1) or not m or not e:   # 1: a FAIL, still a reading
        raise RuntimeError("acutrainer check: %s" % (r.stderr or r.stdout).strip()[-300:])
    return {"kg": kg, "err_pct": float(m.group(2)), "expected_pct": float(e.group(2)),
            "within": e.group(1) == "within"}


def _free_start_ms() -> int:
    """How long a contact lasts before the app begins a free-press session (the firmware's own rule)."""
    from acu import app
    return int(app._FREE_START_MS)


def _wait_app(sim, after_boot: int, deadline: float):
    """Until the firmware booted after after_boot runs its app's loop (its first band state note)."""
    while True:
        boot = sim.status()["boot"]
        if boot > after_boot and any(r.get("name") == "state" for r in sim.trace(boot)):
            return
        if time.monotonic() > deadline:
            raise RuntimeError("the app did not start after boot %d" % after_boot)
        time.sleep(0.05)


def firmware_hold(sim, after_boot: int, timeout_s: float = 120.0) -> dict:
    """Hold HOLD_G on the simulator's part while its app runs (the app booted after after_boot: the last
    command restarted it); the app's force over the hold from its own session log:
    {"force_g": mean force HOLD_AT_S into the hold, "samples": n, "creep": the calibration's creep entry}."""
    from acu import logread

    from host_tools.session import open_session

    deadline = time.monotonic() + timeout_s
    _wait_app(sim, after_boot, deadline)
    sim.load_profile(HOLD_PROFILE, "creep-hold")
    t_sent = sim.status()["t_ms"]   # the hand starts at or before this virtual time
    while sim.status()["t_ms"] < t_sent + HOLD_RUN_MS:
        if time.monotonic() > deadline:
            raise RuntimeError("the simulator did not run the hold in time")
        time.sleep(0.05)
    sim.release(ramp_ms=0)
    # the hold is a free-press session in progress: end it on purpose (it closes as completed), then the REPL
    with open_session(sim.port, timeout_s=60, practice="stop", say=lambda text: None) as s:
        info = s.call("acu.logadmin", "info")
        files = s.call("acu.logadmin", "list_sessions", "/log", 0, 1000)
        if not files:
            raise RuntimeError("the app logged no session for the hold")
        data = s.read_file("/log/" + files[-1]["name"])
        cal = json.loads(s.read_file("/cfg/calib.json"))
    d = logread.decode_session(logread.split_sessions(data)[-1][2])
    h = d["session"]
    # the newest session must be this app's free press (not an earlier hold's), with the calibration on file
    if h is None or h["routine"] != "free" or h["boot_count"] != info["boot_count"] or not d["trace"]:
        raise RuntimeError("the hold's free-press session is not in the log: %s %s" % (h, d["problems"]))
    if h["calib_id"] != cal["id"]:
        raise RuntimeError("the app did not use the calibration on file (%s, not %s)" % (h["calib_id"], cal["id"]))
    pre = _free_start_ms()
    lo, hi = HOLD_AT_S * 1000 - HOLD_WINDOW_MS // 2, HOLD_AT_S * 1000 + HOLD_WINDOW_MS // 2
    vals = []
    for c in d["trace"]:
        for k, v in enumerate(c["values_g"]):
            t_hold = pre + c["t0_ms"] + k * c["period_ms"] + c["period_ms"] // 2   # the sample's mid-time
            if lo <= t_hold < hi:
                vals.append(v)
    if len(vals) < HOLD_WINDOW_MS // d["session"]["trace_period_ms"] - 1:
        raise RuntimeError("the hold's trace has %d samples around %d s" % (len(vals), HOLD_AT_S))
    return {"force_g": sum(vals) / len(vals), "samples": len(vals), "creep": cal["creep"]}


def _fw_part(i: int, work: Path) -> dict:
    from host_tools.sim import control

    seed = 1000 + i
    name = "bench-creep-%d" % seed
    control.stop(name)
    st = control.start(name, flash=str(work / ("creep-%d.img" % seed)), speed=0.0, seed=seed,
                       population=POPULATION)
    try:
        port = st["port"]
        sim = control.SimControl.find(name)
        if sim.status().get("population") != POPULATION:
            raise RuntimeError("the simulator's part is not from the %s population" % POPULATION)
        pts = work / ("creep-%d.csv" % seed)
        _cli("deploy", "--board", "sim", "--port", port)
        boot = sim.status()["boot"]
        out = _cli("calibrate", "--auto", "-y", "--save-points", str(pts), "--port", port)
        promised = re.search(r"^expect \+-([0-9.]+) % at 3-5 kg", out, re.M)
        if not promised:
            raise RuntimeError("calibrate --auto printed no expected error")
        checks = [_check(port, kg) for kg in CHECK_KG]
        if any(c["expected_pct"] != float(promised.group(1)) for c in checks):
            raise RuntimeError("check compared with %s, not the +-%s %% calibrate printed"
                               % ([c["expected_pct"] for c in checks], promised.group(1)))
        comp = firmware_hold(sim, boot)   # the app the calibration's write restarted (the checks leave it running)
        boot = sim.status()["boot"]
        _cli("calibrate", "--points", str(pts), "--no-creep", "-y", "--port", port)
        plain = firmware_hold(sim, boot)
        if not comp["creep"] or plain["creep"] is not None:
            raise RuntimeError("calibrations: with creep %s, --no-creep %s" % (comp["creep"], plain["creep"]))
        return {"seed": seed, "comp_g": comp["force_g"], "plain_g": plain["force_g"], "checks": checks,
                "expected_pct": float(promised.group(1))}
    finally:
        control.stop(name)


def firmware_hold_run(n_parts: int = FW_PARTS, parallel: int = FW_PARALLEL, work: Path | None = None) -> dict:
    """The hold figures (module docstring): the firmware on the unix port, in simulators."""
    t0 = time.time()
    work = Path(work or tempfile.mkdtemp(prefix="acubench-creep-"))
    with ThreadPoolExecutor(max_workers=parallel) as ex:
        parts = list(ex.map(lambda i: _fw_part(i, work), range(n_parts)))

    def pct(key, signed=False):
        errs = [(p[key] - HOLD_G) / HOLD_G * 100 for p in parts]
        return round(sum(e if signed else abs(e) for e in errs) / len(errs), 3)

    checks = [c for p in parts for c in p["checks"]]
    errs = sorted(abs(c["err_pct"]) for c in checks)

    def q(f):   # nearest-rank percentile of the |check error|
        return round(errs[min(len(errs) - 1, max(0, int(round(f * len(errs) + 0.5)) - 1))], 2)

    return {
        "calib_fw_parts": n_parts,
        "calib_fw_population": POPULATION,
        "calib_fw_checks": len(checks),
        "calib_fsr402_expected_error_pct": round(sum(p["expected_pct"] for p in parts) / len(parts), 2),
        "calib_expected_error_covered_pct": round(100 * sum(c["within"] for c in checks) / len(checks), 1),
        "calib_fsr402_check_err_p50_pct": q(0.5),
        "calib_fsr402_check_err_p90_pct": q(0.9),
        "calib_fsr402_check_err_max_pct": errs[-1],
        "calib_fsr402_check_err_signed_pct": round(sum(c["err_pct"] for c in checks) / len(checks), 2),
        "calib_fsr402_hold_drift_pct": pct("comp_g"),
        "calib_fsr402_hold_drift_uncomp_pct": pct("plain_g"),
        "calib_fsr402_hold_drift_signed_pct": pct("comp_g", True),
        "calib_fsr402_hold_drift_uncomp_signed_pct": pct("plain_g", True),
        "calib_fw_bench_s": round(time.time() - t0, 1),
    }


def run(n_parts: int = N_PARTS, fw_parts: int = FW_PARTS, work: Path | None = None) -> dict:
    out = accuracy_run(n_parts)
    try:
        out.update(firmware_hold_run(fw_parts, work=work))
    except Exception as e:  # the simulator part failing must not hide the accuracy figures
        out["bench_error_calib_fw"] = str(e)[:300]
    return out


if __name__ == "__main__":
    # usage: calib_bench.py [N_PARTS [FW_PARTS]]; simulators in a private data dir unless ACUTRAINER_HOME is set
    os.environ.setdefault("ACUTRAINER_HOME", tempfile.mkdtemp(prefix="acubench-"))
    n = int(sys.argv[1]) if len(sys.argv) > 1 else N_PARTS
    fw = int(sys.argv[2]) if len(sys.argv) > 2 else FW_PARTS
    print(json.dumps(run(n, fw), indent=2))
