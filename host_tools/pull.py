"""Pull practice sessions from a device into the archive (issue 5).

New sessions only (by sha256), each downloaded with a length + hash check, decoded with the device's own
codec (acu.logfmt), stored in one transaction. Damage inside a file is skipped with a message and the
rest kept; a file that is not a log at all is skipped. `delete=True` removes a session from the device
only after it is committed and the archived bytes re-verified; the device checks the hash again.
Interrupted (cable pulled): committed sessions stay, a re-run resumes and duplicates nothing.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass, field

from host_tools.archive import Archive
from host_tools.errors import DeviceError, LinkError
from host_tools.paths import ensure_device_importable

ensure_device_importable()
from acu import logfmt  # noqa: E402

LOG_DIR = "/log"
_NAME = re.compile(r"^[0-9]{6}\.acl$")
_SHA = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class PullResult:
    new: list[str] = field(default_factory=list)         # file names stored this time
    already: list[str] = field(default_factory=list)     # in the archive before
    skipped: list[str] = field(default_factory=list)     # not stored (open, bad listing, not a log)
    deleted: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)    # one line each: what was skipped and why
    reconstructed: int = 0


LIST_PAGE = 12  # sessions per answer: a device's listing must fit its small heap


def list_device_sessions(session) -> list:
    """Every session file on the device, a page at a time."""
    listing: list = []
    while True:
        page = session.call("acu.logger", "list_sessions", None, len(listing), LIST_PAGE)
        if not isinstance(page, list):
            raise DeviceError("device: list_sessions answered %r, not a list (an older firmware?)" % str(page)[:60])
        listing.extend(page)
        if len(page) < LIST_PAGE:
            return listing


def _valid_entry(e) -> str | None:
    """None if a listing entry from the device is well-formed, else why not."""
    if not isinstance(e, dict):
        return "not an object"
    name = e.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        return "bad file name %r" % (str(name)[:40],)
    if not isinstance(e.get("size"), int) or isinstance(e.get("size"), bool) or e["size"] < 0:
        return "%s: bad size" % name
    if not isinstance(e.get("sha256"), str) or not _SHA.match(e["sha256"]):
        return "%s: bad sha256" % name
    return None


def pull(session, archive: Archive, delete: bool = False, progress=None, now=time.time) -> PullResult:
    res = PullResult()
    try:
        info = session.call("acu.logger", "info")
    except DeviceError as exc:
        info = {}
        res.messages.append("device info unavailable (%s): times cannot be reconstructed from this pull" % exc)
    if not isinstance(info, dict):
        info = {}
    listing = list_device_sessions(session)
    pulled_at = int(now())
    device_id = info.get("device_id")
    if not isinstance(device_id, str):
        device_id = ""
    if device_id and isinstance(info.get("boot_count"), int) and isinstance(info.get("ticks_ms"), int):
        archive.add_anchor(device_id, info["boot_count"], info["ticks_ms"], pulled_at, "pull")
    deletable: list[tuple[str, str]] = []
    for e in listing:
        why = _valid_entry(e)
        if why:
            res.skipped.append(str(e.get("name") if isinstance(e, dict) else e)[:40])
            res.messages.append("skipped a device entry: %s" % why)
            continue
        name, sha = e["name"], e["sha256"]
        if e.get("open"):
            res.skipped.append(name)
            res.messages.append("%s: still being recorded, left for the next pull" % name)
            continue
        if archive.has_sha(sha):
            res.already.append(name)
            deletable.append((name, sha))
            continue
        try:
            data = session.read_file("%s/%s" % (LOG_DIR, name))
        except LinkError as err:
            raise LinkError("%s; %d new session(s) were stored before it, run pull again to resume"
                            % (err, len(res.new))) from None
        except DeviceError as err:
            res.skipped.append(name)
            res.messages.append("%s: could not be read (%s), skipped" % (name, err))
            continue
        if len(data) != e["size"] or hashlib.sha256(data).hexdigest() != sha:
            res.skipped.append(name)
            res.messages.append("%s: changed on the device while pulling (size/hash differ), skipped" % name)
            continue
        try:
            decoded = logfmt.decode_session(data)
        except logfmt.LogFormatError as err:
            res.skipped.append(name)
            res.messages.append("%s: skipped, %s" % (name, err))
            continue
        for p in decoded["problems"]:
            if p.startswith("no session end record") and decoded["end"] is None:
                p = "no end record (closed at the device's next boot); stored as is"
            res.messages.append("%s: %s (the rest kept)" % (name, p))
        archive.store(decoded, data, name, device_id=device_id, pulled_at=pulled_at)
        res.new.append(name)
        deletable.append((name, sha))
        if progress:
            progress(name)
    res.reconstructed = archive.reconstruct_wall()
    if delete:
        for name, sha in deletable:
            if archive.raw_sha(sha) != sha:  # re-verify what was committed before touching the device
                res.messages.append("%s: archived copy does not verify, not deleted" % name)
                continue
            try:
                session.call("acu.logger", "delete_session", name, sha)
                res.deleted.append(name)
            except DeviceError as err:
                res.messages.append("%s: not deleted (%s)" % (name, err))
    return res
