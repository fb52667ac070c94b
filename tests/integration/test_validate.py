"""`acutrainer validate --auto` on the simulator, for an FSR and for a load cell (issue 22): after
`calibrate --auto` the simulator's hand presses at known loads and holds 4 kg, and the report comes out with
its Bland-Altman plot, every pair, and figures a calibrated part should reach (docs/validation.md)."""
import csv
import json

import pytest

from host_tools.sim import control
from tests.integration.conftest import run_cli

pytestmark = pytest.mark.integration

# loads clear of the 3 and 5 kg edges: a calibrated part classifies every one as the reference does
LOADS = "1,2.5,4,5.5"
# 95 % limits a calibrated part of each kind stays within (docs/validation.md has the measured figures)
LOA_PCT_MAX = {"fsr402": 10.0, "loadcell": 2.0}


# the load cell at x10: calibrate --auto reads the HX711 from the raw REPL, where the simulator's virtual time runs
# at real time x speed, so a pause of the host's process of 5 ms / speed powers the chip down mid-read (a board
# needs an interrupt of 60 us): at x60 that repeats one reading through the captures, at x20 it failed the
# calibration about once in 12 runs on a loaded machine, at x10 none of 8 (docs/calibration.md)
@pytest.mark.parametrize("sensor,seed,speed", [("fsr402", 4711, 60), ("loadcell", 4712, 10)])
def test_validate_auto_writes_the_report(acu_home, tmp_path, sensor, seed, speed):
    name = "validate-" + sensor
    st = control.start(name, speed=speed, seed=seed, sensor=sensor, flash=str(tmp_path / "flash.img"))
    try:
        port = st["port"]
        assert "the app is running" in run_cli("deploy", "--board", "sim", "--port", port).stdout
        run_cli("calibrate", "--auto", "-y", "--port", port, timeout=300)
        out = tmp_path / "report"
        r = run_cli("validate", "--auto", "--port", port, "--loads", LOADS, "--repeats", "2", "--hold-s", "10",
                    "--out", str(out), timeout=300)
    finally:
        control.stop(name)
    print(r.stdout)
    assert "95 % limits of agreement" in r.stdout and "not measured by the firmware" in r.stdout
    names = sorted(p.name for p in out.iterdir())
    assert names == ["bland_altman.png", "drift.png", "hold.csv", "pairs.csv", "report.md", "results.json"]
    assert (out / "bland_altman.png").read_bytes()[:4] == b"\x89PNG"
    rows = list(csv.DictReader(open(out / "pairs.csv")))
    assert [float(x["reference_g"]) for x in rows] == [1000, 2500, 4000, 5500] * 2
    f = json.loads((out / "results.json").read_text())
    assert f["sensor"] == sensor and f["calibrated"] is True
    ba = f["bland_altman"]
    assert ba["n"] == 8 and ba["loa_pct"] < LOA_PCT_MAX[sensor], ba
    assert f["band"]["clear_of_edges"] == {"n": 8, "agree": 8, "share": 1.0}, rows
    hold = list(csv.DictReader(open(out / "hold.csv")))
    assert float(hold[-1]["t_s"]) >= 10 and f["drift"]["reference_g"] == 4000
    assert f["feedback_latency_ms"] is None
