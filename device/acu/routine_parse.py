# The routine validator and loader (docs/routines.md), the one implementation for the device and the
# host: parse() turns a routine JSON dict into compact acu.routine.Step objects the runner reads in its
# hot loop, and refuses anything the device cannot run with a one-line ValueError naming the routine,
# step and field:  ValueError("routine bedtime: step 3: band_hi_g 12000 out of range 500..10000")
# Allocation happens only here, at load time; the runner then reads plain int attributes. On the device
# this module is loaded only while the app reads its routine (read_selected(), through acu.call) and for
# the host's calls (list_routines, selected, load, check_file).
import json
import os

from micropython import const

from acu.band import DEFAULT_HI_G, DEFAULT_LO_G
from acu.routine import (CHECK_ACCURACY_PCT, COUNT_CLOCK, COUNT_DOSE, DEFAULT_FEEDBACK_PCT, DEFAULT_TOLERANCE_PCT,
                         FB_BANDWIDTH, FB_FADED, FB_FULL, FB_NAMES, ROOT, SELECTED_PATH, SIDE_NAMES, STEP_BREATHE,
                         STEP_CHECK, STEP_PRESS, STEP_TIMED, TYPE_NAMES, Routine, Step)

FORMAT = "acu-routine"
VERSION = const(2)          # the newest format this firmware reads; it reads 1 too (no schedules, no checks)
_COUNT_NAMES = const(("clock", "dose"))
BAND_MIN_G = const(500)
BAND_MAX_G = const(10000)
_STEP_MIN_S = const(1)
_STEP_MAX_S = const(3600)
_TOTAL_MAX_S = const(7200)
_MAX_STEPS = const(40)
MAX_FILE_BYTES = const(16384)
NAME_MAX = const(32)
_TITLE_MAX = const(80)
_TEXT_MAX = const(600)
_POINT_MAX = const(24)
_WEEKLY_MIN = const(1)
_WEEKLY_MAX = const(21)
DEFAULT_WEEKLY = const(5)
_BREATH_PHASE_MAX_S = const(20)
DEFAULT_PATTERN = "4-7-8"
DEFAULT_NAME = "bedtime"

_TOP_KEYS = const(("format", "version", "name", "title", "description", "weekly_goal", "steps"))
_KEYS = const((
    ("type", "point", "side", "duration_s", "band_lo_g", "band_hi_g", "count", "max_s", "note"),
    ("type", "duration_s", "note"),
    ("type", "duration_s", "pattern", "note"),
    ("type", "duration_s", "min_s", "label", "note"),
    ("type", "target_g", "hold_s", "point", "side", "note"),
))
_FB_KEYS = const(("feedback", "feedback_pct", "tolerance_pct"))  # version 2: a press step's schedule
_HOLD_MIN_S = const(3)      # a check: 1 s to settle (acu.runner) and at least 2 s measured
_HOLD_MAX_S = const(60)     # ... its force integral stays a small int on the ESP32


def valid_name(name):
    """Slug: 1..32 of a-z 0-9 -, starting with a letter or digit (it becomes a file name)."""
    if not isinstance(name, str) or not 0 < len(name) <= NAME_MAX or name[0] == "-":
        return False
    for c in name:
        if not ("a" <= c <= "z" or "0" <= c <= "9" or c == "-"):
            return False
    return True


def _fail(where, step_no, msg):
    if step_no:
        raise ValueError("routine %s: step %d: %s" % (where, step_no, msg))
    raise ValueError("routine %s: %s" % (where, msg))


def _int(d, key, lo, hi, default, where, step_no):
    v = d.get(key, default)
    if v is None:
        _fail(where, step_no, "missing field " + key)
    if type(v) is not int:
        _fail(where, step_no, "%s must be an integer, not %s" % (key, _show(v)))
    if v < lo or v > hi:
        _fail(where, step_no, "%s %d out of range %d..%d" % (key, v, lo, hi))
    return v


def _text(d, key, maxlen, required, where, step_no):
    v = d.get(key)
    if v is None:
        if required:
            _fail(where, step_no, "missing field " + key)
        return None
    if not isinstance(v, str):
        _fail(where, step_no, "%s must be a string, not %s" % (key, _show(v)))
    if len(v) > maxlen:
        _fail(where, step_no, "%s longer than %d characters" % (key, maxlen))
    return v


def _choice(d, key, names, default, where, step_no):
    v = d.get(key, default)
    if v is None:
        _fail(where, step_no, "missing field " + key)
    for i in range(len(names)):
        if v == names[i]:
            return i
    _fail(where, step_no, "%s %s not one of %s" % (key, _show(v), "|".join(names)))


def _show(v):
    s = repr(v)
    return s if len(s) <= 24 else s[:21] + "..."


def _pattern(text, where, step_no):
    parts = text.split("-")
    if not 2 <= len(parts) <= 4:
        _fail(where, step_no, "pattern %s must be 2 to 4 phases like 4-7-8" % _show(text))
    out = []
    for p in parts:
        if not p.isdigit() or not 1 <= int(p) <= _BREATH_PHASE_MAX_S:
            _fail(where, step_no, "pattern %s: each phase 1..%d s" % (_show(text), _BREATH_PHASE_MAX_S))
        out.append(int(p) * 1000)
    return tuple(out)


def _step(d, index, where, texts, ver):
    n = index + 1
    if not isinstance(d, dict):
        _fail(where, n, "must be an object, not %s" % _show(d))
    kind = _choice(d, "type", TYPE_NAMES if ver > 1 else TYPE_NAMES[:STEP_CHECK], None, where, n)
    allowed = _KEYS[kind]
    for k in d:
        if k not in allowed and not (ver > 1 and kind == STEP_PRESS and k in _FB_KEYS):
            _fail(where, n, "unknown field %s for a %s step%s" % (
                _show(k), TYPE_NAMES[kind],
                " (version 1; schedules need version 2)" if k in _FB_KEYS and kind == STEP_PRESS else ""))
    st = Step(index, kind)
    if kind == STEP_CHECK:
        return _check(d, st, where, n, texts)
    dur_s = _int(d, "duration_s", _STEP_MIN_S, _STEP_MAX_S, None, where, n)
    st.duration_ms = dur_s * 1000
    note = _text(d, "note", _TEXT_MAX, False, where, n)
    if note is not None and texts:
        st.note = note        # only when set: the class default keeps the step object small
    if kind == STEP_PRESS:
        _schedule(d, st, where, n)
        st.point = _text(d, "point", _POINT_MAX, True, where, n)
        if not st.point:
            _fail(where, n, "point is empty")
        st.side = _choice(d, "side", SIDE_NAMES, None, where, n)
        lo_g = _int(d, "band_lo_g", BAND_MIN_G, BAND_MAX_G, DEFAULT_LO_G, where, n)
        hi_g = _int(d, "band_hi_g", BAND_MIN_G, BAND_MAX_G, DEFAULT_HI_G, where, n)
        if lo_g >= hi_g:
            _fail(where, n, "band_lo_g %d must be below band_hi_g %d" % (lo_g, hi_g))
        if lo_g != DEFAULT_LO_G or hi_g != DEFAULT_HI_G:
            st.band_lo_g = lo_g
            st.band_hi_g = hi_g
        count = _choice(d, "count", _COUNT_NAMES, "clock", where, n)
        if count != COUNT_CLOCK:
            st.count = count
        if "max_s" in d:
            if st.count != COUNT_DOSE:
                _fail(where, n, "max_s is only for count dose")
            st.max_ms = _int(d, "max_s", dur_s, _STEP_MAX_S, None, where, n) * 1000
    elif kind == STEP_BREATHE:
        st.pattern_ms = _pattern(_text(d, "pattern", 11, False, where, n) or DEFAULT_PATTERN, where, n)
    elif kind == STEP_TIMED:
        label = _text(d, "label", _TITLE_MAX, False, where, n)
        if label is not None and texts:
            st.label = label
        st.min_ms = _int(d, "min_s", 0, dur_s, 0, where, n) * 1000
    return st


def _schedule(d, st, where, n):
    fb = _choice(d, "feedback", FB_NAMES, "full", where, n)
    if fb != FB_FULL:
        st.feedback = fb
    if "feedback_pct" in d:
        if fb != FB_FADED:
            _fail(where, n, "feedback_pct is only for feedback faded")
        st.feedback_pct = _int(d, "feedback_pct", 1, 99, DEFAULT_FEEDBACK_PCT, where, n)
    if "tolerance_pct" in d:
        if fb != FB_BANDWIDTH:
            _fail(where, n, "tolerance_pct is only for feedback bandwidth")
        st.tolerance_pct = _int(d, "tolerance_pct", 0, 50, DEFAULT_TOLERANCE_PCT, where, n)


def _check(d, st, where, n, texts):
    """A blind check: target_g held for hold_s of clock from the first contact; its band is the accuracy
    window (target +- CHECK_ACCURACY_PCT %), so its log's in/under/over times are against that window."""
    t = _int(d, "target_g", BAND_MIN_G, BAND_MAX_G, None, where, n)
    st.target_g = t
    st.duration_ms = _int(d, "hold_s", _HOLD_MIN_S, _HOLD_MAX_S, None, where, n) * 1000
    st.band_lo_g = t - t * CHECK_ACCURACY_PCT // 100
    st.band_hi_g = t + t * CHECK_ACCURACY_PCT // 100
    point = _text(d, "point", _POINT_MAX, False, where, n)
    if point is not None:
        if not point:
            _fail(where, n, "point is empty")
        st.point = point
        st.side = _choice(d, "side", SIDE_NAMES, None, where, n)
    elif "side" in d:
        _fail(where, n, "side needs a point")
    note = _text(d, "note", _TEXT_MAX, False, where, n)
    if note is not None and texts:
        st.note = note
    return st


def parse(d, where=None, digest=None, texts=True):
    """Validate a routine dict (from JSON) and compile it. where: the name used in errors. texts=False:
    without the texts for people (title, description, step labels and notes: None), for the app."""
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
    if not 1 <= ver <= VERSION:
        _fail(where, 0, "version %d not supported (this firmware reads versions 1..%d)" % (ver, VERSION))
    for k in d:
        if k not in _TOP_KEYS:
            _fail(where, 0, "unknown field %s" % _show(k))
    if name is None:
        _fail(where, 0, "missing field name")
    if not valid_name(name):
        _fail(where, 0, "name %s must be 1..%d of a-z 0-9 -" % (_show(name), NAME_MAX))
    title = _text(d, "title", _TITLE_MAX, False, where, 0) or name
    desc = _text(d, "description", _TEXT_MAX, False, where, 0) or ""
    if not texts:
        title = desc = None
    weekly = _int(d, "weekly_goal", _WEEKLY_MIN, _WEEKLY_MAX, DEFAULT_WEEKLY, where, 0)
    raw = d.get("steps")
    if raw is None:
        _fail(where, 0, "missing field steps")
    if not isinstance(raw, list):
        _fail(where, 0, "steps must be a list, not %s" % _show(raw))
    if not 1 <= len(raw) <= _MAX_STEPS:
        _fail(where, 0, "steps: %d steps, allowed 1..%d" % (len(raw), _MAX_STEPS))
    steps = []
    for i in range(len(raw)):
        steps.append(_step(raw[i], i, where, texts, ver))
    r = Routine(name, title, desc, weekly, tuple(steps), digest)
    if ver != 1:
        r.version = ver
    if r.max_total_ms > _TOTAL_MAX_S * 1000:
        _fail(where, 0, "total %d s over the limit of %d s" % (r.max_total_ms // 1000, _TOTAL_MAX_S))
    return r


def _digest(data):
    try:
        import hashlib
        import binascii
        return binascii.hexlify(hashlib.sha256(data).digest()).decode()
    except ImportError:  # a port without hashlib: the routine still loads
        return None


def _digest_file(f):
    try:
        import hashlib
        import binascii
    except ImportError:
        return None
    h = hashlib.sha256()
    buf = bytearray(128)
    while True:
        n = f.readinto(buf)
        if not n:
            break
        h.update(buf if n == len(buf) else memoryview(buf)[:n])
    return binascii.hexlify(h.digest()).decode()


def loads(data, where=None, texts=True):
    """Parse routine file bytes (size-checked, JSON) into a Routine."""
    if isinstance(data, str):
        data = data.encode()
    if len(data) > MAX_FILE_BYTES:
        _fail(where or "?", 0, "file is %d bytes, limit %d" % (len(data), MAX_FILE_BYTES))
    try:
        d = json.loads(data)
    except Exception:  # ValueError; deep nesting gives RecursionError/RuntimeError; bad UTF-8
        d = _fail(where or "?", 0, "not valid JSON")
    return parse(d, where, _digest(data), texts)


def to_dict(r):
    """The normalized JSON form of a Routine (defaults filled in)."""
    steps = []
    for s in r.steps:
        d = {"type": TYPE_NAMES[s.kind], "duration_s": s.duration_ms // 1000}
        if s.kind == STEP_PRESS:
            d["point"] = s.point
            d["side"] = SIDE_NAMES[s.side]
            d["band_lo_g"] = s.band_lo_g
            d["band_hi_g"] = s.band_hi_g
            d["count"] = _COUNT_NAMES[s.count]
            if s.max_ms:
                d["max_s"] = s.max_ms // 1000
            if r.version > 1:
                d["feedback"] = FB_NAMES[s.feedback]
                if s.feedback == FB_FADED:
                    d["feedback_pct"] = s.feedback_pct
                elif s.feedback == FB_BANDWIDTH:
                    d["tolerance_pct"] = s.tolerance_pct
        elif s.kind == STEP_CHECK:
            d = {"type": "check", "target_g": s.target_g, "hold_s": s.duration_ms // 1000}
            if s.point is not None:
                d["point"] = s.point
                d["side"] = SIDE_NAMES[s.side]
        elif s.kind == STEP_BREATHE:
            d["pattern"] = "-".join([str(p // 1000) for p in s.pattern_ms])
        elif s.kind == STEP_TIMED:
            d["min_s"] = s.min_ms // 1000
            if s.label is not None:
                d["label"] = s.label
        if s.note is not None:
            d["note"] = s.note
        steps.append(d)
    return {"format": FORMAT, "version": r.version, "name": r.name, "title": r.title,
            "description": r.description, "weekly_goal": r.weekly_goal, "steps": steps}


# ---- files on the device (the host calls these through the raw REPL; results are JSON-able) ----

def path_for(name, root=ROOT):
    if not valid_name(name):
        raise ValueError("routine name %s must be 1..%d of a-z 0-9 -" % (_show(name), NAME_MAX))
    return root + "/" + name + ".json"


def read_file(path, where, texts=True):
    try:
        size = os.stat(path)[6]
    except OSError:
        raise ValueError("routine %s: no file %s" % (where, path)) from None
    if size > MAX_FILE_BYTES:
        _fail(where, 0, "file is %d bytes, limit %d" % (size, MAX_FILE_BYTES))
    # streamed (hash in small chunks, then json.load): no block the size of the file, which at boot can be
    # the one the fragmented heap lacks
    with open(path, "rb") as f:
        digest = _digest_file(f)
        f.seek(0)
        try:
            d = json.load(f)
        except Exception:  # as loads()
            d = _fail(where, 0, "not valid JSON")
    return parse(d, where, digest, texts)


def read(name, root=ROOT, texts=True):
    """The compiled Routine stored on the device under name (ValueError if missing or bad)."""
    r = read_file(path_for(name, root), name, texts)
    if r.name != name:
        _fail(name, 0, "file says name %s" % _show(r.name))
    return r


def load(name, root=ROOT):
    """Host call: the stored routine, normalized, plus its digest."""
    r = read(name, root)
    d = to_dict(r)
    return {"routine": d, "digest": r.digest, "total_s": r.total_ms // 1000}


def check_file(path):
    """Called by the host's atomic upload on the .tmp file before the rename: raises ValueError
    when this firmware cannot run it, or when its name does not match the file it will become."""
    base = path.split("/")[-1]
    if base.endswith(".tmp"):
        base = base[:-4]
    want = base[:-5] if base.endswith(".json") else base
    r = read_file(path, want if valid_name(want) else "?")
    if r.name != want:
        _fail(want, 0, "name %s does not match the file name %s.json" % (_show(r.name), want))
    return {"name": r.name, "steps": len(r.steps), "total_s": r.total_ms // 1000, "digest": r.digest}


def list_routines(root=ROOT):
    """Host call: [{name, title, size, steps, total_s, error}] for every /routines/*.json."""
    try:
        names = sorted(os.listdir(root))
    except OSError:
        return []
    out = []
    for fn in names:
        if not fn.endswith(".json"):
            continue
        name = fn[:-5]
        item = {"name": name, "title": None, "size": 0, "steps": 0, "total_s": 0, "error": None}
        try:
            item["size"] = os.stat(root + "/" + fn)[6]
            r = read(name, root)
            item["title"] = r.title
            item["steps"] = len(r.steps)
            item["total_s"] = r.total_ms // 1000
        except Exception as e:  # noqa: BLE001  (any damage is this file's error, not the listing's)
            item["error"] = str(e) or type(e).__name__
        out.append(item)
    return out


def selected(path=SELECTED_PATH):
    """Host call: the selected routine's name, or None when unset or not a valid name."""
    try:
        with open(path, "rb") as f:
            name = f.read(NAME_MAX + 8).decode().strip()
    except (OSError, ValueError):  # missing, a folder, not UTF-8 (UnicodeError is a ValueError)
        return None
    return name if valid_name(name) else None


def read_selected(root=ROOT, path=SELECTED_PATH, texts=True):
    """For the app at boot: the selected routine; if it is missing or bad, bedtime, else the first
    routine that loads, else None. Never raises for a bad file (the app must still start): a damaged
    selection file is set aside, a selected routine that cannot run is named in acu.problems (acu.cfgfile)."""
    from acu import cfgfile
    first = None
    text = cfgfile.read_text(path)
    if text is not None:
        name = text.strip()
        if valid_name(name):
            first = name
            cfgfile.clear(path)
        elif name:
            cfgfile.set_aside(path, "%s is not a routine name" % _show(name[:NAME_MAX + 8]))
    tried = []
    for name in (first, DEFAULT_NAME):
        if name is None or name in tried:
            continue
        tried.append(name)
        try:
            r = read(name, root, texts)
            cfgfile.clear(path_for(name, root))
            return r
        except Exception as e:  # noqa: BLE001  (any damage: the app starts with another routine)
            if name == first:
                cfgfile.note(path_for(name, root), "the selected routine cannot run (%s)" % (
                    "not on the device" if isinstance(e, OSError) else e))
    for item in list_routines(root):
        if item["error"] is None and item["name"] not in tried:
            try:
                return read(item["name"], root, texts)
            except Exception:  # noqa: BLE001
                pass
    return None
