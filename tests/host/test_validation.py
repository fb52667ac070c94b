"""The validation kit's protocol (host_tools/validation.py) on a scripted stream: the simulator's hand path,
a person typing scale readings (a typo asked again), a hold the load falls off, and the report files."""
import csv
import json

import pytest

from host_tools import validation
from host_tools.capture import Cancelled, Reading
from host_tools.errors import InputError


class World:
    """A device reading gain * the load (+ offset), 20 readings a second of device time; its band state
    classifies the reading the plain way (3-5 kg)."""

    def __init__(self, gain=1.02, offset_g=0.0, drop_at_s=None):
        self.gain, self.offset_g = gain, offset_g
        self.load_g = 0.0
        self.t_ms = 0
        self.drop_at_ms = None if drop_at_s is None else drop_at_s * 1000
        self.hold_started_ms = None
        self.script = []   # loads for the next read() calls: a person's conditioning presses


    # the simulator's hand
    def press(self, g):
        self.load_g = float(g)

    def release(self):
        self.load_g = 0.0

    def force(self):
        return self.load_g * self.gain + (self.offset_g if self.load_g else 0.0)

    def read(self, timeout_s=0.1):
        out = []
        if self.script:
            self.load_g = self.script.pop(0)
        for _ in range(5):
            self.t_ms += 50
            if self.drop_at_ms is not None and self.load_g == validation.HOLD_G:
                if self.hold_started_ms is None:
                    self.hold_started_ms = self.t_ms
                elif self.t_ms - self.hold_started_ms >= self.drop_at_ms:
                    self.load_g = 0.0
            g = self.force()
            state = 0 if g < 300 else 1 if g < 3000 else 2 if g <= 5000 else 3
            out.append(Reading(self.t_ms, int(1000 + 10 * g), int(g), state))
        return out


def test_the_simulators_hand_gives_exact_references_and_a_drift_hold():
    w = World(gain=1.02)
    lines = []
    r = validation.run(w, "loadcell", [1000, 3000, 5000], 2, hand=w, out=lines.append, hold_s=10)
    assert [p["reference_g"] for p in r["pairs"]] == [1000, 3000, 5000] * 2
    assert [p["device_g"] for p in r["pairs"]] == [1020, 3060, 5100] * 2
    assert [p["device_state"] for p in r["pairs"]] == [1, 2, 3] * 2
    assert not any("conditioning" in ln for ln in lines)   # a load cell needs none
    assert r["hold_ref_g"] == 4000 and r["hold"][-1][0] >= 10
    assert all(g == 4080 for _, g in r["hold"])
    f = validation.analyse(r, "loadcell", calib_id="cal-x")
    assert f["bland_altman"]["bias_pct"] == pytest.approx(2.0)
    assert f["bland_altman"]["sd_pct"] == pytest.approx(0.0, abs=1e-9)
    # 5 kg is in the band on the reference, 5.1 kg over it on the device: the 5 kg edge disagrees
    assert f["band"]["all"]["agree"] == 4 and f["band"]["hi_edge"]["agree"] == 0
    assert f["drift"]["pct_per_min"] == pytest.approx(0.0, abs=1e-9)
    assert f["feedback_latency_ms"] is None and "not measured by the firmware" in f["feedback_latency_note"]


def test_a_person_types_scale_readings_and_a_typo_is_asked_again():
    w = World(gain=1.0, offset_g=-40)
    answers = []

    def ask(prompt):
        if "press the tip on the scale to about" in prompt:
            w.press(float(prompt.split("about ")[1].split(" kg")[0]) * 1000)
            return ""
        if "What does the scale read" in prompt:
            return answers.pop(0)
        if prompt.startswith("Tare"):
            return ""
        if prompt.startswith("Condition the sensor: press it 4 times to about 4.4 kg"):
            w.script = [4400, 0] * 4
            return ""
        if prompt.startswith("Drift"):
            return "s"
        raise AssertionError(prompt)

    answers[:] = ["abc", "2.01", "4,02 kg"]   # the first is a typo
    lines = []
    with pytest.MonkeyPatch.context() as mp:
        # the person lets go when asked (wait_released then sees the tip free)
        mp.setattr("host_tools.capture.wait_released", lambda src, show, timeout_s=120: w.release())
        r = validation.run(w, "fsr402", [2000, 4000], 1, ask=ask, out=lines.append, hold_s=120)
    assert [p["reference_g"] for p in r["pairs"]] == [2010, 4020]
    assert [p["device_g"] for p in r["pairs"]] == [1960, 3960]
    assert any("'abc' is not a scale reading" in ln for ln in lines)
    assert r["hold"] == [] and any("drift hold skipped" in ln for ln in lines)
    assert "   4 conditioning presses to 4.4 kg" in lines


def test_a_load_that_comes_off_during_the_hold_leaves_the_drift_out():
    w = World(drop_at_s=5)
    lines = []
    r = validation.run(w, "loadcell", [1000, 2000], 1, hand=w, out=lines.append, hold_s=60)
    assert r["hold"] == [] and r["hold_ref_g"] is None
    assert any("the load came off" in ln and "drift is left out" in ln for ln in lines)
    assert validation.analyse(r, "loadcell")["drift"] is None


def test_cancel_at_a_prompt_is_one_line_and_writes_nothing():
    def ask(prompt):
        raise EOFError

    with pytest.raises(Cancelled, match="nothing was written"):
        validation.run(World(), "fsr402", [1000], 1, ask=ask, out=lambda line: None)


@pytest.mark.parametrize("text,why", [("1,x", "'x' is not a load"), ("0.1", "outside 0.3..20 kg"),
                                      ("", "'' is not a load")])
def test_bad_loads_are_named(text, why):
    with pytest.raises(InputError, match=why):
        validation.parse_loads(text)


def test_parse_loads_in_grams():
    assert validation.parse_loads("1, 2.5,6") == [1000, 2500, 6000]


def test_the_report_files(tmp_path):
    w = World(gain=0.98)
    r = validation.run(w, "fsr406", [1000, 3000, 5000], 2, hand=w, out=lambda line: None, hold_s=5)
    f = validation.analyse(r, "fsr406", calib_id="cal-\x1b[31m", source="test")
    names = validation.write_report(tmp_path / "rep", r, f)
    assert names == ["bland_altman.png", "drift.png", "hold.csv", "pairs.csv", "results.json", "report.md"]
    rows = list(csv.DictReader(open(tmp_path / "rep" / "pairs.csv")))
    assert len(rows) == 6 and rows[0]["diff_g"] == "-20.0" and rows[0]["diff_pct"] == "-2.0"
    assert rows[1]["reference_class"] == "in" and rows[1]["device_class"] == "under"   # 2.94 kg vs 3 kg
    res = json.loads((tmp_path / "rep" / "results.json").read_text())
    assert res["bland_altman"]["n"] == 6 and res["bland_altman"]["bias_pct"] == pytest.approx(-2.0)
    for png in ("bland_altman.png", "drift.png"):
        assert (tmp_path / "rep" / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = (tmp_path / "rep" / "report.md").read_text()
    assert "\x1b" not in md and "![Bland-Altman plot](bland_altman.png)" in md
    assert "| bias (mean difference) | -60.0 | -2.00 |" in md   # -20, -60, -100 g


@pytest.mark.parametrize("args,why", [
    (["--loads", "1,two"], "--loads: 'two' is not a load in kg"),
    (["--repeats", "0"], "--repeats 0: give 1 to 100"),
    (["--hold-s", "nan"], "--hold-s nan: give 0"),
    (["--hold-s", "-5"], "--hold-s -5: give 0"),
])
def test_bad_arguments_are_one_line_before_any_device_is_asked(args, why, capsys, monkeypatch):
    from host_tools import cli

    def no_device(*a, **k):
        raise AssertionError("a device was asked")

    monkeypatch.setattr("host_tools.session.connect", no_device)
    assert cli.main(["validate", *args]) == InputError.exit_code
    err = capsys.readouterr().err
    assert why in err and len(err.strip().splitlines()) == 1


def test_an_out_folder_that_is_a_file_is_named_before_any_device_is_asked(tmp_path, capsys, monkeypatch):
    from host_tools import cli

    monkeypatch.setattr("host_tools.session.connect", lambda *a, **k: pytest.fail("a device was asked"))
    f = tmp_path / "afile"
    f.write_text("x")
    assert cli.main(["validate", "--out", str(f)]) == InputError.exit_code
    assert "is a file, not a folder" in capsys.readouterr().err
