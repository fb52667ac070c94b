# pull: new sessions only, verified, decoded, stored per session; --delete after commit; bad input skipped.
import hashlib
import os
import stat

import pytest

from host_tools.archive import Archive
from host_tools.errors import DeviceError, LinkError
from host_tools.pull import pull
from acu import logadmin, logfmt, logger, logread, logrecover
from mpcompat import FakeClock


class FakeSession:
    """In-memory stand-in for host_tools.session.DeviceSession: the device's /log is a temp folder and
    acu.logadmin's real host functions answer the calls (the same code the firmware runs)."""

    def __init__(self, root, boot_count=1, ticks_ms=0, device_id="240ac401", fail_read_after=None):
        self.root = str(root)
        self.log = os.path.join(self.root, "log")
        os.makedirs(self.log, exist_ok=True)
        self.boot_count = boot_count
        self.ticks_ms = ticks_ms
        self.device_id = device_id
        self.reads = 0
        self.fail_read_after = fail_read_after
        self.listing_override = None
        self.calls = []
        self.boot_id = None    # the boot's random id (None: a firmware without one)

    def call(self, module, func, *args):
        self.calls.append((module, func) + args)
        if (module, func) == ("acu.api", "set_clock"):
            return {"wall_s": args[0], "uptime_ms": self.ticks_ms, "boots": self.boot_count}
        assert module == "acu.logadmin"
        if func == "list_sessions":
            start, limit = (args[1], args[2]) if len(args) >= 3 else (0, 0)
            if self.listing_override is not None:
                o = self.listing_override
                return o[start:start + limit] if isinstance(o, list) and limit else o
            return logadmin.list_sessions(self.log, start, limit)
        if func == "info":
            d = logadmin.info(self.log)
            d.update(device_id=self.device_id, boot_count=self.boot_count, ticks_ms=self.ticks_ms,
                     boot_id=self.boot_id)
            return d
        if func == "raise_next":
            return logadmin.raise_next(args[0], self.log)
        if func == "delete_session":
            try:
                return logadmin.delete_session(args[0], args[1], self.log)
            except ValueError as e:
                raise DeviceError("device: %s" % e) from None
        raise DeviceError("device: no function %s" % func)

    def read_file(self, path, have=b""):
        """As the real session: only the bytes after `have` are "sent" (counted in self.sent_bytes);
        the whole-file hash check fails (LinkError) if `have` is not the file's start."""
        assert path.startswith("/log/")
        if self.fail_read_after is not None and self.reads >= self.fail_read_after:
            raise LinkError("download of %s stopped after 10 of 2000 bytes: link lost" % path)
        self.reads += 1
        with open(os.path.join(self.log, path[5:]), "rb") as f:
            data = f.read()
        if data[:len(have)] != have:
            raise LinkError("download of %s failed its sha256 check" % path)
        self.sent_bytes = getattr(self, "sent_bytes", 0) + len(data) - len(have)
        return data

    def hw_call(self, expr):
        self.calls.append(("hw", expr))
        return None


def record_session(log_dir, no, boot_count=1, start_ms=1000, wall=None, routine="bedtime", steps=2,
                   end="completed", seconds=4, point="HT7", volume_bytes=0, boot_id=0, unique_id=b"\x24\x0a\xc4\x01"):
    """Write a real session with the device logger: in a file of its own (volume_bytes=0), or appended
    to the newest file as the firmware does (volume_bytes=logger.VOLUME_BYTES)."""
    clock = FakeClock(start_ms)
    clock.wall = wall
    lg = logger.Logger(str(log_dir), clock, {"unique_id": unique_id, "firmware": "0.1.0",
                                              "board": "sim", "boot_count": boot_count, "boot_id": boot_id},
                       free_bytes_fn=lambda: 1 << 20, volume_bytes=volume_bytes)
    lg.begin_session(routine, "abcd", 3000, 5000, now_ms=clock.now, session_no=no)
    for i in range(steps):
        st = logger.StepStats()
        lg.step_begin(i, "press", point, "left" if i % 2 == 0 else "right", 3000, 5000, seconds, clock.now)
        for k in range(seconds * 200):
            f = 3500 + (k % 40) * 20
            lg.sample(f, clock.now)
            st.update(2 if f < 5000 else 3, f, 5)
            lg.poll(clock.now)
            clock.advance(5)
        lg.step_end(i, "done", st, clock.now)
    if end:
        lg.end_session(end, clock.now)
    else:
        lg.flush(clock.now)  # power cut: no end record, and the firmware process is gone
        logger._current = None
    return lg.path, clock.now


@pytest.fixture
def dev(tmp_path):
    return FakeSession(tmp_path / "device")


@pytest.fixture
def arc(archive_target):
    """Each test against an SQLite file and a PostgreSQL database (tests/conftest.py)."""
    a = Archive(archive_target)
    yield a
    a.close()


def rows(arc, sql: str) -> list[dict]:
    """SQL read straight from either kind of archive (what the public methods do not show)."""
    import sqlalchemy as sa
    with arc.engine.connect() as c:
        return [dict(r) for r in c.execute(sa.text(sql)).mappings()]


def test_two_whole_one_cut_short_then_nothing_new(dev, arc):
    record_session(dev.log, 1)
    record_session(dev.log, 2)
    path, _ = record_session(dev.log, 3, end=None)
    with open(path, "ab") as f:
        f.write(b"\x30\x00\x05\x07")  # a torn record at the tail
    acts = logger.Logger(dev.log, FakeClock(0)).recover()  # the device's next boot
    assert "cut short" in acts[-1]["action"]
    res = pull(dev, arc)
    assert res.new == ["000001.acl", "000002.acl", "000003.acl"]
    ss = arc.sessions()
    assert [s["end_status"] for s in ss] == ["completed", "completed", "cut_short"]
    assert all(s["problems"] == [] for s in ss)
    assert len(arc.steps(ss[0]["id"])) == 2 and arc.steps(ss[0]["id"])[0]["point"] == "HT7"
    tr = arc.trace(ss[0]["id"])
    assert len(tr) >= 70 and all(3000 <= g <= 4400 for _, g in tr)
    again = pull(dev, arc)
    assert again.new == [] and len(again.already) == 3 and arc.count() == 3
    assert dev.reads == 3  # nothing downloaded twice


def test_archive_is_private(tmp_path, dev):
    record_session(dev.log, 1)
    a = Archive(tmp_path / "newdir" / "archive.sqlite")
    pull(dev, a)
    a.close()
    assert stat.S_IMODE(os.stat(tmp_path / "newdir" / "archive.sqlite").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "newdir").st_mode) == 0o700


def test_open_session_left_for_next_pull(dev, arc):
    record_session(dev.log, 1)
    clock = FakeClock(0)
    lg = logger.Logger(dev.log, clock, {"boot_count": 1}, free_bytes_fn=lambda: 1 << 20, volume_bytes=0)
    lg.begin_session("bedtime", now_ms=0)
    res = pull(dev, arc)
    assert res.new == ["000001.acl"] and res.skipped == ["000002.acl"]
    assert any("still being recorded" in m for m in res.messages)
    lg.end_session("completed", 100)
    assert pull(dev, arc).new == ["000002.acl"]


def test_sessions_appended_to_one_file_are_pulled_incrementally(dev, arc):
    """The firmware appends sessions to its newest file: each pull stores the new sessions and reads only
    the bytes after the archived copy; a file being appended to waits; --delete removes whole files."""
    v = logger.VOLUME_BYTES
    record_session(dev.log, 1, volume_bytes=v)
    record_session(dev.log, 2, volume_bytes=v)
    assert os.listdir(dev.log) == ["000001.acl", "next"] or sorted(os.listdir(dev.log)) == ["000001.acl", "next"]
    res = pull(dev, arc)
    assert res.new == ["000001.acl #1", "000001.acl #2"] and arc.count() == 2
    first_size = os.path.getsize(os.path.join(dev.log, "000001.acl"))
    assert dev.sent_bytes == first_size
    # a third session goes on the end of the same file; while it is recorded the file waits
    lg = logger.Logger(dev.log, FakeClock(0), {"boot_count": 1}, free_bytes_fn=lambda: 1 << 20, volume_bytes=v)
    assert lg.begin_session("bedtime", now_ms=0) == 3 and lg.name == "000001.acl"
    res = pull(dev, arc)
    assert res.new == [] and res.skipped == ["000001.acl"] and dev.sent_bytes == first_size
    lg.event(1, 0, now_ms=50)
    lg.end_session("completed", 100)
    res = pull(dev, arc)
    assert res.new == ["000001.acl #3"] and arc.count() == 3
    grown = os.path.getsize(os.path.join(dev.log, "000001.acl"))
    assert dev.sent_bytes == grown  # first_size, then only the new tail
    # every session is whole in the archive, each as a file of its own that decodes cleanly
    for row in arc.sessions():
        d = logread.decode_session(arc.raw(row["id"]))
        assert d["problems"] == [] and d["end"]["status"] == "completed"
    assert pull(dev, arc).new == []
    res = pull(dev, arc, delete=True)
    assert res.deleted == ["000001.acl"] and sorted(os.listdir(dev.log)) == ["next"]
    # the next session starts a new file, numbered after its first session
    path, _ = record_session(dev.log, 4, volume_bytes=v)
    assert path.endswith("000004.acl")
    assert pull(dev, arc).new == ["000004.acl"]


def test_a_full_file_is_not_appended_to(tmp_path):
    for no in range(1, 4):
        record_session(tmp_path, no, volume_bytes=1)  # any file is "full": one file per session
    assert sorted(n for n in os.listdir(tmp_path) if n.endswith(".acl")) == ["000001.acl", "000002.acl", "000003.acl"]


def test_bad_files_and_listing_are_skipped_with_messages(dev, arc):
    record_session(dev.log, 1)
    path, _ = record_session(dev.log, 2)
    data = bytearray(open(path, "rb").read())
    data[120] ^= 0xFF  # damage inside
    open(path, "wb").write(bytes(data))
    open(os.path.join(dev.log, "000003.acl"), "wb").write(b"GARBAGE, not a log at all" * 10)
    res = pull(dev, arc)
    assert res.new == ["000001.acl", "000002.acl"]
    assert "000003.acl" in res.skipped
    assert any(m.startswith("000003.acl: skipped, not a session log") for m in res.messages)
    assert any(m.startswith("000002.acl: damaged bytes") and "the rest kept" in m for m in res.messages)
    s2 = [s for s in arc.sessions() if s["session_no"] == 2][0]
    assert s2["end_status"] == "completed" and s2["problems"]
    # a hostile listing: path escapes and junk are refused before anything is read
    dev.listing_override = [{"name": "../../etc/passwd", "size": 1, "sha256": "0" * 64, "open": False},
                            {"name": "000009.acl", "size": "big", "sha256": "0" * 64},
                            "nonsense", {"name": "000010.acl", "size": 5, "sha256": "__import__('os')"}]
    reads = dev.reads
    res = pull(dev, arc)
    assert res.new == [] and len(res.skipped) == 4 and dev.reads == reads
    assert any("bad file name" in m for m in res.messages)
    dev.listing_override = {"not": "a list"}
    with pytest.raises(DeviceError):
        pull(dev, arc)


def test_hash_mismatch_on_download_is_skipped(dev, arc):
    record_session(dev.log, 1)
    listing = logadmin.list_sessions(dev.log)
    listing[0]["sha256"] = "1" * 64
    dev.listing_override = listing
    res = pull(dev, arc)
    assert res.new == [] and "changed on the device" in res.messages[-1]
    assert arc.count() == 0


def test_cable_pull_then_rerun_no_duplicates_no_gaps(dev, arc):
    for n in range(1, 6):
        record_session(dev.log, n)
    dev.fail_read_after = 2
    with pytest.raises(LinkError) as ei:
        pull(dev, arc, delete=True)
    assert "2 new session(s) were stored" in str(ei.value)
    assert arc.count() == 2
    assert len(logrecover.session_names(dev.log)) == 5  # nothing deleted by the interrupted pull
    dev.fail_read_after = None
    res = pull(dev, arc, delete=True)
    assert res.new == ["000003.acl", "000004.acl", "000005.acl"]
    assert sorted(res.deleted) == ["%06d.acl" % n for n in range(1, 6)]
    assert logrecover.session_names(dev.log) == []
    assert sorted(s["session_no"] for s in arc.sessions()) == [1, 2, 3, 4, 5]


def test_delete_only_after_verified_commit(dev, arc, monkeypatch):
    record_session(dev.log, 1)
    monkeypatch.setattr(arc, "raw_sha", lambda sha: "f" * 64)  # archived copy does not verify
    res = pull(dev, arc, delete=True)
    assert res.deleted == [] and "not deleted" in res.messages[-1]
    assert logrecover.session_names(dev.log) == ["000001.acl"]


def test_wall_times_reconstructed_and_marked(dev, arc):
    # boot 1: two sessions before any sync, then one after the clock was set (same boot)
    record_session(dev.log, 1, boot_count=1, start_ms=10000)
    record_session(dev.log, 2, boot_count=1, start_ms=70000)
    record_session(dev.log, 3, boot_count=1, start_ms=130000, wall=1700000000)
    # boot 2: never synced; the pull happens in this boot at ticks 500000
    record_session(dev.log, 4, boot_count=2, start_ms=100000)
    # boot 3: an older boot with no anchor at all
    record_session(dev.log, 5, boot_count=3, start_ms=5000)
    dev.boot_count, dev.ticks_ms = 2, 500000
    pull(dev, arc, now=lambda: 1700100000)
    by = {s["session_no"]: s for s in arc.sessions()}
    assert by[3]["wall_source"] == "device" and by[3]["wall_start_s"] == 1700000000
    assert by[1]["wall_source"] == "same_boot" and by[1]["wall_start_s"] == 1700000000 - 120
    assert by[2]["wall_source"] == "same_boot" and by[2]["wall_start_s"] == 1700000000 - 60
    assert by[4]["wall_source"] == "pull" and by[4]["wall_start_s"] == 1700100000 - 400
    assert by[5]["wall_source"] is None and by[5]["wall_start_s"] is None


def test_sync_sets_clock_and_anchors(dev, arc):
    from host_tools.commands.sync import sync_clock
    record_session(dev.log, 1, boot_count=1, start_ms=1000)
    dev.boot_count = 2
    pull(dev, arc, now=lambda: 5)  # pulled in a later boot: no anchor for boot 1 yet
    assert arc.sessions()[0]["wall_source"] is None
    dev.boot_count, dev.ticks_ms = 1, 61000
    r = sync_clock(dev, arc, now=lambda: 1700000000)
    assert ("acu.api", "set_clock", 1700000000) in dev.calls and r["anchored"]
    s = arc.sessions()[0]
    assert s["wall_source"] == "pull" and s["wall_start_s"] == 1700000000 - 60


def test_a_reused_boot_number_does_not_redate_a_session(dev, arc):
    # the boot counter was reset (a damaged state file, a re-flash): boot 3 came twice, 12 days apart. The
    # second boot's anchors must not re-date the first boot's session (it moved 12.4 days early).
    record_session(dev.log, 1, boot_count=3, start_ms=1000)
    dev.boot_count, dev.ticks_ms, dev.boot_id = 3, 61000, 0xA11CE
    pull(dev, arc, now=lambda: 1700000000)
    s = arc.sessions()[0]
    assert s["wall_source"] == "pull" and s["wall_start_s"] == 1700000000 - 60
    dev.ticks_ms, dev.boot_id = 5000, 0xB0B     # the reused number, another boot
    pull(dev, arc, now=lambda: 1700000000 + 12 * 86400)
    assert arc.sessions()[0]["wall_start_s"] == 1700000000 - 60
    a = rows(arc, "SELECT boot_id FROM anchors ORDER BY wall_s")
    assert [r["boot_id"] for r in a] == [0xA11CE, 0xB0B]


def test_a_session_with_a_boot_id_is_dated_by_its_own_boots_anchors_only(dev, arc):
    # a session header that carries the boot id (log format 3): only anchors of that boot date it
    record_session(dev.log, 1, boot_count=3, start_ms=1000, boot_id=0xA11CE)
    pull(dev, arc, now=lambda: 5)
    assert rows(arc, "SELECT boot_id FROM sessions")[0]["boot_id"] == 0xA11CE
    arc.add_anchor("240ac401", 3, 5000, 1700000000, "pull", 0xB0B)     # same number, another boot
    arc.reconstruct_wall()
    assert arc.sessions()[0]["wall_start_s"] is None
    arc.add_anchor("240ac401", 3, 61000, 1700500000, "pull", 0xA11CE)
    arc.reconstruct_wall()
    assert arc.sessions()[0]["wall_start_s"] == 1700500000 - 60


def test_a_pull_keeps_the_devices_numbers_above_the_archives(dev, arc):
    # every file pulled and deleted, then both counter files lost (a re-format, a damaged flash): the pull
    # set the device's next number above what the archive holds, so no number comes again
    for no in (1, 2, 3):
        record_session(dev.log, no, start_ms=1000 * no)
    pull(dev, arc, delete=True)
    assert logrecover.session_names(dev.log) == []
    for p in (os.path.join(dev.log, logfmt.COUNTER), dev.log + logfmt.COUNTER_TWIN):
        if os.path.exists(p):
            os.remove(p)
    assert ("acu.logadmin", "raise_next", 4) in dev.calls
    pull(dev, arc)   # a pull with nothing new: the host puts its floor back
    lg = logger.Logger(dev.log, FakeClock(0), {"unique_id": b"\x24\x0a\xc4\x01"})
    lg.recover()
    assert lg.begin_session("r", now_ms=0) == 4


def test_sync_refuses_a_computer_clock_that_cannot_be_right():
    from host_tools.commands.sync import host_time
    from host_tools.errors import InputError
    for t in (0, 86400 * 365, 4102444800, 2 ** 32, 2 ** 32 + 5, 2 ** 40):
        with pytest.raises(InputError, match="this computer's clock says"):
            host_time(lambda t=t: t)
    assert host_time(lambda: 1700000000.7) == 1700000000


def test_reconstructed_file_supersedes_unclosed_copy(dev, arc):
    path, _ = record_session(dev.log, 1, end=None)
    res = pull(dev, arc)   # pulled before the device closed it (no end record)
    assert res.new == ["000001.acl"] and arc.sessions()[0]["end_status"] is None
    logger.Logger(dev.log, FakeClock(0)).recover()
    res = pull(dev, arc)
    assert res.new == ["000001.acl"]
    ss = arc.sessions()
    assert len(ss) == 1 and ss[0]["end_status"] == "cut_short"
    assert hashlib.sha256(open(path, "rb").read()).hexdigest() == ss[0]["sha256"]


def test_nothing_from_the_device_is_evaluated(dev, arc, monkeypatch):
    import builtins

    from acu import logrecover  # noqa: F401 (loaded before exec is patched: CPython imports a module with exec)
    record_session(dev.log, 1, routine="__import__('os').system('x')")

    def boom(*a, **k):
        raise AssertionError("eval/exec called")
    monkeypatch.setattr(builtins, "eval", boom)
    monkeypatch.setattr(builtins, "exec", boom)
    pull(dev, arc)
    assert arc.sessions()[0]["routine"] == "__import__('os').system('x')"


def test_many_sessions_are_listed_a_page_at_a_time(dev, arc):
    for no in range(1, 31):
        record_session(dev.log, no, steps=1, seconds=1)
    res = pull(dev, arc)
    assert len(res.new) == 30 and arc.count() == 30
    pages = [c for c in dev.calls if c[1] == "list_sessions"]
    assert len(pages) == 3 and all(c[4] <= 12 for c in pages)  # 12 + 12 + 6: each answer small
