"""Can a calibrated FSR tell 5 kg from 5.5 kg (host_tools/calibration/sensitivity.py)? A steep and a flat
simulated part of the wide population, in the documented circuit and with a wrong measuring resistor, through
`calibrate`'s fit and `doctor`'s check, with the idle noise measured on the simulated sensor or as noisy as
the worst ESP32 figure."""
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "host_tools" / "sim" / "rom"))

import simsensors  # noqa: E402

from host_tools import doctor  # noqa: E402
from host_tools.calibration import fit as calfit  # noqa: E402
from host_tools.calibration import pointsfile as calpoints  # noqa: E402
from host_tools.calibration import rigs as calrigs  # noqa: E402
from host_tools.calibration import sensitivity as sens  # noqa: E402
from tests.host import test_doctor as td  # noqa: E402

# in the first 3000 seeds of the wide population: the steepest measured-family FSR 402 at 5 kg, and the
# flattest datasheet-family one (its 5.0 -> 5.5 kg step is about a third of the steep part's)
STEEP_SEED, FLAT_SEED = 1144, 1483
LOADS_G = [500, 1000, 2000, 3000, 4000, 5000, 6000, 7000]
SIM_OVERSAMPLE = 4     # boards/sim.py


def part(seed):
    return simsensors.make_part("fsr402", seed, population="wide")


def circuit_points(p, r_m_ohm=None):
    """Noise-free points of a simulated part: its own ADC in the documented circuit, or (r_m_ohm) the same
    sensor behind another measuring resistor read by an ideal ADC (a builder's wrong part)."""
    def raw(g):
        if r_m_ohm is None:
            return p.ideal_u16(g)
        r = p.resistance_ohm(g)
        r_par = r * p.r_b_ohm / (r + p.r_b_ohm)
        return int(round(p.v_s_mv * r_m_ohm / (r_m_ohm + r_par) * 65535 / 3300))
    return calpoints.Points("fsr402", raw(0), [(float(g), float(raw(g))) for g in LOADS_G])


def idle_sample(p, n=doctor.NOISE_READS):
    """What acu.api.sample(n) reports on the idle simulated sensor (the sim board averages 4 reads)."""
    rig = calrigs.SimRig(p, oversample=SIM_OVERSAMPLE)
    rig.wait_ms(500)
    raws = sorted(rig.read_raw() for _ in range(n))
    return {"raw_min": raws[0], "raw_max": raws[-1], "raw_median": raws[n // 2], "grams": 0, "fault": 0}


def noisy_board_sample(zero_raw):
    """A board as noisy as the worst ESP32 figure (25 LSB per read) averaging SIM_OVERSAMPLE reads: the
    expected range of 20 samples is 3.735 sigma."""
    sigma = sens.documented_noise_raw(SIM_OVERSAMPLE)
    half = int(round(3.735 * sigma / 2))
    return {"raw_min": zero_raw - half, "raw_max": zero_raw + half, "grams": 0, "fault": 0}


def test_raw_at_g_follows_the_knots():
    knots = [[4000, 0], [30000, 5000], [31000, 6000]]
    assert sens.raw_at_g(knots, 5000) == 30000 and sens.raw_at_g(knots, 5500) == 30500
    assert sens.raw_at_g(knots, 7000) is None           # past the curve: reads no higher
    a = sens.assess("fsr402", [[4000, 0], [30000, 5000]], 50)
    assert a["apart_raw"] == 0 and not a["ok"]
    assert sens.assess("loadcell", knots, 50) is None
    assert sens.assess("fsr402", knots, 1)["noise_raw"] == sens.ADC_STEP_U16   # quantisation floor


def test_steep_and_flat_parts_in_the_documented_circuit():
    steep, flat = part(STEEP_SEED), part(FLAT_SEED)
    assert steep.params()["family"] == "measured" and flat.params()["family"] == "datasheet"
    f_steep = calfit.fit_points("fsr402", circuit_points(steep))
    f_flat = calfit.fit_points("fsr402", circuit_points(flat))
    assert f_steep.sensitivity["apart_raw"] > 2.5 * f_flat.sensitivity["apart_raw"]
    # against the worst documented noise over the boards' 8 reads both pass, the flat one barely
    need = sens.TELL_K * sens.documented_noise_raw()
    assert f_flat.sensitivity["need_raw"] == pytest.approx(need, abs=0.1)
    assert f_flat.sensitivity["ok"] and f_flat.sensitivity["apart_raw"] < 1.1 * need
    assert not any("cannot reliably tell" in w for w in f_steep.warnings + f_flat.warnings)
    assert any(ln.startswith("sensitivity: 5 kg and 5.5 kg read") for ln in calfit.format_report(f_flat))


def test_calibrate_warns_for_the_flat_part_behind_a_wrong_resistor():
    flat = part(FLAT_SEED)
    f = calfit.fit_points("fsr402", circuit_points(flat, r_m_ohm=150))
    assert not f.sensitivity["ok"]
    w = [x for x in f.warnings if "cannot reliably tell 5 kg from 5.5 kg" in x]
    assert len(w) == 1 and "load cell" in w[0]
    assert ("warning: " + w[0]) in calfit.format_report(f)


def test_auto_calibration_of_the_simulated_parts_reports_sensitivity():
    for seed in (STEEP_SEED, FLAT_SEED):
        rig = calrigs.SimRig(part(seed), oversample=SIM_OVERSAMPLE)
        d, fit = calfit.build_calibration("fsr402", calrigs.auto_capture(rig, "fsr402"), creep=False)
        ideal = part(seed).ideal_u16(5500) - part(seed).ideal_u16(5000)
        assert fit.sensitivity["apart_raw"] == pytest.approx(ideal, rel=0.15)
        assert d["points"] == fit.knots


@pytest.mark.parametrize("seed, noisy, want", [
    (STEEP_SEED, False, doctor.OK), (FLAT_SEED, False, doctor.OK),
    (STEEP_SEED, True, doctor.OK), (FLAT_SEED, True, doctor.WARN)])
def test_doctor_judges_against_the_measured_noise(seed, noisy, want):
    p = part(seed)
    d, _ = calfit.build_calibration("fsr402", circuit_points(p), creep=False)
    sample = noisy_board_sample(d["zero_raw"]) if noisy else idle_sample(p)
    (c,) = doctor.check_sensitivity(d, sample)
    assert c.status == want and "measured on the idle sensor" in c.detail
    if want == doctor.WARN:
        assert "cannot reliably tell 5 kg from 5.5 kg" in c.detail and "load-cell" in c.fix
    else:
        assert "ADC counts apart" in c.detail


def test_doctor_without_a_usable_noise_measure_uses_the_documented_figure():
    p = part(FLAT_SEED)
    d, _ = calfit.build_calibration("fsr402", circuit_points(p), creep=False)
    for sample in ({"raw_min": 30000, "raw_max": 34000, "grams": 3000, "fault": 0},   # someone pressing
                   {"raw_min": 0, "raw_max": 0, "grams": 0, "fault": 1}, None, {"grams": 0}):
        (c,) = doctor.check_sensitivity(d, sample)
        assert "worst ESP32 ADC noise documented" in c.detail
    assert doctor.check_sensitivity({"sensor": "loadcell", "points": [[0, 0], [10, 5]]}, None) == []
    assert doctor.check_sensitivity({"sensor": "fsr402", "points": "x"}, None) == []


class CalibSession(td.FakeSession):
    def __init__(self, calib, **kw):
        super().__init__(**kw)
        self.calib = calib

    def read_file(self, path):
        if path == "/cfg/calib.json":
            return self.calib
        return super().read_file(path)


def test_diagnose_includes_the_check_for_a_calibrated_fsr(tmp_path):
    d, _ = calfit.build_calibration("fsr402", circuit_points(part(FLAT_SEED), r_m_ohm=150), creep=False)
    checks = td.by_name(td.diag(CalibSession(json.dumps(d).encode()), tmp_path))
    assert checks["sensitivity"].status == doctor.WARN
    assert doctor.healthy(list(checks.values()))          # a warning: the trainer still works
    damaged = td.by_name(td.diag(CalibSession(b"{oops"), tmp_path))
    assert "sensitivity" not in damaged                   # the boot-files check speaks for a bad file
    lc = td.by_name(td.diag(CalibSession(json.dumps(d).encode(), st=td.status(sensor="loadcell")), tmp_path))
    assert "sensitivity" not in lc
