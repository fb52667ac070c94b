"""calibrate / check / monitor library functions against a simulated part behind a fake session."""
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "host_tools" / "sim" / "rom"))

import simsensors  # noqa: E402

from host_tools import calibration as hc  # noqa: E402
from host_tools.commands import calibrate, check, monitor  # noqa: E402
from host_tools.errors import DeviceError  # noqa: E402

hc.ensure_device_importable()
from acu import calib as dcal  # noqa: E402


class FakeDevice:
    """A session whose board is a SimRig (virtual time)."""

    def __init__(self, kind="fsr402", seed=21):
        self.rig = hc.SimRig(simsensors.make_part(kind, seed))
        self.kind = kind
        self.files = {}
        self.restarts = 0

    def hw_call(self, expr):
        if expr == "hw.sensor.kind":
            return self.kind
        if expr == "hw.sensor.read_raw()":
            return self.rig.read_raw()
        if expr == "hw.nominal_calib":
            return dcal.nominal(self.kind)
        raise AssertionError(expr)

    def call(self, module, func, *args):
        raise DeviceError("ImportError: no module named 'acu.api'")

    def exists(self, p):
        return p in self.files

    def read_file(self, p):
        return self.files[p]

    def write_file_atomic(self, p, data):
        self.files[p] = bytes(data)

    def makedirs(self, p):
        pass

    def restart_app(self):
        self.restarts += 1


def test_auto_then_check_passes_and_uncalibrated_is_worse():
    dev = FakeDevice("fsr402", 21)
    lines = []
    # before calibrating: the nominal curve
    before = check.check_weight(dev, 4000, dev.rig)
    assert not before["calibrated"]
    d = calibrate.calibrate_auto(dev, None, creep_hold_s=30.0, out=lines.append, rig=dev.rig)
    assert dev.restarts == 0  # the session stays in the raw REPL; its close restarts the app
    assert json.loads(dev.files[hc.CALIB_PATH])["id"] == d["id"]
    assert any("expected error at 3 kg" in x for x in lines)
    r = check.check_weight(dev, 4000, dev.rig)
    assert r["calibrated"] and r["pass"], r
    assert abs(r["error_pct"]) < abs(before["error_pct"]) or abs(before["error_pct"]) < 2


def test_points_dry_run_and_write(tmp_path):
    dev = FakeDevice("fsr402", 5)
    pts = hc.auto_capture(dev.rig, "fsr402")
    f = tmp_path / "p.csv"
    f.write_text(hc.points_to_csv(pts))
    out = []
    calibrate.calibrate_from_points(None, f, out=out.append, write=False)
    assert "not written (dry run)" in out
    calibrate.calibrate_from_points(dev, f, out=out.append, confirm=lambda q: False)
    assert dev.files == {}
    calibrate.calibrate_from_points(dev, f, out=out.append, confirm=lambda q: True)
    assert hc.CALIB_PATH in dev.files
    d = calibrate.restore  # restore needs a prev: write a second one first
    calibrate.calibrate_from_points(dev, f, out=out.append)
    assert hc.PREV_PATH in dev.files
    back = d(dev, out.append)
    assert back["format"] == "acu-calib"


def test_points_for_other_sensor_refused(tmp_path):
    dev = FakeDevice("a201", 5)
    f = tmp_path / "p.csv"
    f.write_text("# sensor: fsr402\ngrams,raw\n0,4200\n1000,22800\n2000,29400\n3000,33200\n4000,35650\n"
                 "5000,37400\n6000,38800\n")
    with pytest.raises(hc.CalibrationRefused, match="fsr402"):
        calibrate.calibrate_from_points(dev, f, out=lambda s: None)
    assert dev.files == {}


def test_loadcell_check_uncalibrated_and_calibrated():
    dev = FakeDevice("loadcell", 3)
    r0 = check.check_weight(dev, 4000, dev.rig)
    assert not r0["calibrated"]
    assert abs(r0["error_pct"]) < 15   # nominal gain, tared like the device's zero tracking
    calibrate.calibrate_auto(dev, None, out=lambda s: None, rig=dev.rig)
    r = check.check_weight(dev, 4000, dev.rig)
    assert r["pass"] and abs(r["error_pct"]) < 1 and r["tolerance_pct"] == 1.0


def test_check_rejects_silly_weight():
    dev = FakeDevice()
    with pytest.raises(Exception, match="outside"):
        check.check_weight(dev, 10, dev.rig)


def test_wizard_weights_mode():
    dev = FakeDevice("fsr402", 9)
    rig = dev.rig
    loads = iter([None, None] + hc.AUTO_LOADS["divider"])

    def ask(prompt):
        if prompt.strip().endswith("[y/N]"):
            return "y"
        L = next(loads, None)
        if L:
            rig.press(L)
            rig.wait_ms(2000)
        else:
            rig.release()
            rig.wait_ms(500)
        return ""

    shown = []
    d = calibrate.wizard(dev, mode="weights", ask=ask, out=lambda s: None, live=shown.append)
    assert shown and "raw" in shown[0]
    assert hc.CALIB_PATH in dev.files
    cal = dcal.Calibration.from_dict(d)
    assert abs(cal.grams(rig.part.ideal_u16(4000)) - 4000) < 250


def test_stable_detector():
    det = calibrate.StableDetector(n=5, tol_pct=1.0)
    assert not any(det.add(v) for v in (100, 5000, 20000, 30000))
    assert not det.add(30100)
    for v in (30050, 30080, 30020, 30060):
        ok = det.add(v)
    assert ok and 30000 < det.value() < 30100


def test_monitor_bar_state_and_poller():
    assert monitor.classify(100, 3000, 5000) == "idle"
    assert monitor.classify(2000, 3000, 5000) == "under"
    assert monitor.classify(4000, 3000, 5000) == "inside"
    assert monitor.classify(5200, 3000, 5000) == "over"
    bar = monitor.render_bar(4000, 3000, 5000, width=81, max_g=8000)
    assert len(bar) == 81 and bar[30] == "[" and bar[50] == "]" and bar[40] == "#" and bar[45] == "="
    dev = FakeDevice("fsr402", 2)
    dev.rig.press(4000)
    dev.rig.wait_ms(500)
    p = monitor.Poller(dev)
    smp = p.sample()
    assert smp["source"] == "raw" and smp["state"] in ("inside", "under", "over")
    assert 2500 < smp["force_g"] < 6000    # nominal curve: roughly right
    panel = monitor.render(smp, 3000, 5000, p.cal.id)
    assert panel is not None
