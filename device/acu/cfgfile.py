# Reading a file the firmware needs at boot, defensively (docs/reliability.md, "A device that always comes
# up"). A bad file (garbage, truncated, the wrong JSON type, a folder in its place, non-UTF-8) never stops
# the app: it is set aside (renamed NAME.bad, never deleted), the problem goes into acu.problems, and the
# caller uses its defaults. The app plays the fault cue and logs EV_BOOT_FAULTS; `status` and `doctor` name
# each file. Loaded for the boot's reads only (acu.call / acu.forget): none of it sits in the loop's heap.
import json
import os

import acu

MAX_BYTES = 16384     # every boot file is far smaller (a 64-point calibration: ~3 KB): bigger is damage
BAD_SLOTS = 5         # NAME.bad, NAME.bad2 .. NAME.bad5: older copies are kept, the flash stays bounded


def clear(path):
    """Forget the problems of path (it was read, or rewritten, fine)."""
    ps = acu.problems
    i = 0
    while i < len(ps):
        if ps[i][0] == path:
            ps.pop(i)
        else:
            i += 1


def note(path, what, aside=None):
    """Record a problem with path (what: one line, for people); once per path and text."""
    for p in acu.problems:
        if p[0] == path and p[1] == what:
            return
    acu.problems.append((path, what, aside))


def is_dir(path):
    try:
        return (os.stat(path)[0] & 0x4000) != 0
    except OSError:
        return False


def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def set_aside(path, what):
    """Rename the bad file (or folder) path to the first free NAME.bad, NAME.bad2 ..; when all BAD_SLOTS are
    taken the newest slot is replaced (said in the problem: the oldest copies, likely the first damage, stay).
    Records the problem; returns the new name, or None when the rename failed (the problem says so)."""
    dest = None
    for i in range(1, BAD_SLOTS + 1):
        cand = path + (".bad" if i == 1 else ".bad%d" % i)
        if not _exists(cand):
            dest = cand
            break
    replaced = False
    if dest is None:
        dest = path + ".bad%d" % BAD_SLOTS
        replaced = True
        try:
            if is_dir(dest):
                os.rmdir(dest)
            else:
                os.remove(dest)
        except OSError:
            pass
    try:
        os.rename(path, dest)
    except OSError as e:
        note(path, what + "; could not set it aside (%s)" % e)
        return None
    note(path, what + ("; set aside as %s (replacing the newest older copy)" % dest if replaced
                       else "; set aside as %s" % dest), dest)
    return dest


def read_bytes(path):
    """The file's bytes, or None when it is missing. A folder in its place, an unreadable or oversized file
    is set aside (or noted) and gives None too."""
    try:
        st = os.stat(path)
    except OSError:
        return None   # missing: the caller's defaults, no problem
    if st[0] & 0x4000:
        set_aside(path, "a folder, not a file")
        return None
    if st[6] > MAX_BYTES:
        set_aside(path, "too big (%d bytes, at most %d)" % (st[6], MAX_BYTES))
        return None
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        note(path, "cannot be read (%s)" % e)
        return None


def read_text(path):
    """The file's text (UTF-8), or None when missing or bad (set aside: not UTF-8, a folder, too big)."""
    data = read_bytes(path)
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeError:  # a ValueError on both interpreters
        set_aside(path, "not UTF-8 text")
        return None


def read_json(path, kind=dict):
    """The JSON value in path when it is a `kind`, else None: missing (no problem), or bad (set aside:
    not JSON, truncated, the wrong type, not UTF-8, a folder)."""
    text = read_text(path)
    if text is None:
        return None
    try:
        v = json.loads(text)
    except ValueError:
        set_aside(path, "not valid JSON (damaged or cut short)")
        return None
    except Exception:  # noqa: BLE001  (nested too deep for the parser: RecursionError, MemoryError)
        set_aside(path, "JSON nested too deep")
        return None
    if type(v) is not kind:
        set_aside(path, "holds a JSON %s, not %s" % (_type_name(v), _type_name(kind())))
        return None
    clear(path)
    return v


def _type_name(v):
    if isinstance(v, bool):
        return "true/false"
    if isinstance(v, dict):
        return "object"
    if isinstance(v, list):
        return "list"
    if isinstance(v, str):
        return "string"
    if v is None:
        return "null"
    return "number"


def bad_files(dirs):
    """The names set aside (NAME.bad, NAME.badN) in dirs: [path] (for `status`: `set_aside`)."""
    out = []
    for d in dirs:
        try:
            names = os.listdir(d)
        except OSError:
            continue
        for n in names:
            i = n.rfind(".bad")
            if i > 0 and (n[i + 4:] == "" or n[i + 4:].isdigit()):
                out.append(acu.join(d, n))
    out.sort()
    return out
