"""The expected error a calibration promises (docs/calibration.md, "Expected error"), how the wizard and
`check` talk about it, and what a write says about the calibration it replaces."""
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "host_tools" / "sim" / "rom"))

import simsensors  # noqa: E402

from host_tools.calibration import device as caldev  # noqa: E402
from host_tools.calibration import fit as calfit  # noqa: E402
from host_tools.calibration import pointsfile as calpoints  # noqa: E402
from host_tools.calibration import rigs as calrigs  # noqa: E402
from host_tools.commands import calibrate, check  # noqa: E402
from test_calibration import FakeSession  # noqa: E402

GOOD = [(1000, 22800), (2000, 29400), (3000, 33200), (4000, 35650), (5000, 37400), (6000, 38800)]


def _pts(rows, unloading=()):
    return calpoints.Points(sensor="fsr402", zero_raw=4200, points=[(float(g), float(r)) for g, r in rows],
                            source="p.csv", unloading=[(float(g), float(r)) for g, r in unloading])


# ------------------------------------------------------------------ the computation
def test_expected_error_by_hand():
    g = np.array([2000.0, 3000, 4000, 4000, 5000, 6000])
    fitted = g * np.array([1.0, 1.01, 1.02, 0.98, 1.0, 1.0])     # the repeats at 4 kg: +2 % and -2 %
    loo = g * np.array([1.0, 1.03, 1.0, 1.0, 0.97, 1.0])         # left-out errors +3 % at 3 kg, -3 % at 5 kg
    e = calfit.expected_error("fsr402", g, fitted, loo, down_pct=[8.0, 10.0])
    fit_pct = np.sqrt((9 + 9) / 6)                               # all six are within 1.25 kg of the band
    rep_pct = np.sqrt((4 + 4 + 2 * 2.0 ** 2) / (1 + 2))         # 1 dof from the pair, 2 from the datasheet
    assert e["fit_pct"] == pytest.approx(fit_pct, abs=0.01)
    assert e["repeat_pct"] == pytest.approx(rep_pct, abs=0.01)
    assert e["pct"] == pytest.approx(2 * max(fit_pct, rep_pct), abs=0.05)
    assert e["repeat_basis"] == "2 presses at 1 repeated loads"
    assert e["hysteresis_pct"] == 9.0 and e["hysteresis_basis"] == "2 unloading points"
    # no repeats, no unloading points: the datasheet figures, said so
    e2 = calfit.expected_error("fsr402", g[[0, 1, 2, 4, 5]], fitted[[0, 1, 2, 4, 5]], loo[[0, 1, 2, 4, 5]])
    assert e2["repeat_basis"] == "datasheet" and e2["repeat_pct"] == 2.0
    assert e2["hysteresis_basis"] == "datasheet" and e2["hysteresis_pct"] == 10.0


def test_a_perfect_fit_still_promises_the_sensors_repeatability():
    g = np.array([1000.0, 2000, 3000, 4000, 5000, 6000])
    e = calfit.expected_error("fsr402", g, g, g)
    # the case: a fit residual of ~0 % is not what a check will see
    assert e["fit_pct"] == 0 and e["pct"] == pytest.approx(2 * 2.0)
    assert calfit.expected_error("loadcell", g, g, g)["pct"] == calfit.FLOOR_PCT["loadcell"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1000, 7000), st.floats(-8, 8)), min_size=5, max_size=20),
       st.lists(st.floats(-8, 8), min_size=0, max_size=20))
def test_prop_expected_error_bounds(rows, loo_err):
    g = np.array([float(a) for a, _ in rows])
    fitted = g * (1 + np.array([b for _, b in rows]) / 100)
    loo = g * (1 + np.array((loo_err + [0.0] * len(rows))[: len(rows)]) / 100)
    e = calfit.expected_error("fsr402", g, fitted, loo)
    assert e["pct"] >= calfit.FLOOR_PCT["divider"]
    assert e["pct"] == pytest.approx(max(2 * max(e["fit_pct"], e["repeat_pct"]), 1.0), abs=0.1)
    assert e["pct"] >= 2 * e["fit_pct"] - 0.1
    # every group of repeats spans at most 3 % of its lightest load, and has 2 or more points
    for grp in calfit.repeat_groups(g):
        assert len(grp) >= 2 and max(g[grp]) <= min(g[grp]) * 1.03 + 1e-9


def test_auto_capture_repeats_and_unloading_measure_the_part():
    part = simsensors.make_part("fsr402", 1004)     # a measured-family part of the wide population
    assert part.params()["family"] == "measured"
    rig = calrigs.SimRig(part)
    pts = calrigs.auto_capture(rig, "fsr402")
    assert len(pts.unloading) == 1 and pts.unloading[0][0] == 4000
    d, fit = calfit.build_calibration("fsr402", pts)
    e = d["fit"]["expect"]
    assert e["repeat_basis"] == "6 presses at 3 repeated loads"
    assert e["hysteresis_basis"] == "1 unloading point" and e["hysteresis_pct"] > 2
    lines = calfit.format_report(fit, d)
    assert any(x.startswith("expect +-%.1f %% at 3-5 kg" % e["pct"]) for x in lines)
    assert any("easing off from a harder press" in x and "measured" in x for x in lines)


# ------------------------------------------------------------------ points files with unloading points
def test_unloading_points_in_csv_and_json_round_trip():
    text = "grams,raw\n0,4200\n" + "".join("%d,%d\n" % r for r in GOOD) + "4000,36900,down\n"
    p = calpoints.parse_points_text(text, "u.csv")
    assert p.unloading == [(4000.0, 36900.0)] and len(p.points) == len(GOOD)
    q = calpoints.parse_points_text(calpoints.points_to_csv(p), "again.csv")
    assert q.unloading == p.unloading and q.points == p.points
    j = {"points": [[0, 4200]] + [list(r) for r in GOOD] + [{"grams": 4000, "raw": 36900, "unloading": True}]}
    assert calpoints.parse_points_text(json.dumps(j), "u.json").unloading == [(4000.0, 36900.0)]
    j["points"][-1]["unloading"] = "yes"
    with pytest.raises(Exception, match=r"u\.json: points\[7\]: unloading must be true or false"):
        calpoints.parse_points_text(json.dumps(j), "u.json")
    d, fit = calfit.build_calibration("fsr402", p)
    assert fit.expect["hysteresis_basis"] == "1 unloading point" and fit.expect["hysteresis_pct"] > 0


# ------------------------------------------------------------------ what a write says it replaced
class Session(FakeSession):
    """test_calibration's device files; the device id is what this write asks the board for."""
    def hw_call(self, expr):
        assert "unique_id" in expr
        return "fa4e00e1"


def test_the_write_names_the_previous_calibration_only_when_there_is_one():
    s = Session()
    d1, fit = calfit.build_calibration("fsr402", _pts(GOOD))
    d1["id"] = "cal-one"
    out = []
    calibrate._finish(s, d1, fit, True, None, out.append)
    assert any("there was no previous calibration on the device" in x for x in out)
    assert not any("calib.prev.json" in x for x in out) and caldev.PREV_PATH not in s.files
    d2 = dict(d1, id="cal-two")
    out = []
    calibrate._finish(s, d2, fit, True, None, out.append)
    assert any("the previous one (cal-one) is kept as /cfg/calib.prev.json" in x for x in out)
    assert json.loads(s.files[caldev.PREV_PATH])["id"] == "cal-one"
    # a damaged calib.json is named as such, never "no previous calibration", and not kept as previous
    s.files[caldev.CALIB_PATH] = b'{"format": "acu-calib", "version": 1'
    out = []
    calibrate._finish(s, dict(d1, id="cal-three"), fit, True, None, out.append)
    line = next(x for x in out if x.startswith("written"))
    assert "was not a valid calibration and is not kept" in line and "no previous" not in line
    assert json.loads(s.files[caldev.PREV_PATH])["id"] == "cal-one"


# ------------------------------------------------------------------ check against the promise
def _r(err_pct, weight_g=4000, calibrated=True):
    return {"weight_g": weight_g, "error_pct": err_pct, "calibrated": calibrated, "calibration": "cal-x"}


def test_check_compares_with_the_expected_error():
    e = {"pct": 4.2, "lo_g": 3000, "hi_g": 5000}
    r = _r(-2.6)
    assert check.compare_expected(r, e) == "within the expected +-4.2 % of this calibration"
    assert r["within_expected"] is True and r["expected_pct"] == 4.2
    r = _r(+5.0)
    line = check.compare_expected(r, e)
    assert line.startswith("outside the expected +-4.2 %") and "recalibrate" in line and not r["within_expected"]
    assert "promised for 3-5 kg only" in check.compare_expected(_r(1.0, weight_g=8000), e)
    r = _r(1.0)
    assert "not known here" in check.compare_expected(r, None) and r["within_expected"] is None
    assert "nominal curve promises nothing" in check.compare_expected(_r(9.0, calibrated=False), None)


def test_check_finds_the_promise_on_the_device_when_the_archive_lacks_it():
    d, _ = calfit.build_calibration("fsr402", _pts(GOOD))
    d["id"] = "cal-elsewhere-%d" % id(d)
    data = json.dumps(d).encode()
    assert check.stored_expect(d["id"], "fa4e00e2", lambda: data) == d["fit"]["expect"]
    assert check.stored_expect("cal-other", "fa4e00e2", lambda: data) is None      # not the one in use
    assert check.stored_expect(d["id"], "fa4e00e2", lambda: b"{broken") is None
    old = dict(d, fit={"rms_pct": 1.0})                                           # written before expect
    assert check.stored_expect(d["id"], "fa4e00e2", lambda: json.dumps(old).encode()) is None
    assert check.stored_expect("nominal-fsr402", None, lambda: data) is None
