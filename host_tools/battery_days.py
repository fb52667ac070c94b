"""Days left on the device's charge at the user's own practice rate: what `acutrainer status` and `doctor` show
beside the charge (issue 20).

A day is laid out as the firmware spends it on a board that sleeps (docs/hardware.md, "Energy"): the practice
minutes at the practising current, the idle-awake minutes after it (`sleep_after_s`, 300 s by default) at the
loop's idle current, a reminder wake when reminders are on (its pick-up window awake), and deep sleep for the
rest. The currents come from the simulator's table of datasheet figures (host_tools/sim/energy.py) at the cell's
voltage; the charge left from the LiPo curve (host_tools/battery.py) times the cell's capacity. The practice
minutes per day are the user's from the archive: the sessions of this device over the last 14 days (fewer when
the archive's first session is younger), or DEFAULT_MINUTES_PER_DAY without any, and the estimate says which.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from host_tools import battery
from host_tools.sim import energy

DEFAULT_MINUTES_PER_DAY = 10.0
WINDOW_DAYS = 14
DAY_S = 86400
LOOP_HZ = 80_000_000        # acu.power.LOOP_HZ: the loop's clock, practising or idle
SLEEP_AFTER_S = 300         # acu.power.SLEEP_AFTER_S_DEFAULT: awake idle after the practice
REMIND_AWAKE_S = 60         # acu.remind.WINDOW_MS: a reminder ignored keeps the board up this long
# the feedback's mean drive while practising with the default feedback (LED + motor): a twentieth of full duty
# on each, with the FSR divider pressed, gives the bench's measured ~30 mA practising on the battery board
# (docs/hardware.md, "Energy": 29.7-30.7 mA over runs, against 22.5 mA idle-awake)
PRACTICE_DUTY_U16 = 65535 // 20
DEFAULT_BOARD = "esp32_battery"  # a board with no row (the simulator's own "sim"): the battery build's figures


@dataclass
class Rate:
    minutes_per_day: float
    source: str  # "archive" (the user's) or "default"
    days: float  # the span it was averaged over (0 for the default)


def practice_rate(sessions: list[dict], now_s: float) -> Rate:
    """The practice minutes per day of sessions ({"wall_start_s", "duration_ms"}, one device's): their
    minutes in the last WINDOW_DAYS days over that span, or over the span since the first session when the
    archive is younger (at least one day). No dated session in the window: the default."""
    dated = [s for s in sessions if isinstance(s.get("wall_start_s"), int) and s["wall_start_s"] <= now_s]
    recent = [s for s in dated if s["wall_start_s"] >= now_s - WINDOW_DAYS * DAY_S]
    if not recent:
        return Rate(DEFAULT_MINUTES_PER_DAY, "default", 0.0)
    first = min(s["wall_start_s"] for s in dated)
    span_days = min(float(WINDOW_DAYS), max(1.0, (now_s - first) / DAY_S))
    ms = sum(max(0, s.get("duration_ms") or 0) for s in recent)
    return Rate(ms / 60000.0 / span_days, "archive", span_days)


def day_uah(board: str, cell_mv: int, minutes_per_day: float, reminders: bool) -> float:
    """The charge (µAh) a day takes on board at the cell's voltage."""
    row = board if board in energy.BOARDS else DEFAULT_BOARD
    idle = energy.current_ua(row, "awake", energy.Loads(cpu_hz=LOOP_HZ), cell_mv)
    practising = energy.current_ua(row, "awake", energy.Loads(cpu_hz=LOOP_HZ, pressed=True, motor_u16=PRACTICE_DUTY_U16,
                                                               led_u16=PRACTICE_DUTY_U16), cell_mv)
    asleep = energy.current_ua(row, "deep_sleep", energy.Loads(), cell_mv)
    practice_s = min(minutes_per_day * 60.0, DAY_S)
    idle_s = min(float((SLEEP_AFTER_S if practice_s else 0) + (REMIND_AWAKE_S if reminders else 0)),
                 DAY_S - practice_s)
    sleep_s = DAY_S - practice_s - idle_s
    return (practising * practice_s + idle * idle_s + asleep * sleep_s) / 3600.0


def days_left(board: str, cell_mv: int, minutes_per_day: float, reminders: bool,
              capacity_mah: int = energy.DEFAULT_CAPACITY_MAH) -> float:
    """Days until the cell is empty at this rate (the charge left by the LiPo curve)."""
    left_uah = capacity_mah * 1000.0 * battery.soc_pct(cell_mv) / 100.0
    return left_uah / day_uah(board, cell_mv, minutes_per_day, reminders)


def describe(st: dict, sessions: list[dict], now_s: float | None = None) -> str | None:
    """'about 41 days at your 12.5 min a day (archive, 14 days)' for a device status st, or None when there is
    no cell to estimate (no battery, USB power, an unreadable figure)."""
    mv = st.get("battery_mv")
    if not isinstance(mv, int) or isinstance(mv, bool) or not 2500 <= mv <= 6000:
        return None
    now_s = time.time() if now_s is None else now_s
    dev = st.get("unique_id")
    rate = practice_rate([s for s in sessions if s.get("device_id") == dev], now_s)
    rem = st.get("remind")
    on = isinstance(rem, dict) and bool(rem.get("on"))
    board = str(st.get("board"))
    d = days_left(board, mv, rate.minutes_per_day, on)
    how = ("your %.1f min a day (the archive, last %.0f days)" % (rate.minutes_per_day, rate.days)
           if rate.source == "archive" else "%.0f min a day (the default: no practice in the archive in the last "
           "%d days)" % (rate.minutes_per_day, WINDOW_DAYS))
    assumed = "" if board in energy.BOARDS else "; the battery board's currents"
    return "about %d days at %s%s%s" % (int(d), how, ", reminders on" if on else "", assumed)


def from_archive(st: dict, archive_path=None) -> str | None:
    """describe() with the default archive's sessions (none when there is no archive yet: nothing is created)."""
    from pathlib import Path

    from host_tools.archive import Archive, default_path

    p = Path(archive_path) if archive_path else default_path()
    sessions: list[dict] = []
    if p.exists():
        now = time.time()
        with Archive(p) as arc:
            sessions = arc.sessions(since=now - WINDOW_DAYS * DAY_S - DAY_S)
            # the first session ever (for a young archive's span) is the oldest dated one of the device
            first = [s for s in arc.sessions(until=now - WINDOW_DAYS * DAY_S) if s["device_id"] == st.get("unique_id")]
            sessions = first[-1:] + sessions
    return describe(st, sessions)
