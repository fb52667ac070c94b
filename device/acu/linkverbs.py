# The live link's requests other than `stream` (acu.link answers that one itself): hello, status, clock,
# sessions, stop, part (docs/protocol.md). Each is rare, so acu.link loads this module for one answer only
# (acu.call). on_<verb>(link, args, now_ms) -> a JSON-able result; a ValueError(message) refuses.
import acu
from acu import VERSION


def answer(lk, verb, args, now_ms):
    fn = globals().get("on_" + verb)
    if fn is None:
        raise ValueError("unknown request %r" % verb[:20])
    return fn(lk, args, now_ms)


def on_hello(lk, args, now_ms):
    a = lk.app
    return {"proto": lk.proto, "firmware": VERSION, "board": a.hw.name, "device_id": a.log.device_id,
            "boot_count": a.log.boot_count, "boot_id": a.log.boot_id, "ticks_ms": now_ms,
            "wall_s": a.clock.wall_s(),
            "practice": acu.call("status", "practice", a)}


def on_status(lk, args, now_ms):
    st = acu.call("status", "collect", lk.app, True)
    st["link"] = {"requests": lk.requests, "bad_frames": lk.bad_frames, "stream_every_ms": lk.every_ms}
    return st


def on_clock(lk, args, now_ms):
    """clock EPOCH_S: set the wall clock (acutrainer sync); logged in a running session."""
    lk.app.set_clock(acu.call("wallclock", "check", args[0]), now_ms)
    return on_hello(lk, args, now_ms)


def on_sessions(lk, args, now_ms):
    """sessions [START [LIMIT]]: the session files on the device, oldest first (no hashes: cheap)."""
    return acu.call("logadmin", "list_files", lk.app.log.root, int(args[0]) if args else 0,
                    int(args[1]) if len(args) > 1 else 20)


def on_stop(lk, args, now_ms):
    """stop: end the practice on purpose (acutrainer ... --stop): logged as stopped from the host."""
    return {"stopped": lk.app.stop_practice(now_ms)}


def on_part(lk, args, now_ms):
    """part [ROLE ...]: the bring-up self-test's part checks (acutrainer selftest), in acu.bringup: loaded
    for this answer only, so this module (loaded for every request) stays small."""
    return acu.call("bringup", "answer", lk, args, now_ms)
