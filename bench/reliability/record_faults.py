"""Recording faults: a practice must be logged, or cued on the device and reported to the host, never lost in
silence; session numbers stay unique; wall times are right or marked (docs/reliability.md, "Recording faults").

One simulator (its own flash). Each round drives every fault below; a practice is a free press (3 s of contact,
then 21 s without: the session starts and ends on its own).
- full flash: files fill the flash to the last byte; a practice; status and doctor must say so.
- /log a file: the log folder replaced by a file (its counter with it); the next boot moves it aside.
- counter: /log/next deleted, garbage, 2**32 - 1; and both copies of it lost after every file was pulled.
- clock: set_clock with 1970, 2100 and 2**32 + 5 must be refused; a session dated 1971 is left undated.
- held press: the routine's last press held 15 s past its end must not start a free session.
- soft reset after sync: the clock is still set; after a power cut it is unset.
A practice that was neither logged nor cued (the flash cue in the trace) and reported (write_errors in
status) is a silent loss; any other fault handled otherwise than documented counts in
rel_record_faults_mishandled.
"""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

from host_tools import routines as hroutines
from host_tools.archive import Archive
from host_tools.commands.sync import host_time
from host_tools.errors import AcuError, DeviceError
from host_tools.pull import pull
from host_tools.session import connect

from .common import BIN, Rig, archive_numbers, make_sessions, one_line

CUE_FLASH_LOW = 10   # acu.feedback.CUE_FLASH_LOW: the cue for a flash that refuses the log

_FILL_CODE = """\
import os, gc
gc.collect()
_b = bytearray(4096)
_n = 0
_i = 0
while _i < 64:  # files /fill<i>.bin until not even a new file takes a byte (closing one can free a block)
    _w = 0
    try:
        with open('/fill%d.bin' % _i, 'wb') as _f:
            for _k in (4096, 512, 64, 8, 1):
                _m = memoryview(_b)[:_k]
                while True:
                    try:
                        _f.write(_m)
                        _f.flush()
                        _w += _k
                    except OSError:
                        break
    except OSError:
        pass
    _n += _w
    _i += 1
    if _w == 0:
        break
print('FILLED', _n, _i)
_s = os.statvfs('/')
print('SV', _s[2], _s[4])
del _b, _m, _s
gc.collect()
"""

_UNFILL_CODE = """\
import os
for _n in os.listdir('/'):
    if _n.startswith('fill') and _n.endswith('.bin'):
        os.remove('/' + _n)
"""

_LOG_AS_FILE_CODE = """\
import os
for _n in os.listdir('/log'):
    os.remove('/log/' + _n)
os.rmdir('/log')
with open('/log', 'w') as _f:
    _f.write('not a folder')
print('DONE')
"""


class _Tally:
    def __init__(self):
        self.tried = self.silent = self.mishandled = self.practices = 0
        self.outcomes: dict = {}
        self.full_flash_raw: list[bool] = []   # per full-flash fault: the board's own statvfs wrapped
        self.notes: list[str] = []

    def bad(self, what: str, detail: str):
        self.mishandled += 1
        self.notes.append("%s: %s" % (what, detail[:200]))


def _status(rig: Rig) -> dict:
    with connect(rig.port) as c:
        if c.app_running:
            return c.live.status()
        with c.repl() as s:
            return s.call("acu.api", "status")


def _log_counts(st: dict) -> tuple[int, int]:
    log = st.get("log") if isinstance(st.get("log"), dict) else {}
    failed = log.get("write_errors") if isinstance(log.get("write_errors"), int) else 0
    nxt = log.get("next_session")
    return (nxt if isinstance(nxt, int) else 0), failed


def _cued(rig: Rig) -> bool:
    return any(r.get("kind") == "note" and r.get("name") == "cue" and r.get("value") == CUE_FLASH_LOW
               for r in rig.sim.trace())


def _practice(rig: Rig, t: _Tally, what: str, expect: str | None = None) -> str:
    """A free press; returns "logged" (a session, no write refused), "cued" (the flash cue and write_errors up:
    not or not wholly logged, and the user was told) or "silent" (counted). expect: the outcome the fault
    must give."""
    before_next, before_failed = _log_counts(_status(rig))
    rig.sim.clear_trace()
    ticket = rig.sim.segments([(150, -1, 4000, 0), (3000, 4000, 4000, 40), (150, -1, 0, 0), (21500, 0, 0, 0)])
    rig.sim.wait_played(ticket, timeout_s=60)
    after_next, after_failed = _log_counts(_status(rig))
    t.practices += 1
    if after_next > before_next and after_failed == before_failed:
        out = "logged"
    elif _cued(rig) and after_failed > before_failed:
        out = "cued"   # not logged, or not wholly (a session begun, then writes refused): the user was told
    else:
        out = "silent"
        t.silent += 1
        t.notes.append("%s: a practice neither logged nor cued and reported (next %d -> %d, failed %d -> %d)"
                       % (what, before_next, after_next, before_failed, after_failed))
    t.outcomes[out] = t.outcomes.get(out, 0) + 1
    if expect and out != expect and out != "silent":
        t.bad(what, "the practice was %s, expected %s" % (out, expect))
    return out


def _repl(rig: Rig, code: str, restart: bool = True) -> str:
    s = rig.session(10.0)
    try:
        out = s.exec(code, timeout=60)
    except BaseException:
        s.close(restart=False)
        raise
    if restart:
        rig.restart_and_wait(s)
    else:
        s.close(restart=False)
    return out


def _pull(rig: Rig, delete: bool) -> None:
    s = rig.session(10.0)
    try:
        with Archive(rig.archive_path) as arc:
            pull(s, arc, delete=delete)
    except BaseException:
        s.close(restart=False)
        raise
    rig.restart_and_wait(s)


def _cli(*args: str) -> tuple[int, str]:
    r = subprocess.run([str(BIN / "acutrainer"), *args], capture_output=True, text=True, timeout=120)
    return r.returncode, r.stdout + r.stderr


# ---- the faults ----------------------------------------------------------------------------------------
def fault_full_flash(rig: Rig, t: _Tally):
    t.tried += 1
    _pull(rig, delete=True)
    out = _repl(rig, _FILL_CODE)
    for ln in out.splitlines():
        p = ln.split()
        if len(p) == 3 and p[0] == "SV" and p[1].isdigit() and p[2].isdigit():
            t.full_flash_raw.append(int(p[2]) > int(p[1]))   # f_bavail beyond f_blocks: the wrap
    try:
        out = _practice(rig, t, "full flash", expect="cued")
        st = _status(rig)
        free, total = st.get("free_bytes"), st.get("flash_bytes")
        if free is not None and not (isinstance(total, int) and 0 <= free <= total):
            t.bad("full flash", "status reports %s bytes free of %s" % (free, total))   # unknown (None) is honest
        if out == "cued":
            rc, text = _cli("doctor", "--port", rig.port)
            if "failed since the board started" not in text:
                t.bad("full flash", "doctor did not report the refused writes: " + text.strip()[-200:])
    finally:
        _repl(rig, _UNFILL_CODE)


def fault_log_is_a_file(rig: Rig, t: _Tally):
    t.tried += 1
    _pull(rig, delete=True)
    _repl(rig, _LOG_AS_FILE_CODE)     # the next boot finds a file where the folder belongs
    _practice(rig, t, "/log a file", expect="logged")
    out = _repl(rig, "import os\ntry:\n    os.remove('/log.bad')\n    print('AWAY')\nexcept OSError:\n"
                     "    print('NONE')\n")
    if "AWAY" not in out:
        t.bad("/log a file", "the file was not kept as /log.bad")


def fault_counter(rig: Rig, t: _Tally, damage: str, both: bool):
    what = "counter %s%s" % (damage, " (both copies)" if both else "")
    t.tried += 1
    _pull(rig, delete=True)
    paths = ["/log/next"] + (["/log.next"] if both else [])
    code = "import os\n"
    for p in paths:
        if damage == "deleted":
            code += "try:\n    os.remove(%r)\nexcept OSError:\n    pass\n" % p
        else:
            code += "with open(%r, 'w') as _f:\n    _f.write(%r)\n" % (p, damage)
    _repl(rig, code)
    if both:
        _pull(rig, delete=False)      # the host puts back a floor above the archive's numbers
    _practice(rig, t, what, expect="logged")


def fault_clock(rig: Rig, t: _Tally):
    s = rig.session(10.0)
    try:
        for bad in (0, 4102444800, 2 ** 32 + 5):
            t.tried += 1
            try:
                s.call("acu.api", "set_clock", bad)
                t.bad("clock", "set_clock(%d) was accepted" % bad)
            except DeviceError as e:
                if "\n" in str(e):
                    t.bad("clock", "a multi-line refusal: %r" % str(e)[:120])
        # a session recorded under a wrong clock (1971): archived, flagged, left undated
        t.tried += 1
        mk = make_sessions(s, 1, 5000, wall0=31536000 + 86400)
        with Archive(rig.archive_path) as arc:
            pull(s, arc, delete=True)
            row = arc.db.execute("SELECT wall_start_s, wall_source FROM sessions WHERE session_no = ?",
                                 (mk["next"] - 1,)).fetchone()
        if row is None or row["wall_start_s"] is not None or row["wall_source"] != "implausible":
            t.bad("clock", "the 1971 session was not left undated: %s" % (dict(row) if row else None))
    finally:
        rig.restart_and_wait(s)
    for bad in (0, 4102444800, 2 ** 32):
        t.tried += 1
        try:
            host_time(lambda b=bad: b)
            t.bad("clock", "sync would give the device %d" % bad)
        except AcuError:
            pass


def fault_held_press(rig: Rig, t: _Tally):
    t.tried += 1
    before, _ = _log_counts(_status(rig))
    rig.sim.clear_trace()
    # rel-short: 4 s press, 1 s rest, 4 s press; the hand stays on for 25 s, then 21.5 s off
    ticket = rig.sim.segments([(150, -1, 4000, 0), (25000, 4000, 4000, 60), (150, -1, 0, 0), (21500, 0, 0, 0)],
                              buttons=[(300, "short")])
    rig.sim.wait_played(ticket, timeout_s=90)
    after, _ = _log_counts(_status(rig))
    t.practices += 1
    t.outcomes["routine"] = t.outcomes.get("routine", 0) + 1
    if after - before != 1:
        t.bad("held press", "%d sessions for one routine (a phantom free session?)" % (after - before))
    if after == before:
        t.silent += 1


def fault_soft_reset_after_sync(rig: Rig, t: _Tally):
    t.tried += 1
    rc, text = _cli("sync", "--port", rig.port, "--archive", str(rig.archive_path))
    if rc != 0:
        t.bad("sync", text.strip()[-200:])
        return
    s = rig.session(10.0)
    rig.restart_and_wait(s)          # every host command ends with a soft reset
    if _status(rig).get("wall_s") is None:
        t.bad("soft reset after sync", "the clock was unset after a soft reset")
    t.tried += 1
    b = rig.boot()
    rig.sim.power_cut(off_ms=100)
    rig.sim.wait_boot(b + 1, 20)
    rig.wait_app(rig.boot(), 30)
    if _status(rig).get("wall_s") is not None:
        t.bad("power cut", "the clock claims to be set after a power cut (the RTC stopped)")


def scenario_record_faults(work: Path, rounds: int = 2, seed: int = 17) -> dict:
    rng = random.Random(seed)
    t = _Tally()
    rig = Rig(work, "rel-record", seed=seed, flash_blocks=128)
    try:
        rig.start()
        rig.deploy()
        s = rig.session(10.0)
        hroutines.select_routine(s, "rel-short")
        rig.restart_and_wait(s)
        _practice(rig, t, "no fault", expect="logged")
        for _ in range(rounds):
            faults = [fault_full_flash, fault_log_is_a_file, fault_clock, fault_held_press,
                      fault_soft_reset_after_sync]
            faults += [lambda r, tt, d=d, b=b: fault_counter(r, tt, d, b)
                       for d in ("deleted", "garbage", "4294967295") for b in (False, True)]
            rng.shuffle(faults)
            for f in faults:
                try:
                    f(rig, t)
                except Exception as e:  # noqa: BLE001
                    t.notes.append("%s: %s" % (getattr(f, "__name__", "fault"), one_line(e)))
                    t.mishandled += 1
        # every session the device recorded is in the archive once: numbers never came twice
        _pull(rig, delete=True)
        with Archive(rig.archive_path) as arc:
            nos = archive_numbers(arc)
        t.tried += 1
        if len(nos) != len(set(nos)):
            t.bad("session numbers", "reused: %s" % sorted({n for n in nos if nos.count(n) > 1})[:5])
    except Exception as e:  # noqa: BLE001
        t.notes.append("record faults: " + one_line(e))
        t.mishandled += 1
    finally:
        rig.stop()
    f = {"rel_record_faults_tried": t.tried, "rel_record_practices": t.practices,
         "rel_silent_record_losses": t.silent, "rel_record_faults_mishandled": t.mishandled,
         "rel_record_practice_outcomes": t.outcomes,
         "rel_record_full_flash_statvfs_wrapped": sum(t.full_flash_raw)}
    if t.notes:
        f["_notes_record"] = t.notes[:20]
    return f
