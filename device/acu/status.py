# What the host is told about the device and its app: the answer to the REPL's acu.api.status() and to the
# live link's `status` (acu.link). Loaded for that call only (acu.call): none of it sits in the loop's heap.
import os

import acu
from acu import VERSION, band


def _statvfs(i):
    try:
        st = os.statvfs("/")
        return st[0] * st[i]
    except OSError:
        return None


def collect(a):
    """Everything the host shows about the device and the App a (the running one, or the one the REPL
    built): JSON-able."""
    h = a.hw
    st = {
        "firmware": VERSION, "board": h.name, "calibrated": a.cal.calibrated, "calib_id": a.cal.id,
        "calib_created": a.cal.created or None, "sensor": h.sensor.kind,
        "routine": None if a.routine is None else a.routine.name, "runner": a.runner.status(),
        "force_g": a.force_g, "raw": a.raw, "state": band.NAMES[a.state], "wall_s": a.clock.wall_s(),
        "uptime_ms": a.clock.ticks_ms(), "loop_hz": 1000 // a.period_ms, "iterations": a.iterations,
        "session_active": a.log.active, "boots": a.log.boot_count,
        "free_bytes": _statvfs(3), "flash_bytes": _statvfs(2),
        "unique_id": "".join("%02x" % b for b in h.unique_id),
    }
    try:
        st["log"] = acu.call("logadmin", "info", a.log.root)
    except Exception as e:  # a damaged log never hides the rest of the status
        st["log"] = {"error": str(e)}
    return st
