"""Pull practice sessions from a device into the archive.

New sessions only. The device keeps sessions in log files, one or more per file (it appends to its
newest file up to 32 KB); a file already archived with the same sha256 is not read again, a grown one is
read from where the archived copy ends. Each download is checked by length and the device's sha256 of
the whole file, split into sessions and decoded with the device's own codec (acu.logread), each session
stored in one transaction, then the file recorded as archived. Damage inside a file is skipped with a message and the
rest kept; a file that is not a log at all is skipped. `delete=True` removes a session from the device
only after it is committed and the archived bytes re-verified; the device checks the hash again.
Interrupted (cable pulled): committed sessions stay, a re-run resumes and duplicates nothing.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import time
from dataclasses import dataclass, field

from host_tools import holdpoint
from host_tools.archive import Archive, ArchiveServerError
from host_tools.errors import AcuError, DeviceError, LinkError
from host_tools.paths import ensure_device_importable

ensure_device_importable()
from acu import logfmt, logread  # noqa: E402

LOG_DIR = "/log"
_NAME = re.compile(r"^[0-9]{6}\.acl$")
_SHA = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class PullResult:
    new: list[str] = field(default_factory=list)         # sessions stored this time: "<file>" or "<file> #<no>"
    already: list[str] = field(default_factory=list)     # sessions in the archive before
    skipped: list[str] = field(default_factory=list)     # not stored (open, bad listing, not a log)
    deleted: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)    # one line each: what was skipped and why
    reconstructed: int = 0


LIST_PAGE = 12  # sessions per answer: a device's listing must fit its small heap


def list_device_sessions(session) -> list:
    """Every session file on the device, a page at a time."""
    listing: list = []
    while True:
        page = session.call("acu.logadmin", "list_sessions", None, len(listing), LIST_PAGE)
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


def pull(session, archive: Archive, delete: bool = False, progress=None, now=time.time,
         res: PullResult | None = None) -> PullResult:
    """res: a result to add to (a retry after a dropped link goes on filling the first attempt's)."""
    res = res if res is not None else PullResult()
    try:
        return _pull(session, archive, delete, progress, now, res)
    except ArchiveServerError as e:  # the server went away or refused: what was committed stays committed
        raise AcuError("%s; %d session(s) were stored before it, nothing was deleted from the device that was not "
                       "committed: run pull again" % (e, len(res.new))) from None
    except sqlite3.DatabaseError as e:
        gone = archive.moved_away()  # SQLite refuses writes to a file moved away: say what happened
        if gone:
            raise AcuError("%s; %d session(s) were stored before, nothing deleted from the device: run pull "
                           "again" % (gone, len(res.new))) from None
        if isinstance(e, sqlite3.OperationalError):
            raise  # locked, disk full, read-only: the CLI names each
        raise AcuError("the archive is damaged (%s); nothing deleted from the device: acutrainer archive "
                       "check, then archive rebuild --replace" % e) from None


def _pull(session, archive: Archive, delete: bool, progress, now, res: PullResult) -> PullResult:
    try:
        info = session.call("acu.logadmin", "info")
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
        archive.add_anchor(device_id, info["boot_count"], info["ticks_ms"], pulled_at, "pull", info.get("boot_id"))
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
            nos = archive.sessions_in_file(name, device_id)
            res.already.extend([name] if len(nos) <= 1 else ["%s #%d" % (name, n) for n in nos])
            deletable.append((name, sha))
            continue
        # the device appends sessions to its newest file: fetch only what follows the archived copy
        have = archive.file_bytes(device_id, name) or b""
        if len(have) >= e["size"]:
            have = b""
        try:
            try:
                data = session.read_file("%s/%s" % (LOG_DIR, name), have=have)
            except LinkError:
                if not have:
                    raise
                data = session.read_file("%s/%s" % (LOG_DIR, name))  # the start changed too: all of it
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
            parts = logread.split_sessions(data)
        except logread.LogFormatError as err:
            res.skipped.append(name)
            res.messages.append("%s: skipped, %s" % (name, err))
            continue
        for _start, _end, blob in parts:
            decoded = logread.decode_session(blob)
            hdr = decoded["session"]
            label = name if len(parts) == 1 else "%s #%s" % (name, hdr["session_no"] if hdr else "?")
            if hdr is None and len(parts) > 1:
                res.messages.append("%s: %d bytes of a session whose header is damaged, skipped"
                                    % (name, len(blob) - logfmt.FILE_HEADER_LEN))
                continue
            for p in decoded["problems"]:
                if p.startswith("no session end record") and decoded["end"] is None:
                    p = "no end record (closed at the device's next boot); stored as is"
                res.messages.append("%s: %s (the rest kept)" % (label, p))
            _sid, inserted = archive.store(decoded, blob, name, device_id=device_id, pulled_at=pulled_at)
            if inserted:
                res.new.append(label)
                holdpoint.reached("pull.stored")
                if progress:
                    progress(label)
            else:
                res.already.append(label)  # stored from this file's shorter copy at an earlier pull
        archive.store_file(device_id, name, data, pulled_at)
        deletable.append((name, sha))
    res.reconstructed = archive.reconstruct_wall()
    gone = archive.moved_away()
    if gone:  # the sessions went into a file no longer at the archive's path: keep the device's copies
        raise AcuError("%s; the sessions of this pull are not in the archive there, nothing deleted from "
                       "the device: run pull again" % gone)
    if delete and deletable:
        bad = archive.integrity_problems()
        if bad:  # never delete a device's copy into an archive that may not hold it
            res.messages.append("the archive fails its integrity check (%s): nothing deleted from the "
                                "device; run acutrainer archive check" % bad[0][:80])
            delete = False
    if delete:
        for name, sha in deletable:
            gone = archive.moved_away()
            if gone:
                raise AcuError("%s; %d session file(s) were deleted from the device before, the rest kept: "
                               "run pull again" % (gone, len(res.deleted)))
            if archive.raw_sha(sha) != sha:  # re-verify what was committed before touching the device
                res.messages.append("%s: archived copy does not verify, not deleted" % name)
                continue
            holdpoint.reached("pull.delete")
            try:
                session.call("acu.logadmin", "delete_session", name, sha)
                res.deleted.append(name)
            except DeviceError as err:
                res.messages.append("%s: not deleted (%s)" % (name, err))
    _raise_device_counter(session, archive, device_id, res)
    return res


def _raise_device_counter(session, archive: Archive, device_id: str, res: PullResult) -> None:
    """The archive holds this device's sessions up to some number: its next number is at least one more.
    Keeps numbers unique even when the device lost both counter files after its files were pulled."""
    if not device_id:
        return
    top = archive.max_session_no(device_id)
    if top <= 0 or top >= logfmt.MAX_SESSION_NO:
        return
    try:
        session.call("acu.logadmin", "raise_next", top + 1)
    except DeviceError as err:  # an older firmware: its own counters only
        res.messages.append("the device's session counter was not checked against the archive (%s)" % err)
