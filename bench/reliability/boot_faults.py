"""A device that always comes up (`--only boot`): each file the firmware reads at boot, damaged in each way
a flash or a hand edit damages it (garbage, cut short, the wrong JSON type, a folder in its place, non-UTF-8,
a huge number, a value the user guide does not list), is written into a simulator's flash; then the board
boots. The app must start and give feedback to a press (the simulator's trace: band states and output
levels), play the fault cue, and `doctor`'s boot-files check (on the device's status) must name the file.
docs/reliability.md lists the faults and what the user sees."""

from __future__ import annotations

import json
from pathlib import Path

from host_tools import doctor

from .common import Rig, log, one_line, wait_for

CUE_FAULT = 9            # acu.feedback.CUE_FAULT
PRESS_STATES = (1, 2, 3, 4)   # acu.band UNDER, IN_BAND, OVER, TOO_HARD: a press was seen
GARBAGE = b"\x00\x13garbage{{[\x7f\xfe"
FOLDER = None

# the files a boot reads, in a good state (restored before every case)
GOOD = {
    "/cfg/settings.json": json.dumps({"feedback": "both", "intensity_pct": 100}).encode(),
    "/cfg/board.json": b'{"board": "sim"}',
    "/cfg/selected": b"bedtime",
    "/cfg/state.json": b'{"boots": 5}',
    "/log/next": b"1",
}


def cases() -> list[tuple[str, str, bytes | None, str]]:
    """(file, what, its damaged bytes or FOLDER, the file doctor must name)."""
    out = []

    def add(path, what, data, named=None):
        out.append((path, what, data, named or path))
    s = "/cfg/settings.json"
    for what, data in (("garbage", GARBAGE), ("truncated", b'{"feedback": "led", "inten'),
                       ("wrong type", b'["both"]'), ("folder", FOLDER), ("non-UTF-8", b'{"feedback": "b\xffth"}'),
                       ("unknown value", b'{"feedback": "none"}'), ("huge number", b'{"loop_hz": 1000000000000}'),
                       ("wrong value type", b'{"intensity_pct": "loud"}')):
        add(s, what, data)
    s = "/cfg/state.json"
    for what, data in (("garbage", GARBAGE), ("truncated", b'{"boo'), ("wrong type", b'"five"'),
                       ("folder", FOLDER), ("non-UTF-8", b'{"boots": "\xff"}'), ("huge number", b'{"boots": 1e999}'),
                       ("not a number", b'{"boots": "many"}')):
        add(s, what, data)
    s = "/cfg/board.json"
    for what, data in (("garbage", GARBAGE), ("truncated", b'{"board": "si'), ("wrong type", b"42"),
                       ("folder", FOLDER), ("non-UTF-8", b'{"board": "s\xffm"}'),
                       ("unknown board", b'{"board": "esp99_nope"}')):
        add(s, what, data)
    s = "/cfg/calib.json"
    for what, data in (("garbage", GARBAGE), ("truncated", b'{"format": "acu-calib", "version": 1, "id": "c'),
                       ("wrong type", b"[]"), ("folder", FOLDER), ("non-UTF-8", b'{"format": "acu-c\xfflib"}'),
                       ("unknown values", b'{"format": "acu-calib", "version": 1, "id": "x", "points": "many"}')):
        add(s, what, data)
    s = "/cfg/selected"
    for what, data, named in (("garbage", GARBAGE, s), ("truncated", b"bed", "/routines/bed.json"),
                              ("folder", FOLDER, s), ("non-UTF-8", b"bed\xfftime", s),
                              ("unknown value", b"no-such-routine", "/routines/no-such-routine.json"),
                              ("huge", b"x" * 20000, s)):
        add(s, what, data, named)
    s = "/routines/bedtime.json"
    for what, data in (("garbage", GARBAGE), ("truncated", b'{"format": "acu-routine", "version": 1, "na'),
                       ("wrong type", b'{"format": "acu-routine", "version": 1, "name": "bedtime", "steps": 7}'),
                       ("folder", FOLDER), ("non-UTF-8", b'{"format": "acu-r\xffutine"}')):
        add(s, what, data)
    s = "/log/next"
    for what, data in (("garbage", GARBAGE), ("folder", FOLDER), ("non-UTF-8", b"1\xff"),
                       ("huge number", b"123456789012345678901234567890")):
        add(s, what, data)
    add("/log/000099.acl", "folder", FOLDER)
    add("/log/000001.acl", "folder with files", FOLDER)
    return out


_CLEAN = """\
import os
def _rm(p):
    try:
        st = os.stat(p)
    except OSError:
        return
    if st[0] & 0x4000:
        for n in os.listdir(p):
            _rm(p + '/' + n)
        os.rmdir(p)
    else:
        os.remove(p)
for _d in ('/cfg', '/routines', '/log'):
    for _n in os.listdir(_d):
        if '.bad' in _n or _n.endswith('.acl'):
            _rm(_d + '/' + _n)
for _p in _PATHS:
    _rm(_p)
print('CLEAN')
"""


def _restore(s, good_routine: bytes, extra: tuple = ()) -> None:
    """The boot files as a good deploy leaves them: set-aside copies, session files and folders gone."""
    paths = tuple(GOOD) + ("/cfg/calib.json", "/routines/bedtime.json") + tuple(extra)
    out = s.exec("_PATHS = %r\n" % (paths,) + _CLEAN)
    if "CLEAN" not in out:
        raise RuntimeError("cleaning the flash failed: %r" % out[-200:])
    for p, data in GOOD.items():
        s.write_file_atomic(p, data)
    s.write_file_atomic("/routines/bedtime.json", good_routine)


def _damage(s, path: str, data: bytes | None) -> None:
    if data is FOLDER:
        if s.exists(path):
            s.remove(path)
        s.makedirs(path)
        s.write_file_atomic(path + "/kept.txt", b"a file in the folder: never deleted")
    else:
        s.write_file_atomic(path, data)


def _feedback(rig: Rig, boot: int) -> bool:
    """A press on the sensor: the band leaves no-contact and an output moves."""
    t = rig.sim.segments([(150, -1, 4200, 0), (1500, 4200, 4200, 0), (150, -1, 0, 0), (300, 0, 0, 0)])
    rig.sim.wait_played(t, 30)
    recs = rig.sim.trace(boot)
    states = [r["value"] for r in recs if r.get("kind") == "note" and r.get("name") == "state"]
    moved = any(r.get("kind") == "level" and r.get("value") for r in recs)
    return any(v in PRESS_STATES for v in states) and moved


def _cued(rig: Rig, boot: int) -> bool:
    return any(r.get("kind") == "note" and r.get("name") == "cue" and r.get("value") == CUE_FAULT
               for r in rig.sim.trace(boot))


def _cue(rig: Rig, boot: int) -> int:
    """The highest cue the app played on boot `boot` (0: only the board's build note)."""
    return max([r.get("value") or 0 for r in rig.sim.trace(boot) if r.get("kind") == "note"
                and r.get("name") == "cue"] or [0])


def scenario_boot_faults(work: Path, limit: int = 0, seed: int = 21) -> dict:
    """limit: only the first `limit` cases (0: all), for the fast test."""
    todo = cases()
    if limit:
        todo = todo[::max(1, len(todo) // limit)][:limit]
    tried = bricked = unreported = uncued = errors = 0
    notes: list[str] = []
    rig = Rig(work, "rel-boot", seed=seed)
    try:
        rig.start()
        rig.deploy()
        s = rig.session(10.0)
        try:
            good_routine = s.read_file("/routines/bedtime.json")
        finally:
            s.close(restart=False)
        for path, what, data, named in todo:
            where = "%s %s" % (path, what)
            s = rig.session(10.0)
            try:
                _restore(s, good_routine, (path,))
                _damage(s, path, data)
            except Exception as e:  # noqa: BLE001  (the rig's own step: not a case, a note)
                s.close(restart=False)
                errors += 1
                notes.append("%s: could not write the damage: %s" % (where, one_line(e)))
                continue
            tried += 1
            try:
                rig.restart_and_wait(s)  # soft reset: the board boots on the damaged file
            except Exception as e:  # noqa: BLE001
                bricked += 1
                notes.append("%s: the app did not come up: %s" % (where, one_line(e)))
                _recover(rig)
                continue
            boot = rig.boot()
            try:
                # the board's build notes cue 0; the app's start plays a real cue (rest, or fault)
                wait_for(lambda b=boot: _cue(rig, b) > 0, 20, "the app's start cue")
                fed = _feedback(rig, boot)
            except Exception as e:  # noqa: BLE001
                bricked += 1
                notes.append("%s: the app did not start: %s" % (where, one_line(e)))
                _recover(rig)
                continue
            if not fed:
                bricked += 1
                notes.append("%s: no feedback to a press" % where)
            if not _cued(rig, boot):
                uncued += 1
                notes.append("%s: no fault cue" % where)
            s = rig.session(10.0)
            try:
                checks = doctor.check_boot_files(s.call("acu.api", "status"))
            finally:
                s.close(restart=False)
            if not any(c.status == doctor.FAIL and c.detail.startswith(named + ":") for c in checks):
                unreported += 1
                said = "; ".join(c.detail for c in checks)[:160]
                notes.append("%s: doctor did not name %s (%s)" % (where, named, said))
        s = rig.session(10.0)
        _restore(s, good_routine)
        rig.restart_and_wait(s)
    except Exception as e:  # noqa: BLE001
        notes.append("boot faults: " + one_line(e))
    finally:
        rig.stop()
    log("boot faults: %d tried, %d bricked, %d unreported, %d without the fault cue"
        % (tried, bricked, unreported, uncued))
    return {"rel_boot_faults_tried": tried, "rel_boot_faults_bricked": bricked,
            "rel_boot_faults_unreported": unreported, "rel_boot_faults_uncued": uncued,
            "rel_boot_faults_rig_errors": errors,
            "_notes_boot": notes[:30]}


def _recover(rig: Rig) -> None:
    """After a case that bricked the app: a power cut, so the next case starts from a booted board."""
    b = rig.boot()
    rig.sim.power_cut(200)
    wait_for(lambda: rig.boot() > b, 20, "the board to boot again")
