# What the host is told about the device and its app: the answers to the REPL's acu.api.status() and to the
# live link's `hello` and `status` (acu.link). Loaded for that call only (acu.call): none of it sits in the
# loop's heap.
import acu
from acu import VERSION, band, logrecover, ticks
from acu import runner as rn

_LIST_MAX = 6        # boot problems, set-aside copies: the first ones in the status answer
_PROBLEM_MAX = 140   # characters of a problem's text


def runner(r):
    """The routine runner's state."""
    s = r.step
    return {
        "state": rn.NAMES[r.state], "routine": None if r.routine is None else r.routine.name,
        "index": r.index, "steps": 0 if r.routine is None else len(r.routine.steps), "step_ms": r.step_ms,
        "duration_ms": 0 if s is None else s.duration_ms, "in_band_ms": r.in_band_ms,
        "band_lo_g": r.band_lo_g, "band_hi_g": r.band_hi_g, "target": r.target, "contact_held": r.contact_held,
    }


def practice(a):
    """The practice in progress in the App a, or None: {"routine", "state", "step", "steps", "step_ms",
    "goal_ms", "elapsed_ms", "session_no", "free"}."""
    r = a.runner
    if not r.active() and not a.free_session:
        return None
    log = a.log
    elapsed = ticks.diff(a.clock.ticks_ms(), log.start_ms) if log.active else 0
    if a.free_session:
        return {"routine": "free", "state": "running", "step": 0, "steps": 1, "step_ms": a.stats.contact_ms(),
                "goal_ms": 0, "elapsed_ms": elapsed, "session_no": log.session_no, "free": True}
    return {"routine": r.routine.name, "state": rn.NAMES[r.state], "step": r.index, "steps": len(r.routine.steps),
            "step_ms": r.step_ms, "goal_ms": r.step.duration_ms if r.step is not None else 0,
            "elapsed_ms": elapsed, "session_no": log.session_no, "free": False}


def _practice_record():
    """acu.remind's record in the RTC memory (acu.power), None without one (or without a board's RTC)."""
    try:
        import machine
        mem = machine.RTC().memory()
    except (ImportError, AttributeError):
        return None
    return acu.call("power", "unpack_practice", mem)


def collect(a, with_practice=False):
    """Everything the host shows about the device and the App a (the running one, or the one the REPL
    built): JSON-able; with_practice: and its practice() (the live link's answer)."""
    h = a.hw
    free, total = logrecover.flash_bytes("/")
    st = {
        "firmware": VERSION, "board": h.name, "calibrated": a.cal.calibrated, "calib_id": a.cal.id,
        "calib_created": a.cal.created or None, "sensor": h.sensor.kind,
        "routine": None if a.routine is None else a.routine.name, "runner": runner(a.runner),
        "force_g": a.force_g, "raw": a.raw, "state": band.NAMES[a.state], "wall_s": a.clock.wall_s(),
        "uptime_ms": a.clock.ticks_ms(), "loop_hz": 1000 // a.period_ms, "iterations": a.iterations,
        "session_active": a.log.active, "boots": a.log.boot_count, "boot_id": a.log.boot_id,
        "free_bytes": free, "flash_bytes": total,
        "unique_id": "".join("%02x" % b for b in h.unique_id),
        "battery_mv": h.battery.read_mv() if h.battery is not None else None,  # the cell, under the app's load
    }
    if with_practice:
        st["practice"] = practice(a)
    st["remind"] = acu.call("remind", "status", a, _practice_record())
    try:  # where the user is in a programme (docs/programmes.md), or None
        st["programme"] = acu.call("programme_parse", "summary", a) if getattr(a, "programme", False) else None
    except Exception as e:  # noqa: BLE001  (a damaged programme never hides the rest of the status)
        st["programme"] = {"error": str(e)}
    # the boot files found bad at this start, and the copies set aside now or earlier (docs/protocol.md); a
    # few of each, with the count of the rest: the answer is one line, which the host reads up to 4 KB
    ps = acu.problems
    st["boot_problems"] = [{"file": p[0], "problem": p[1][:_PROBLEM_MAX], "set_aside": p[2]}
                           for p in ps[:_LIST_MAX]]
    root = getattr(a, "root", "")
    aside = acu.call("cfgfile", "bad_files", (root + "/cfg", root + "/routines", a.log.root))
    st["fault"] = acu.call("fault", "last", root)  # the app's own last fault (docs/reliability.md), or None
    st["set_aside"] = aside[:_LIST_MAX]
    st["boot_files_more"] = max(0, len(ps) - _LIST_MAX) + max(0, len(aside) - _LIST_MAX)
    try:
        st["log"] = acu.call("logadmin", "info", a.log.root)
    except Exception as e:  # a damaged log never hides the rest of the status
        st["log"] = {"error": str(e)}
    return st
