"""The app's own faults, as a user meets them (docs/reliability.md, "The app's own faults"): a firmware file
damaged on the flash makes the app fail at its start. The device plays the fault cue and restarts, and after
the third boot in a row it stays at its REPL instead of looping; `doctor` (the CLI) says what happened and what
to do, and `deploy` mends it: the app runs again and doctor's check is clear."""

import json
import sqlite3
from pathlib import Path

import pytest

from host_tools.session import open_session
from host_tools.sim import control
from tests.integration.conftest import run_cli, wait_for

pytestmark = pytest.mark.integration

CUE_FAULT = 9  # acu.feedback.CUE_FAULT
MAX_EARLY = 3  # acu.fault.MAX_EARLY


def _cued_fault(sim, boot):
    return any(r.get("name") == "cue" and r.get("value") == CUE_FAULT for r in sim.trace(boot))


def _doctor(port, name):
    """(the CLI's result, its `name` check) from `acutrainer doctor --json`."""
    r = run_cli("doctor", "--json", "--port", port, check=False)
    checks = [c for c in json.loads(r.stdout)["checks"] if c["name"] == name]
    assert checks, r.stdout + r.stderr
    return r, checks[0]


def test_a_damaged_firmware_file_ends_in_a_cue_a_repl_and_a_doctor_that_says_so(acu_home, tmp_path_factory):
    work = tmp_path_factory.mktemp("appfaults")
    st = control.start("appfaults", speed=20, seed=9191, flash=str(work / "flash.img"))
    try:
        sim = control.SimControl(st)
        r = run_cli("deploy", "--board", "sim", "--no-romfs", "--port", sim.port)  # the modules in /lib
        assert "the app is running" in r.stdout
        s = open_session(sim.port)
        good = s.read_file("/lib/acu/runner.mpy")
        # a flash fault in its first byte (a torn .mpy cannot be: deploy writes each file whole, then renames it)
        s.write_file_atomic("/lib/acu/runner.mpy", b"X" + good[1:])
        first = sim.status()["boot"] + 1
        s.close(restart=True)  # the board boots on it: acu.app cannot import its runner

        for boot in range(first, first + MAX_EARLY):  # each boot: the fault cue, then a restart, twice
            wait_for(lambda b=boot: _cued_fault(sim, b), 60, "the fault cue on boot %d" % boot, sim)
        last = first + MAX_EARLY - 1
        wait_for(lambda: sim.status()["boot"] >= last, 10, "the third boot", sim)
        with open_session(sim.port) as s2:  # the board waits at its REPL: no fourth boot of its own
            assert s2.exec("print(1 + 1)\n").split()[-1] == "2"
            s2.keep_repl()
        assert sim.status()["boot"] == last

        r, c = _doctor(sim.port, "app faults")
        assert r.returncode != 0 and c["status"] == "fail", c
        assert "failed at its start on 3 boots in a row" in c["detail"] and "waits at its REPL" in c["detail"], c
        assert "incompatible .mpy file" in c["detail"] and "acutrainer deploy" in c["fix"], c

        r = run_cli("deploy", "--board", "sim", "--no-romfs", "--port", sim.port)  # the mend doctor names
        assert "copy /lib/acu/runner.mpy" in r.stdout and "the app is running" in r.stdout
        r, c = _doctor(sim.port, "app faults")
        assert c["status"] == "ok" and "has not stopped on a fault" in c["detail"], c
    finally:
        control.stop("appfaults")


def test_a_fault_at_a_sessions_end_keeps_the_session_and_the_app_comes_back(acu_home, tmp_path_factory):
    """The session's score (acu.score, loaded at its end) cannot be loaded: the app stops on the fault after the
    last step, ends the session on the flash, cues, and restarts; `pull` gets the whole practice."""
    work = tmp_path_factory.mktemp("appfaults2")
    profile = Path(__file__).parent / "profiles" / "ht7-quick.txt"
    st = control.start("appfaults2", speed=60, seed=9292, flash=str(work / "flash.img"))
    try:
        sim = control.SimControl(st)
        run_cli("deploy", "--board", "sim", "--no-romfs", "--port", sim.port)
        run_cli("routine", "select", "ht7-quick", "--port", sim.port)
        s = open_session(sim.port)
        good = s.read_file("/lib/acu/score.mpy")
        s.write_file_atomic("/lib/acu/score.mpy", b"X" + good[1:])
        boot = sim.status()["boot"] + 1
        s.close(restart=True)
        wait_for(lambda: any(r.get("name") == "cue" and r.get("value") == 11 for r in sim.trace(boot)), 30,
                 "the app's start", sim)

        run_cli("sim", "button", "short", "--name", "appfaults2")
        # the whole ht7-quick practice (not waited for: the restart ends the hand's script as the hand lifts)
        run_cli("sim", "profile", str(profile), "--name", "appfaults2", "--no-wait")
        wait_for(lambda: _cued_fault(sim, boot), 30, "the fault cue at the session's end", sim)
        wait_for(lambda: any(r.get("name") == "cue" and r.get("value") == 11 for r in sim.trace(boot + 1)), 30,
                 "the app back on the next boot", sim)

        r, c = _doctor(sim.port, "app faults")
        assert c["status"] == "warn" and "incompatible .mpy file" in c["detail"] and "restarted" in c["detail"], c
        arc = work / "archive.sqlite"
        run_cli("pull", "--port", sim.port, "--archive", str(arc))
        db = sqlite3.connect(str(arc))
        try:
            rows = db.execute("SELECT routine, end_status FROM sessions").fetchall()
        finally:
            db.close()
        assert rows == [("ht7-quick", "interrupted")], rows
    finally:
        control.stop("appfaults2")
