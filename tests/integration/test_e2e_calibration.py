"""Against a fresh simulator `acutrainer calibrate --auto` calibrates a random FSR part,
`acutrainer check --weight 4.0` passes (and the uncalibrated part is less accurate), a calibration from a
bad points file never reaches the device, `calibrate --restore` brings the previous one back, and a
session recorded after calibrating carries the calibration's id."""

import csv
import json
import re
import sqlite3
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from host_tools.calibration import fit as calfit
from host_tools.session import open_session
from tests.integration.conftest import deployed_simulator, run_cli, wait_for

pytestmark = pytest.mark.integration

PROFILES = Path(__file__).parent / "profiles"
NAME = "e2e-calib"
CUE_START, CUE_DONE = 1, 4



@pytest.fixture(scope="module")
def sim(acu_home, tmp_path_factory):
    # a random part: a different seed every run (printed, so a failure can be replayed)
    seed = int(time.time() * 1000) % 100000 + 1
    print("simulated FSR part: seed %d" % seed)
    with deployed_simulator(NAME, seed, tmp_path_factory.mktemp("e2e6") / "flash.img") as sim:
        yield sim


def device_calib(port):
    """(calib.json bytes or None, calib.prev.json bytes or None) straight from the flash."""
    with open_session(port) as s:
        cur = s.read_file("/cfg/calib.json") if s.exists("/cfg/calib.json") else None
        prev = s.read_file("/cfg/calib.prev.json") if s.exists("/cfg/calib.prev.json") else None
    return cur, prev


def check(port, kg="4.0"):
    r = run_cli("check", "--weight", kg, "--port", port, check=False)
    m = re.search(r"error ([+-]\d+) g \(([+-][\d.]+) %", r.stdout)
    assert m, (r.stdout, r.stderr)
    return r.returncode, float(m.group(2)), r.stdout


def test_calibrate_check_refuse_restore_and_sessions_record_the_id(sim, tmp_path):
    port = sim.port
    st = json.loads(run_cli("status", "--json", "--port", port).stdout)
    assert st["sensor"] == "fsr402" and not st["calibrated"] and st["calib_id"] == "nominal-fsr402"
    rc0, err0, _ = check(port)

    # 1) --auto: the simulator applies the loads; the report comes before the write
    pts = tmp_path / "points.csv"
    r = run_cli("calibrate", "--auto", "-y", "--save-points", str(pts), "--port", port)
    out = r.stdout
    assert "left-out error near 3 kg" in out and "left-out error near 5 kg" in out
    assert "expect +-" in out and "repeatability" in out and "hysteresis, measured" in out
    assert out.index("expect +-") < out.index("written /cfg/calib.json")
    cur, _ = device_calib(port)
    cal1 = json.loads(cur)
    assert cal1["sensor"] == "fsr402" and cal1["id"] in out
    st = json.loads(run_cli("status", "--json", "--port", port).stdout)
    assert st["calibrated"] and st["calib_id"] == cal1["id"]  # the app runs with it after the session

    # 2) check 4.0 kg passes, and better than the uncalibrated part did
    rc1, err1, out1 = check(port)
    assert rc1 == 0 and "PASS" in out1 and cal1["id"] in out1, out1
    assert abs(err1) <= 5.0 and (abs(err0) <= 5.0 or abs(err1) < abs(err0)), (err0, err1)
    print("check 4.0 kg: uncalibrated %+.1f %% (exit %d), calibrated %+.1f %%" % (err0, rc0, err1))

    # 3) a bad points file (two loads' readings swapped: not monotonic) never reaches the device
    rows = list(csv.reader(pts.open()))
    hdr_i = next(i for i, row in enumerate(rows) if row and not row[0].lstrip().startswith("#"))
    raw_col = [c.strip().lower() for c in rows[hdr_i]].index("raw")
    data = [i for i in range(hdr_i + 1, len(rows)) if rows[i] and not rows[i][0].lstrip().startswith("#")]
    assert len(data) >= 5, rows
    a, b = data[3], data[6]
    rows[a][raw_col], rows[b][raw_col] = rows[b][raw_col], rows[a][raw_col]
    bad = tmp_path / "bad-points.csv"
    with bad.open("w", newline="") as f:
        csv.writer(f).writerows(rows)
    before = device_calib(port)
    r = run_cli("calibrate", "--points", str(bad), "-y", "--port", port, check=False)
    assert r.returncode == 5, (r.stdout, r.stderr)  # host_tools.calibration.CalibrationRefused
    err = r.stderr.strip()
    assert err.count("\n") == 0 and "bad-points.csv" in err and "refused: not monotonic" in err, err
    assert "written" not in r.stdout
    assert device_calib(port) == before
    # a file that is not a points file at all
    junk = tmp_path / "junk.csv"
    junk.write_text("grams;raw\nfour kilos;lots\n")
    r = run_cli("calibrate", "--points", str(junk), "-y", "--port", port, check=False)
    assert r.returncode == 2 and "junk.csv" in r.stderr and r.stderr.strip().count("\n") == 0, r.stderr
    assert device_calib(port) == before

    # 4) a second calibration keeps the first as the previous one; --restore brings the first back
    # ids carry the time to the second: the next calibration is made in a later one
    wait_for(lambda: calfit.new_id(datetime.now(timezone.utc)) != cal1["id"], 5, "the next second")
    r = run_cli("calibrate", "--points", str(pts), "-y", "--port", port)
    cur, prev = device_calib(port)
    cal2 = json.loads(cur)
    assert cal2["id"] != cal1["id"] and json.loads(prev)["id"] == cal1["id"]
    r = run_cli("calibrate", "--restore", "--port", port)
    assert cal1["id"] in r.stdout
    cur, prev = device_calib(port)
    assert json.loads(cur)["id"] == cal1["id"] and json.loads(prev)["id"] == cal2["id"]
    rc, err_r, out_r = check(port)
    assert rc == 0 and cal1["id"] in out_r

    # 5) a practice after calibrating records the calibration's id
    run_cli("routine", "select", "ht7-quick", "--port", port)
    boot = sim.status()["boot"]

    def cues():
        return [r["value"] for r in sim.trace(boot) if r["kind"] == "note" and r.get("name") == "cue"]

    wait_for(lambda: any(r.get("name") == "state" for r in sim.trace(boot)), 20, "the app to start")
    run_cli("sim", "button", "short", "--name", NAME)
    wait_for(lambda: CUE_START in cues(), 20, "the start cue")
    run_cli("sim", "profile", str(PROFILES / "ht7-quick.txt"), "--name", NAME)
    wait_for(lambda: CUE_DONE in cues(), 30, "the practice to finish")
    arc = tmp_path / "archive.sqlite"
    r = run_cli("pull", "--port", port, "--archive", str(arc))
    assert "1 new session(s)" in r.stdout, r.stdout
    db = sqlite3.connect(str(arc))
    try:
        got = db.execute("SELECT calib_id, end_status FROM sessions").fetchall()
    finally:
        db.close()
    assert got == [(cal1["id"], "completed")], got
