"""Study mode (docs/study.md): pseudonymous participants, their arms, which device each had when, and the arm a
device actually ran.

The arm is applied on the device through its settings (`arm`, device/acu/arms.py): 0 normal feedback, 1
feedback off, 2 sham band. Every session a device records in arm 1 or 2 holds an `arm` event (14) at its
start, so the archive can compare what ran with what the enrolment says (a setting changed by hand is flagged).
"""
from __future__ import annotations

import json
import re
import time

from host_tools.errors import DeviceError, InputError

ARMS = {"feedback": 0, "no_feedback": 1, "sham_band": 2}  # arm name -> the device's setting
ARM_NAMES = {v: k for k, v in ARMS.items()}
SETTINGS_PATH = "/cfg/settings.json"

# a pseudonymous id: 1-32 of letters, digits, '-', '_', '.', starting with a letter or digit, with at least one
# digit (P001, S2-017): a name ("Alice", "Jane Doe") or an e-mail address is refused
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")


def check_participant(pid: str) -> str:
    """pid if it is a pseudonymous id (the rule above), else InputError saying why."""
    shown = pid if len(pid) <= 40 else pid[:37] + "..."
    if "@" in pid:
        raise InputError("participant %r looks like an e-mail address: use a pseudonymous id such as P001 "
                         "(docs/study.md, Participants)" % shown)
    if any(c.isspace() for c in pid):
        raise InputError("participant %r has spaces (a name?): use a pseudonymous id such as P001 "
                         "(docs/study.md, Participants)" % shown)
    if not _ID.match(pid) or not any(c.isdigit() for c in pid):
        raise InputError("participant %r: a pseudonymous id is 1-32 letters, digits, '-', '_' or '.', with at "
                         "least one digit, such as P001 (docs/study.md, Participants)" % shown)
    return pid


def check_arm(arm: str) -> str:
    if arm not in ARMS:
        raise InputError("arm %r: one of %s" % (arm[:40], ", ".join(ARMS)))
    return arm


def set_device_arm(session, arm: str) -> dict:
    """Write the arm into the device's settings (the other keys kept), atomically. Returns the new settings.
    The device applies it at its next start (the session restarts the app when it closes)."""
    settings: dict = {}
    if session.exists(SETTINGS_PATH):
        from host_tools import strictjson
        try:
            settings = strictjson.loads(session.read_file(SETTINGS_PATH).decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            raise DeviceError("device: %s is not valid JSON (%s): fix or remove it first (acutrainer doctor)"
                              % (SETTINGS_PATH, str(e)[:80])) from None
        if not isinstance(settings, dict):
            raise DeviceError("device: %s is not a JSON object: fix or remove it first (acutrainer doctor)"
                              % SETTINGS_PATH)
    if ARMS[arm]:
        settings["arm"] = ARMS[arm]
    else:
        settings.pop("arm", None)  # the normal arm is the default
    session.makedirs("/cfg")
    session.write_file_atomic(SETTINGS_PATH, json.dumps(settings, sort_keys=True).encode())
    return settings


def connected_device(conn) -> str:
    """The connected device's id, from the running app's hello (the app is started if the board sat at its REPL)."""
    hello = conn.start_app()
    dev = hello.get("device_id")
    if not isinstance(dev, str) or not dev:
        raise DeviceError("device: its hello has no device id (an older firmware?): acutrainer deploy")
    return dev


def status(arc, now_s: float | None = None) -> dict:
    """What `study status` shows: the study, and per participant their arm, devices, sessions so far, the last
    one, and the sessions whose device ran another arm than the enrolment's."""
    now_s = time.time() if now_s is None else now_s
    enrolments = arc.enrolments()
    ran = arc.device_arms()
    by: dict = {p["participant"]: dict(p, devices=[], open_device=None, sessions=0, last_s=None, wrong_arm=[])
                for p in arc.participants()}
    for e in enrolments:
        p = by.get(e["participant"])
        if p is None:
            continue
        if e["device_id"] not in p["devices"]:
            p["devices"].append(e["device_id"])
        if e["end_s"] is None:
            p["open_device"] = e["device_id"]
    sessions = arc.sessions()
    for s in sessions:
        p = by.get(s.get("participant"))
        if p is None:
            continue
        p["sessions"] += 1
        if s["wall_start_s"] is not None and (p["last_s"] is None or s["wall_start_s"] > p["last_s"]):
            p["last_s"] = s["wall_start_s"]
        got = ran.get(s["id"], 0)
        if got != ARMS.get(p["arm"], 0):
            p["wrong_arm"].append((s["id"], s["device_id"], ARM_NAMES.get(got, "unknown(%d)" % got)))
    unattributed = sum(1 for s in sessions if s.get("participant") is None)
    return {"study": arc.study_info(), "participants": list(by.values()), "unattributed": unattributed,
            "now_s": int(now_s)}
