"""acutrainer sync: set the device's clock from this computer's, then date earlier sessions.

Over the live link while the app runs (a practice goes on, and its log records the clock change); from the
raw REPL when the board sits at its REPL."""

from __future__ import annotations

import time

from host_tools.archive import Archive
from host_tools.cli import add_port_arg
from host_tools.archive_db import ARCHIVE_HELP


def register(sub):
    p = sub.add_parser("sync", help="set the device clock (sessions recorded before get reconstructed times)")
    add_port_arg(p)
    p.add_argument("--archive", help=ARCHIVE_HELP)
    p.set_defaults(func=cmd_sync)


def sync_clock(session, archive: Archive | None = None, now=time.time) -> dict:
    """Set the wall clock through the raw REPL with acu.api.set_clock, which logs the change in a session
    being recorded as the live link's `clock` does; record (boot, ticks, time) so sessions of this boot can
    be dated later."""
    t = host_time(now)
    session.call("acu.api", "set_clock", t)
    try:
        info = session.call("acu.logadmin", "info")
    except Exception:  # an older firmware without acu.logadmin: the clock is set all the same
        info = {}
    return {"wall_s": t, "anchored": _anchor(archive, info, t)}


def sync_live(link, archive: Archive | None = None, now=time.time) -> dict:
    """The same through the live link: the app keeps running."""
    t = host_time(now)
    info = link.request("clock", t)
    return {"wall_s": t, "anchored": _anchor(archive, info if isinstance(info, dict) else {}, t)}


def host_time(now=time.time) -> int:
    """This computer's time to give the device; InputError for a clock that cannot be right (before 2020, from
    2100 on, past the u32 the log stores: a wrap would date sessions in 1971)."""
    from host_tools.archive import EARLIEST_S, LATEST_S
    from host_tools.errors import InputError
    t = now()
    if not EARLIEST_S <= t < LATEST_S:
        when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(t)) if 0 <= t < 253402300800 else "%d s" % t
        raise InputError("this computer's clock says %s: set it right before setting the device's" % when)
    return int(t)


def _anchor(archive, info: dict, t: int) -> bool:
    if (archive is not None and isinstance(info.get("device_id"), str)
            and isinstance(info.get("boot_count"), int) and isinstance(info.get("ticks_ms"), int)):
        archive.add_anchor(info["device_id"], info["boot_count"], info["ticks_ms"], t, "sync", info.get("boot_id"))
        archive.reconstruct_wall(info["device_id"])
        return True
    return False


def cmd_sync(args) -> int:
    from host_tools.session import connect
    host_time()  # refused before the port is opened
    with Archive(args.archive) as arc, connect(args.port) as c:
        if c.app_running:
            r = sync_live(c.live, arc)
        else:
            with c.repl() as s:
                r = sync_clock(s, arc)
    print("device clock set to %s UTC" % time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(r["wall_s"])))
    return 0
