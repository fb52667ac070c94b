"""The calibration wizard as a person uses it. The real `acutrainer calibrate` runs on a
pseudo-terminal; the test types the answers at its prompts and plays the person's hand on a simulated
kitchen scale through the simulator's world link: press the tip on the scale, hold, read the scale, type it.
Then `acutrainer check` agrees with what the wizard promised; Ctrl-D and Ctrl-C end it cleanly."""

import json
import os
import re
import sys
import time
from pathlib import Path

import pexpect
import pytest

from host_tools.sim import control
from tests.integration.conftest import deployed_simulator, foreground_signals, run_cli, wait_for

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent
NAME = "wizard"
SPEED = 5.0


class KitchenScale:
    """The device's tip pressed on a kitchen scale by a slightly unsteady hand: the scale shows the force
    the hand applies, to the gram; the person aims near the load asked for, never exactly on it."""

    def __init__(self, sim):
        self.sim = sim
        self.on_scale_g = 0

    def press_near(self, target_g, off=1.03):
        self.on_scale_g = int(round(target_g * off))
        self.sim.press(self.on_scale_g, ramp_ms=600, noise_g=self.on_scale_g // 200)

    def reading_kg(self) -> str:
        return "%.3f" % (self.on_scale_g / 1000.0)

    def release(self):
        self.sim.release(ramp_ms=300)


def device_s(s):
    return s / SPEED   # real seconds for s seconds of the simulated board's time


@pytest.fixture(scope="module")
def sim(acu_home, tmp_path_factory):
    with deployed_simulator(NAME, 2718, tmp_path_factory.mktemp("wiz") / "flash.img", speed=SPEED) as sim:
        yield sim


def spawn(sim, *args):
    env = dict(os.environ, COLUMNS="120", LINES="40")
    return pexpect.spawn(str(BIN / "acutrainer"), ["calibrate", "--port", sim.port, *args], env=env,
                         encoding="utf-8", timeout=60, dimensions=(40, 120), preexec_fn=foreground_signals)


def status(sim):
    return json.loads(run_cli("status", "--json", "--port", sim.port).stdout)


def test_a_person_with_a_kitchen_scale_calibrates_and_the_check_agrees(sim):
    scale = KitchenScale(sim)
    p = spawn(sim, "--creep-hold", "20")
    p.expect(r"1\) Tare: take everything off the tip")
    p.sendline("")
    p.expect(r"2\) Condition the sensor: press it 4 times to about ([0-9.]+) kg")
    top_g = float(p.match.group(1)) * 1000
    p.sendline("")
    for _ in range(4):
        scale.press_near(top_g)
        time.sleep(device_s(1.5))
        scale.release()
        time.sleep(device_s(1.0))
    p.expect("conditioning presses")
    loads = []
    while True:
        i = p.expect([r"\[(\d)/(\d)\] Press Enter, then press the tip on the scale to about ([0-9.]+) kg",
                      r"Creep: press Enter"])
        if i == 1:
            break
        target = float(p.match.group(3)) * 1000
        loads.append(target)
        p.sendline("")
        scale.press_near(target)
        p.expect(r"Steady\. What does the scale read \(kg\)\?")
        p.sendline(scale.reading_kg())
        scale.release()
        p.expect(r"captured ([0-9.]+) kg: raw")
        assert abs(float(p.match.group(1)) * 1000 - target * 1.03) < 1
    assert loads == [1000, 2000, 3000, 4000, 5000, 6000, 4000]   # the last: a repeat (repeatability)
    # the creep hold: about 4 kg held on the scale for 20 s of the board's time
    p.sendline("")
    scale.press_near(4000, off=1.0)
    p.expect(r"Done\. What does the scale read now \(kg\)\?", timeout=120)
    p.sendline(scale.reading_kg())
    scale.release()
    p.expect(r"expect \+-([0-9.]+) % at 3-5 kg when pressing up to a load \(.*from 2 presses at 1 repeated")
    p.expect(r"a check with a known weight in 3-5 kg should read within about \+-([0-9.]+) %")
    promised_pct = float(p.match.group(1))
    p.expect(r"write calibration (cal-\S+) to the device\? \[y/N\]")
    cal_id = p.match.group(1)
    p.sendline("y")
    p.expect(r"written /cfg/calib\.json \(id (cal-\S+)\); there was no previous calibration")
    p.expect(pexpect.EOF)
    p.close()
    assert p.exitstatus == 0
    wait_for(lambda: status(sim).get("calib_id") == cal_id, 30, "the app to use the new calibration", sim)
    # what the wizard promised, checked the way a person would: a known 4 kg on the tip
    r = run_cli("check", "--weight", "4.0", "--port", sim.port, check=False)
    m = re.search(r"error ([+-]\d+) g \(([+-][\d.]+) %", r.stdout)
    assert m and abs(float(m.group(2))) <= max(promised_pct, 5.0), r.stdout
    assert re.search(r"(within|outside) the expected \+-%.1f %% of this calibration" % promised_pct, r.stdout), r.stdout
    assert "PASS" in r.stdout and r.returncode == 0
    # a second calibration keeps the first as the previous one, and the archive keeps both
    p = spawn(sim, "--no-creep")
    p.expect(r"1\) Tare")
    p.sendeof()                        # Ctrl-D at a prompt: cancelled, nothing written
    p.expect("calibration cancelled; nothing was written")
    p.expect(pexpect.EOF)
    p.close()
    assert p.exitstatus == 130
    assert status(sim)["calib_id"] == cal_id
    hist = run_cli("calibrate", "--history").stdout
    assert cal_id in hist


def test_ctrl_c_while_waiting_for_a_steady_press_leaves_the_device_as_it_was(sim):
    before = status(sim)["calib_id"]
    p = spawn(sim)
    p.expect(r"1\) Tare")
    p.sendline("")
    p.expect(r"2\) Condition")
    p.sendline("")
    time.sleep(0.5)
    p.sendintr()                       # Ctrl-C while it watches the stream
    p.expect("interrupted")
    p.expect(pexpect.EOF)
    p.close()
    assert p.exitstatus == 130
    assert status(sim)["calib_id"] == before
    # the stream it asked for is stopped (or ends with its lease): the app is back to normal
    from host_tools.session import Connection

    def stream_ended():
        with Connection(sim.port, anchor=False) as c:
            return c.live.status()["link"]["stream_every_ms"] == 0
    wait_for(stream_ended, 15, "the calibration stream to end", sim, every_s=0.5)
    assert control.SimControl.find(NAME).status()["running"]
