# Where the user is in a programme (docs/programmes.md): the state file, the progression rule, and the two
# moments the app asks (a session's start: today's routine and the stage's feedback schedule; its end:
# count the session, apply the rule). Loaded per call (acu.call): none of it sits in the loop's heap.
# The state is a small JSON object in /cfg/programme.json, written atomically (tmp + rename); a bad one is
# set aside by acu.cfgfile (NAME.bad, the fault cue, named by `status`) and the device runs without it.
import json
import os

from micropython import const

import acu

STATE_PATH = "/cfg/programme.json"
FORMAT = "acu-programme-state"
VERSION = const(1)
_DAY_S = const(86400)
_CHECKS_KEPT = const(10)          # the rule looks at up to the last 10 checks of the stage
_NO_DAY = const(-1)
_TZ_MAX_S = const(14 * 3600)

# the last move the rule made (state "move"), for status and docs/programmes.md
MOVE_NONE = "none"
MOVE_ADVANCED = "advanced"        # the stage's checks were good enough (or it has no rule)
MOVE_HELD = "held"                # not good enough: one more week in the stage
MOVE_LIMIT = "moved on at the hold limit"   # still not good enough, but held max_hold_weeks already
MOVE_SHORT = "week not counted"   # fewer sessions than min_sessions: the week is repeated


# ---- the state ------------------------------------------------------------------------------------

def new_state(p, tz_s=0):
    """The state at the start of the programme p (a compiled acu.programme_parse.Programme)."""
    return {"format": FORMAT, "version": VERSION, "programme": p.name, "digest": p.digest or "",
            "stage": 0, "week": 0, "held": 0, "week_start": _NO_DAY, "start_day": _NO_DAY, "day": 0,
            "sessions_week": 0, "sessions": 0, "short_weeks": 0, "checks": [], "move": MOVE_NONE,
            "finished": False, "tz_s": tz_s}


_INT_KEYS = ("stage", "week", "held", "week_start", "start_day", "day", "sessions_week", "sessions",
             "short_weeks", "tz_s")


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
    if abs(st["tz_s"]) > _TZ_MAX_S:
        return "tz_s out of range"
    ch = st.get("checks")
    if not isinstance(ch, list) or len(ch) > _CHECKS_KEPT:
        return "checks is not a list of results"
    for c in ch:
        if not isinstance(c, list) or len(c) != 2 or type(c[0]) is not int or type(c[1]) is not int:
            return "checks is not a list of results"
    if type(st.get("finished")) is not bool or not isinstance(st.get("move"), str):
        return "finished/move damaged"
    return None


def read_state(root=""):
    """The state, or None: no file (no programme), or a bad one (set aside by acu.cfgfile, in acu.problems:
    the fault cue plays and the device runs without the programme)."""
    path = root + STATE_PATH
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


def _programme(st, root, texts=False):
    """The state's programme, compiled, or None (noted in acu.problems: the device runs without it)."""
    from acu import programme_parse as PP
    path = root + PP.ROOT + "/" + st["programme"] + ".json"
    try:
        p = PP.read(st["programme"], root + PP.ROOT, texts)
    except Exception as e:  # noqa: BLE001  (missing or damaged: run the selected routine instead)
        acu.call("cfgfile", "note", path, "the programme in use cannot run (%s)" % (
            "not on the device" if isinstance(e, OSError) else e))
        return None
    if st["stage"] >= len(p.stages):   # an edited programme with fewer stages: its last one
        st["stage"] = len(p.stages) - 1
        st["week"] = st["held"] = 0
    return p


# ---- days and weeks ---------------------------------------------------------------------------------

def today(st, wall_s):
    """The local day number (days since 1970 at the host's UTC offset when enrolled), or -1: no clock."""
    if wall_s is None or wall_s <= 0:
        return _NO_DAY
    return (wall_s + st["tz_s"]) // _DAY_S


def roll(st, p, day):
    """Close the weeks that have ended by day (clock set). With no clock (day -1) weeks are counted in
    sessions instead: close_week runs when the week's goal of sessions is done (end())."""
    if day < 0 or st["finished"]:
        return
    if st["start_day"] < 0:
        st["start_day"] = day
    if st["week_start"] < 0:
        st["week_start"] = day
        return
    wd = p.week_days
    if day >= st["week_start"] + wd:
        close_week(st, p)
        # weeks with no practice at all are not weeks of the programme: the next one starts today's week
        st["week_start"] = day - (day - st["week_start"]) % wd


def day_of_week(st, p, day):
    """0-based day in the programme week: by the clock, or with no clock the session number of the week."""
    if day < 0 or st["week_start"] < 0:
        return st["sessions_week"]
    return (day - st["week_start"]) % p.week_days


# ---- the progression rule ----------------------------------------------------------------------------

def accurate(target_g, measured_g):
    # TEACH-CORE WIRING: blind-check accuracy is acu.score's (one formula, shared with the host); until that
    # module exists, the bandwidth rule of docs/feedback.md: within 15 % of the target
    try:
        from acu import score  # type: ignore[attr-defined]
        return score.check_accurate(target_g, measured_g)
    except ImportError:
        return abs(measured_g - target_g) * 100 <= 15 * target_g


def rule_met(st, stage):
    """(met, accurate, counted): at least stage.accurate of the stage's last stage.last checks accurate."""
    ch = st["checks"][-stage.last:] if stage.last else []
    ok = 0
    for c in ch:
        if accurate(c[0], c[1]):
            ok += 1
    return len(ch) >= stage.last and ok >= stage.accurate, ok, len(ch)


def close_week(st, p):
    """A programme week ended: count it (or not: fewer sessions than min_sessions), and at the end of the
    stage's weeks apply the rule: advance, hold back one more week, or move on at the hold limit."""
    stage = p.stages[st["stage"]]
    done = st["sessions_week"]
    st["sessions_week"] = 0
    if done < stage.min_sessions:
        st["short_weeks"] += 1
        st["move"] = MOVE_SHORT
        return
    st["week"] += 1
    if st["week"] < stage.weeks + st["held"]:
        return
    if stage.last:
        met = rule_met(st, stage)[0]
        if not met and st["held"] < stage.max_hold:
            st["held"] += 1
            st["move"] = MOVE_HELD
            return
        st["move"] = MOVE_ADVANCED if met else MOVE_LIMIT
    else:
        st["move"] = MOVE_ADVANCED
    st["stage"] += 1
    st["week"] = st["held"] = 0
    st["checks"] = []
    if st["stage"] >= len(p.stages):
        st["stage"] = len(p.stages) - 1
        st["finished"] = True


def add_session(st, p, day, completed, checks):
    """A session ended: keep its blind checks (any session's), count it when completed, and with no clock
    close the week once its goal of sessions is done."""
    if st["finished"]:
        return
    for c in checks:
        st["checks"].append([int(c[0]), int(c[1])])
    del st["checks"][:-_CHECKS_KEPT]
    if not completed:
        return
    st["sessions_week"] += 1
    st["sessions"] += 1
    if day >= 0 and st["start_day"] >= 0:
        st["day"] = day - st["start_day"]
    if day < 0 and st["sessions_week"] >= p.stages[st["stage"]].goal:
        close_week(st, p)


# ---- the app's two moments (acu.app, through acu.call) ---------------------------------------------------

def begin(a, now_ms):
    """A session starts in the App a: today's routine for the programme (with the stage's retention check
    first) and the stage's feedback schedule on the runner. Returns the routine to run, or None: no
    programme (or a bad one: set aside and cued) and the selected routine runs as before."""
    root = a.root
    st = read_state(root)
    p = None if st is None else _programme(st, root)
    if p is None or st["finished"]:
        _feedback(a.runner, None)
        return None
    day = today(st, a.clock.wall_s())
    roll(st, p, day)
    write_state(st, root)
    stage = p.stages[st["stage"]]
    from acu import routine_parse as RP
    name = stage.routine_for(day_of_week(st, p, day))
    try:
        r = RP.read(name, root + RP.ROOT, False)
    except Exception as e:  # noqa: BLE001  (removed or damaged since the push: the selected routine runs)
        acu.call("cfgfile", "note", root + RP.ROOT + "/" + name + ".json",
                 "the programme's routine cannot run (%s)" % ("not on the device" if isinstance(e, OSError) else e))
        _feedback(a.runner, None)
        return None
    if stage.check_g:
        r = _with_check(r, stage.check_g, stage.check_s)
    _feedback(a.runner, stage)
    return r


def end(a, status, now_ms):
    """A session ended (status "completed" or "aborted"): count it and apply the rule; the state is saved."""
    root = a.root
    st = read_state(root)
    p = None if st is None else _programme(st, root)
    if p is None:
        return None
    day = today(st, a.clock.wall_s())
    roll(st, p, day)
    add_session(st, p, day, status == "completed", getattr(a.runner, "check_results", None) or ())
    write_state(st, root)
    return st["stage"]


def _feedback(runner, stage):
    # TEACH-CORE WIRING: the stage's schedule replaces every press step's own (Runner.set_feedback_override);
    # a firmware without it (before the teach-core merge) gives full feedback, as it always did
    if stage is None:
        fn = getattr(runner, "clear_feedback_override", None)
        if fn is not None:
            fn()
        return
    fn = getattr(runner, "set_feedback_override", None)
    if fn is not None:
        fn(stage.feedback, stage.feedback_pct)


def _with_check(r, target_g, hold_s):
    # TEACH-CORE WIRING: a blind check step (acu.routine STEP_CHECK) opens the session; without that step
    # type (before the teach-core merge) the routine runs without it
    from acu import routine as R
    kind = getattr(R, "STEP_CHECK", None)
    if kind is None:
        return r
    c = R.Step(0, kind)
    c.target_g = target_g  # type: ignore[attr-defined]
    c.duration_ms = hold_s * 1000
    steps = [c]
    for s in r.steps:
        s.index += 1
        steps.append(s)
    return R.Routine(r.name, r.title, r.description, r.weekly_goal, tuple(steps), r.digest)


# ---- the host's calls (raw REPL) ---------------------------------------------------------------------

def enrol(name, restart=False, tz_s=0, root=""):
    """Start the programme name (on the device): its state from the first stage, unless the state already
    names it and restart is false (a re-push keeps the user's place). Returns summary()."""
    from acu import programme_parse as PP
    p = PP.read(name, root + PP.ROOT, False)
    st = read_state(root)
    if restart or st is None or st["programme"] != name:
        st = new_state(p, tz_s)
    else:
        st["digest"] = p.digest or ""
        st["tz_s"] = tz_s
        if st["stage"] >= len(p.stages):
            st["stage"] = len(p.stages) - 1
            st["week"] = st["held"] = 0
    acu.makedirs(root + "/cfg")
    write_state(st, root)
    return summary(None, root)


def leave(root=""):
    """End the programme in use (the device runs its selected routine again). True if there was one."""
    try:
        os.remove(root + STATE_PATH)
        return True
    except OSError:
        return False


def summary(a=None, root=""):
    """Host call and `status`: where the user is, or None (no programme). JSON-able: programme, title,
    stage (1-based), stages, stage_title, week (1-based in the stage), weeks (the stage's, with holds),
    day (of the programme), sessions_week, goal, min_sessions, feedback, check, held, move, finished,
    clock, next (the next stage's title or None), unlock (what moves the user on), checks_ok/checks_counted."""
    if a is not None:
        root = a.root
    st = read_state(root)
    if st is None:
        return None
    out = {"programme": st["programme"], "error": None}
    from acu import programme_parse as PP
    try:
        p = PP.read(st["programme"], root + PP.ROOT, True)
    except Exception as e:  # noqa: BLE001
        out["error"] = str(e) or type(e).__name__
        return out
    wall = a.clock.wall_s() if a is not None else _wall()
    day = today(st, wall)
    roll(st, p, day)   # a view: the week that ended is shown closed, the file changes at the next session
    stage = p.stages[st["stage"]]
    met, ok, n = rule_met(st, stage)
    nxt = p.stages[stage.index + 1] if stage.index + 1 < len(p.stages) else None
    if stage.last:
        unlock = "%d of the last %d blind checks accurate at the end of week %d (held at most %d week%s)" % (
            stage.accurate, stage.last, stage.weeks + st["held"], stage.max_hold, "" if stage.max_hold == 1 else "s")
    else:
        unlock = "%d week%s with at least %d sessions each" % (stage.weeks, "" if stage.weeks == 1 else "s",
                                                               stage.min_sessions)
    out.update({
        "title": p.title, "stage": stage.index + 1, "stages": len(p.stages), "stage_title": stage.title,
        "week": st["week"] + 1, "weeks": stage.weeks + st["held"],
        "day": (day - st["start_day"] if day >= 0 and st["start_day"] >= 0 else st["day"]) + 1,
        "sessions_week": st["sessions_week"], "goal": stage.goal, "min_sessions": stage.min_sessions,
        "sessions": st["sessions"], "feedback": PP.FB_NAMES[stage.feedback], "feedback_pct": stage.feedback_pct,
        "check_g": stage.check_g, "check_s": stage.check_s, "held": st["held"], "move": st["move"],
        "finished": st["finished"], "clock": day >= 0, "checks_ok": ok, "checks_counted": n, "rule_met": met,
        "next": None if nxt is None else (nxt.title or "stage %d" % (nxt.index + 1)), "unlock": unlock,
        "short_weeks": st["short_weeks"], "week_days": p.week_days, "digest_ok": st["digest"] == (p.digest or ""),
    })
    return out


def _wall():
    try:
        from acu import app
        if app.current is not None:
            return app.current.clock.wall_s()
    except ImportError:
        pass
    return None
