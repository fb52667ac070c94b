"""Programmes on the host (docs/programmes.md): validation (the device's own validator, plus the routines a
programme names), the built-in library (host_tools/library/programmes/), describing a programme and where the
user is in it, and the device operations the `programme` commands call.

Every bad input becomes one InputError line naming the file, e.g.
``programme my.json: stage 2: feedback 'some' not one of full|faded|bandwidth|none``.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from host_tools import routines as RT
from host_tools.docfiles import DocKind
from host_tools.errors import InputError
from host_tools.paths import ensure_device_importable

ensure_device_importable()
from acu import programme as PG, programme_parse as PP  # noqa: E402  (the device's codec: one validator)

DEVICE_ROOT = PP.ROOT
STATE_PATH = PG.STATE_PATH
MAX_FILE_BYTES = PP.MAX_FILE_BYTES

# reading, decoding and validating programme files, the library, the device's paths: the code routines use too
FILES = DocKind(noun="programme", device_parse=PP.parse, max_bytes=MAX_FILE_BYTES, library="library/programmes",
                device_root=DEVICE_ROOT, valid_name=PP.valid_name, name_max=PP.NAME_MAX)
LIBRARY_DIR = FILES.library_dir


# ---- validation --------------------------------------------------------------------------------

def parse_bytes(data: bytes, source: str) -> PP.Programme:
    """Validate programme file bytes (the format only; routine names: check_routines). source names the file."""
    return FILES.parse_bytes(data, source)


def read_file(path: str | Path) -> bytes:
    return FILES.read_file(path)


def routine_sources(p: PP.Programme, source: str, beside: Path | None = None,
                    strict: bool = True) -> dict[str, tuple[bytes, str]]:
    """name -> (routine bytes, source) for each routine p names: a file NAME.json beside the programme file
    wins, else the built-in library. An unknown routine is an InputError naming the programme file (strict),
    or left out (push: it may be on the device already)."""
    out = {}
    for name in PP.routine_names(p):
        f = beside / (name + ".json") if beside is not None else None
        if f is not None and f.is_file():
            out[name] = (RT.read_file(f), str(f))
        elif name in RT.library_names():
            out[name] = (RT.library_routine(name), RT.FILES.library_source(name))
        elif strict:
            raise InputError("programme %s: routine %r unknown: not in the library (%s) nor a file %s.json "
                             "beside the programme" % (source, name, ", ".join(RT.library_names()), name))
    return out


def check_routines(p: PP.Programme, source: str, beside: Path | None = None) -> list:
    """Every routine the programme names, validated (compiled routines, in order)."""
    return [RT.parse_bytes(data, src) for data, src in routine_sources(p, source, beside).values()]


def validate_file(path: str | Path) -> tuple[PP.Programme, list]:
    p = parse_bytes(read_file(path), str(path))
    return p, check_routines(p, str(path), Path(path).resolve().parent)


def library_names() -> list[str]:
    return FILES.library_names()


def library_programme(name: str) -> bytes:
    return FILES.library_file(name)


def resolve(arg: str) -> tuple[bytes, str, Path | None]:
    """FILE or library NAME -> (bytes, source for messages, folder for the routines beside it)."""
    return FILES.resolve(arg)


# ---- describing ----------------------------------------------------------------------------------

def describe_stage(s) -> str:
    fb = PP.FB_NAMES[s.feedback] + (" %d %%" % s.feedback_pct if s.feedback == PP.FB_FADED else "")
    parts = ["%d week%s" % (s.weeks, "" if s.weeks == 1 else "s"), "routine%s %s" % (
        "" if len(s.routines) == 1 else "s by day", ", ".join(s.routines)),
        "%d sessions a week (at least %d)" % (s.goal, s.min_sessions), "feedback " + fb]
    if s.check_g:
        parts.append("each session opens with a blind check: %.1f kg for %d s" % (s.check_g / 1000, s.check_s))
    if s.last:
        parts.append("moves on when %d of the last %d checks are accurate (held at most %d week%s)" % (
            s.accurate, s.last, s.max_hold, "" if s.max_hold == 1 else "s"))
    else:
        parts.append("moves on with time")
    return "; ".join(parts)


def describe(p: PP.Programme) -> list[str]:
    lines = ["%s: %s" % (p.name, p.title)]
    if p.description:
        lines.append(p.description)
    lines.append("%d week%s, %d stage%s%s" % (p.weeks, "" if p.weeks == 1 else "s", len(p.stages),
                                              "" if len(p.stages) == 1 else "s",
                                              "" if p.week_days == 7 else ", weeks of %d days" % p.week_days))
    for s in p.stages:
        lines.append("%d. %s: %s" % (s.index + 1, s.title or "stage %d" % (s.index + 1), describe_stage(s)))
    return lines


def describe_place(sm: dict | None) -> list[str]:
    """`programme status` and `status`: where the user is, from the device's summary (acu.programme)."""
    if not sm:
        return ["no programme in use (acutrainer programme push sleep-4wk)"]
    if sm.get("error"):
        return ["%s: cannot run (%s)" % (sm.get("programme"), sm["error"])]
    if sm.get("finished"):
        return ["%s finished (all %d stages; %d sessions)" % (sm["programme"], sm["stages"], sm["sessions"])]
    fb = sm["feedback"] + (" %d %%" % sm["feedback_pct"] if sm["feedback"] == "faded" else "")
    out = ["%s, stage %d of %d (%s), week %d of %d, day %d" % (
        sm["programme"], sm["stage"], sm["stages"], sm.get("stage_title") or "-", sm["week"], sm["weeks"],
        sm["day"]),
        "sessions this week %d of %d (at least %d count the week); feedback %s" % (
            sm["sessions_week"], sm["goal"], sm["min_sessions"], fb)]
    if sm.get("check_g"):
        n = sm["checks_counted"]
        out.append("blind checks in this stage: %d of the last %d accurate" % (sm["checks_ok"], n) if n else
                   "no blind check yet in this stage (each session opens with one: %.1f kg for %d s)" % (
                       sm["check_g"] / 1000, sm.get("check_s") or 0))
    nxt = sm.get("next")
    out.append(("next: %s, when %s" % (nxt, sm["unlock"])) if nxt else ("last stage: the programme ends after "
                                                                          + sm["unlock"]))
    if sm.get("held"):
        out.append("held back %d week%s in this stage" % (sm["held"], "" if sm["held"] == 1 else "s"))
    if sm.get("move") not in (None, PG.MOVE_NONE):
        out.append("last change: %s" % sm["move"])
    if not sm.get("clock"):
        out.append("the device's clock is not set: weeks are counted in sessions (acutrainer sync)")
    return out


# ---- the device (s is a host_tools.session.DeviceSession) ----------------------------------------

def device_path(name: str) -> str:
    return FILES.device_path(name)


def local_utc_offset_s() -> int:
    off = datetime.now().astimezone().utcoffset()
    return int(off.total_seconds()) if off is not None else 0


def device_list(s) -> dict:
    return {"programmes": s.call("acu.programme_parse", "list_programmes"), "place": place(s)}


def place(s) -> dict | None:
    return s.call("acu.programme_parse", "summary")


def missing_routines(s, p: PP.Programme) -> list[str]:
    return [n for n in PP.routine_names(p) if not s.exists(RT.device_path(n))]


def require_routines(s, p: PP.Programme, source: str, routines: dict[str, tuple[bytes, str]]) -> list[str]:
    """The routines p names that the device lacks (push sends them from `routines`); an InputError naming the
    programme file when one is neither on the device nor in `routines`."""
    missing = missing_routines(s, p)
    for name in missing:
        if name not in routines:
            raise InputError("programme %s: routine %r is neither on the device nor in the library (push it "
                             "first); nothing was changed" % (source, name))
    return missing


def push(s, data: bytes, source: str, routines: dict[str, tuple[bytes, str]], restart: bool = False) -> dict:
    """Validate on the host; push the routines it names that the device lacks (from `routines`: name ->
    (bytes, source)); upload the programme atomically (the device checks the tmp file, its routines
    included, before the rename: a refused upload keeps the previous programme and place); then make it
    the programme in use (the place is kept when it already was, unless restart). Returns the summary."""
    p = parse_bytes(data, source)
    missing = require_routines(s, p, source, routines)
    for name in missing:
        rdata, rsrc = routines[name]
        RT.push(s, rdata, rsrc)
    s.makedirs(DEVICE_ROOT)
    s.write_file_atomic(device_path(p.name), data, check=("acu.programme_parse", "check_file"))
    return s.call("acu.programme_parse", "enrol", p.name, bool(restart), local_utc_offset_s())


def pull(s, name: str) -> bytes:
    return FILES.pull(s, name)


def remove(s, name: str) -> bool:
    """Delete the programme; if it is the one in use the device leaves it (its state goes too). True then."""
    path = FILES.path_on_device(s, name)
    sm = place(s)
    left = False
    if sm and sm.get("programme") == name:
        left = bool(s.call("acu.programme_parse", "leave"))
    s.remove(path)
    return left
