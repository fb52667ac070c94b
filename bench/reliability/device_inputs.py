"""Bad input that comes from a device: not our firmware, a second host, corrupt logs, a full flash. The CLI
runs as a subprocess; a traceback, a multi-line error or a wrong exit code counts as crashed."""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
from pathlib import Path

from host_tools.archive import Archive
from host_tools.pull import list_device_sessions

from .common import BIN, SHORT_ROUTINE, Rig, archive_numbers, make_sessions, one_line


def _cli_sub(args: list[str], timeout_s: float = 60) -> tuple[int, str, str]:
    try:
        r = subprocess.run([str(BIN / "acutrainer")] + args, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return -9, "", "timed out"
    return r.returncode, r.stdout, r.stderr


class _Tally:
    def __init__(self):
        self.tried = self.crashed = 0
        self.notes: list[str] = []

    def run(self, what: str, args: list[str], expect_ok: bool | None = None, must_say: str | None = None):
        rc, out, err = _cli_sub(args)
        self.tried += 1
        e = err.strip()
        # `doctor` is a report: its findings on stdout and exit 1 are its answer to a board with a problem
        one_line_error = args[0] == "doctor" or (e and "\n" not in e)
        bad = "Traceback" in err or rc < 0 or (rc != 0 and not one_line_error)
        if expect_ok is True and rc != 0 or expect_ok is False and rc == 0:
            bad = True
        if must_say and must_say not in (e + out).lower():
            bad = True
        if bad:
            self.crashed += 1
            self.notes.append("%s: rc %s: %s" % (what, rc, (e or out.strip())[-200:].replace("\n", " | ")))
        return rc, out, err


def scenario_device_bad_inputs(work: Path, seed: int = 13, blank_only: bool = False) -> dict:
    rng = random.Random(seed)
    t = _Tally()
    routine_file = work / "devbad-routine.json"
    routine_file.write_text(json.dumps(SHORT_ROUTINE))
    # 1. a blank board: bare MicroPython, not our firmware: every command says so in one line
    blank = Rig(work, "rel-blank", seed=seed)
    try:
        blank.start()
        p = blank.port
        blank_arc = str(work / "blank.sqlite")
        for args in (["status", "--port", p], ["pull", "--port", p, "--archive", blank_arc],
                     ["routine", "push", str(routine_file), "--port", p], ["routine", "list", "--port", p],
                     ["check", "--weight", "4", "--port", p], ["sync", "--port", p],
                     ["doctor", "--port", p], ["sessions", "--archive", blank_arc]):
            dev = args[0] not in ("sessions", "doctor")  # doctor lists its findings; sessions is host-only
            t.run("blank board: " + args[0], args, expect_ok=False if args[0] != "sessions" else None,
                  must_say="not our firmware" if dev else None)
    except Exception as e:  # noqa: BLE001
        t.notes.append("blank board: " + one_line(e))
    finally:
        blank.stop()
    if blank_only:
        return {"rel_device_bad_inputs_tried": t.tried, "rel_device_bad_inputs_crashed": t.crashed,
                "_notes_devbad": t.notes[:20]}
    # 2. a second host while one holds the port; 3. corrupt log files; 4. a full flash
    # 128 blocks (512 KB): the firmware, the corrupt files and a few dozen sessions, then full
    rig = Rig(work, "rel-full", seed=seed + 1, flash_blocks=128)
    try:
        rig.start()
        rig.deploy()
        p = rig.port
        holder = rig.session(10.0)
        try:
            for args in (["status", "--port", p], ["pull", "--port", p, "--archive", str(rig.archive_path)]):
                t.run("second host: " + args[0], args, expect_ok=False)
        finally:
            holder.close(restart=False)
        s = rig.session(10.0)
        try:
            mk = make_sessions(s, 2, 20000)
            # a good log file to corrupt: the newest (sessions share a file up to 32 KB: docs/log-format.md)
            good = s.read_file("/log/" + max(e["name"] for e in list_device_sessions(s)))
            corrupt = set(range(mk["next"], mk["next"] + 6))
            for i in range(6):
                b = bytearray(good)
                if i == 0:
                    b = bytearray(os.urandom(200))
                elif i == 1:
                    b = b[:rng.randrange(1, 20)]
                else:
                    for _ in range(rng.randint(1, 6)):
                        b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
                s.write_file_atomic("/log/%06d.acl" % (mk["next"] + i), bytes(b))
            s.exec("from acu import logger as _L\n_L.write_counter('/log', %d)\n" % (mk["next"] + 6))
        finally:
            s.close(restart=False)
        t.run("corrupt logs: pull", ["pull", "--port", p, "--archive", str(rig.archive_path)], expect_ok=True)
        t.run("corrupt logs: sessions", ["sessions", "--archive", str(rig.archive_path)], expect_ok=True)
        t.run("corrupt logs: export", ["export", "--archive", str(rig.archive_path), "--out", str(work / "devbad-exp")])
        # fill the flash with sessions: the logger stops starting new ones, nothing is deleted
        s = rig.session(10.0)
        try:
            before = {e["name"]: (e["sha256"], e["size"]) for e in list_device_sessions(s)}
            made = 0
            for _ in range(200):
                mk = make_sessions(s, 4, 120000)
                if mk["full"]:
                    break
            made = mk["next"]
            after = {e["name"]: e["sha256"] for e in list_device_sessions(s)}
            # the newest file takes the next sessions (one file holds sessions up to 32 KB): a file that
            # changed must still begin with all it held
            lost = [n for n, (h, size) in before.items() if after.get(n) != h and (
                n not in after or hashlib.sha256(s.read_file("/log/" + n)[:size]).hexdigest() != h)]
        finally:
            s.close(restart=True)
        t.tried += 1
        if lost or not mk["full"]:
            t.crashed += 1
            t.notes.append("full flash: full=%s, changed/lost %s" % (mk["full"], lost[:3]))
        rig.wait_app(rig.boot(), 30)
        rc, out, err = t.run("full flash: status", ["status", "--port", p, "--json"], expect_ok=True)
        rc, pull_out, _ = t.run("full flash: pull --delete",
                                ["pull", "--port", p, "--archive", str(rig.archive_path), "--delete"], expect_ok=True)
        with Archive(rig.archive_path) as arc:
            nos = set(archive_numbers(arc))
        t.tried += 1
        missing = [n for n in range(1, made) if n not in nos and n not in corrupt]
        if missing:
            t.crashed += 1
            said = [ln for ln in pull_out.splitlines() if "%06d" % missing[0] in ln]
            t.notes.append("full flash: %d session(s) not pulled, e.g. %s (pull said: %s)"
                           % (len(missing), missing[:3], " | ".join(said)[:200] or "nothing"))
        t.run("after full flash: pull", ["pull", "--port", p, "--archive", str(rig.archive_path)], expect_ok=True)
    except Exception as e:  # noqa: BLE001  (the scenario could not finish: counted, never a quiet pass)
        t.tried += 1
        t.crashed += 1
        t.notes.append("device bad inputs: " + one_line(e))
    finally:
        rig.stop()
    return {"rel_device_bad_inputs_tried": t.tried, "rel_device_bad_inputs_crashed": t.crashed,
            "_notes_devbad": t.notes[:20]}
