# Where the user is in a programme (docs/programmes.md): the state file with the compiled plan, the
# progression rule, and the two moments the app asks (a session's start: today's routine and the stage's
# feedback schedule; its end: count the session, apply the rule). Loaded per call (acu.call) and small: the
# programme file itself is never parsed here (acu.programme_parse compiled the plan into the state when the
# host started the programme), so a session's start costs this module, the state and at most one routine.
# The state is written atomically (tmp + rename); a bad one is set aside by acu.cfgfile (NAME.bad, the fault
# cue, named by `status`) and the device runs without the programme.
import json
import os

from micropython import const

import acu

STATE_PATH = "/cfg/programme.json"
FORMAT = "acu-programme-state"
VERSION = const(1)
_DAY_S = const(86400)
_CHECKS_KEPT = const(10)          # the rule looks at up to the last 10 checks of the stage
_TZ_MAX_S = const(14 * 3600)

# a compiled stage in the plan: a list of these fields (acu.programme_parse.plan), then the routine names
S_WEEKS = const(0)
S_GOAL = const(1)
S_MIN = const(2)
S_FB = const(3)
S_FB_PCT = const(4)
S_CHECK_G = const(5)
S_CHECK_S = const(6)
S_LAST = const(7)
S_ACCURATE = const(8)
S_MAX_HOLD = const(9)
S_ROUTINES = const(10)
_S_LEN = const(11)

# the last move the rule made (state "move"), for status and docs/programmes.md
MOVE_NONE = "none"
MOVE_ADVANCED = "advanced"        # the stage's checks were good enough (or it has no rule)
MOVE_HELD = "held"                # not good enough: one more week in the stage
MOVE_LIMIT = "moved on at the hold limit"   # still not good enough, but held max_hold_weeks already
MOVE_SHORT = "week not counted"   # fewer sessions than min_sessions: the week is repeated

_INT_KEYS = ("stage", "week", "held", "week_start", "start_day", "day", "sessions_week", "sessions",
             "short_weeks", "tz_s", "week_days")


def new_state(name, digest, plan, tz_s=0):
    """The state at the start of a programme: plan is acu.programme_parse.plan() of it."""
    return {"format": FORMAT, "version": VERSION, "programme": name, "digest": digest or "",
            "week_days": plan[0], "stages": plan[1],
            "stage": 0, "week": 0, "held": 0, "week_start": -1, "start_day": -1, "day": 0,
            "sessions_week": 0, "sessions": 0, "short_weeks": 0, "checks": [], "move": MOVE_NONE,
            "finished": False, "tz_s": tz_s}


def _pair_list(v, n_max):
    if not isinstance(v, list) or len(v) > n_max:
        return False
    for c in v:
        if not isinstance(c, list) or len(c) != 2 or type(c[0]) is not int or type(c[1]) is not int:
            return False
    return True


def _valid(st):
    """Why the state dict st cannot be used, or None."""
    if st.get("format") != FORMAT or st.get("version") != VERSION:
        return "not an %s version %d file" % (FORMAT, VERSION)
    if not isinstance(st.get("programme"), str) or not isinstance(st.get("digest"), str):
        return "no programme named"
    for k in _INT_KEYS:
        v = st.get(k)
        if type(v) is not int or (v < 0 and k not in ("week_start", "start_day", "tz_s")):
            return "%s is not a count" % k
    if abs(st["tz_s"]) > _TZ_MAX_S or not 1 <= st["week_days"] <= 7:
        return "tz_s or week_days out of range"
    stages = st.get("stages")
    if not isinstance(stages, list) or not 0 <= st["stage"] < len(stages):
        return "no stage %s in its plan" % st["stage"]
    for s in stages:
        if not isinstance(s, list) or len(s) != _S_LEN or not isinstance(s[S_ROUTINES], list) or \
                not s[S_ROUTINES]:
            return "the plan is damaged"
        for i in range(S_ROUTINES):
            if type(s[i]) is not int or s[i] < 0:
                return "the plan is damaged"
        for r in s[S_ROUTINES]:
            if not isinstance(r, str):
                return "the plan is damaged"
        if s[S_WEEKS] < 1 or s[S_MIN] < 1:
            return "the plan is damaged"
    if not _pair_list(st.get("checks"), _CHECKS_KEPT):
        return "checks is not a list of results"
    if type(st.get("finished")) is not bool or not isinstance(st.get("move"), str):
        return "finished/move damaged"
    return None


def read_state(root=""):
    """The state, or None: no file (no programme), or a bad one (set aside by acu.cfgfile, in acu.problems:
    the fault cue plays and the device runs without the programme)."""
    path = root + STATE_PATH
    try:
        with open(path) as f:
            st = json.load(f)   # streamed; acu.cfgfile is loaded only for a damaged file
    except OSError as e:
        if e.args and e.args[0] == 2:   # ENOENT: no programme in use
            return None
        st = None
    except Exception:  # noqa: BLE001  (not JSON, not UTF-8, nested too deep: cfgfile says which and sets it aside)
        st = None
    if type(st) is not dict:
        st = acu.call("cfgfile", "read_json", path)
        if st is None:
            return None
    why = _valid(st)
    if why is not None:
        acu.call("cfgfile", "set_aside", path, "programme state " + why)
        return None
    return st


def write_state(st, root=""):
    """Atomically: a power cut leaves the old state or the new one, never half of one."""
    path = root + STATE_PATH
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(json.dumps(st))
    os.rename(tmp, path)


# ---- days and weeks ---------------------------------------------------------------------------------

def today(st, wall_s):
    """The local day number (days since 1970 at the host's UTC offset when enrolled), or -1: no clock."""
    if wall_s is None or wall_s <= 0:
        return -1
    return (wall_s + st["tz_s"]) // _DAY_S


def roll(st, day):
    """Close the week that has ended by day (clock set). With no clock (day -1) weeks are counted in
    sessions instead: add_session closes one when its goal of sessions is done. True if st changed."""
    if day < 0 or st["finished"]:
        return False
    if st["start_day"] < 0:
        st["start_day"] = day
    if st["week_start"] < 0:
        st["week_start"] = day
        return True
    wd = st["week_days"]
    if day < st["week_start"] + wd:
        return False
    close_week(st)
    # weeks with no practice at all are not weeks of the programme: the next one starts today's week
    st["week_start"] = day - (day - st["week_start"]) % wd
    return True


def day_of_week(st, day):
    """0-based day in the programme week: by the clock, or with no clock the session number of the week."""
    if day < 0 or st["week_start"] < 0:
        return st["sessions_week"]
    return (day - st["week_start"]) % st["week_days"]


def stage(st):
    return st["stages"][st["stage"]]


# ---- the progression rule ----------------------------------------------------------------------------

def rule_met(st):
    """(met, accurate, counted): at least S_ACCURATE of the stage's last S_LAST checks accurate (acu.score's
    check_accurate: the one formula the session score and the host's reports use)."""
    s = stage(st)
    n_last = s[S_LAST]
    ch = st["checks"][-n_last:] if n_last else []
    ok = 0
    for c in ch:
        if _accurate(c[0], c[1]):
            ok += 1
    return len(ch) >= n_last and ok >= s[S_ACCURATE], ok, len(ch)


def close_week(st):
    """A programme week ended: count it (or not: fewer sessions than min_sessions), and at the end of the
    stage's weeks apply the rule: advance, hold back one more week, or move on at the hold limit."""
    s = stage(st)
    done = st["sessions_week"]
    st["sessions_week"] = 0
    if done < s[S_MIN]:
        st["short_weeks"] += 1
        st["move"] = MOVE_SHORT
        return
    st["week"] += 1
    if st["week"] < s[S_WEEKS] + st["held"]:
        return
    if s[S_LAST]:
        met = rule_met(st)[0]
        if not met and st["held"] < s[S_MAX_HOLD]:
            st["held"] += 1
            st["move"] = MOVE_HELD
            return
        st["move"] = MOVE_ADVANCED if met else MOVE_LIMIT
    else:
        st["move"] = MOVE_ADVANCED
    st["week"] = st["held"] = 0
    st["checks"] = []
    if st["stage"] + 1 >= len(st["stages"]):
        st["finished"] = True
    else:
        st["stage"] += 1


def add_session(st, day, completed, checks):
    """A session ended: keep its blind checks (any session's), count it when completed, and with no clock
    close the week once its goal of sessions is done."""
    if st["finished"]:
        return
    ch = st["checks"]
    for c in checks:
        ch.append([int(c[0]), int(c[1])])
    if len(ch) > _CHECKS_KEPT:
        st["checks"] = ch[-_CHECKS_KEPT:]
    if not completed:
        return
    st["sessions_week"] += 1
    st["sessions"] += 1
    if day >= 0 and st["start_day"] >= 0:
        st["day"] = day - st["start_day"]
    if day < 0 and st["sessions_week"] >= stage(st)[S_GOAL]:
        close_week(st)


# ---- the app's two moments (acu.app, through acu.call) ---------------------------------------------------

def session_begin(a, now_ms):
    """A session starts in the App a: today's routine for the programme (with the stage's retention check
    first) and the stage's feedback schedule on the runner. Returns (the routine to run, its place: the
    value of the session's programme event, logfmt.EV_PROGRAMME), or None: no programme, a finished or a bad
    one (set aside and named), and the selected routine runs as before."""
    root = a.root
    st = read_state(root)
    if st is None or st["finished"]:
        _feedback(a.runner, -1, 0)
        return None
    day = today(st, a.clock.wall_s())
    if roll(st, day):
        write_state(st, root)
    s = stage(st)
    if st["finished"]:
        _feedback(a.runner, -1, 0)
        return None
    routines = s[S_ROUTINES]
    name = routines[day_of_week(st, day) % len(routines)]
    r = a.routine
    if r is None or r.name != name:   # the selected routine is in memory; another is read (and parsed) now
        from acu import routine_parse as RP
        try:
            r = RP.read(name, root + RP.ROOT, False)
        except Exception as e:  # noqa: BLE001  (removed or damaged since the push: the selected routine runs)
            acu.call("cfgfile", "note", root + RP.ROOT + "/" + name + ".json", "the programme's routine "
                     "cannot run (%s)" % ("not on the device" if isinstance(e, OSError) else e))
            _feedback(a.runner, -1, 0)
            return None
    if s[S_CHECK_G]:
        r = with_check(r, s[S_CHECK_G], s[S_CHECK_S])
    _feedback(a.runner, s[S_FB], s[S_FB_PCT])
    return r, place(st)


def place(st):
    """The session's programme event value (docs/log-format.md): stage | week << 8 | goal << 16, the stage
    and its week 1-based, the goal the stage's sessions per week."""
    return (st["stage"] + 1) | (st["week"] + 1) << 8 | stage(st)[S_GOAL] << 16


def session_end(a, status, checks):
    """A session ended (status "completed" or "aborted"; checks: its Runner.check_results, (target_g,
    measured_g) per blind check done): count it and apply the rule; the state is saved."""
    root = a.root
    st = read_state(root)
    if st is None:
        return None
    day = today(st, a.clock.wall_s())
    roll(st, day)
    add_session(st, day, status == "completed", checks)
    write_state(st, root)
    return st["stage"]


# ---- where the programme meets the feedback schedules, the blind checks and the score (acu.runner,
# acu.routine, acu.score) ----

def _accurate(target_g, measured_g):
    from acu import score
    return score.check_accurate(target_g, measured_g)


def _feedback(runner, code, pct):
    """The stage's schedule replaces every press step's own (code -1: the steps' own again)."""
    if code < 0:
        runner.clear_feedback_override()
    else:
        runner.set_feedback_override(code, pct)


def with_check(r, target_g, hold_s):
    """r with a blind check step before its first (as acu.routine_parse compiles a check step). The steps are
    shared, not copied: their index fields keep r's numbering (the runner and the log count positions)."""
    from acu import routine as R
    c = R.Step(0, R.STEP_CHECK)
    c.target_g = target_g
    c.duration_ms = hold_s * 1000
    c.band_lo_g = target_g - target_g * R.CHECK_ACCURACY_PCT // 100
    c.band_hi_g = target_g + target_g * R.CHECK_ACCURACY_PCT // 100
    return R.Routine(r.name, r.title, r.description, r.weekly_goal, (c,) + r.steps, r.digest)
