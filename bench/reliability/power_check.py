"""What the device must still hold after power cuts, and the check of what it holds (docs/reliability.md:
a finished session is never lost, a session cut short is closed and marked, settings are the old or the
new version, never a mix)."""

from __future__ import annotations

from pathlib import Path

from host_tools.archive import Archive
from host_tools.paths import ensure_device_importable

from .common import sha
from .firmware import firmware_shas

ensure_device_importable()
from acu import logfmt, logread  # noqa: E402


class CutState:
    """What the device must still hold: finished sessions by name -> sha256, config file versions."""

    def __init__(self):
        self.sessions: dict[str, str] = {}   # log file -> sha256 of its finished sessions' bytes
        self.finished: dict[str, bytes] = {}  # log file -> those bytes (the device only appends after them)
        self.allowed: dict[str, set[str]] = {}   # path -> the shas it may have after the next cut
        self.cuts = 0
        self.losses = 0
        self.damaged = 0
        self.marked_cut_short = 0
        self.boot_failures = 0
        self.config_torn = 0
        self.tmp_left = 0
        self.checks = 0
        self.open_at_check = 0
        self.kinds: dict[str, int] = {}
        self.notes: list[str] = []
        self.worker_errors = 0
        self.link_retries = 0
        self.open_seen: dict[tuple[str, int], int] = {}  # (log file, session start) -> checks in a row found open

    def figures(self, prefix="rel_") -> dict:
        return {prefix + "power_cuts": self.cuts, prefix + "power_cut_losses": self.losses + self.damaged,
                prefix + "power_cut_boot_failures": self.boot_failures,
                prefix + "power_cut_config_torn": self.config_torn,
                prefix + "power_cut_sessions_marked_cut_short": self.marked_cut_short,
                prefix + "power_cut_checks": self.checks,
                prefix + "power_cut_open_at_check": self.open_at_check,
                prefix + "power_cut_worker_errors": self.worker_errors,
                prefix + "power_cut_by_activity": dict(self.kinds)}


def check_device(st: CutState, fs: dict, listing: list, new_files: dict[str, bytes], archive_path: Path):
    """Judge what a device holds after cuts, and record it in st: fs, its config and firmware files'
    sha256 and the .tmp files left (Rig.fs_state); listing, its log files (list_device_sessions);
    new_files, the log files that changed since the last check, downloaded; archive_path, the archive
    that pulls with --delete stored into."""
    if fs["tmp"]:
        st.tmp_left += 1
        st.notes.append("tmp files left after boot: %s" % fs["tmp"])
    shas = fs["sha"]
    # config: every tracked file is one of its allowed versions; then its current one is the base
    for p, allowed in list(st.allowed.items()):
        if p == "deploy" or not allowed:
            continue
        cur = shas.get(p)
        if cur not in allowed:
            st.config_torn += 1
            st.notes.append("%s is neither the old nor the new version" % p)
    fw_shas = firmware_shas()
    for p, h in shas.items():
        if (p.startswith("/lib/acu/") or p.startswith("/lib/boards/")) and h not in fw_shas:
            st.config_torn += 1
            st.notes.append("%s is a torn firmware file" % p)
    st.allowed = {p: {shas[p]} for p in ("/routines/rel-up.json", "/cfg/calib.json", "/cfg/calib.prev.json",
                                            "/cfg/selected", "/routines/rel-short.json") if p in shas}
    # sessions: a log file holds whole sessions back to back; the device only ever appends to it
    on_dev = {e["name"]: e["sha256"] for e in listing}
    for n, old in list(st.finished.items()):
        if n in on_dev:
            if on_dev[n] != st.sessions[n] and not new_files.get(n, b"").startswith(old):
                st.losses += 1
                st.notes.append("finished sessions of %s lost or changed" % n)
            continue
        with Archive(archive_path) as arc:  # deleted: only after it was archived
            kept = [bytes(r[0]) for r in arc.db.execute("SELECT data FROM files WHERE name = ?", (n,))]
            if not arc.has_sha(st.sessions[n]) and not any(k.startswith(old) for k in kept):
                st.losses += 1
                st.notes.append("finished sessions of %s lost or changed" % n)
        del st.finished[n]
        del st.sessions[n]
    for n, data in new_files.items():
        if sha(data) != on_dev[n]:
            st.damaged += 1
            st.notes.append("%s changed while checking" % n)
            continue
        try:
            parts = logread.split_sessions(data)
        except logread.LogFormatError as e:
            if len(data) <= len(logread.file_header()):
                # created, cut before its file header was written: the next boot removes it
                parts = []
            else:
                st.damaged += 1
                st.notes.append("%s: %s" % (n, e))
                continue
        closed_to = logfmt.FILE_HEADER_LEN  # the end of the file's finished sessions
        still_open = not parts
        open_key = (n, logfmt.FILE_HEADER_LEN)  # which session is open: its file and where it starts
        for i, (start, end, blob) in enumerate(parts):
            dec = logread.decode_session(blob)
            open_only = all(p.startswith(("no session end record", "no session header")) for p in dec["problems"])
            if dec["end"] is None and open_only and i == len(parts) - 1:
                # not closed yet: the host's Ctrl-C stopped the app while it recorded (or while it
                # started, before recover() had closed this one; see docs/reliability.md). The next boot
                # closes it as cut short (or drops it, with no header): checked again then, not counted
                # as finished. Still open at three checks in a row is damage.
                still_open = True
                open_key = (n, start)
                break
            if dec["end"] is None or dec["problems"] or dec["session"] is None:
                st.damaged += 1
                st.notes.append("%s: a session not closed or damaged: %s" % (n, dec["problems"][:2]))
                break
            closed_to = end
            if dec["end"]["status"] == "cut_short" and end > len(st.finished.get(n, b"")):  # new this check
                st.marked_cut_short += 1
        # the same session (not a later one appended to the same file) still open three checks in a row
        for key in [k for k in st.open_seen if k[0] == n and k != open_key]:
            del st.open_seen[key]
        if still_open:
            k = st.open_seen.get(open_key, 0) + 1
            st.open_seen[open_key] = k
            st.open_at_check += 1
            if k >= 3:
                st.damaged += 1
                st.notes.append("%s: the session at byte %d still not closed after %d boots" % (n, open_key[1], k))
        else:
            st.open_seen.pop(open_key, None)
        if closed_to > logfmt.FILE_HEADER_LEN and closed_to >= len(st.finished.get(n, b"")):
            st.finished[n] = bytes(data[:closed_to])
            st.sessions[n] = sha(st.finished[n]) if closed_to < len(data) else on_dev[n]
