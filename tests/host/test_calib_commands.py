"""calibrate / check library functions against a simulated part behind a fake session."""
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "host_tools" / "sim" / "rom"))

import simsensors  # noqa: E402

from host_tools.calibration import device as caldev  # noqa: E402
from host_tools.calibration import fit as calfit  # noqa: E402
from host_tools.calibration import pointsfile as calpoints  # noqa: E402
from host_tools.calibration import rigs as calrigs  # noqa: E402
from host_tools import capture  # noqa: E402
from host_tools.commands import calibrate  # noqa: E402
from host_tools.errors import DeviceError  # noqa: E402

from acu import calib as dcal  # noqa: E402


class FakeDevice:
    """A session whose board is a SimRig (virtual time)."""

    def __init__(self, kind="fsr402", seed=21):
        self.rig = calrigs.SimRig(simsensors.make_part(kind, seed))
        self.kind = kind
        self.files = {}
        self.restarts = 0

    def calibration(self):
        """The calibration the app would use now: calib.json if written, else the nominal curve."""
        if caldev.CALIB_PATH in self.files:
            return dcal.Calibration.from_dict(json.loads(self.files[caldev.CALIB_PATH]))
        return dcal.Calibration.from_dict(dcal.nominal(self.kind))

    def hw_call(self, expr):
        if "unique_id" in expr:
            return "fa4e0001"
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


class FakeStream:
    """The app's live stream in calibration mode over a SimRig: a Reading every 50 ms of virtual time with
    the force as the app computes it from the device's calibration. A person's actions are scheduled on
    the same clock (schedule()), so they interleave with the wizard's reads as they would in real life."""

    def __init__(self, dev):
        self.dev = dev
        self.rig = dev.rig
        self.actions = []
        self.t_ms = 1000
        self.cal = dev.calibration()
        self.zero_g = None

    def schedule(self, delay_ms, fn):
        self.actions.append((self.t_ms + delay_ms, fn))
        self.actions.sort(key=lambda a: a[0])

    def read(self, timeout_s=0.1):
        while self.actions and self.actions[0][0] <= self.t_ms:
            self.actions.pop(0)[1]()
        self.rig.wait_ms(45)
        raw = self.rig.read_raw()
        self.t_ms += 50
        g = self.cal.grams(raw)
        if self.dev.kind == "loadcell" and not self.cal.calibrated:
            if self.zero_g is None:
                self.zero_g = g   # the app's zero tracking removes a nominal load cell's offset
            g -= self.zero_g
        return [capture.Reading(self.t_ms, raw, max(0, int(g)), 0)]


class Hand:
    def __init__(self, stream):
        self.s = stream

    def press(self, g):
        self.s.schedule(0, lambda: self.s.rig.press(g))

    def release(self):
        self.s.schedule(0, self.s.rig.release)


def check(dev):
    st = FakeStream(dev)
    cal = st.cal
    return capture.check_live(st, 4000, hand=Hand(st), calibrated=cal.calibrated, calib_id=cal.id, kind=dev.kind)


def test_auto_then_check_passes_and_uncalibrated_is_worse():
    dev = FakeDevice("fsr402", 21)
    lines = []
    # before calibrating: the nominal curve
    before = check(dev)
    assert not before["calibrated"]
    d = calibrate.calibrate_auto(dev, None, creep_hold_s=30.0, out=lines.append, rig=dev.rig)
    assert dev.restarts == 0  # the session stays in the raw REPL; its close restarts the app
    assert json.loads(dev.files[caldev.CALIB_PATH])["id"] == d["id"]
    assert any(x.startswith("expect +-") and "at 3-5 kg" in x for x in lines)
    assert any("there was no previous calibration" in x for x in lines)
    r = check(dev)
    assert r["calibrated"] and r["pass"], r
    assert abs(r["error_pct"]) < abs(before["error_pct"]) or abs(before["error_pct"]) < 2


def test_points_dry_run_and_write(tmp_path):
    dev = FakeDevice("fsr402", 5)
    pts = calrigs.auto_capture(dev.rig, "fsr402")
    f = tmp_path / "p.csv"
    f.write_text(calpoints.points_to_csv(pts))
    out = []
    calibrate.calibrate_from_points(None, f, out=out.append, write=False)
    assert "not written (dry run)" in out
    calibrate.calibrate_from_points(dev, f, out=out.append, confirm=lambda q: False)
    assert dev.files == {}
    calibrate.calibrate_from_points(dev, f, out=out.append, confirm=lambda q: True)
    assert caldev.CALIB_PATH in dev.files
    d = calibrate.restore  # restore needs a prev: write a second one first
    calibrate.calibrate_from_points(dev, f, out=out.append)
    assert caldev.PREV_PATH in dev.files
    back = d(dev, out.append)
    assert back["format"] == "acu-calib"


def test_points_for_other_sensor_refused(tmp_path):
    dev = FakeDevice("a201", 5)
    f = tmp_path / "p.csv"
    f.write_text("# sensor: fsr402\ngrams,raw\n0,4200\n1000,22800\n2000,29400\n3000,33200\n4000,35650\n"
                 "5000,37400\n6000,38800\n")
    with pytest.raises(calfit.CalibrationRefused, match="fsr402"):
        calibrate.calibrate_from_points(dev, f, out=lambda s: None)
    assert dev.files == {}


def test_loadcell_check_uncalibrated_and_calibrated():
    dev = FakeDevice("loadcell", 3)
    r0 = check(dev)
    assert not r0["calibrated"]
    assert abs(r0["error_pct"]) < 15   # nominal gain, tared like the device's zero tracking
    calibrate.calibrate_auto(dev, None, out=lambda s: None, rig=dev.rig)
    r = check(dev)
    assert r["pass"] and abs(r["error_pct"]) < 1 and r["tolerance_pct"] == 1.0


def test_check_rejects_silly_weight():
    dev = FakeDevice()
    with pytest.raises(Exception, match="outside"):
        capture.check_live(FakeStream(dev), 10)


class KitchenScalePerson:
    """Follows the wizard's prompts with a kitchen scale (1 g resolution): presses near each load asked
    for (a little off, as people do), types what the scale shows; once types a bad reading first."""

    def __init__(self, stream, creep=False):
        self.s = stream
        self.pressed_g = 0
        self.prompts = []
        self.typo_done = False

    def ask(self, prompt):
        import re
        self.prompts.append(prompt)
        rig = self.s.rig
        if "Condition" in prompt:
            for i in range(4):
                self.s.schedule(300 + 1600 * i, lambda: rig.press(6600))
                self.s.schedule(1300 + 1600 * i, rig.release)
            return ""
        m = re.search(r"to about ([0-9.]+) kg", prompt)
        if m:
            self.pressed_g = int(float(m.group(1)) * 1000 * 1.04)
            self.s.schedule(400, lambda: rig.press(self.pressed_g))
            return ""
        if "creep" in prompt.lower():
            self.pressed_g = 4000
            self.s.schedule(300, lambda: rig.press(4000))
            return ""
        if "scale read" in prompt:
            if not self.typo_done:
                self.typo_done = True
                self.s.schedule(100, rig.release)
                return "3,1O"   # a typo: asked again after a fresh press
            self.s.schedule(200, rig.release)
            return "%.3f" % (self.pressed_g / 1000.0)
        if prompt.strip().endswith("[y/N]"):
            return "y"
        return ""


def test_wizard_with_a_kitchen_scale_writes_a_good_calibration():
    dev = FakeDevice("fsr402", 9)
    st = FakeStream(dev)
    person = KitchenScalePerson(st)
    shown = []
    out = []
    d, fit = capture.run_wizard(st, "fsr402", ask=person.ask, out=out.append, show=shown.append,
                                creep_hold_s=20.0)
    assert any("not a scale reading" in x for x in out)          # the typo was refused, then redone
    # six loads, the repeat at 4 kg, a retry, the creep
    assert len([p for p in person.prompts if "scale read" in p]) == 6 + 1 + 1 + 1
    assert any("4 kg again" in p for p in person.prompts)
    assert shown and any("STEADY" in x for x in shown)
    assert [r["grams"] for r in fit.residuals] == [int(L * 1.04) for L in capture.WIZARD_LOADS["divider"]
                                                   + capture.WIZARD_REPEATS["divider"]]
    assert fit.expect["repeat_basis"] == "2 presses at 1 repeated loads"
    assert d["creep"] is not None and d["creep"]["ref_s"] >= 0.5   # the capture's hold time (the fake ramps at once)
    cal = dcal.Calibration.from_dict(d)
    assert abs(cal.grams(dev.rig.part.ideal_u16(4000)) - 4000) < 250
    calibrate._finish(dev, d, fit, True, None, out.append)
    assert caldev.CALIB_PATH in dev.files


def test_wizard_calibrates_a_steep_part_the_nominal_curve_reads_at_a_third():
    # a measured-family part of the wide population (docs/sensors.md): before calibration the device's
    # nominal curve reads its 1 kg as ~0.2 kg, below the contact threshold; the wizard judges contact by the
    # raw reading's rise above the tare, and counts conditioning presses on a quarter of the top load
    dev = FakeDevice("fsr402", 5)
    assert dev.rig.part.family == "measured"
    st = FakeStream(dev)
    assert st.cal.grams(dev.rig.part.ideal_u16(1000)) < capture.CONTACT_G
    person = KitchenScalePerson(st)
    out = []
    d, fit = capture.run_wizard(st, "fsr402", ask=person.ask, out=out.append, show=lambda t: None)
    assert "   4 conditioning presses" in out
    cal = dcal.Calibration.from_dict(d)
    for load in (3000, 4000, 5000):
        assert abs(cal.grams(dev.rig.part.ideal_u16(load)) - load) < 0.05 * load
    assert fit.expect["repeat_basis"] == "2 presses at 1 repeated loads"


def test_wizard_ends_cleanly_on_ctrl_d_or_ctrl_c():
    for exc in (EOFError, KeyboardInterrupt):
        dev = FakeDevice("fsr402", 9)
        st = FakeStream(dev)

        def ask(prompt, exc=exc):
            if "Condition" in prompt:
                raise exc
            return ""
        with pytest.raises(capture.Cancelled, match="nothing was written"):
            capture.run_wizard(st, "fsr402", ask=ask, out=lambda s: None, show=lambda s: None)
        assert dev.files == {}


def test_scale_readings_are_parsed_with_units_and_checked():
    assert capture.parse_scale_reading("3.05", 3000) == 3050
    assert capture.parse_scale_reading(" 3,05 kg", 3000) == 3050
    assert capture.parse_scale_reading("2980 g", 3000) == 2980
    for bad, why in (("abc", "not a scale reading"), ("9", "far from"), ("0.01", "plausible")):
        with pytest.raises(Exception, match=why):
            capture.parse_scale_reading(bad, 3000)


def test_steadiness_is_judged_on_device_time():
    det = capture.Steadiness(zero_raw=4000, min_span=150)
    r = capture.Reading
    # readings 50 ms apart: steady only once a whole second of them stays within the tolerance
    assert not any(det.add(r(t, raw, 0, 0)) for t, raw in ((0, 20000), (50, 30000), (100, 30100)))
    oks = [det.add(r(150 + 50 * i, 30000 + (i % 3) * 40, 3000, 2)) for i in range(25)]
    assert not oks[0] and oks[-1]
    assert 30000 < det.mean_raw() < 30100


class _ListSource:
    """A stream that gives its readings in batches of 4."""

    def __init__(self, readings):
        self.readings = list(readings)

    def read(self, timeout_s=0.1):
        out, self.readings = self.readings[:4], self.readings[4:]
        return out


def test_a_sensor_fault_is_never_captured_as_a_steady_reading():
    # a load cell that stopped answering repeats one stale raw value with the fault state for 3 s: steady
    # to the eye, and wrong; the capture waits for real readings and takes their mean
    r = capture.Reading
    stale = [r(50 * i, -6558562, 3000, capture.STATE_FAULT) for i in range(60)]
    good = [r(3000 + 50 * i, 650000 + (i % 3) * 50, 3000, 2) for i in range(30)]
    shown = []
    cap = capture.wait_steady(_ListSource(stale + good), capture.Steadiness(0.0, 2500), shown.append, "3 kg",
                              loaded=True, timeout_s=5)
    assert 650000 <= cap.raw <= 650100
    assert any("fault" in line for line in shown)
