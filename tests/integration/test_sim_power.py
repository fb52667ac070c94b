"""The simulated board's power: deep sleep as its reset path, the wake sources, RTC memory, the energy meter and
the battery (host_tools/sim/board_power.py, energy.py; rom/simmachine.py, simesp32.py)."""

import subprocess
import sys
from pathlib import Path

import pytest

from host_tools.sim import control, energy
from tests.integration.conftest import run_cli, wait_for

BIN = Path(sys.executable).parent
pytestmark = pytest.mark.integration

# a main.py that counts its boots in RTC memory and logs why it woke: boot 1 sleeps 2 s on the timer, boot 2
# sleeps until the button, boot 3 stays awake (machine.lightsleep: a call into the board, so a Ctrl-C is taken)
SLEEPER = """\
import machine, esp32
m = machine.RTC().memory()
c = (m[0] if m else 0) + 1
machine.RTC().memory(bytes([c]))
with open('/log.txt', 'a') as f:
    f.write('%d %d %d\\n' % (c, machine.reset_cause(), machine.wake_reason()))
esp32.wake_on_ext0(machine.Pin(0), 0)
if c == 1:
    machine.deepsleep(2000)
elif c == 2:
    machine.deepsleep()
while True:
    machine.lightsleep(50)
"""


def mpremote(port, *args, timeout=60):
    r = subprocess.run([str(BIN / "mpremote"), "connect", port, *args], capture_output=True, text=True,
                       timeout=timeout)
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.fixture()
def bare_sim(acu_home, tmp_path):
    """A simulator of its own with no firmware: the tests put their own main.py on it."""
    st = control.start("power", speed=10, seed=77, flash=str(tmp_path / "flash.img"))
    sim = control.SimControl(st)
    wait_for(lambda: sim.status()["fw_ready"], what="the board's ROM boot")
    yield sim
    control.stop("power")


def boot_log(sim):
    out = mpremote(sim.port, "resume", "exec", "print(open('/log.txt').read())")
    return [tuple(int(x) for x in ln.split()) for ln in out.splitlines() if ln.strip()]


def test_deep_sleep_wakes_on_timer_and_button_and_rtc_memory_survives_sleep_not_power_cut(bare_sim, tmp_path):
    sim = bare_sim
    src = tmp_path / "main.py"
    src.write_text(SLEEPER)
    mpremote(sim.port, "resume", "cp", str(src), ":main.py")
    boot = sim.status()["boot"]
    sim.power_cut(50)  # boots main.py: count 1, power-on; 2 s later the timer wakes count 2, which sleeps on
    asleep = wait_for(lambda: (lambda s: s if s["boot"] == boot + 2 and s["power"]["state"] == "deep_sleep"
                               else None)(sim.status()), what="the second deep sleep", sim=sim)
    assert not asleep["running"]  # no code runs in deep sleep: the process has ended, its RAM is gone
    assert asleep["power"]["wake_timer_ms"] == 0
    sim.button("short")  # ext0 on the button (active low) wakes it: count 3 stays up
    wait_for(lambda: sim.status()["power"]["state"] == "awake" and sim.status()["fw_ready"], what="the wake",
             sim=sim)
    PWRON, DEEPSLEEP, EXT0, TIMER = 1, 4, 2, 4
    assert boot_log(sim) == [(1, PWRON, 0), (2, DEEPSLEEP, TIMER), (3, DEEPSLEEP, EXT0)]
    # a soft reset (mpremote without resume) keeps the RTC memory: the count goes on in the raw REPL
    out = mpremote(sim.port, "exec", "import machine; print('mem', machine.RTC().memory()[0])")
    assert "mem 3" in out
    # a power cut loses it: the next boot counts from 1 again, and sleeps on its timer
    b = sim.status()["boot"]
    sim.power_cut(50)
    wait_for(lambda: sim.status()["boot"] >= b + 2, what="boots after the power cut", sim=sim)
    kinds = [(r["kind"], r.get("reason")) for r in sim.trace(None) if r["kind"] in ("deep_sleep", "wake")]
    assert kinds[:4] == [("deep_sleep", None), ("wake", "timer"), ("deep_sleep", None), ("wake", "ext0")]


def test_a_wake_pin_must_be_an_rtc_pin(bare_sim):
    out = mpremote(bare_sim.port, "resume", "exec",
                   "import esp32, machine\ntry:\n esp32.wake_on_ext0(machine.Pin(5), 0)\nexcept ValueError as e:\n"
                   " print('refused', e)\nmachine.freq(80000000); print('freq', machine.freq())")
    assert "refused invalid pin" in out
    assert "freq 80000000" in out


def test_battery_drains_by_the_table_and_the_adc_reads_the_cell(bare_sim):
    sim = bare_sim
    # the board's divider (1:2) on GPIO35: what the firmware's BatteryAdc reads
    read = "import machine; print('mv', machine.ADC(machine.Pin(35)).read_uv() * 2 // 1000)"
    p0 = sim.battery(soc_pct=20)
    assert p0["soc_pct"] == pytest.approx(20.0, abs=0.01)
    mv = int(mpremote(sim.port, "resume", "exec", read).split("mv")[1])
    # the cell under the board's present load: its rest voltage less the internal drop (ADC rounding: 2 mV)
    assert abs(mv - p0["cell_mv"]) <= 3
    assert p0["cell_mv"] < energy.ocv_mv(20)
    before = sim.status()["power"]
    mpremote(sim.port, "resume", "exec", "import machine\nfor i in range(20): machine.lightsleep(100)")
    after = sim.status()["power"]
    used = before["charge_uams"] - after["charge_uams"]  # µA·ms
    q = sum(after["totals"][k]["uams"] - before["totals"][k]["uams"] for k in after["totals"])
    assert q > 0 and used == q  # the cell lost exactly what the meter counted
    ms = sum(after["totals"][k]["ms"] - before["totals"][k]["ms"] for k in after["totals"])
    assert ms >= 2000
    # awake at 160 MHz on the DevKitC: at least the CPU and the regulator, at most the CPU at 240 MHz and all of it
    assert energy.CHIP_UA["light_sleep"] < q / ms < energy.CHIP_UA["cpu_240"] + 10000
    full = sim.battery(charge=True)
    assert full["soc_pct"] == 100.0 and full["ocv_mv"] == 4200


def test_sim_battery_cli(bare_sim):
    r = run_cli("sim", "battery", "3.7V", "--name", "power")
    assert "battery" in r.stdout and "3.7" not in r.stderr
    st = bare_sim.status()["power"]
    assert st["ocv_mv"] == pytest.approx(3700, abs=2)
    r = run_cli("sim", "battery", "5V", "--name", "power", check=False)
    assert r.returncode != 0 and "LiPo rests between" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("sim", "battery", "status", "--name", "power")
    assert "mAh" in r.stdout
    r = run_cli("sim", "status", "--name", "power")
    assert "power" in r.stdout and "µA now" in r.stdout


CLOCK_SLEEPER = """\
import machine, time
d = machine.RTC().datetime()
with open('/clock.txt', 'a') as f:
    f.write('%d %d\\n' % (machine.reset_cause(), time.mktime((d[0], d[1], d[2], d[4], d[5], d[6], 0, 0))))
if machine.reset_cause() != machine.DEEPSLEEP_RESET:
    machine.deepsleep(3600 * 1000)
while True:
    machine.lightsleep(50)
"""


def test_the_rtc_keeps_time_through_an_hour_of_deep_sleep(bare_sim, tmp_path):
    sim = bare_sim
    src = tmp_path / "main.py"
    src.write_text(CLOCK_SLEEPER)
    # set the RTC (2030-01-02 03:04:05), then boot main.py: it logs the time and sleeps an hour on its timer
    mpremote(sim.port, "resume", "cp", str(src), ":main.py", "+", "exec", "--no-follow",
             "import machine; machine.RTC().datetime((2030, 1, 2, 3, 4, 5, 6, 0)); machine.reset()")
    wait_for(lambda: sim.status()["power"]["state"] == "deep_sleep", what="the first sleep", sim=sim)
    boot = sim.status()["boot"]
    p = sim.sleep_skip(3600 * 1000)  # fast-forward: the timer ends the sleep
    assert p["asleep_ms"] >= 3600 * 1000
    wait_for(lambda: sim.status()["boot"] > boot and sim.status()["fw_ready"], what="the timer's wake", sim=sim)
    out = mpremote(sim.port, "resume", "exec", "print(open('/clock.txt').read())")
    rows = [tuple(int(x) for x in ln.split()) for ln in out.splitlines() if ln.strip()]
    (c1, t1), (c2, t2) = rows[0], rows[1]
    assert (c1, c2) == (5, 4)  # machine.reset() (a software reset), then the deep-sleep wake
    assert 3600 <= t2 - t1 <= 3600 + 60  # the RTC ran through the hour asleep
