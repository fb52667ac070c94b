"""The calibration on a device: write /cfg/calib.json atomically (the previous one kept), restore it, read the
one in use. Everything goes through a DeviceSession (host_tools/session.py).
"""
from __future__ import annotations

import json

from host_tools import strictjson
from host_tools.errors import AcuError, InputError
from host_tools.paths import ensure_device_importable

ensure_device_importable()
from acu import calib as dcal  # noqa: E402  (the device codec: one spec, one codec)

CALIB_PATH = "/cfg/calib.json"
PREV_PATH = "/cfg/calib.prev.json"


def validate_file_bytes(data: bytes, name: str) -> dict:
    try:
        d = strictjson.loads(data.decode("utf-8"))
        dcal.Calibration.from_dict(d)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"{name}: not valid JSON ({e})") from None
    except ValueError as e:
        raise InputError(f"{name}: {e}") from None
    return d


def write_calibration(session, d: dict, problems: list | None = None) -> dict | None:
    """Validate, then write /cfg/calib.json atomically, keeping the current one as calib.prev.json.
    Returns the calibration it replaced (None: there was none, or the old file was not valid: then
    problems, if given, gets the reason, so the caller never says "there was none" about a damaged one)."""
    data = (json.dumps(d, separators=(",", ":")) + "\n").encode()
    validate_file_bytes(data, "calibration")
    session.makedirs("/cfg")
    prev = None
    if session.exists(CALIB_PATH):
        old = session.read_file(CALIB_PATH)
        try:
            prev = validate_file_bytes(old, CALIB_PATH)
        except InputError as e:
            prev = None  # a damaged file is not worth keeping as "previous"
            if problems is not None:
                problems.append(str(e))
        if prev is not None:
            session.write_file_atomic(PREV_PATH, old)
    session.write_file_atomic(CALIB_PATH, data)
    return prev


def restore_calibration(session) -> dict:
    """Put calib.prev.json back; the replaced one becomes the new prev (restore is reversible)."""
    if not session.exists(PREV_PATH):
        raise AcuError(f"no previous calibration on the device ({PREV_PATH})")
    prev = session.read_file(PREV_PATH)
    d = validate_file_bytes(prev, PREV_PATH)
    cur = session.read_file(CALIB_PATH) if session.exists(CALIB_PATH) else None
    session.write_file_atomic(CALIB_PATH, prev)
    if cur is not None:
        session.write_file_atomic(PREV_PATH, cur)
    return d


def device_calibration(session, kind: str | None = None) -> dcal.Calibration:
    """The calibration the device uses: its calib.json if valid, else the board's nominal curve."""
    if session.exists(CALIB_PATH):
        try:
            cal = dcal.Calibration.from_dict(strictjson.loads(session.read_file(CALIB_PATH).decode()))
            if kind is None or cal.sensor == kind:
                return cal
        except (ValueError, UnicodeDecodeError):
            pass
    nom = session.hw_call("hw.nominal_calib")
    return dcal.Calibration.from_dict(nom)
