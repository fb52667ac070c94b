"""The bring-up self-test as a person at the bench runs it. The real `acutrainer selftest` runs on a
pseudo-terminal; the test types the answers at its prompts and acts on the simulated board as the person
would: unplugs and shorts the sensor (sim faults), presses it, presses the button. Whether the motor was
felt, the LED seen or the buzzer heard is answered from the simulator's record of what the parts actually
did (the hand feels `motor_felt`, not the motor pin's drive), never from what the test expects: with a dead
motor the pin is driven and nothing is felt, so the person says "n"."""

import contextlib
import json
import os
import sys
from pathlib import Path

import pexpect
import pytest

from tests.integration.conftest import deployed_simulator, foreground_signals, run_cli, wait_for

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent
NAME = "selftest"
SPEED = 5.0
COLOURS = {"red": 16, "green": 8, "blue": 0}   # the rgb record's byte of each colour


@pytest.fixture(scope="module")
def sim(acu_home, tmp_path_factory):
    with deployed_simulator(NAME, 1357, tmp_path_factory.mktemp("selftest") / "flash.img", speed=SPEED) as sim:
        yield sim


class BenchPerson:
    """The person at the bench: does what the self-test asks, and reports what their hand felt, their eyes
    saw and their ears heard, from the simulator's trace since their last action."""

    def __init__(self, sim):
        self.sim = sim
        self.mark()

    def mark(self):
        st = self.sim.status()
        self.boot, self.since_ms = st["boot"], st["t_ms"]

    def levels(self, name):
        return [r for r in self.sim.trace(self.boot)
                if r["kind"] == "level" and r["name"] == name and r["t_ms"] >= self.since_ms]

    def felt(self) -> bool:
        return any(r["value"] > 0 for r in self.levels("motor_felt"))

    def saw_led(self) -> bool:
        return any(r["value"] >= 32768 for r in self.levels("led"))   # bright, not the idle blip

    def saw_colour(self, colour) -> bool:
        shift = COLOURS[colour]
        return any((r["value"] >> shift) & 0xFF and r["value"] & ~(0xFF << shift) == 0 for r in self.levels("rgb"))

    def heard(self) -> bool:
        return any(r["value"] > 0 for r in self.levels("buzzer"))

    def press(self, force_g):
        # ramp up, hold a moment, let go (the board's milliseconds)
        self.sim.segments([(300, -1, force_g, 0), (1200, force_g, force_g, 0), (300, force_g, 0, 0)])


def spawn(sim, *args):
    env = dict(os.environ, COLUMNS="160", LINES="40")
    return pexpect.spawn(str(BIN / "acutrainer"), ["selftest", "--port", sim.port, *args], env=env,
                         encoding="utf-8", timeout=60, dimensions=(40, 160), preexec_fn=foreground_signals)


PROMPTS = [
    r"Take everything off the sensor.*\(s to skip\) ",
    r"Unplug the (?:sensor|HX711).*\(s to skip\) ",
    r"Short the sensor.*\(s to skip\) ",
    r"Connect the sensor again.*\(s to skip\) ",
    r"Press the sensor lightly",
    r"Press the sensor firmly",
    r"Did you feel the motor buzz\? \[y/n/s\] ",
    r"Did the LED light\? \[y/n/s\] ",
    r"Did the LED show (\w+)\? \[y/n/s\] ",
    r"Did you hear a tone\? \[y/n/s\] ",
    r"Press the button once",
    r"Set it from this computer now\? \[y/n\] ",
    pexpect.EOF,
]


def run_as_person(sim, *args):
    """Run the self-test, answering as the person would; (exit status, everything it printed)."""
    me = BenchPerson(sim)
    p = spawn(sim, *args)
    out = []
    while True:
        i = p.expect(PROMPTS)
        out.append(p.before + (p.after if isinstance(p.after, str) else ""))
        if i == len(PROMPTS) - 1:
            break
        if i == 0:
            answer = ""
        elif i == 1:
            sim.sensor_fault(1)
            answer = ""
        elif i == 2:
            sim.sensor_fault(2)
            answer = ""
        elif i == 3:
            sim.sensor_fault(0)
            answer = ""
        elif i in (4, 5):
            me.mark()
            me.press(1200 if i == 4 else 5000)
            continue
        elif i == 6:
            answer = "y" if me.felt() else "n"
        elif i == 7:
            answer = "y" if me.saw_led() else "n"
        elif i == 8:
            answer = "y" if me.saw_colour(p.match.group(1)) else "n"
        elif i == 9:
            answer = "y" if me.heard() else "n"
        elif i == 10:
            me.mark()
            sim.button("short")
            continue
        else:
            answer = "y"
        me.mark()
        p.sendline(answer)
    p.close()
    return p.exitstatus, "".join(out)


def assert_still_practising(sim, text):
    assert "Traceback" not in text
    st = json.loads(run_cli("status", "--json", "--port", sim.port).stdout)
    assert st["practice"] is None and st["iterations"] > 0 and st["boot_problems"] == []


def test_a_healthy_board_passes_every_check(sim):
    rc, text = run_as_person(sim)
    assert rc == 0, text
    assert "0 failed" in text and "FAIL" not in text, text
    for check in ("idle level", "open detected", "short detected", "light press seen", "firm press seen",
                  "vibration felt", "light seen", "red seen", "green seen", "blue seen", "tone heard",
                  "released at rest", "press seen", "voltage read", "free space"):
        assert "ok   %s:" % check in text, check
    assert_still_practising(sim, text)


@contextlib.contextmanager
def faulted(sim, fault):
    """The simulated board with `fault` (sim fault ...) for the block, mended after it whatever happens."""
    sim.fault(fault)
    try:
        yield
    finally:
        sim.fault("ok")


def test_an_open_sensor_is_named_with_its_pin(sim):
    with faulted(sim, "open"):
        rc, text = run_as_person(sim)
    assert rc == 1, text
    assert "FAIL sensor (idle level): the input reads 0 V" in text, text
    assert "GPIO34 (ADC)" in text.split("FAIL sensor (idle level)")[1].splitlines()[0]
    assert "ok   vibration felt" in text       # the rest of the board still checked
    assert_still_practising(sim, text)


def test_a_dead_motor_is_named_with_its_pin(sim):
    with faulted(sim, "motor-dead"):
        rc, text = run_as_person(sim)
    assert rc == 1, text
    assert "Did you feel the motor buzz? [y/n/s] n" in text
    line = [ln for ln in text.splitlines() if ln.startswith("FAIL motor")]
    assert line and "GPIO25" in line[0], text
    assert [ln for ln in text.splitlines() if ln.startswith("FAIL")] == line    # only the motor failed
    # the pin was driven: the simulator recorded the drive, the hand felt nothing
    drive = [r for r in sim.trace() if r["kind"] == "level" and r["name"] == "motor" and r["value"] == 65535]
    assert drive
    assert_still_practising(sim, text)


def test_a_stuck_button_is_named_with_its_pin(sim):
    with faulted(sim, "button-stuck"):
        rc, text = run_as_person(sim)
    assert rc == 1, text
    assert "FAIL released at rest: measured reads PRESSED while untouched" in text
    line = [ln for ln in text.splitlines() if ln.startswith("FAIL button")]
    assert line and "GPIO0 is shorted to GND" in line[0], text
    assert_still_practising(sim, text)


def test_a_missing_bleed_resistor_reads_floating(sim):
    with faulted(sim, "no-bleed"):
        # the floating input reads as a press: the board has begun a free press of its own (--stop ends it)
        rc, text = run_as_person(sim, "--only", "sensor", "--stop")
    assert rc == 1, text
    line = [ln for ln in text.splitlines() if ln.startswith("FAIL sensor (idle level)")]
    assert line and "the bleed resistor (6800 ohm" in line[0] and "GPIO34 (ADC)" in line[0], text
    assert "Traceback" not in text
    # a free press may run now (the input floated until the fault was mended): it ends by itself
    wait_for(lambda: json.loads(run_cli("status", "--json", "--port", sim.port).stdout)["practice"] is None, 60,
             "the floating input's free press to end", sim)


def test_a_load_cell_board_reports_its_hx711_unplugged(acu_home, tmp_path):
    with deployed_simulator("selftest-lc", 2468, tmp_path / "flash.img", speed=SPEED, sensor="loadcell") as lc:
        rc, text = run_as_person(lc, "--only", "sensor")
    assert rc == 0, text
    assert "ok   open detected: measured fault reported: not ready" in text
    assert "short detected" not in text          # a load cell has no short to make
    assert "4 passed, 0 failed, 0 skipped" in text


def test_a_dead_button_is_named_with_its_pin(sim):
    with faulted(sim, "button-dead"):
        p = spawn(sim, "--only", "button")
        p.expect(r"Press the button once")
        sim.button("short")
        p.expect(pexpect.EOF)
        p.close()
    assert p.exitstatus == 1
    assert "FAIL button (press seen): the press never reached the board: check the switch's two leads (GPIO0" \
        in p.before


def test_bad_input_ends_in_one_line(sim, tmp_path):
    # an unknown answer at the terminal
    p = spawn(sim, "--only", "motor")
    p.expect(r"Did you feel the motor buzz\? \[y/n/s\] ")
    p.sendline("maybe")
    p.expect(pexpect.EOF)
    p.close()
    assert p.exitstatus == 2
    assert p.before.strip().splitlines()[-1].startswith("acutrainer: error: unknown answer 'maybe'")
    # Ctrl-C at a prompt
    p = spawn(sim, "--only", "sensor")
    p.expect(r"Take everything off the sensor")
    p.sendintr()
    p.expect(pexpect.EOF)
    p.close()
    assert p.exitstatus == 130 and p.before.strip().splitlines()[-1] == "acutrainer: interrupted"
    # no terminal and no answers: refused at once
    r = run_cli("selftest", "--port", sim.port, check=False)
    assert r.returncode == 2 and r.stdout == "" and len(r.stderr.splitlines()) == 1
    assert "--answers FILE" in r.stderr
    # answers from a file that runs out
    f = tmp_path / "answers.txt"
    f.write_text("# the person's answers\ny\n")
    r = run_cli("selftest", "--port", sim.port, "--only", "motor,led", "--answers", str(f), check=False)
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1
    assert "answers.txt: no answer left for 'Did the LED light? [y/n/s]'" in r.stderr
    assert "Traceback" not in r.stdout + r.stderr
    # the cable pulled mid-test (longer than the request's two tries)
    p = spawn(sim, "--only", "motor,led")
    p.expect(r"Did you feel the motor buzz\? \[y/n/s\] ")
    sim.unplug(12000)
    p.sendline("y")
    p.expect(pexpect.EOF, timeout=30)
    p.close()
    assert p.exitstatus == 4
    assert p.before.strip().splitlines()[-1] == ("acutrainer: error: no answer from the app on %s to 'part' (is it "
                                                 "running? a cable unplugged?)" % sim.port)
    wait_for(lambda: run_cli("status", "--port", sim.port, check=False).returncode == 0, 30, "the cable back")
    assert_still_practising(sim, "")
