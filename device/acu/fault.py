# A fault of the app itself: an exception its loop did not expect (a MemoryError on a heap left in holes, a
# damaged firmware file). Never a silent device at the REPL behind a traceback: /main.py hands the exception
# here (through acu.call: nothing of this module is in the loop's heap). It closes what is open, notes the
# fault for `acutrainer doctor` (/cfg/fault.json), plays the fault cue and restarts the app with a soft reset.
# A fault soon after the start, on MAX_EARLY boots in a row, is a fault of the start itself: restarting again
# would be a boot loop, so the board stays at its REPL, where the host tools still reach it.
# The file and the rule: docs/reliability.md, "The app's own faults".
import json
import os
import sys

from micropython import const

from acu import band, feedback, logfmt, ticks

FAULT_PATH = "/cfg/fault.json"
EARLY_MS = const(60000)   # a fault this soon after the board started is a fault of the start
MAX_EARLY = const(3)      # early faults on this many boots in a row: no more restarts
TEXT_MAX = const(140)     # the error's text in the record (the status answer stays one line)
CUE_MAX_MS = const(3000)  # the fault cue is shorter; a guard against a clock that stands still


def describe(err):
    """'MemoryError: memory allocation failed, allocating 4097 bytes': one line, at most TEXT_MAX."""
    text = type(err).__name__
    msg = str(err)
    if msg:
        text += ": " + msg
    return " ".join(text.split())[:TEXT_MAX]


def last(root=""):
    """The fault noted last, {"boot", "uptime_ms", "early", "error", "restarted"}, or None (none, or a file
    that is not a fault record: the next fault replaces it)."""
    try:
        with open(root + FAULT_PATH) as f:
            r = json.load(f)
        if isinstance(r, dict) and isinstance(r.get("boot"), int) and isinstance(r.get("early"), int):
            return r
    except (OSError, ValueError):
        pass
    return None


def record(prev, boot, uptime_ms, text):
    """The record of a fault on boot `boot`, `uptime_ms` after the board started; `prev`: the one noted
    before. `early` counts the boots in a row whose app failed within EARLY_MS; `restarted`: whether this one
    restarts."""
    early = 0
    if uptime_ms < EARLY_MS:
        early = 1
        if prev is not None and prev.get("boot") == boot - 1 and prev["early"] > 0:
            early = prev["early"] + 1
    return {"boot": boot, "uptime_ms": uptime_ms, "early": early, "error": text, "restarted": early < MAX_EARLY}


def _write(path, rec):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(rec, f)
    os.rename(tmp, path)  # the old record or the new one, never a torn file


def _play_cue(fb, clock):
    """The fault cue, played through to its end (the loop that would play it has stopped), then quiet."""
    t0 = clock.ticks_ms()
    fb.cue(feedback.CUE_FAULT, t0)
    while fb.cue_code:
        now = clock.ticks_ms()
        fb.show(band.FAULT, now)
        if ticks.diff(now, t0) > CUE_MAX_MS:
            break
        clock.sleep_ms(10)
    fb.off()


def handle(err, hw, boot, machine=None, root=""):
    """/main.py's answer to an exception out of the app (acu.app.main, or its import): err, the board's
    Hardware and the boot's number (root: the flash's root, for tests). Returns only when the board stays at
    the REPL (or `machine` is a fake)."""
    text = describe(err)
    app = getattr(sys.modules.get("acu.app"), "current", None)  # None: the fault came before it was built
    if app is not None:
        root = getattr(app, "root", root)
        try:
            app.stop()  # the session on the flash is closed (interrupted), the outputs quiet
            if app.log.active:  # a session whose end was what failed (its score, say): ended here
                app.log.end_session(logfmt.END_INTERRUPTED, hw.clock.ticks_ms())
        except Exception:  # noqa: BLE001 (a fault here too: the next boot's recovery closes the session)
            pass
    rec = record(last(root), boot, hw.clock.ticks_ms(), text)
    try:
        _write(root + FAULT_PATH, rec)
    except Exception:  # noqa: BLE001 (a full or failing flash: the cue and the restart still happen)
        pass
    try:
        _play_cue(app.fb if app is not None else feedback.Feedback(hw), hw.clock)
    except Exception:  # noqa: BLE001 (outputs that fail too: the line on the console and the restart remain)
        pass
    if not rec["restarted"]:
        print("acu: the app failed %d times in a row at its start (%s): stopped at the REPL; "
              "acutrainer doctor says what to do" % (rec["early"], text))
        return
    print("acu: the app stopped on a fault (%s): restarting; acutrainer doctor shows it" % text)
    if machine is None:
        import machine  # the board's soft reset (a driver's import: only here)
    machine.soft_reset()
