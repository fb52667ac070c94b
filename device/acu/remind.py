# Bedtime reminders (docs/user-guide.md, "Reminders"; the file: docs/remind.md). The host stores the practice
# time in /cfg/remind.json (acutrainer remind 21:45 [--days mon-fri] | --off). Before the board goes into
# deep sleep (acu.power.idle_due) it arms the RTC timer for the next reminder; the timer's wake plays the
# reminder cue (docs/feedback.md, "Reminder") and gives the user WINDOW_MS to pick the trainer up (a touch, a
# press of the button, a host), else it sleeps again, armed for the next one. No reminder without a set clock,
# on a day off, on a day a session was logged, nor when the week's goal (weekly_goal()) is met.
#
# What the decision needs of the past lives in the RTC record (acu.power): the newest session number seen, the
# last local day with a session and the sessions of that day's week, the last day reminded. Kept through deep
# sleep and soft resets, lost at a power cut (the record starts again from the log's newest session: a
# practice before the cut is then not known, and its day may get a reminder). Loaded per call (acu.call):
# at sleep, at a timer wake, for `status`; none of it sits in the loop's heap.
import acu

from micropython import const

PATH = "/cfg/remind.json"
WINDOW_MS = const(60000)          # a reminder not picked up within this: back to sleep
WEEKLY_GOAL_DEFAULT = const(5)    # sessions a week (settings weekly_goal)
DAY_S = const(86400)
AT_MAX = const(1439)              # 23:59
OFFSET_MAX = const(1080)          # UTC-18:00 .. UTC+18:00, in minutes
# the reminder cue: three soft double taps, two seconds apart (~5 s); (duration_ms, level 0..1023) pairs,
# played as the feedback's run-time sequence (acu.score.play): no table pattern in the loop's heap
CUE = (60, 400, 140, 0, 60, 400, 2000, 0, 60, 400, 140, 0, 60, 400, 2000, 0, 60, 400, 140, 0, 60, 400, 300, 0)
# why there is no reminder on a day (status, tests)
NO_CLOCK = "clock not set"
OFF = "off"
DAY_OFF = "day off"
PRACTISED = "practised that day"
GOAL_MET = "weekly goal met"
REMINDED = "reminded that day"


def weekly_goal(settings, root=""):
    """The sessions a week after which no reminder comes. The one place the goal is looked up: the stage's
    sessions-per-week goal while a programme runs (docs/programmes.md), else the settings key weekly_goal,
    default WEEKLY_GOAL_DEFAULT."""
    from acu import programme
    st = programme.read_state(root)   # None: no programme (a damaged state is set aside and named there)
    if st is not None and not st["finished"]:
        return programme.stage(st)[programme.S_GOAL]
    return settings.get("weekly_goal", WEEKLY_GOAL_DEFAULT)


def weekday(day):
    """0 Monday .. 6 Sunday of a day number (days since 1970-01-01, a Thursday)."""
    return (day + 3) % 7


def week(day):
    """The Monday-to-Sunday week a day number is in."""
    return (day + 3) // 7


def problem(d):
    """Why a decoded /cfg/remind.json cannot be used (docs/remind.md), or None."""
    if type(d) is not dict:
        return "not an object"
    for k, hi in (("at_min", AT_MAX), ("days", 127)):
        v = d.get(k)
        if type(v) is not int or not 0 <= v <= hi:
            return "%s must be a whole number 0..%d" % (k, hi)
    v = d.get("utc_offset_min", 0)
    if type(v) is not int or not -OFFSET_MAX <= v <= OFFSET_MAX:
        return "utc_offset_min must be a whole number -%d..%d" % (OFFSET_MAX, OFFSET_MAX)
    if type(d.get("on", True)) is not bool:
        return "on must be true or false"
    return None


def read(root=""):
    """The reminder setting, or None (no file; a bad one is set aside and named in acu.problems)."""
    from acu import cfgfile
    path = root + PATH
    d = cfgfile.read_json(path)
    if d is None:
        return None
    why = problem(d)
    if why is not None:
        cfgfile.set_aside(path, why)
        return None
    return d


def check_file(path):
    """The host's upload check (acutrainer remind): ValueError for a file the firmware would set aside."""
    import json
    with open(path) as f:
        why = problem(json.load(f))
    if why is not None:
        raise ValueError("remind.json: " + why)
    return True


def why_not(day, days, last_day, week_n, reminded_day, goal):
    """Why there is no reminder on day (a local day number), or None: a reminder is due that day."""
    if not (days >> weekday(day)) & 1:
        return DAY_OFF
    if day == reminded_day:
        return REMINDED
    if day == last_day:
        return PRACTISED
    if week(day) == week(last_day) and week_n >= goal:
        return GOAL_MET
    return None


def next_s(now_s, cfg, practice, goal):
    """Seconds from now_s (UTC epoch, None: no clock) to the next reminder, or (-1, why) for none, as
    (seconds, why). cfg: the setting; practice: (last_no, last_day, week_n, reminded_day) (acu.power's record).
    The next eight days are looked at: a day off, a practised day, a met week are skipped."""
    if now_s is None:
        return -1, NO_CLOCK
    if cfg is None or not cfg.get("on", True) or not cfg["days"]:
        return -1, OFF
    local = now_s + cfg.get("utc_offset_min", 0) * 60
    today = local // DAY_S
    why = OFF
    for d in range(8):
        day = today + d
        t = day * DAY_S + cfg["at_min"] * 60
        if t <= local:
            continue
        why = why_not(day, cfg["days"], practice[1], practice[2], practice[3], goal)
        if why is None:
            return t - local, None
    return -1, why


def local_day(now_s, cfg):
    return (now_s + (cfg.get("utc_offset_min", 0) if cfg else 0) * 60) // DAY_S


def practice_now(app, practice, now_s, cfg):
    """The practice record brought up to now: the sessions logged since it was written (their numbers past
    last_no) are counted on today's local day. practice None (no record: a power cut): from the newest."""
    lg = app.log
    newest = lg.session_no if lg.active else lg.next_session_no() - 1  # (a scan only outside a session)
    if practice is None:
        return (newest, -1, 0, -1)
    last_no, last_day, week_n, reminded = practice
    if newest > last_no and now_s is not None:
        today = local_day(now_s, cfg)
        if last_day < 0 or week(today) != week(last_day):
            week_n = 0
        week_n = min(255, week_n + newest - last_no)
        last_day = today
    return (max(newest, last_no), last_day, week_n, reminded)


def before_sleep(app, practice):
    """At acu.power.idle_due: (the RTC timer in ms, 0 for none; the practice record to keep)."""
    now_s = app.clock.wall_s()
    cfg = read(app.root)
    practice = practice_now(app, practice, now_s, cfg)
    s, _ = next_s(now_s, cfg, practice, weekly_goal(app.settings, app.root))
    return (s * 1000 if s > 0 else 0), practice


def woke(app, practice):
    """A timer wake (acu.power.loop_start): the reminder cue, and WINDOW_MS to pick the trainer up before the
    board sleeps again. Returns the practice record with today marked reminded."""
    s = app.settings.get("sleep_after_s", 300) * 1000
    app.runner.idle_ms = s - WINDOW_MS if s > WINDOW_MS else 0
    acu.call("score", "play", app.fb, CUE, app.clock.ticks_ms(), False, "remind", 1)
    now_s = app.clock.wall_s()
    if practice is None or now_s is None:
        return practice
    return practice[:3] + (local_day(now_s, read(app.root)),)


def status(app, practice):
    """The reminder for `status`: {"on", "at_min", "days", "utc_offset_min", "weekly_goal", "next_s" (UTC epoch
    of the next one, None), "why" (why none)}."""
    cfg = read(app.root)
    now_s = app.clock.wall_s()
    goal = weekly_goal(app.settings, app.root)
    s, why = next_s(now_s, cfg, practice_now(app, practice, now_s, cfg), goal)
    out = {"on": cfg is not None and cfg.get("on", True), "weekly_goal": goal, "why": why,
           "next_s": now_s + s if s > 0 else None}
    if cfg is not None:
        out["at_min"] = cfg["at_min"]
        out["days"] = cfg["days"]
        out["utc_offset_min"] = cfg.get("utc_offset_min", 0)
    return out
