"""Power figures (issue 20): the firmware on the MicroPython unix port in the simulator, its currents from the
simulator's energy model (host_tools/sim/energy.py, sources in docs/hardware.md), the battery board's and the
DevKitC's. Method (docs/simulator.md, "Energy"):

- each state's average current is measured by running the firmware: idle-awake (the app's loop with no contact,
  from its first cue until it goes to sleep by itself), deep sleep (an hour of it), practising (the bedtime
  routine played by examples/bedtime-practice.profile with the default feedback);
- the time in each state comes from the firmware too: how long it stays awake idle before it sleeps (after a
  practice, measured), how long a wake takes to its first feedback (measured at --speed 1);
- a reminder wake (acu.remind; the clock synced, `acutrainer remind` set before the practice, so that day's
  reminder is skipped and the next day's timer wakes the board): its awake time and charge from the timer's
  wake until it sleeps again, nobody picking it up;
- a day is those states laid end to end: idle_current_ua = one idle-awake period and deep sleep for the rest of
  24 h; battery_days_daily_10min = the cell's capacity over a day of 10 min practising, one idle-awake period
  after it, one ignored reminder wake (reminders on: the worst case, a reminder that did not lead to the
  practice), deep sleep the rest.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from host_tools.session import open_session
from host_tools.sim import control, profile

ROOT = Path(__file__).resolve().parents[1]
DAY_MS = 24 * 3600 * 1000
SPEED = 10


def _cli(*args, timeout=600):
    import subprocess
    import sys

    r = subprocess.run([str(Path(sys.executable).parent / "acutrainer"), *args], capture_output=True, text=True,
                       timeout=timeout)
    if r.returncode:
        raise RuntimeError("acutrainer %s: %s" % (" ".join(args), (r.stderr or r.stdout).strip()))
    return r.stdout


def _wait(pred, timeout_s, what):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    raise RuntimeError("power bench: timed out waiting for %s" % what)


def _power(sim) -> dict:
    return sim.status()["power"]


def _delta(p0: dict, p1: dict, state: str) -> tuple[int, int]:
    """(ms, µA·ms) spent in a power state between two status snapshots."""
    a, b = p0["totals"][state], p1["totals"][state]
    return b["ms"] - a["ms"], b["uams"] - a["uams"]


def _asleep(sim):
    st = sim.status()
    return st if st["power"]["state"] == "deep_sleep" else None


def _awake_app(sim):
    st = sim.status()
    if st["power"]["state"] != "awake" or not st["running"]:
        return None
    cues = [r for r in sim.trace(st["boot"]) if r["kind"] == "note" and r.get("name") == "cue" and r["value"]]
    return st if cues else None


def _deployed(name: str, work: Path, board: str, speed: float, settings: dict | None = None):
    control.stop(name)
    # the button wakes the board (the battery board's wiring; on the DevKitC, as if it were: its figure is what
    # the same firmware would draw asleep there, its default being to stay up for its USB host)
    st = control.start(name, flash=str(work / (name + ".img")), speed=speed, seed=20261206, energy_board=board,
                       wake_button=True)
    _cli("deploy", "--board", "sim", "--port", st["port"])
    if settings:
        with open_session(st["port"]) as s:
            s.write_file_atomic("/cfg/settings.json", json.dumps(settings).encode())
    return control.SimControl(st)


def measure_board(name: str, work: Path, board: str, practice: bool) -> dict:
    """Average currents (µA) idle-awake (the app's start until it sleeps by itself: its time too), in deep sleep
    and, with practice, while practising (then the awake time until it sleeps again)."""
    sim = _deployed(name, work, board, SPEED)
    try:
        out: dict = {}
        if practice:
            _cli("routine", "push", "bedtime", "--select", "--port", sim.port)
        p1 = _power(_wait(lambda: _awake_app(sim), 60, "the app") and sim)
        _wait(lambda: _asleep(sim), 120 + 2 * 300 / SPEED, "the firmware's deep sleep")
        p2 = _power(sim)
        ms, q = _delta(p1, p2, "awake")
        out["idle_awake_ua"] = q / ms
        out["idle_awake_ms"] = ms
        sim.sleep_skip(DAY_MS)  # a day untouched: deep sleep throughout
        p3 = _power(sim)
        ms, q = _delta(p2, p3, "deep_sleep")
        out["sleep_ua"] = q / ms
        out["sleep_day_ms"] = ms
        if practice:
            if not sim.button("short").get("woke"):
                raise RuntimeError("the button did not wake the board")
            boot = _wait(lambda: _awake_app(sim), 60, "the app after the wake")["boot"]
            # reminders on, an hour from now (this computer's zone, as the command takes it): the practice
            # comes first, so the next day's wakes the board
            _cli("sync", "--port", sim.port)
            at = time.strftime("%H:%M", time.localtime(json.loads(_cli("status", "--json", "--port",
                                                                       sim.port))["wall_s"] + 3600))
            _cli("remind", at, "--port", sim.port)
            _wait(lambda: (lambda st: st if st and st["boot"] > boot else None)(_awake_app(sim)), 60,
                  "the app after the reminder was set")
            segs, buttons = profile.load_full(ROOT / "examples" / "bedtime-practice.profile")
            p4 = _power(sim)
            sim.wait_played(sim.segments(segs, buttons), timeout_s=600)
            p5 = _power(sim)
            ms, q = _delta(p4, p5, "awake")
            out["practice_ua"] = q / ms
            out["practice_ms"] = ms
            _wait(lambda: _asleep(sim), 120 + 2 * 600 / SPEED, "deep sleep after the practice")
            p6 = _power(sim)
            ms, q = _delta(p5, p6, "awake")
            out["after_practice_awake_ms"] = ms
            st = sim.status()
            sim.sleep_skip(2 * DAY_MS)  # stops at the reminder's timer: the next day's
            _wait(lambda: (lambda s2: s2 if s2["boot"] > st["boot"] and s2["power"]["state"] == "awake" else None)(
                sim.status()), 60, "the reminder's wake")
            _wait(lambda: _asleep(sim), 120 + 2 * 300 / SPEED, "deep sleep after the ignored reminder")
            ms, q = _delta(p6, _power(sim), "awake")
            out["remind_awake_ms"] = ms
            out["remind_awake_ua"] = q / ms
        return out
    finally:
        control.stop(name)


def measure_wake_to_feedback(work: Path) -> dict:
    """Button press in deep sleep to the first feedback output of the new boot. The simulator's virtual clock
    does not run while the firmware boots (it moves by the app loop's sleeps), so this is the host's real time
    at --speed 1, from the launcher starting the firmware (the chip's wake) to the output's report."""
    sim = _deployed("bench-wake", work, "esp32_battery", 1.0, {"sleep_after_s": 3})
    try:
        st = _wait(lambda: _asleep(sim), 120, "the first deep sleep")
        if not sim.button("short").get("woke"):
            raise RuntimeError("the button did not wake the board")
        boot = st["boot"] + 1
        _wait(lambda: _awake_app(sim), 60, "the app after the wake")
        real = _wait(lambda: _power(sim).get("boot_to_first_output_real_ms"), 30, "the first feedback output")
        if sim.status()["boot"] != boot:
            raise RuntimeError("the board reset again before its first feedback")
        return {"real_ms": real}
    finally:
        control.stop("bench-wake")


def run(work: Path) -> dict:
    bat = measure_board("bench-power", work, "esp32_battery", practice=True)
    dk = measure_board("bench-power-dk", work, "esp32_devkitc", practice=False)
    wake = measure_wake_to_feedback(work)

    def day_ua(m: dict, practice_ms: int, reminders: bool = False) -> float:
        """A day of practice_ms practising, then the idle-awake time the firmware took before it slept, with
        reminders one ignored reminder wake, then deep sleep to the end of the day."""
        awake_ms = m["idle_awake_ms"]
        q = m["idle_awake_ua"] * awake_ms + m.get("practice_ua", 0.0) * practice_ms
        if reminders:
            awake_ms += m["remind_awake_ms"]
            q += m["remind_awake_ua"] * m["remind_awake_ms"]
        return (q + m["sleep_ua"] * (DAY_MS - awake_ms - practice_ms)) / DAY_MS

    capacity_mah = 500
    daily_ua = day_ua(bat, 10 * 60 * 1000, reminders=True)
    return {
        # a day untouched (no practice, no reminder): the board sleeps throughout (measured over 24 h)
        "idle_current_ua": round(bat["sleep_ua"], 1),
        "idle_current_ua_devkitc": round(dk["sleep_ua"], 1),
        # a day it is picked up once and put down without practising: one idle-awake period, then asleep
        "idle_current_ua_woken_once": round(day_ua(bat, 0), 1),
        "idle_current_ua_woken_once_devkitc": round(day_ua(dk, 0), 1),
        "wake_to_feedback_ms": round(wake["real_ms"]),
        "battery_days_daily_10min": round(capacity_mah * 1000 / daily_ua / 24, 1),
        "power_practice_ma": round(bat["practice_ua"] / 1000, 2),
        "power_idle_awake_ma": round(bat["idle_awake_ua"] / 1000, 2),
        "power_idle_awake_s": round(bat["idle_awake_ms"] / 1000, 1),
        "power_after_practice_awake_s": round(bat["after_practice_awake_ms"] / 1000, 1),
        "power_remind_awake_s": round(bat["remind_awake_ms"] / 1000, 1),
        "power_idle_awake_ma_devkitc": round(dk["idle_awake_ua"] / 1000, 2),
    }
