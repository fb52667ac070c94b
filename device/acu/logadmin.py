# The session logs' administration (format: docs/log-format.md, codec: acu.logfmt): the functions the
# host calls over the REPL (list_sessions, list_files, delete_session, info). They act on the Logger the
# app built (acu.logger.current()), if any. None of this sits in the running app's heap.
import os
import binascii

import acu
from acu import logfmt, logger, logrecover


def _root(root):
    if root:
        return root
    c = logger.current()
    return c.root if c is not None else logger.DEFAULT_ROOT


def _sha256_hex(path):
    import hashlib
    h = hashlib.sha256()
    buf = bytearray(1024)
    mv = memoryview(buf)
    with open(path, "rb") as f:
        while True:
            n = f.readinto(buf)
            if not n:
                break
            h.update(mv[0:n])
    return binascii.hexlify(h.digest()).decode()


def _open_name(root):
    c = logger.current()
    if c is not None and c.active and c.root == root:
        return c.name
    return None


def list_sessions(root=None, start=0, limit=0):
    """[{"name", "size", "sha256", "open"}] for the session files, oldest first; start/limit page through
    them (limit 0: all) so the answer fits a small heap however many sessions wait to be pulled."""
    root = _root(root)
    opened = _open_name(root)
    out = []
    names = logrecover.session_names(root)
    if limit:
        names = names[start:start + limit]
    elif start:
        names = names[start:]
    for name in names:
        path = acu.join(root, name)
        out.append({"name": name, "size": os.stat(path)[6], "sha256": _sha256_hex(path),
                    "open": name == opened})
    return out


def list_files(root=None, start=0, limit=20):
    """{"total", "files": [[name, size, open], ...]}: the session files without their hashes, a page at a
    time (the live link's `sessions`: cheap enough to answer during a practice)."""
    root = _root(root)
    opened = _open_name(root)
    names = logrecover.session_names(root)
    out = []
    for name in names[start:start + limit]:
        try:
            size = os.stat(acu.join(root, name))[6]
        except OSError:
            size = -1
        out.append([name, size, name == opened])
    return {"total": len(names), "start": start, "files": out}


def delete_session(name, sha256, root=None):
    """Remove a downloaded session; refuses a bad name, the open session or a hash mismatch."""
    root = _root(root)
    if not isinstance(name, str) or not logrecover.is_session_name(name):
        raise ValueError("delete_session: bad session name %r" % (name,))
    if name == _open_name(root):
        raise ValueError("delete_session: %s is the session being recorded" % name)
    path = acu.join(root, name)
    if name not in logrecover.session_names(root):
        raise ValueError("delete_session: %s not found" % name)
    actual = _sha256_hex(path)
    if actual != str(sha256).lower():
        raise ValueError("delete_session: %s hash mismatch, not deleted" % name)
    os.remove(path)
    c = logger.current()
    if c is not None:
        c.files_changed()
        if c.flash_low:
            free = c.free_bytes()
            if free is not None and free >= c.reserve_bytes:
                c.flash_low = False
    return True


def raise_next(n, root=None):
    """The host's archive holds this device's sessions below n: the next number is at least n (both counter
    files can be lost after every file was pulled: a re-format, a damaged flash). Returns the next number."""
    root = _root(root)
    n = int(n)
    if not 0 < n <= logfmt.MAX_SESSION_NO:
        raise ValueError("raise_next: %d is not a session number" % n)
    c = logger.current()
    # what the files and both counter copies allow, whatever the logger remembers; both copies rewritten
    # (one may be stale: the flash was full when the other was written)
    top = max(n, logrecover.scan(root, 0, bytearray(32))[1], c.session_no + 1 if c is not None else 1)
    logger.write_counter(root, top)
    if c is not None and not c.active:
        c.files_changed()
    return top


def info(root=None):
    """Counts and space for the host (JSON-able)."""
    root = _root(root)
    names = logrecover.session_names(root)
    total = 0
    for n in names:
        try:
            total += os.stat(acu.join(root, n))[6]
        except OSError:
            pass
    c = logger.current()
    free = c.free_bytes() if c is not None else logrecover.flash_bytes(root)[0]
    d = {"sessions": len(names), "bytes": total, "free_bytes": free,
         "reserve_bytes": c.reserve_bytes if c is not None else 65536,
         "flash_low": bool(c.flash_low) if c is not None else False,
         "first": names[0] if names else None, "last": names[-1] if names else None,
         "open": _open_name(root), "format_version": logfmt.VERSION}
    if c is not None:
        d["device_id"] = c.device_id
        d["boot_count"] = c.boot_count
        d["boot_id"] = c.boot_id
        d["next_session"] = c.next_session_no() if not c.active else c.session_no + 1
        d["write_errors"] = c.write_errors
        d["recovered"] = c.recovered
        if c.clock is not None:
            d["ticks_ms"] = c.clock.ticks_ms()
            d["wall_s"] = c.clock.wall_s()
    return d
