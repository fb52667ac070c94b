# Start-up helpers: settings, the board choice, the boot counter, leftovers of interrupted uploads.
# Used once at boot (and by the host's calls); the app drops this module before its loop starts.
import json
import os
from micropython import const

_SETTINGS_PATH = const("/cfg/settings.json")
STATE_PATH = "/cfg/state.json"
_BOARD_PATH = const("/cfg/board.json")
DEFAULT_SETTINGS = {
    "feedback": "both",      # led, haptic, both, all (with the buzzer)
    "intensity_pct": 100,
    "loop_hz": 200,
    "too_hard_g": 7000,
    "contact_g": 300,
    "free_sessions": True,
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


def load_settings():
    s = dict(DEFAULT_SETTINGS)
    got = read_json(_SETTINGS_PATH, {})
    if isinstance(got, dict):
        for k in s:
            if k in got and type(got[k]) is type(s[k]):
                s[k] = got[k]
    s["loop_hz"] = min(max(s["loop_hz"], 20), 1000)
    s["intensity_pct"] = min(max(s["intensity_pct"], 0), 100)
    return s


def board_name():
    d = read_json(_BOARD_PATH, {})
    return d.get("board", "esp32_devkitc") if isinstance(d, dict) else "esp32_devkitc"


def build_board(settings=None):
    """The board's Hardware. The board module and acu.parts (wiring code, needed once) are dropped
    after the build: the drivers they built stay, their builders do not sit in the loop's heap."""
    name = board_name()
    mod = __import__("boards." + name, None, None, ("build",))
    hw = mod.build(settings)
    del mod
    import acu
    acu.forget(name, "boards")
    acu.forget("parts")
    return hw


def start():
    """What /main.py does before the app's modules are imported: (hw, settings, boot_count, boot_id)."""
    clean_tmp_files()
    settings = load_settings()
    boots, boot_id = count_boot()
    return build_board(settings), settings, boots, boot_id


def new_boot_id():
    """A random u32 (never 0, which means unknown) naming this boot: the boot counter can be reset (a damaged
    state file, a re-flash) and reuse a number, a random id does not repeat, so the host keys its time
    anchors by it."""
    b = os.urandom(4)
    n = b[0] | b[1] << 8 | b[2] << 16 | b[3] << 24
    return n or 1


def boot_state():
    """(boot_count, boot_id) the last start recorded (the REPL's app, built without main.py)."""
    st = read_json(STATE_PATH, {})
    if not isinstance(st, dict):
        return 0, 0
    b, i = st.get("boots", 0), st.get("boot_id", 0)
    return b if isinstance(b, int) else 0, i if isinstance(i, int) and 0 <= i <= 0xFFFFFFFF else 0


def count_boot():
    """(boot_count, boot_id) of this start, recorded in the state file."""
    st = read_json(STATE_PATH, {})
    if not isinstance(st, dict):
        st = {}
    b = st.get("boots", 0)
    st["boots"] = (b if isinstance(b, int) and b >= 0 else 0) + 1
    st["boot_id"] = new_boot_id()
    makedirs("/cfg")
    try:
        write_json_atomic(STATE_PATH, st)
    except OSError:
        pass
    return st["boots"], st["boot_id"]


def clean_tmp_files():
    """A power cut during an upload leaves *.tmp files: the old versions are intact, drop the rest."""
    for d in ("/cfg", "/routines", "/lib", "/lib/acu", "/lib/boards", "/"):
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
