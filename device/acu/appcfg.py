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
    """What /main.py does before the app's modules are imported: (hw, settings, boot_count)."""
    clean_tmp_files()
    settings = load_settings()
    boots = count_boot()
    return build_board(settings), settings, boots


def count_boot():
    st = read_json(STATE_PATH, {})
    if not isinstance(st, dict):
        st = {}
    st["boots"] = int(st.get("boots", 0)) + 1
    makedirs("/cfg")
    try:
        write_json_atomic(STATE_PATH, st)
    except OSError:
        pass
    return st["boots"]


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
