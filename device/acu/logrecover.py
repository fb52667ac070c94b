# The boot-time recovery of the session logs (format: docs/log-format.md, codec: acu.logfmt): remove stale
# .tmp files, drop a torn tail, close a session a power cut left open; and the scan of the files the logger
# needs before its next session (the newest file, the counter); the listing of the session files the host's
# calls use too (acu.logadmin). Logger.recover() loads this module for that call only (acu.call), so its code
# never sits in the running app's heap.
import os
import binascii
import struct

import acu
from acu import logfmt

_END_REC_LEN = logfmt.END_REC_LEN
_SUM_STATUS = 42  # a step summary's status byte (versions 1-3; version 3 adds a flags byte after it)


def flash_bytes(root):
    """(free, total) bytes of the filesystem holding root, None where it cannot tell. LittleFS counts the
    blocks in use best-effort (blocks shared copy-on-write count twice): on a full or a small flash the count
    can pass the total, and f_bavail (unsigned) wraps to ~2**32 blocks, "16 PB free". That free count is
    unknown (None), not 0: the flash may still take writes, and a write that fails is counted and cued."""
    try:
        st = os.statvfs(root)
    except (OSError, AttributeError):
        return None, None
    bsize, blocks, avail = st[0], st[2], st[4]
    return (bsize * avail if 0 <= avail <= blocks else None), bsize * blocks


def is_session_name(name):
    """A session file's name: six digits and logfmt.SUFFIX."""
    if len(name) != 6 + len(logfmt.SUFFIX) or not name.endswith(logfmt.SUFFIX):
        return False
    for c in name[:6]:
        if c < "0" or c > "9":
            return False
    return True


def session_names(root):
    """The session files' names in root, oldest first (the recovery and the host's calls)."""
    try:
        names = os.listdir(root)
    except OSError:
        return []
    out = [n for n in names if is_session_name(n) and not _is_dir(acu.join(root, n))]
    out.sort()
    return out


def _is_dir(path):
    """A folder where a session file belongs (the logger, the host's listing and pull skip it; recover()
    sets it aside)."""
    try:
        return (os.stat(path)[0] & 0x4000) != 0
    except OSError:
        return False


def _t_of(rtype, payload, trace):
    """The latest session time (ms) a record tells about, or -1. trace = [end_ms, period_ms, version]: the
    last trace chunk's end and period (the session header's period to start with), the file's version."""
    n = len(payload)
    if rtype in (logfmt.T_STEP_BEGIN, logfmt.T_STEP_SUMMARY) and n >= 6:
        return struct.unpack_from("<I", payload, 2)[0]
    if rtype == logfmt.T_TRACE and n >= logfmt.TRACE_HEAD_LEN:
        t0, period, q, count = struct.unpack_from("<IHBH", payload, 0)
        trace[0] = t0 + period * count
        trace[1] = period
        return trace[0]
    if rtype == logfmt.T_TRACE_CONT and trace[1]:
        if trace[2] >= 3 and n >= logfmt.CONT_HEAD_LEN:  # its own start, the session's period
            t0, count = struct.unpack_from(logfmt.CONT_FMT, payload, 0)
            trace[0] = t0 + trace[1] * count
        elif trace[2] < 3 and n >= 2:  # version 2: on from the chunk it continues
            trace[0] += trace[1] * struct.unpack_from("<H", payload, 0)[0]
        else:
            return -1
        return trace[0]
    if rtype in (logfmt.T_EVENT, logfmt.T_SESSION_END) and n >= 4:
        return struct.unpack_from("<I", payload, 0)[0]
    return -1


def walk_file(path):
    """Stream a log file record by record (low RAM: one record buffer) and report its state:
    {"size", "valid_end", "bad_at" (offset of the first bad record or None), "has_header", "has_end",
     "last_seq", "last_t_ms", "steps_done", "magic_ok", "sessions", "boot_count", "last_no"}. A file holds one or
    more sessions back to back: has_end, last_t_ms, steps_done and boot_count are those of the last one."""
    res = {"size": 0, "valid_end": 0, "bad_at": None, "has_header": False, "has_end": False,
           "last_seq": -1, "last_t_ms": 0, "steps_done": 0, "magic_ok": False, "sessions": 0,
           "boot_count": 0, "last_no": 0}  # type: dict
    try:
        res["size"] = os.stat(path)[6]
    except OSError:
        return res
    head = bytearray(logfmt.REC_HEAD_LEN)
    body = bytearray(logfmt.MAX_PAYLOAD + logfmt.REC_CRC_LEN)
    with open(path, "rb") as f:
        fh = f.read(logfmt.FILE_HEADER_LEN)
        if len(fh) < logfmt.FILE_HEADER_LEN or bytes(fh[0:6]) != logfmt.MAGIC:
            res["bad_at"] = 0
            return res
        res["magic_ok"] = True
        pos = logfmt.FILE_HEADER_LEN
        res["valid_end"] = pos
        size = res["size"]
        mv = memoryview(body)
        trace = [0, 0, fh[6]]
        while pos < size:
            if f.readinto(head) != logfmt.REC_HEAD_LEN:
                res["bad_at"] = pos
                break
            n, rtype, seq = struct.unpack_from("<HBH", head, 0)
            if n > logfmt.MAX_PAYLOAD:
                res["bad_at"] = pos
                break
            want = n + logfmt.REC_CRC_LEN
            if f.readinto(mv[0:want]) != want:
                res["bad_at"] = pos
                break
            crc = binascii.crc32(mv[0:n], binascii.crc32(head)) & 0xFFFFFFFF
            if crc != struct.unpack_from("<I", body, n)[0]:
                res["bad_at"] = pos
                break
            pos += logfmt.REC_HEAD_LEN + want
            res["valid_end"] = pos
            res["last_seq"] = seq
            payload = bytes(mv[0:n])
            if rtype == logfmt.T_SESSION:  # the next session of the file: its own times and counts
                res["has_header"] = True
                res["sessions"] += 1
                if n >= 4:
                    res["last_no"] = struct.unpack_from("<I", payload, 0)[0]
                res["has_end"] = False
                res["last_t_ms"] = 0
                res["steps_done"] = 0
                trace[0] = 0
                trace[1] = struct.unpack_from("<H", payload, 20)[0] if n >= 22 else 0  # trace_period_ms
                res["boot_count"] = struct.unpack_from("<I", payload, 4)[0] if n >= 8 else 0
            t = _t_of(rtype, payload, trace)
            if t > res["last_t_ms"]:
                res["last_t_ms"] = t
            if rtype == logfmt.T_SESSION_END:
                res["has_end"] = True
            elif rtype == logfmt.T_STEP_SUMMARY and n > _SUM_STATUS and payload[_SUM_STATUS] == logfmt.STEP_DONE:
                res["steps_done"] += 1
        if res["bad_at"] is not None and not res["has_end"] and size - res["bad_at"] > _END_REC_LEN:
            # damage inside the file: a session end record written after it (an earlier recovery) counts
            f.seek(size - _END_REC_LEN)
            tail = f.read(_END_REC_LEN)
            r = logfmt.parse_record_at(tail, 0)
            if not isinstance(r, str) and r[0] == logfmt.T_SESSION_END and r[4] == _END_REC_LEN:
                res["has_end"] = True
    return res


def _valid_record_after(path, bad_at):
    """True if a valid record starts anywhere after bad_at (then the damage is not a torn tail)."""
    with open(path, "rb") as f:
        f.seek(bad_at)
        tail = f.read(logfmt.MAX_BATCH + 1)
    for p in range(1, len(tail) - logfmt.REC_OVERHEAD + 1):
        if not isinstance(logfmt.parse_record_at(tail, p), str):
            return True
    return False


def _last_name(root):
    """The newest session file's name, or None (one directory read)."""
    last = None
    try:
        names = os.listdir(root)
    except OSError:
        return None
    for n in names:
        if (last is None or n > last) and is_session_name(n) and not _is_dir(acu.join(root, n)):
            last = n
    return last


def last_boot_count(root):
    """The boot count in the newest session file's last header (0 when there is none): where a damaged
    boot counter goes on from (acu.appcfg), so the counts the host dates undated sessions by do not repeat."""
    last = _last_name(root)
    return 0 if last is None else walk_file(acu.join(root, last))["boot_count"]


def _read_number(path):
    """The number in a counter file, or 0 when it is missing, not a number, or out of 1..MAX_SESSION_NO
    (damage: 2**32 - 1 would wrap the header's u32 to 0 and name no six-digit file)."""
    try:
        with open(path) as f:
            n = int(f.read(12).strip() or 0)
    except (OSError, ValueError):
        return 0
    return n if 0 < n <= logfmt.MAX_SESSION_NO else 0


def _read_counter(root):
    # both copies: one lost, emptied or garbled file cannot bring back used numbers
    return max(_read_number(acu.join(root, logfmt.COUNTER)), _read_number(root.rstrip("/") + logfmt.COUNTER_TWIN))


def _set_aside(path, what):
    from acu import cfgfile
    cfgfile.set_aside(path, what)


def _check_counter(root):
    """The counter file (the next session number) at boot: a damaged one is set aside and named (the numbers
    then go on from the newest file's, and may repeat numbers already pulled and deleted)."""
    path = acu.join(root, logfmt.COUNTER)
    try:
        os.stat(path)
    except OSError:
        return
    if _is_dir(path):
        _set_aside(path, "a folder, not the session counter")
        return
    try:
        with open(path, "rb") as f:
            t = f.read(24).decode().strip()
        if not t.isdigit() or len(t) > 9:
            raise ValueError
    except (OSError, ValueError):
        _set_aside(path, "not a session number; numbering goes on from the newest log file")


def _appendable(path, volume_bytes, buf):
    """The file's size if the next session may go on its end (this format version, smaller than
    volume_bytes, its last record a whole session end: recover() closed any open session), else -1.
    Reads into buf (>= 29 bytes) rather than new bytes objects."""
    hl = logfmt.FILE_HEADER_LEN
    try:
        size = os.stat(path)[6]
        if size >= volume_bytes or size < hl + logfmt.END_REC_LEN:
            return -1
        mv = memoryview(buf)
        with open(path, "rb") as f:
            if f.readinto(mv[0:hl]) != hl:
                return -1
            f.seek(size - logfmt.END_REC_LEN)
            if f.readinto(mv[hl:hl + logfmt.END_REC_LEN]) != logfmt.END_REC_LEN:
                return -1
    except OSError:
        return -1
    h = logfmt.FILE_HEADER
    for i in range(hl):
        if buf[i] != h[i]:
            return -1
    r = logfmt.parse_record_at(buf, hl)
    return size if not isinstance(r, str) and r[0] == logfmt.T_SESSION_END and r[4] == hl + logfmt.END_REC_LEN \
        else -1


def scan(root, volume_bytes, buf):
    """What the logger's next begin_session needs to know about the files in root: (the newest session
    file's name or None, the lowest next number the counter files and the newest file's session headers
    allow, or 0, that file's size if a session may be appended to it or -1). buf: >= 29 bytes to read into
    (the logger's idle trace buffer)."""
    last = _last_name(root)
    size = -1 if last is None else _appendable(acu.join(root, last), volume_bytes, buf)
    counter = _read_counter(root)
    if last is not None:
        # the newest file's last session header: its name gives only its first session's number
        no = walk_file(acu.join(root, last))["last_no"]
        if 0 < no <= logfmt.MAX_SESSION_NO and no + 1 > counter:
            counter = no + 1
    return last, counter, size


def recover(root, volume_bytes, buf):
    """Logger.recover(): remove stale .tmp files, drop a torn tail, close sessions left open (cut short).
    Returns ([{"name", "action"}], then scan()'s three figures)."""
    done = []
    moved = _not_a_folder(root)
    if moved:
        done.append({"name": root, "action": moved})
    try:
        names = os.listdir(root)
    except OSError:
        acu.makedirs(root)
        names = []
    for n in names:
        if n.endswith(".tmp"):
            try:
                os.remove(acu.join(root, n))
            except OSError:
                pass
        elif is_session_name(n) and _is_dir(acu.join(root, n)):
            _set_aside(acu.join(root, n), "a folder, not a session file")
    _check_counter(root)
    for name in session_names(root)[-2:]:  # only the newest sessions can have been open at a power cut
        act = _recover_file(root, name)
        if act:
            done.append({"name": name, "action": act})
    return (done,) + scan(root, volume_bytes, buf)


def _not_a_folder(root):
    """The log folder's path holds a file (a host's mistake, a damaged flash): move it aside, kept for a
    look, so the sessions have a folder again. Returns what was done, or None."""
    try:
        if os.stat(root)[0] & 0x4000:  # S_IFDIR
            return None
    except OSError:
        return None  # missing: recover() makes it
    for i in range(10):
        bad = root.rstrip("/") + (".bad" if i == 0 else ".bad%d" % i)
        try:
            os.stat(bad)
            continue
        except OSError:
            pass
        try:
            os.rename(root, bad)
        except OSError:
            return "is a file and cannot be moved aside: sessions cannot be recorded"
        acu.makedirs(root)
        return "was a file: moved to %s, a new log folder made" % bad
    return "is a file (and %s.bad..bad9 exist): sessions cannot be recorded" % root.rstrip("/")


def _recover_file(root, name):
    path = acu.join(root, name)
    w = walk_file(path)
    if w["has_end"] and w["bad_at"] is None:
        return None
    torn = w["bad_at"] is not None and w["size"] - w["bad_at"] <= logfmt.MAX_BATCH and \
        not _valid_record_after(path, w["bad_at"])
    empty = w["bad_at"] is None and w["valid_end"] <= logfmt.FILE_HEADER_LEN  # file header, no record
    if not w["magic_ok"] or not w["has_header"]:
        if torn or empty or w["size"] < logfmt.FILE_HEADER_LEN:
            # power cut while the file was being created: no session was recorded in it
            os.remove(path)
            return "removed (no session header)"
        if not w["magic_ok"]:
            return "left as is (not a session log)"
    end = bytearray(_END_REC_LEN)
    logfmt.put_end(end, logfmt.REC_HEAD_LEN, w["last_t_ms"], logfmt.END_CUT_SHORT, w["steps_done"], 0, 0)
    logfmt.seal_in_place(end, 0, logfmt.T_SESSION_END, w["last_seq"] + 1, logfmt.END_LEN)
    if torn:
        tmp = path + ".tmp"
        buf = bytearray(512)
        left = w["valid_end"]
        try:
            with open(path, "rb") as src, open(tmp, "wb") as dst:
                while left > 0:
                    k = src.readinto(buf)
                    if not k:
                        break
                    k = min(k, left)
                    dst.write(memoryview(buf)[0:k])
                    left -= k
                if not w["has_end"]:
                    dst.write(end)
            os.rename(tmp, path)
        except OSError:  # flash full: leave the file (the decoder skips a torn tail; no session is appended)
            try:
                os.remove(tmp)
            except OSError:
                pass
            return "torn tail left in place (no room to rewrite the file)"
        if w["has_end"]:
            return "torn tail dropped (%d bytes)" % (w["size"] - w["valid_end"])
        return "torn tail dropped (%d bytes), closed as cut short" % (w["size"] - w["valid_end"])
    if w["has_end"]:
        return None  # damage inside a closed session: the host's decoder skips it
    with open(path, "ab") as f:
        f.write(end)
    return "closed as cut short"
