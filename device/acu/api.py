# Small functions the host calls in the raw REPL (host_tools/session.py: call(), hw_call()).
# Results are JSON-able. When the app was running it has been interrupted (Ctrl-C) and stopped;
# its objects are reused so the host sees the same board, calibration and logger.
import os

import acu
from acu import VERSION, app, appcfg, band, calib, ticks

_hw = None


def hw():
    """The board's Hardware object (the running app's, or built once from /cfg/board.json)."""
    global _hw
    if app.current is not None:
        return app.current.hw
    if _hw is None:
        _hw = appcfg.build_board(appcfg.load_settings())
    return _hw


def _app():
    """The app object (built without running when the app never started, e.g. after a raw-REPL reset)."""
    if app.current is None:
        boots, boot_id = appcfg.boot_state()
        # the boot main.py recorded (its ticks go on here): the same id, the same anchors
        a = app.App(hw(), appcfg.load_settings(), boots, boot_id=boot_id)
        a.reload_routine()
        app.current = a
    return app.current


def status():
    """Everything the host shows about the device (acu.status)."""
    return acu.call("status", "collect", _app())


def version():
    import sys
    return {"firmware": VERSION, "micropython": ".".join(str(x) for x in sys.implementation.version[:3]),
            "mpy": getattr(sys.implementation, "_mpy", 0), "machine": getattr(sys.implementation, "_machine", ""),
            "board": appcfg.board_name()}


def sample(n=20, every_ms=10):
    """Read the sensor n times: raw and calibrated figures for calibration and checks."""
    a = _app()
    h = a.hw
    raws = []
    for _ in range(n):
        raws.append(h.sensor.read_raw())
        h.clock.sleep_ms(every_ms)
    raws.sort()
    med = raws[len(raws) // 2]
    mean = sum(raws) // len(raws)
    return {"raw_median": med, "raw_mean": mean, "raw_min": raws[0], "raw_max": raws[-1],
            "grams": a.cal.grams(med), "fault": h.sensor.fault(), "calibrated": a.cal.calibrated,
            "calib_id": a.cal.id, "t_ms": h.clock.ticks_ms()}


def stream(duration_ms=1000, every_ms=50):
    """Run the app's loop for duration_ms, printing one line per every_ms for a live view:
    '@F <t_ms> <raw> <force_g> <state> <runner_state> <step_index> <step_ms>'."""
    a = _app()
    clock = a.clock
    t_end = ticks.add(clock.ticks_ms(), duration_ms)
    nxt = clock.ticks_ms()
    period = a.period_ms
    last_print = ticks.add(nxt, -every_ms)
    while ticks.diff(t_end, clock.ticks_ms()) > 0:
        now = clock.ticks_ms()
        a.step(now)
        if ticks.diff(now, last_print) >= every_ms:
            last_print = now
            r = a.runner
            print("@F %d %d %d %d %d %d %d" % (now, a.raw, a.force_g, a.state, r.state, r.index, r.step_ms))
        nxt = ticks.add(nxt, period)
        d = ticks.diff(nxt, clock.ticks_ms())
        if d > 0:
            clock.sleep_ms(d)
    a.fb.off()
    return {"state": band.NAMES[a.state]}


def set_clock(epoch_s):
    epoch_s = acu.call("wallclock", "check", epoch_s)  # 1970, 2100 or a wrapped u32 refused in one line
    h = hw()
    h.clock.set_wall_s(epoch_s)
    from acu import logfmt, logger
    lg = logger.current()
    if lg is not None and lg.active:
        lg.event(logfmt.EV_CLOCK_SET, int(epoch_s))
    return {"wall_s": h.clock.wall_s(), "uptime_ms": h.clock.ticks_ms(),
            "boots": appcfg.read_boots()}


def validate_calib_file(path):
    """Upload check for /cfg/calib.json: refuse a file the firmware cannot use."""
    import json
    with open(path) as f:
        d = json.load(f)
    c = calib.Calibration.from_dict(d)
    return {"id": c.id, "points": len(d.get("points", ()))}


def ls_tree(path="/"):
    """Files under path: [[path, size]], for deploy and doctor."""
    out = []

    def walk(p):
        try:
            entries = list(os.ilistdir(p))
        except OSError:
            return
        for e in entries:
            full = (p.rstrip("/") + "/" + e[0])
            if e[1] == 0x4000:
                walk(full)
            else:
                out.append([full, e[3] if len(e) > 3 else 0])
    walk(path)
    return out
