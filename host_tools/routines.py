"""Routines on the host: validation (the device's own validator plus the point table), the built-in
library, `new` from a short step spec, and the device operations the `routine` commands call.

Every bad input becomes one InputError line naming the file and the field, e.g.
``routine my.json: step 3: band_hi_g 12000 out of range 500..10000``.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from host_tools import points
from host_tools.docfiles import DocKind
from host_tools.errors import InputError
from host_tools.paths import ensure_device_importable

ensure_device_importable()
from acu import routine as R, routine_parse as RP  # noqa: E402  (the device's codec: one validator)

DEVICE_ROOT = R.ROOT
SELECTED_PATH = R.SELECTED_PATH
DEFAULT_SELECTED = RP.DEFAULT_NAME
MAX_FILE_BYTES = RP.MAX_FILE_BYTES

# reading, decoding and validating routine files, the library, the device's paths: the code programmes use too
FILES = DocKind(noun="routine", device_parse=RP.parse, max_bytes=MAX_FILE_BYTES, library="library",
                device_root=DEVICE_ROOT, valid_name=RP.valid_name, name_max=RP.NAME_MAX)
LIBRARY_DIR = FILES.library_dir


# ---- validation --------------------------------------------------------------------------------

def parse_bytes(data: bytes, source: str) -> R.Routine:
    """Validate routine file bytes; source names the file in errors. Returns the compiled routine."""
    r = FILES.parse_bytes(data, source)
    _check_points(r, source)
    return r


def _check_points(r: R.Routine, source: str):
    for s in r.steps:
        if s.kind != R.STEP_PRESS and not (s.kind == R.STEP_CHECK and s.point):
            continue
        where = "routine %s: step %d" % (source, s.index + 1)
        p = points.get(s.point)
        if p is None:
            guess = points.find(s.point)
            hint = ("did you mean %s?" % guess.code) if guess else "known: " + ", ".join(points.POINTS)
            raise InputError("%s: point %r unknown (%s)" % (where, s.point, hint))
        side = R.SIDE_NAMES[s.side]
        if side not in p.sides:
            raise InputError("%s: side %s not possible for %s (use %s)" % (where, side, p.code,
                                                                            "|".join(p.sides)))


def read_file(path: str | Path) -> bytes:
    return FILES.read_file(path)


def validate_file(path: str | Path) -> R.Routine:
    return parse_bytes(read_file(path), str(path))


def cautions(r: R.Routine) -> list[str]:
    """One warning line per point with a caution (e.g. SP6 and LI4: not during pregnancy)."""
    out = []
    seen = set()
    for s in r.steps:
        if not s.point or s.point in seen:   # press steps, and checks on a point
            continue
        seen.add(s.point)
        p = points.get(s.point)
        if p is None:
            continue
        for c in p.cautions:
            out.append("caution: %s (step %d): %s" % (p.label(), s.index + 1, c))
    return out


def dumps(d: dict) -> bytes:
    """The canonical file form: the normalized dict, indented, UTF-8."""
    return (json.dumps(d, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


# ---- the built-in library ----------------------------------------------------------------------

def library_names() -> list[str]:
    return FILES.library_names()


def library_routine(name: str) -> bytes:
    """The library file's bytes (deploy installs these; bedtime is selected on a new device)."""
    return FILES.library_file(name)


def resolve(arg: str) -> tuple[bytes, str]:
    """FILE or library NAME -> (bytes, source for messages). A path wins over a library name."""
    data, source, _folder = FILES.resolve(arg)
    return data, source


# ---- describing ----------------------------------------------------------------------------------

def _dur(ms: int) -> str:
    s = ms // 1000
    if s >= 60 and s % 60 == 0:
        return "%d min" % (s // 60)
    if s >= 60:
        return "%d min %d s" % (s // 60, s % 60)
    return "%d s" % s


def describe_feedback(s: R.Step) -> str:
    """A press step's feedback schedule in words (docs/feedback.md, "Schedules")."""
    if s.feedback == R.FB_FADED:
        return "faded (on the first %d %% of every 10 s)" % s.feedback_pct
    if s.feedback == R.FB_BANDWIDTH:
        return "bandwidth (only outside the band +-%d %%)" % s.tolerance_pct
    if s.feedback == R.FB_NONE:
        return "none (blind; too hard still warns)"
    return "full"


def describe_step(s: R.Step) -> str:
    if s.kind == R.STEP_PRESS:
        p = points.get(s.point)
        name = p.label() if p else s.point
        how = ("%s in the band (dose%s)" % (_dur(s.duration_ms), ", at most " + _dur(s.max_ms) if s.max_ms
                                              else "")) if s.count == R.COUNT_DOSE else _dur(s.duration_ms)
        text = "press %s, %s, %s, band %.1f-%.1f kg, feedback %s" % (
            name, R.SIDE_NAMES[s.side], how, s.band_lo_g / 1000, s.band_hi_g / 1000, describe_feedback(s))
    elif s.kind == R.STEP_CHECK:
        p = points.get(s.point) if s.point else None
        where = (" on %s, %s" % (p.label() if p else s.point, R.SIDE_NAMES[s.side])) if s.point else ""
        text = "check%s: press what you think is %.1f kg for %s, no feedback; then the result (accurate within " \
               "%.1f-%.1f kg)" % (where, s.target_g / 1000, _dur(s.duration_ms), s.band_lo_g / 1000,
                                  s.band_hi_g / 1000)
    elif s.kind == R.STEP_REST:
        text = "rest %s" % _dur(s.duration_ms)
    elif s.kind == R.STEP_BREATHE:
        pattern = "-".join(str(x // 1000) for x in s.pattern_ms)
        text = "breathe %s, pattern %s" % (_dur(s.duration_ms), pattern)
    else:
        text = "%s %s (no pressure target)" % (s.label or "timed", _dur(s.duration_ms))
        if s.min_ms:
            text += ", at least %s" % _dur(s.min_ms)
    if s.note:
        text += " - " + s.note
    return text


def describe(r: R.Routine, with_points: bool = True) -> list[str]:
    lines = ["%s: %s" % (r.name, r.title)]
    if r.description:
        lines.append(r.description)
    lines.append("about %s, %d step%s, goal %d sessions a week" % (
        _dur(r.total_ms), len(r.steps), "" if len(r.steps) == 1 else "s", r.weekly_goal))
    for s in r.steps:
        lines.append("%2d. %s" % (s.index + 1, describe_step(s)))
    if with_points:
        shown = []
        for s in r.steps:
            p = points.get(s.point) if s.point else None
            if p and p.code not in shown:
                shown.append(p.code)
                lines.append("%s: %s %s" % (p.label(), p.location, p.how_to))
    return lines


# ---- `new` from a short spec ---------------------------------------------------------------------

STEP_SPEC_HELP = ("POINT[:SIDE][:TIME][:dose[=MAX]][:LO-HIkg]  (SIDE left|right|centre|both|each; "
                  "TIME like 60, 90s, 2m), rest:TIME, breathe:TIME[:4-7-8], timed:TIME[:min=TIME][:LABEL]")

_TIME = re.compile(r"^(\d+)(s|m|min)?$")
_BAND = re.compile(r"^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)(kg|g)?$")


def _seconds(text: str, spec: str) -> int:
    m = _TIME.match(text)
    if not m:
        raise InputError("step spec %r: %r is not a time like 60, 90s or 2m" % (spec, text))
    n = int(m.group(1))
    return n * 60 if m.group(2) in ("m", "min") else n


def _band(m: re.Match, spec: str) -> tuple[int, int]:
    lo, hi, unit = float(m.group(1)), float(m.group(2)), m.group(3)
    if unit == "kg" or (unit is None and hi <= 20):
        lo, hi = lo * 1000, hi * 1000
    return int(round(lo)), int(round(hi))


def parse_step_spec(spec: str) -> list[dict]:
    """One spec -> one step dict (two for side `each`). See STEP_SPEC_HELP."""
    parts = [p for p in spec.strip().split(":")]
    if not parts or not parts[0]:
        raise InputError("step spec %r: empty" % spec)
    head = parts[0].lower()
    rest = parts[1:]
    if head == "rest":
        if len(rest) != 1:
            raise InputError("step spec %r: use rest:TIME" % spec)
        return [{"type": "rest", "duration_s": _seconds(rest[0], spec)}]
    if head == "breathe":
        if not 1 <= len(rest) <= 2:
            raise InputError("step spec %r: use breathe:TIME[:PATTERN]" % spec)
        d = {"type": "breathe", "duration_s": _seconds(rest[0], spec), "pattern": RP.DEFAULT_PATTERN}
        if len(rest) == 2:
            d["pattern"] = rest[1]
        return [d]
    if head in ("timed", "mat"):
        d = {"type": "timed", "duration_s": 0, "min_s": 0, "label": "mat" if head == "mat" else None}
        if not rest:
            raise InputError("step spec %r: use timed:TIME[:min=TIME][:LABEL]" % spec)
        d["duration_s"] = _seconds(rest[0], spec)
        for part in rest[1:]:
            if part.startswith("min="):
                d["min_s"] = _seconds(part[4:], spec)
            else:
                d["label"] = part
        if d["label"] is None:
            del d["label"]
        return [d]
    p = points.find(parts[0])
    if p is None:
        raise InputError("step spec %r: unknown point %r (points: %s)"
                         % (spec, parts[0], ", ".join(points.POINTS)))
    d = {"type": "press", "point": p.code, "side": p.sides[0] if len(p.sides) == 1 else "left",
         "duration_s": 60}
    each = False
    for part in rest:
        low = part.lower()
        if low in R.SIDE_NAMES:
            d["side"] = low
        elif low == "center":
            d["side"] = "centre"
        elif low == "each":
            each = True
        elif low == "clock":
            d["count"] = "clock"
        elif low == "dose" or low.startswith("dose="):
            d["count"] = "dose"
            if low.startswith("dose="):
                d["max_s"] = _seconds(low[5:], spec)
        elif _TIME.match(low):
            d["duration_s"] = _seconds(low, spec)
        elif (m := _BAND.match(low)) is not None:
            d["band_lo_g"], d["band_hi_g"] = _band(m, spec)
        else:
            raise InputError("step spec %r: unknown part %r (%s)" % (spec, part, STEP_SPEC_HELP))
    if each:
        return [dict(d, side="left"), dict(d, side="right")]
    return [d]


def new_routine(name: str, steps: list[str] | None = None, base: str | None = None, title: str | None = None,
                description: str | None = None, weekly_goal: int | None = None) -> bytes:
    """A new routine file: from a library routine (`base`) and/or step specs; validated before return."""
    if not RP.valid_name(name):
        raise InputError("routine name %r: use 1..%d of a-z 0-9 - (it becomes the file name)"
                         % (name, RP.NAME_MAX))
    if base:
        data, src = resolve(base)
        d = RP.to_dict(parse_bytes(data, src))
    else:
        d = {"format": RP.FORMAT, "version": RP.VERSION, "name": name, "title": name, "description": "",
             "weekly_goal": RP.DEFAULT_WEEKLY, "steps": []}
    d["name"] = name
    if base and title is None:
        d["title"] = "%s (from %s)" % (d["title"], base)
    if title is not None:
        d["title"] = title
    if description is not None:
        d["description"] = description
    if weekly_goal is not None:
        d["weekly_goal"] = weekly_goal
    if steps:
        out = []
        for spec in steps:
            out.extend(parse_step_spec(spec))
        d["steps"] = out
    if not d["steps"]:
        raise InputError("routine %s: no steps (give --step SPEC or --from a library routine)" % name)
    data = dumps(d)
    parse_bytes(data, name + ".json")
    return data


# ---- the device (s is a host_tools.session.DeviceSession) ----------------------------------------

def device_path(name: str) -> str:
    return FILES.device_path(name)


def device_list(s) -> dict:
    return {"routines": s.call("acu.routine_parse", "list_routines"),
            "selected": s.call("acu.routine_parse", "selected")}


def push(s, data: bytes, source: str, select: bool = False) -> R.Routine:
    """Validate on the host, then upload atomically; the device checks the tmp file before the rename."""
    r = parse_bytes(data, source)
    s.write_file_atomic(device_path(r.name), data, check=("acu.routine_parse", "check_file"))
    if select:
        select_routine(s, r.name)
    return r


def pull(s, name: str) -> bytes:
    return FILES.pull(s, name)


def select_routine(s, name: str):
    """Make name the routine the device runs; it must be on the device and runnable there."""
    path = device_path(name)
    if not s.exists(path):
        raise InputError("no routine %r on the device (push it first)" % name)
    s.call("acu.routine_parse", "load", name)   # raises DeviceError if the firmware cannot run it
    s.write_file_atomic(SELECTED_PATH, name.encode())


def remove(s, name: str):
    path = FILES.path_on_device(s, name)
    if s.call("acu.routine_parse", "selected") == name:
        raise InputError("routine %s is selected: select another routine before removing it" % name)
    s.remove(path)


def install_library(s, select: str = DEFAULT_SELECTED):
    """For deploy: put every library routine on the device and select bedtime."""
    for name in library_names():
        push(s, library_routine(name), FILES.library_source(name))
    select_routine(s, select)
