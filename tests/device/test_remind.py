# acu.remind's decision (which day the next bedtime reminder comes, or why none), its file, and the RTC timer
# acu.power arms with it before a deep sleep and the cue a timer wake plays, on both interpreters (a fake
# `machine` and `esp32`, as in test_power.py).
import json

import fakeboard
from test_power import _app_with_wake_button, _Esp32, _Machine

from acu import power, remind

MON = 20458        # 2026-01-05, a Monday: days since 1970-01-01
assert remind.weekday(MON) == 0
T = MON * 86400    # its midnight, UTC
EVERY_DAY = 127
MON_FRI = 31
NONE = (-1, -1, 0, -1)  # no session known, never reminded


def cfg(at="21:45", days=EVERY_DAY, off=0, on=True):
    h, m = at.split(":")
    return {"at_min": int(h) * 60 + int(m), "days": days, "utc_offset_min": off, "on": on}


def test_the_next_reminder_is_today_at_the_time_or_tomorrow_once_it_passed():
    at = 21 * 3600 + 45 * 60
    assert remind.next_s(T + 3600, cfg(), NONE, 5) == (at - 3600, None)
    # 21:45 has passed: tomorrow's
    assert remind.next_s(T + at, cfg(), NONE, 5) == (86400, None)
    # the user's 21:45 is UTC 20:45 at UTC+1
    assert remind.next_s(T, cfg(off=60), NONE, 5) == (at - 3600, None)


def test_only_on_the_days_chosen():
    fri_evening = T + 4 * 86400 + 22 * 3600  # Friday 22:00: Saturday and Sunday are off, Monday is next
    s, why = remind.next_s(fri_evening, cfg(days=MON_FRI), NONE, 5)
    assert s == 3 * 86400 - 15 * 60 and why is None
    assert remind.why_not(MON + 5, MON_FRI, -1, 0, -1, 5) == remind.DAY_OFF
    assert remind.next_s(T, cfg(days=0), NONE, 5) == (-1, remind.OFF)


def test_no_reminder_on_a_day_with_a_session_or_already_reminded():
    # a session logged today (Monday): the next is Tuesday's
    assert remind.next_s(T + 3600, cfg(), (3, MON, 1, -1), 5)[0] == 86400 + 20 * 3600 + 45 * 60
    assert remind.why_not(MON, EVERY_DAY, MON, 1, -1, 5) == remind.PRACTISED
    # a timer wake a little early (the RTC drifts) is not a second reminder that day
    assert remind.why_not(MON, EVERY_DAY, -1, 0, MON, 5) == remind.REMINDED
    assert remind.next_s(T + 21 * 3600 + 44 * 60, cfg(), (-1, -1, 0, MON), 5)[0] == 86400 + 60


def test_no_reminder_for_the_rest_of_a_week_whose_goal_is_met():
    wed = MON + 2
    # three sessions this week by Wednesday, goal 3: Thursday to Sunday skipped, next Monday reminded
    s, why = remind.next_s(wed * 86400 + 23 * 3600, cfg(), (9, wed, 3, -1), 3)
    assert s == 5 * 86400 - 75 * 60 and why is None  # Wednesday 23:00 to Monday 21:45
    assert remind.why_not(wed + 1, EVERY_DAY, wed, 3, -1, 3) == remind.GOAL_MET
    assert remind.why_not(wed + 1, EVERY_DAY, wed, 2, -1, 3) is None
    # last week's count does not carry into this one
    assert remind.why_not(MON + 7, EVERY_DAY, wed, 3, -1, 3) is None


def test_no_clock_no_reminder():
    assert remind.next_s(None, cfg(), NONE, 5) == (-1, remind.NO_CLOCK)


def test_the_goal_is_the_settings_key_with_its_default():
    root = fakeboard.flash_root()
    assert remind.weekly_goal({}, root) == remind.WEEKLY_GOAL_DEFAULT == 5
    assert remind.weekly_goal({"weekly_goal": 3}, root) == 3


def test_while_a_programme_runs_the_goal_is_its_stage_goal():
    from acu import programme as PG
    from acu import programme_parse as PP
    from test_programme import short
    root = fakeboard.flash_root()
    p = PP.parse(short())                  # stages' goals: 2, 2, 1 sessions a week
    st = PG.new_state(p.name, p.digest, PP.plan(p))
    PG.write_state(st, root)
    assert remind.weekly_goal({"weekly_goal": 6}, root) == 2
    st["stage"] = 2
    PG.write_state(st, root)
    assert remind.weekly_goal({"weekly_goal": 6}, root) == 1
    st["finished"] = True                  # a finished programme asks nothing: the setting again
    PG.write_state(st, root)
    assert remind.weekly_goal({"weekly_goal": 6}, root) == 6


def test_a_bad_file_is_set_aside_and_gives_no_reminder():
    import acu
    root = fakeboard.flash_root()
    with open(root + remind.PATH, "w") as f:
        f.write(json.dumps({"at_min": 2000, "days": 127}))
    assert remind.read(root) is None
    assert [p for p in acu.problems if p[0] == root + remind.PATH and "at_min" in p[1]]
    del acu.problems[:]
    with open(root + remind.PATH, "w") as f:
        f.write(json.dumps(cfg()))
    assert remind.read(root) == cfg()


def _armed_app(wall_s, **changes):
    app, clock, sensor = _app_with_wake_button(**changes)
    clock.wall = wall_s
    with open(app.root + remind.PATH, "w") as f:
        f.write(json.dumps(cfg()))
    return app, clock


def test_the_sleep_arms_the_timer_for_the_next_reminder_and_a_timer_wake_cues_it():
    app, clock = _armed_app(T + 3600)
    m, e = _Machine(), _Esp32()
    power.loop_start(app, m)  # a cold start: the record begins at the log's newest session
    assert power.unpack_practice(m.rtc_mem[0]) == (0, -1, 0, -1)
    power.idle_due(app, clock.ticks_ms(), m, e)
    assert m.slept == 1 and m.slept_ms == (20 * 3600 + 45 * 60) * 1000
    # the timer wakes it: the reminder plays, the board sleeps again after the window if nobody comes
    woken, wclock, _ = _app_with_wake_button(sleep_after_s=300)
    wclock.wall = T + 21 * 3600 + 45 * 60
    woken.root = app.root
    m.cause, m.reason = power.DEEPSLEEP_RESET, power.TIMER_WAKE
    power.loop_start(woken, m)
    assert woken.fb.cue_code == 12 and woken.fb._seq_n == len(remind.CUE)  # the run-time sequence (CUE_SEQ)
    assert woken.runner.idle_ms == 300000 - remind.WINDOW_MS
    assert power.unpack_practice(m.rtc_mem[0])[3] == MON  # today reminded
    power.idle_due(woken, wclock.ticks_ms(), m, e)
    assert m.slept == 2 and m.slept_ms == 86400 * 1000  # tomorrow's


def test_a_session_before_the_sleep_skips_todays_reminder():
    app, clock = _armed_app(T + 3600)
    m, e = _Machine(), _Esp32()
    power.loop_start(app, m)
    app.log.begin_session("free", "", 3000, 5000, None, clock.ticks_ms())
    app.log.end_session("completed", clock.ticks_ms())
    power.idle_due(app, clock.ticks_ms(), m, e)
    assert power.unpack_practice(m.rtc_mem[0]) == (1, MON, 1, -1)
    assert m.slept_ms == (86400 + 20 * 3600 + 45 * 60) * 1000


def test_no_clock_no_timer():
    app, clock = _armed_app(None)
    m, e = _Machine(), _Esp32()
    power.loop_start(app, m)
    power.idle_due(app, clock.ticks_ms(), m, e)
    assert m.slept == 1 and m.slept_ms == 0  # the button alone wakes it
