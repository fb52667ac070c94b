"""The bedtime reminder in the simulator with the battery board (acu.remind, acu.power; `acutrainer remind`):
a day with a session already done arms no reminder for that day; the RTC timer wakes the board at the time,
it plays the reminder, nobody picks it up and it sleeps again, armed for the next day; a power cut in deep
sleep keeps the setting (the clock it needs is lost with the RTC: `remind` says so in one line)."""

import datetime
import json

import pytest

from host_tools.session import open_session
from tests.integration.conftest import deployed_simulator, run_cli, wait_for

pytestmark = pytest.mark.integration

NAME = "e2e-remind"
SPEED = 10
SLEEP_AFTER_S = 20
DAY_MS = 86400 * 1000


@pytest.fixture(scope="module")
def sim(acu_home, tmp_path_factory):
    with deployed_simulator(NAME, 616, tmp_path_factory.mktemp("remind") / "flash.img", SPEED,
                            energy_board="esp32_battery") as sim:
        with open_session(sim.port) as s:
            s.write_file_atomic("/cfg/settings.json", json.dumps({"sleep_after_s": SLEEP_AFTER_S}).encode())
        yield sim


def asleep(sim):
    st = sim.status()
    return st if st["power"]["state"] == "deep_sleep" else None


def awake(sim):
    st = sim.status()
    return st if st["power"]["state"] == "awake" and st["running"] else None


def last_sleep(sim, boot):
    recs = [r for r in sim.trace(boot) if r["kind"] == "deep_sleep"]
    return recs[-1] if recs else None


def notes(sim, boot, name):
    return [r for r in sim.trace(boot) if r["kind"] == "note" and r.get("name") == name and r["value"]]


def device_wall(sim):
    st = json.loads(run_cli("status", "--json", "--port", sim.port).stdout)
    assert st["wall_s"], st
    return st["wall_s"]


def test_no_clock_is_said_in_one_line(sim):
    wait_for(lambda: awake(sim), 30, "the app", sim=sim)
    r = run_cli("remind", "21:45", "--port", sim.port, check=False)
    assert r.returncode == 3 and r.stderr.count("\n") == 1 and "clock is not set" in r.stderr
    assert "off" in run_cli("remind", "--port", sim.port).stdout


def test_a_session_today_skips_todays_reminder_the_timer_wakes_it_tomorrow_and_ignored_it_sleeps_again(sim):
    run_cli("sync", "--port", sim.port)
    wall = device_wall(sim)
    # ten minutes from now, in this computer's zone (the command's), on the minute
    at = datetime.datetime.fromtimestamp(wall + 600).astimezone().replace(second=0, microsecond=0)
    target = int(at.timestamp())
    out = run_cli("remind", at.strftime("%H:%M"), "--port", sim.port).stdout
    assert "reminder set: %s every day" % at.strftime("%H:%M") in out
    assert "next" in run_cli("remind", "--port", sim.port).stdout
    # a practice today: a free press of 3 s (a session), released; idle, the board sleeps
    st = wait_for(lambda: awake(sim), 30, "the app", sim=sim)
    boot = st["boot"]
    sim.segments([(150, -1, 4000, 0), (3000, 4000, 4000, 0), (150, 4000, 0, 0)])
    st = wait_for(lambda: asleep(sim), 120, "deep sleep after the practice", sim=sim)
    assert st["boot"] == boot
    rec = last_sleep(sim, boot)
    assert rec["ext0"] == 0  # the button wakes it too
    # not today's reminder (minutes away, before the time): tomorrow's, over a day away
    assert DAY_MS < rec["ms"] <= (target + 86400 - wall) * 1000, rec
    # a day of deep sleep: the timer wakes it at the time, the reminder plays
    sim.sleep_skip(rec["ms"])
    st = wait_for(lambda: (lambda s: s if s["boot"] > boot and s["running"] else None)(sim.status()), 60,
                  "the timer's wake", sim=sim)
    woke = [r for r in sim.trace(boot) if r["kind"] == "wake"]
    assert woke and woke[-1]["reason"] == "timer"
    assert st["power"]["wake_reason"] == 4
    wait_for(lambda: notes(sim, st["boot"], "remind"), 30, "the reminder", sim=sim)
    # ignored: asleep again within the pick-up window (sleep_after_s here, shorter than a minute), armed for
    # the next day's reminder
    st2 = wait_for(lambda: asleep(sim), 60, "deep sleep after the ignored reminder", sim=sim)
    assert st2["boot"] == st["boot"]
    rec2 = last_sleep(sim, st["boot"])
    assert DAY_MS - 120_000 <= rec2["ms"] <= DAY_MS, rec2
    leds = [r for r in sim.trace(st["boot"]) if r["kind"] == "level" and r.get("name") == "led" and r["value"]]
    assert len(leds) >= 6  # three knock-knocks


def test_a_power_cut_in_sleep_keeps_the_setting(sim):
    st = wait_for(lambda: asleep(sim), 60, "deep sleep", sim=sim)
    sim.power_cut(100)
    wait_for(lambda: (lambda s: s if s["boot"] > st["boot"] and s["running"] else None)(sim.status()), 30,
             "the cold boot", sim=sim)
    out = run_cli("remind", "--port", sim.port).stdout
    assert out.count("\n") == 1 and "every day" in out and "clock is not set" in out, out
    run_cli("sync", "--port", sim.port)
    assert "next" in run_cli("remind", "--port", sim.port).stdout


def test_status_and_doctor_show_the_next_reminder_and_the_days_left(sim):
    if not (lambda s: s["power"]["state"] == "awake" and s["running"])(sim.status()):
        assert sim.button("short")["woke"]
    wait_for(lambda: awake(sim), 30, "the app", sim=sim)
    sim.battery(mv=3840)
    rows = dict(ln.split(None, 1) for ln in run_cli("status", "--port", sim.port).stdout.splitlines() if ln.strip())
    assert rows["remind"].split(",")[0].endswith("every day") and "next" in rows["remind"], rows
    # no archive here: the default practice rate, said so; the simulated board takes the battery board's currents
    assert rows["charge"].startswith("about ") and "10 min a day (the default" in rows["charge"], rows
    out = run_cli("doctor", "--port", sim.port, check=False).stdout
    assert [ln for ln in out.splitlines() if "battery" in ln and "days at" in ln], out
