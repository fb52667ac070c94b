"""The firmware's power states in the simulator (acu.power on the MicroPython unix port, the launcher's deep
sleep): idle, it falls asleep; the button wakes it and a routine runs; it stays up while a routine runs or a
host streams; a power cut while it sleeps is survived."""

import json
import subprocess

import pytest

from host_tools.session import open_session
from tests.integration.conftest import BIN, deployed_simulator, run_cli, wait_for

pytestmark = pytest.mark.integration

NAME = "e2e-power"
SPEED = 10
SLEEP_AFTER_S = 20  # 2 s of real time at SPEED: room for a host's command to start
CUE_START, CUE_ABORT, CUE_LOW_BATTERY, CUE_REST = 1, 7, 8, 11


@pytest.fixture(scope="module")
def sim(acu_home, tmp_path_factory):
    with deployed_simulator(NAME, 515, tmp_path_factory.mktemp("power") / "flash.img", SPEED,
                            energy_board="esp32_battery") as sim:
        r = run_cli("routine", "push", "bedtime", "--select", "--port", sim.port)
        assert "selected" in r.stdout
        with open_session(sim.port) as s:
            s.write_file_atomic("/cfg/settings.json", json.dumps({"sleep_after_s": SLEEP_AFTER_S}).encode())
        yield sim


def power(sim):
    return sim.status()["power"]


def asleep(sim):
    st = sim.status()
    return st if st["power"]["state"] == "deep_sleep" else None


def cues(sim, boot):
    """The cues of a boot (0: the board module registering the note name, not a cue)."""
    return [r["value"] for r in sim.trace(boot) if r["kind"] == "note" and r.get("name") == "cue" and r["value"]]


def wait_awake(sim):
    def up():
        st = sim.status()
        return st if st["power"]["state"] == "awake" and st["running"] and cues(sim, st["boot"]) else None
    return wait_for(up, 30, "the app up after the wake", sim=sim)


def test_idle_sleeps_button_wakes_a_routine_runs_and_keeps_it_awake(sim):
    st = wait_for(lambda: asleep(sim), 60, "deep sleep after %d s idle" % SLEEP_AFTER_S, sim=sim)
    rec = [r for r in sim.trace(st["boot"]) if r["kind"] == "deep_sleep"][-1]
    assert rec["ext0"] == 0 and rec["ms"] == 0  # the button wakes it; no timer
    assert not st["running"]
    assert sim.button("short")["woke"]
    st = wait_awake(sim)
    wake = [r for r in sim.trace(st["boot"] - 1) if r["kind"] == "wake"]
    assert wake and wake[-1]["reason"] == "ext0"
    assert cues(sim, st["boot"])[0] == CUE_REST  # the "I am on" cue: the first feedback after the wake
    # a routine: the button starts it; while it runs (waiting for the first press) the board stays up
    sim.button("short")
    wait_for(lambda: CUE_START in cues(sim, st["boot"]), 30, "the routine's start cue", sim=sim)
    # the host reads the cell through the board's divider (acutrainer status, over the live link)
    sim.battery(mv=3700)
    line = [ln for ln in run_cli("status", "--port", sim.port).stdout.splitlines() if ln.startswith("battery")]
    assert line and " V, about " in line[0], line
    volts = float(line[0].split()[1])
    assert 3.6 <= volts <= 3.7  # the rest voltage less the sag under the awake board's load
    t0 = sim.status()["t_ms"]
    wait_for(lambda: sim.status()["t_ms"] - t0 > 2 * SLEEP_AFTER_S * 1000, 60, "two idle periods", sim=sim)
    assert power(sim)["state"] == "awake" and sim.status()["boot"] == st["boot"]
    sim.button("long")  # stop the routine: idle again, then asleep
    wait_for(lambda: asleep(sim), 60, "deep sleep after the routine", sim=sim)


def test_a_streaming_host_keeps_it_awake(sim):
    wait_for(lambda: asleep(sim), 60, "deep sleep", sim=sim)
    assert sim.button("short")["woke"]
    # acutrainer monitor streams over the live link for 3 idle periods of virtual time, from the wake on
    secs = 3 * SLEEP_AFTER_S / SPEED + 1
    mon = subprocess.Popen([str(BIN / "acutrainer"), "monitor", "--plain", "--duration", "%.1f" % secs, "--port",
                            sim.port], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    st = wait_awake(sim)
    out, err = mon.communicate(timeout=120)
    assert mon.returncode == 0, err
    assert sim.status()["boot"] == st["boot"]
    assert not [x for x in sim.trace(st["boot"]) if x["kind"] == "deep_sleep"]
    wait_for(lambda: asleep(sim), 60, "deep sleep once the host left", sim=sim)


def test_a_power_cut_in_deep_sleep_boots_cold_and_sleeps_again(sim):
    st = wait_for(lambda: asleep(sim), 60, "deep sleep", sim=sim)
    sim.power_cut(100)
    st2 = wait_for(lambda: (lambda s: s if s["boot"] > st["boot"] and s["running"] else None)(sim.status()), 30,
                   "the cold boot", sim=sim)
    assert st2["power"]["reset_cause"] == 1  # a power-on, not a wake
    st3 = wait_for(lambda: asleep(sim), 60, "deep sleep again after the cold boot", sim=sim)
    assert st3["boot"] == st2["boot"]
    assert cues(sim, st2["boot"])[0] == CUE_REST


def test_a_low_cell_is_cued_before_a_routine_and_a_flat_one_starts_none(sim):
    if asleep(sim):
        assert sim.button("short")["woke"]
    st = wait_awake(sim)
    boot = st["boot"]
    try:
        sim.battery(mv=3430)  # low (under 3450 mV with the board's load), not flat
        sim.button("short")
        wait_for(lambda: CUE_LOW_BATTERY in cues(sim, boot), 30, "the low-battery cue", sim=sim)
        if CUE_START not in cues(sim, boot):
            sim.button("short")  # warned: the next press starts it
        wait_for(lambda: CUE_START in cues(sim, boot), 30, "the routine's start", sim=sim)
        c = cues(sim, boot)
        assert c.index(CUE_LOW_BATTERY) < c.index(CUE_START)
        sim.button("long")
        wait_for(lambda: CUE_ABORT in cues(sim, boot), 30, "the routine's abort", sim=sim)
        n = len(cues(sim, boot))
        sim.battery(mv=3330)  # on the knee: below 3350 mV no routine starts
        t0 = sim.status()["t_ms"]  # a press within 350 ms of the last release would be a double press
        wait_for(lambda: sim.status()["t_ms"] - t0 > 1000, 30, "1 s of virtual time", sim=sim)
        sim.button("short")
        wait_for(lambda: CUE_LOW_BATTERY in cues(sim, boot)[n:], 30, "the low-battery cue again", sim=sim)
        t0 = sim.status()["t_ms"]
        wait_for(lambda: sim.status()["t_ms"] - t0 > 3000, 30, "3 s of virtual time", sim=sim)
        assert CUE_START not in cues(sim, boot)[n:]
        assert sim.status()["boot"] == boot
    finally:
        sim.battery(charge=True)
