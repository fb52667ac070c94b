# Programme files (docs/programmes.md): the one validator and loader, used by the device and by the host.
# A programme is a multi-week plan: stages of weeks, each naming its routines, a sessions-per-week goal, a
# feedback schedule, an optional retention check opening each session and the rule that moves the user on.
# Errors are ValueErrors of one line naming the programme (on the host: the file), the stage and the field:
#   ValueError("programme sleep-4wk: stage 2: feedback 'some' not one of full|faded|bandwidth|none")
# Loaded per call (acu.call): the app reads a programme at a session's start and end only, and keeps
# nothing of it between sessions; the compiled form is a few small ints and names per stage.
import json
import os

from micropython import const

# the feedback schedules are the routine format's (acu.routine FB_*; FB_NONE re-exported for the host and tests)
from acu.routine import DEFAULT_FEEDBACK_PCT, FB_FADED, FB_FULL, FB_NAMES, FB_NONE  # noqa: F401
from acu.routine_parse import _digest, _digest_file, _show, valid_name

FORMAT = "acu-programme"
VERSION = const(1)
ROOT = "/programmes"
MAX_FILE_BYTES = const(16384)
NAME_MAX = const(32)
_TITLE_MAX = const(80)
_TEXT_MAX = const(600)
_MAX_STAGES = const(8)
_STAGE_WEEKS_MAX = const(8)
_TOTAL_WEEKS_MAX = const(26)      # half a year: longer is a typo (the research asks 3-4 weeks)
_ROUTINES_MAX = const(7)          # one per day of the week at most
_GOAL_MAX = const(21)             # as a routine's weekly_goal
_CHECK_MIN_G = const(500)
_CHECK_MAX_G = const(10000)
_HOLD_MIN_S = const(3)
_HOLD_MAX_S = const(60)
_LAST_MAX = const(10)
_MAX_HOLD_WEEKS = const(8)
DEFAULT_MIN_SESSIONS = const(3)   # the research's lower bound: 3 sessions a week


_TOP_KEYS = ("format", "version", "name", "title", "description", "week_days", "stages")
_STAGE_KEYS = ("title", "weeks", "routines", "sessions_per_week", "min_sessions", "feedback", "feedback_pct",
               "check", "advance")
_CHECK_KEYS = ("target_g", "hold_s")
_ADVANCE_KEYS = ("last", "accurate", "max_hold_weeks")


class Stage:
    """One compiled stage: ints and routine names only (the app's heap holds it for a call)."""

    def __init__(self, index):
        self.index = index           # 0-based
        self.title = None
        self.weeks = 1
        self.routines = ()           # routine names; day d of the programme week uses routines[d % len]
        self.goal = 5                # sessions per week asked for
        self.min_sessions = DEFAULT_MIN_SESSIONS   # a week with fewer does not count
        self.feedback = FB_FULL
        self.feedback_pct = 0        # faded: the share of feedback, %
        self.check_g = 0             # retention check opening each session: target (0: none)
        self.check_s = 0             # ... and its hold
        self.last = 0                # progression rule: of the last `last` checks (0: move on with time)
        self.accurate = 0            # ... at least this many accurate
        self.max_hold = 0            # weeks a stage may be held back at most

    def routine_for(self, day):
        return self.routines[day % len(self.routines)]


class Programme:
    def __init__(self, name, title, description, week_days, stages, digest=None):
        self.name = name
        self.title = title
        self.description = description
        self.week_days = week_days   # days in a programme week (7; fewer only for trials and tests)
        self.stages = stages         # tuple of Stage
        self.digest = digest         # sha256 hex of the file, or None
        n = 0
        for s in stages:
            n += s.weeks
        self.weeks = n               # planned weeks, without holds


def _fail(where, stage_no, msg):
    if stage_no:
        raise ValueError("programme %s: stage %d: %s" % (where, stage_no, msg))
    raise ValueError("programme %s: %s" % (where, msg))


def _int(d, key, lo, hi, default, where, n):
    v = d.get(key, default)
    if v is None:
        _fail(where, n, "missing field " + key)
    if type(v) is not int:
        _fail(where, n, "%s must be an integer, not %s" % (key, _show(v)))
    if v < lo or v > hi:
        _fail(where, n, "%s %d out of range %d..%d" % (key, v, lo, hi))
    return v


def _text(d, key, maxlen, where, n):
    v = d.get(key)
    if v is None:
        return None
    if not isinstance(v, str):
        _fail(where, n, "%s must be a string, not %s" % (key, _show(v)))
    if len(v) > maxlen:
        _fail(where, n, "%s longer than %d characters" % (key, maxlen))
    return v


def _obj(d, key, keys, where, n):
    v = d.get(key)
    if v is None:
        return None
    if not isinstance(v, dict):
        _fail(where, n, "%s must be an object, not %s" % (key, _show(v)))
    for k in v:
        if k not in keys:
            _fail(where, n, "%s: unknown field %s" % (key, _show(k)))
    return v


def _stage(d, i, where, texts):
    n = i + 1
    if not isinstance(d, dict):
        _fail(where, n, "must be an object, not %s" % _show(d))
    for k in d:
        if k not in _STAGE_KEYS:
            _fail(where, n, "unknown field %s" % _show(k))
    st = Stage(i)
    t = _text(d, "title", _TITLE_MAX, where, n)
    if texts:
        st.title = t
    st.weeks = _int(d, "weeks", 1, _STAGE_WEEKS_MAX, None, where, n)
    rs = d.get("routines")
    if rs is None:
        _fail(where, n, "missing field routines")
    if not isinstance(rs, list) or not 1 <= len(rs) <= _ROUTINES_MAX:
        _fail(where, n, "routines must be a list of 1..%d routine names" % _ROUTINES_MAX)
    for r in rs:
        if not valid_name(r):
            _fail(where, n, "routine name %s must be 1..%d of a-z 0-9 -" % (_show(r), NAME_MAX))
    st.routines = tuple(rs)
    st.goal = _int(d, "sessions_per_week", 1, _GOAL_MAX, None, where, n)
    st.min_sessions = _int(d, "min_sessions", 1, st.goal, min(DEFAULT_MIN_SESSIONS, st.goal), where, n)
    fb = d.get("feedback", "full")
    if fb not in FB_NAMES:
        _fail(where, n, "feedback %s not one of %s" % (_show(fb), "|".join(FB_NAMES)))
    st.feedback = FB_NAMES.index(fb)
    if st.feedback == FB_FADED:
        st.feedback_pct = _int(d, "feedback_pct", 1, 99, DEFAULT_FEEDBACK_PCT, where, n)
    elif "feedback_pct" in d:
        _fail(where, n, "feedback_pct is only for feedback faded")
    c = _obj(d, "check", _CHECK_KEYS, where, n)
    if c is not None:
        st.check_g = _int(c, "target_g", _CHECK_MIN_G, _CHECK_MAX_G, None, where, n)
        st.check_s = _int(c, "hold_s", _HOLD_MIN_S, _HOLD_MAX_S, None, where, n)
    a = _obj(d, "advance", _ADVANCE_KEYS, where, n)
    if a is not None:
        st.last = _int(a, "last", 1, _LAST_MAX, None, where, n)
        st.accurate = _int(a, "accurate", 1, st.last, None, where, n)
        st.max_hold = _int(a, "max_hold_weeks", 0, _MAX_HOLD_WEEKS, None, where, n)
        if c is None:
            _fail(where, n, "advance needs the blind checks a check field opens each session with")
    return st


def parse(d, where=None, digest=None, texts=True):
    """Validate a programme dict (from JSON) and compile it. where: the name used in errors. texts=False:
    without the texts for people (title, description, stage titles: None), for the app."""
    if not isinstance(d, dict):
        _fail(where or "?", 0, "must be a JSON object")
    name = d.get("name")
    if where is None:
        where = name if valid_name(name) else "?"
    if d.get("format") != FORMAT:
        if "format" not in d:
            _fail(where, 0, "the format field is missing (it must be %s)" % FORMAT)
        _fail(where, 0, "format must be %s, not %s" % (FORMAT, _show(d.get("format"))))
    ver = d.get("version")
    if type(ver) is not int:
        _fail(where, 0, "version must be an integer, not %s" % _show(ver))
    if ver != VERSION:
        _fail(where, 0, "version %d not supported (this firmware reads version %d)" % (ver, VERSION))
    for k in d:
        if k not in _TOP_KEYS:
            _fail(where, 0, "unknown field %s" % _show(k))
    if name is None:
        _fail(where, 0, "missing field name")
    if not valid_name(name):
        _fail(where, 0, "name %s must be 1..%d of a-z 0-9 -" % (_show(name), NAME_MAX))
    title = _text(d, "title", _TITLE_MAX, where, 0) or name
    desc = _text(d, "description", _TEXT_MAX, where, 0) or ""
    if not texts:
        title = desc = None
    week_days = _int(d, "week_days", 1, 7, 7, where, 0)
    raw = d.get("stages")
    if raw is None:
        _fail(where, 0, "missing field stages")
    if not isinstance(raw, list) or not 1 <= len(raw) <= _MAX_STAGES:
        _fail(where, 0, "stages must be a list of 1..%d stages" % _MAX_STAGES)
    stages = []
    for i in range(len(raw)):
        stages.append(_stage(raw[i], i, where, texts))
    p = Programme(name, title, desc, week_days, tuple(stages), digest)
    if p.weeks > _TOTAL_WEEKS_MAX:
        _fail(where, 0, "%d weeks in all, over the limit of %d" % (p.weeks, _TOTAL_WEEKS_MAX))
    return p


def loads(data, where=None, texts=True):
    """Parse programme file bytes (size-checked, JSON) into a Programme."""
    if isinstance(data, str):
        data = data.encode()
    if len(data) > MAX_FILE_BYTES:
        _fail(where or "?", 0, "file is %d bytes, limit %d" % (len(data), MAX_FILE_BYTES))
    try:
        d = json.loads(data)
    except Exception:  # ValueError; deep nesting gives RecursionError/RuntimeError; bad UTF-8
        d = _fail(where or "?", 0, "not valid JSON")
    return parse(d, where, _digest(data), texts)


def to_dict(p):
    """The normalized JSON form of a Programme (defaults filled in)."""
    stages = []
    for s in p.stages:
        d = {"weeks": s.weeks, "routines": list(s.routines), "sessions_per_week": s.goal,
             "min_sessions": s.min_sessions, "feedback": FB_NAMES[s.feedback]}
        if s.title is not None:
            d["title"] = s.title
        if s.feedback == FB_FADED:
            d["feedback_pct"] = s.feedback_pct
        if s.check_g:
            d["check"] = {"target_g": s.check_g, "hold_s": s.check_s}
        if s.last:
            d["advance"] = {"last": s.last, "accurate": s.accurate, "max_hold_weeks": s.max_hold}
        stages.append(d)
    return {"format": FORMAT, "version": VERSION, "name": p.name, "title": p.title,
            "description": p.description, "week_days": p.week_days, "stages": stages}


def routine_names(p):
    """Every routine the programme names, once, in order."""
    out = []
    for s in p.stages:
        for r in s.routines:
            if r not in out:
                out.append(r)
    return out


# ---- files on the device (the host calls these through the raw REPL; results are JSON-able) ----

def path_for(name, root=ROOT):
    if not valid_name(name):
        raise ValueError("programme name %s must be 1..%d of a-z 0-9 -" % (_show(name), NAME_MAX))
    return root + "/" + name + ".json"


def read_file(path, where, texts=True):
    try:
        size = os.stat(path)[6]
    except OSError:
        raise ValueError("programme %s: no file %s" % (where, path)) from None
    if size > MAX_FILE_BYTES:
        _fail(where, 0, "file is %d bytes, limit %d" % (size, MAX_FILE_BYTES))
    with open(path, "rb") as f:   # streamed, as acu.routine_parse.read_file
        digest = _digest_file(f)
        f.seek(0)
        try:
            d = json.load(f)
        except Exception:  # as loads()
            d = _fail(where, 0, "not valid JSON")
    return parse(d, where, digest, texts)


def read(name, root=ROOT, texts=True):
    """The compiled Programme stored on the device under name (ValueError if missing or bad)."""
    p = read_file(path_for(name, root), name, texts)
    if p.name != name:
        _fail(name, 0, "file says name %s" % _show(p.name))
    return p


def _routine_missing(p, routine_root):
    for r in routine_names(p):
        try:
            os.stat(routine_root + "/" + r + ".json")
        except OSError:
            return r
    return None


def check_file(path, routine_root="/routines"):
    """Called by the host's atomic upload on the .tmp file before the rename: raises ValueError when this
    firmware cannot run it, its name does not match the file, or a routine it names is not on the device."""
    base = path.split("/")[-1]
    if base.endswith(".tmp"):
        base = base[:-4]
    want = base[:-5] if base.endswith(".json") else base
    p = read_file(path, want if valid_name(want) else "?")
    if p.name != want:
        _fail(want, 0, "name %s does not match the file name %s.json" % (_show(p.name), want))
    miss = _routine_missing(p, routine_root)
    if miss is not None:
        _fail(want, 0, "routine %s is not on the device (push it first)" % miss)
    return {"name": p.name, "stages": len(p.stages), "weeks": p.weeks, "digest": p.digest}


def load(name, root=ROOT):
    """Host call: the stored programme, normalized, plus its digest."""
    p = read(name, root)
    return {"programme": to_dict(p), "digest": p.digest}


def list_programmes(root=ROOT):
    """Host call: [{name, title, size, stages, weeks, error}] for every /programmes/*.json."""
    try:
        names = sorted(os.listdir(root))
    except OSError:
        return []
    out = []
    for fn in names:
        if not fn.endswith(".json"):
            continue
        name = fn[:-5]
        item = {"name": name, "title": None, "size": 0, "stages": 0, "weeks": 0, "error": None}
        try:
            item["size"] = os.stat(root + "/" + fn)[6]
            p = read(name, root)
            item["title"] = p.title
            item["stages"] = len(p.stages)
            item["weeks"] = p.weeks
        except Exception as e:  # noqa: BLE001  (any damage is this file's error, not the listing's)
            item["error"] = str(e) or type(e).__name__
        out.append(item)
    return out


# ---- the user's place (acu.programme keeps it; these are the host's calls) ----

def plan(p):
    """The compiled plan the device keeps in the programme's state (acu.programme S_* fields): week_days and
    per stage a short list of ints and the routine names; the device never parses the file at a session."""
    out = []
    for s in p.stages:
        out.append([s.weeks, s.goal, s.min_sessions, s.feedback, s.feedback_pct, s.check_g, s.check_s, s.last,
                    s.accurate, s.max_hold, list(s.routines)])
    return p.week_days, out


def enrol(name, restart=False, tz_s=0, root=""):
    """Host call after a push: make name the programme in use, its plan compiled into the state. A new
    programme starts at stage 1; the one already in use (an edited copy pushed again) keeps the place
    (clamped to its stages) unless restart. Returns summary()."""
    from acu import programme as PG
    p = read(name, root + ROOT, False)
    week_days, stages = plan(p)
    st = PG.read_state(root)
    if restart or st is None or st["programme"] != name:
        st = PG.new_state(name, p.digest, (week_days, stages), tz_s)
    else:
        st["digest"] = p.digest or ""
        st["week_days"] = week_days
        st["stages"] = stages
        st["tz_s"] = tz_s
        if st["stage"] >= len(stages):
            st["stage"] = len(stages) - 1
            st["week"] = st["held"] = 0
    import acu
    acu.makedirs(root + "/cfg")
    PG.write_state(st, root)
    return summary(None, root)


def leave(root=""):
    """Host call: end the programme in use (the device runs its selected routine again). True if there was one."""
    from acu import programme as PG
    try:
        os.remove(root + PG.STATE_PATH)
        return True
    except OSError:
        return False


def summary(a=None, root=""):
    """Host call and `status`: where the user is, or None (no programme). JSON-able: programme, title, stage
    (1-based), stages, stage_title, week (1-based in the stage), weeks (the stage's, with holds), day (of the
    programme, 1-based), sessions_week, goal, min_sessions, sessions, feedback, feedback_pct, check_g, check_s,
    held, move, finished, clock, checks_ok, checks_counted, rule_met, next (the next stage's title), unlock
    (what moves the user on), short_weeks, week_days, error (the programme file cannot be read: no titles)."""
    from acu import programme as PG
    if a is not None:
        root = a.root
    st = PG.read_state(root)
    if st is None:
        return None
    titles = None
    out = {"programme": st["programme"], "title": st["programme"], "error": None}
    try:
        p = read(st["programme"], root + ROOT, True)
        titles = [s.title for s in p.stages] if len(p.stages) == len(st["stages"]) else None
        out["title"] = p.title
    except Exception as e:  # noqa: BLE001  (the file is only for the texts: the plan is in the state)
        out["error"] = str(e) or type(e).__name__
    wall = a.clock.wall_s() if a is not None else _wall()
    day = PG.today(st, wall)
    PG.roll(st, day)   # a view: a week that ended is shown closed; the file changes at the next session
    i = st["stage"]
    s = st["stages"][i]
    met, ok, n = PG.rule_met(st)
    weeks = s[PG.S_WEEKS]
    if s[PG.S_LAST]:
        unlock = "%d of the last %d blind checks accurate at the end of week %d (held at most %d week%s)" % (
            s[PG.S_ACCURATE], s[PG.S_LAST], weeks + st["held"], s[PG.S_MAX_HOLD],
            "" if s[PG.S_MAX_HOLD] == 1 else "s")
    else:
        unlock = "%d week%s with at least %d sessions each" % (weeks, "" if weeks == 1 else "s", s[PG.S_MIN])
    nxt = None
    if i + 1 < len(st["stages"]):
        nxt = (titles[i + 1] if titles else None) or "stage %d" % (i + 2)
    out.update({
        "stage": i + 1, "stages": len(st["stages"]), "stage_title": titles[i] if titles else None,
        "week": st["week"] + 1, "weeks": weeks + st["held"],
        "day": (day - st["start_day"] if day >= 0 and st["start_day"] >= 0 else st["day"]) + 1,
        "sessions_week": st["sessions_week"], "goal": s[PG.S_GOAL], "min_sessions": s[PG.S_MIN],
        "sessions": st["sessions"], "feedback": FB_NAMES[s[PG.S_FB]], "feedback_pct": s[PG.S_FB_PCT],
        "check_g": s[PG.S_CHECK_G], "check_s": s[PG.S_CHECK_S], "held": st["held"], "move": st["move"],
        "finished": st["finished"], "clock": day >= 0, "checks_ok": ok, "checks_counted": n, "rule_met": met,
        "next": nxt, "unlock": unlock, "short_weeks": st["short_weeks"], "week_days": st["week_days"],
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
