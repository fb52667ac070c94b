# Start-up helpers: settings, the board choice, the boot counter, leftovers of interrupted uploads.
# Used once at boot (and by the host's calls); the app drops this module before its loop starts.
# Every file read here is read defensively (acu.cfgfile): a bad one never stops the app (docs/reliability.md).
import json
import os
from micropython import const

import acu

_SETTINGS_PATH = const("/cfg/settings.json")
STATE_PATH = "/cfg/state.json"
_BOARD_PATH = const("/cfg/board.json")
DEFAULT_BOARD = "esp32_devkitc"
BOOTS_MAX = 1 << 30   # a small int on the ESP32; the log stores it in 32 bits
DEFAULT_SETTINGS = {
    "feedback": "both",      # led, haptic, both, all (with the buzzer)
    "intensity_pct": 100,
    "loop_hz": 200,
    "too_hard_g": 7000,
    "contact_g": 300,
    "free_sessions": True,
}  # type: dict
# what docs/user-guide.md ("Settings") lists: key -> (type, low, high) for numbers, (str, choices) for names,
# (bool,) for switches. The board keys (docs/hardware.md) are optional: passed to the board when present.
FEEDBACK_NAMES = ("led", "haptic", "both", "sound", "led+sound", "haptic+sound", "all")  # acu.feedback.MODE_NAMES
SETTINGS_SPEC = {
    "feedback": (str, FEEDBACK_NAMES),
    "intensity_pct": (int, 0, 100),
    "loop_hz": (int, 20, 1000),
    "too_hard_g": (int, 2000, 20000),
    "contact_g": (int, 50, 1500),
    "free_sessions": (bool,),
    "sleep_after_s": (int, 0, 86400),  # default 300 (acu.app: not in DEFAULT_SETTINGS, whose dict the app keeps)
    "weekly_goal": (int, 1, 21),  # default 5 (acu.remind: a week with this many sessions gets no reminder)
    "sensor": (str, ("fsr402", "fsr406", "a201", "loadcell")),
    "oversample": (int, 1, 64),
    "pulse_power": (bool,),
    "motor_kick_ms": (int, 0, 200),
    "pixel_max": (int, 0, 255),
    "pixel_pin": (int, 0, 48),
    "haptic": (bool,),
    "buzzer": (bool,),
    "battery": (bool,),
    "motor": (bool,),
    "arm": (int, 0, 2),  # a study's arm (acu.arms, docs/study.md): 0 normal, 1 feedback off, 2 sham band
}  # type: dict


def read_json(path, default):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


def write_json_atomic(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f)
    os.rename(tmp, path)


def makedirs(path):
    p = ""
    for part in path.split("/"):
        if not part:
            continue
        p += "/" + part
        try:
            os.mkdir(p)
        except OSError:
            pass


def _setting_problem(key, v):
    """Why v cannot be the setting key (docs/user-guide.md lists the ranges), or None."""
    spec = SETTINGS_SPEC.get(key)
    if spec is None:
        return "unknown setting (ignored)"
    if type(v) is not spec[0]:
        return "must be %s" % ("true or false" if spec[0] is bool else "a whole number" if spec[0] is int
                               else "one of " + ", ".join(spec[1]))
    if spec[0] is int and not spec[1] <= v <= spec[2]:
        return "%d is outside %d..%d" % (v, spec[1], spec[2])
    if spec[0] is str and v not in spec[1]:
        return "%s is not one of %s" % (_show(v), ", ".join(spec[1]))
    return None


def _show(v):
    t = json.dumps(v)
    return t if len(t) <= 24 else t[:21] + "..."


def load_settings(root=""):
    """The settings: each key of /cfg/settings.json checked on its own; a bad one is dropped (its default is
    used) and named in acu.problems; a file that is not a JSON object is set aside (acu.cfgfile)."""
    from acu import cfgfile
    path = root + _SETTINGS_PATH
    s = dict(DEFAULT_SETTINGS)
    got = cfgfile.read_json(path)
    if got is not None:
        for k in got:
            why = _setting_problem(k, got[k])
            if why is None:
                s[k] = got[k]
            else:
                cfgfile.note(path, "%s: %s; using %s" % (
                    _show(k), why, "the default " + _show(DEFAULT_SETTINGS[k]) if k in DEFAULT_SETTINGS
                    else "nothing"))
    return s


def board_name(root=""):
    """The board named in /cfg/board.json, or DEFAULT_BOARD when it is missing or bad (set aside)."""
    from acu import cfgfile
    path = root + _BOARD_PATH
    d = cfgfile.read_json(path)
    if d is None:
        return DEFAULT_BOARD
    name = d.get("board", DEFAULT_BOARD)
    if type(name) is not str or not name or len(name) > 32 or not all(c.isalpha() or c.isdigit() or c == "_"
                                                                     for c in name):
        cfgfile.note(path, "board %s is not a board name; using %s" % (_show(name), DEFAULT_BOARD))
        return DEFAULT_BOARD
    return name


def _fallback_board():
    """The board to use when the named one cannot be built: the simulator's on the simulator, else the default."""
    try:
        import simhw  # noqa: F401  (only the simulator has it)
        return "sim"
    except ImportError:
        return DEFAULT_BOARD


def _build(name, settings):
    mod = __import__("boards." + name, None, None, ("build",))
    try:
        return mod.build(settings)
    finally:
        del mod
        acu.forget(name, "boards")
        acu.forget("parts")


def build_board(settings=None, root=""):
    """The board's Hardware. The board module and acu.parts (wiring code, needed once) are dropped
    after the build: the drivers they built stay, their builders do not sit in the loop's heap.
    A board that cannot be built (an unknown name in /cfg/board.json, board settings it refuses) never
    stops the app: the board without its optional settings, then the fallback board, and acu.problems says so."""
    name = board_name(root)
    path = root + _BOARD_PATH
    acu.forget("cfgfile")  # loaded again only for a problem: none of it stays in the loop's heap
    try:
        return _build(name, settings)
    except ImportError:
        why = "unknown board %s" % _show(name)
    except Exception as e:  # noqa: BLE001  (a board's build must never stop the app)
        why = "board %s: %s" % (name, e)
        if settings:
            base = {k: v for k, v in settings.items() if k in DEFAULT_SETTINGS}
            try:
                hw = _build(name, base)
                from acu import cfgfile
                cfgfile.note(root + _SETTINGS_PATH, why + "; board settings ignored")
                return hw
            except Exception:  # noqa: BLE001
                pass
    fb = _fallback_board()
    from acu import cfgfile
    cfgfile.note(path, why + "; using %s" % fb)
    return _build(fb, settings)


def start(root=""):
    """What /main.py does before the app's modules are imported: (hw, settings, boot_count, boot_id)."""
    clean_tmp_files(root)
    settings = load_settings(root)
    boots, boot_id = count_boot(root)
    hw = build_board(settings, root)
    acu.forget("cfgfile")
    return hw, settings, boots, boot_id


def new_boot_id():
    """A random u32 (never 0, which means unknown) naming this boot: the boot counter can be reset (a damaged
    state file, a re-flash) and reuse a number, a random id does not repeat, so the host keys its time
    anchors by it."""
    b = os.urandom(4)
    n = b[0] | b[1] << 8 | b[2] << 16 | b[3] << 24
    return n or 1


def boot_state(root=""):
    """(boot_count, boot_id) the last start recorded (the REPL's app, built without main.py)."""
    st = read_json(root + STATE_PATH, {})
    i = st.get("boot_id", 0) if isinstance(st, dict) else 0
    return read_boots(root), i if type(i) is int and 0 <= i <= 0xFFFFFFFF else 0


def read_boots(root=""):
    """The boot counter in /cfg/state.json: a whole number 0..BOOTS_MAX. A bad file is set aside and the count
    goes on from the newest session's (the host dates undated sessions by their boot's count: a count used
    before must not come back); 0 when the file is missing."""
    from acu import cfgfile
    path = root + STATE_PATH
    before = len(acu.problems)
    st = cfgfile.read_json(path)
    if st is None:
        return 0 if len(acu.problems) == before else _boots_from_log(root)
    n = st.get("boots", 0)
    if type(n) is not int or not 0 <= n < BOOTS_MAX:
        cfgfile.set_aside(path, "boots %s is not a count 0..%d; counting on from the newest session's"
                          % (_show(n), BOOTS_MAX - 1))
        return _boots_from_log(root)
    return n


def _boots_from_log(root):
    try:
        n = acu.call("logrecover", "last_boot_count", root + "/log")
    except Exception:  # noqa: BLE001  (a damaged log: the counter starts again)
        return 0
    return n if 0 <= n < BOOTS_MAX - 1 else 0


def count_boot(root=""):
    """(boot_count, boot_id) of this start, recorded in the state file."""
    boots = read_boots(root) + 1
    boot_id = new_boot_id()
    makedirs(root + "/cfg")
    try:
        write_json_atomic(root + STATE_PATH, {"boots": boots, "boot_id": boot_id})
    except OSError:
        pass
    return boots, boot_id


def clean_tmp_files(root=""):
    """A power cut during an upload leaves *.tmp files: the old versions are intact, drop the rest."""
    for d in ("/cfg", "/routines", "/lib", "/lib/acu", "/lib/boards", "/"):
        d = root + d if root else d
        try:
            names = os.listdir(d)
        except OSError:
            continue
        for n in names:
            if n.endswith(".tmp"):
                try:
                    os.remove((d.rstrip("/") + "/" + n))
                except OSError:
                    pass
