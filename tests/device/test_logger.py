# The session logger: batching, trace decimation, recovery after power cuts, flash reserve, host calls.
import os

from acu import logfmt, logread
from acu import logadmin, logger, logrecover
from mpcompat import FakeClock, heap_lock, heap_unlock, needs_heap_lock, raises

_N = [0]


def _fresh_dir():
    _N[0] += 1
    d = "/tmp/acu_logtest_%d_%d" % (id(_N) & 0xFFFFFF, _N[0])
    try:
        for n in os.listdir(d):
            os.remove(d + "/" + n)
    except OSError:
        os.mkdir(d)
    try:
        os.remove(d + logfmt.COUNTER_TWIN)  # the counter's copy beside the folder, from an earlier run
    except OSError:
        pass
    return d


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def _write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def _size(path):
    return os.stat(path)[6]


def _logger(d, clock, **kw):
    info = {"unique_id": b"\x24\x0a\xc4\x01", "firmware": "0.1.0", "board": "sim", "boot_count": 4,
            "calib_id": "cal-7"}
    return logger.Logger(d, clock, info, **kw)


def _run_step(lg, clock, index, seconds, force_g=4000, state=2):
    st = logger.StepStats()
    lg.step_begin(index, "press", "HT7", "left", 3000, 5000, seconds, clock.now)
    for i in range(seconds * 200):
        f = force_g + ((i * 37) % 61) - 30
        lg.sample(f, clock.now)
        st.update(state, f, 5)
        lg.poll(clock.now)
        clock.advance(5)
    lg.step_end(index, "done", st, clock.now)
    return st


def test_session_round_trip():
    d = _fresh_dir()
    clock = FakeClock(1000)
    lg = _logger(d, clock)
    assert lg.recover() == []
    no = lg.begin_session("bedtime", "abc123", 3000, 5000, now_ms=clock.now)
    assert no == 1 and lg.active
    _run_step(lg, clock, 0, 10)
    lg.event(logfmt.EV_SKIP, 1, clock.now)
    lg.end_session("completed", clock.now)
    assert not lg.active
    dec = logread.decode_session(_read(d + "/000001.acl"))
    assert dec["problems"] == []
    s = dec["session"]
    assert s["device_id"] == "240ac401" and s["boot_count"] == 4 and s["routine"] == "bedtime"
    assert s["start_ticks_ms"] == 1000 and s["wall_start_s"] is None and s["calib_id"] == "cal-7"
    sm = dec["steps"][0]["summary"]
    assert sm["in_ms"] == 10000 and sm["status"] == "done"
    assert 3990 <= sm["mean_g"] <= 4010 and sm["peak_g"] <= 4030
    assert 39900 <= sm["dose_gs"] <= 40100
    values = []
    for ch in dec["trace"]:
        assert ch["period_ms"] == 100
        values += ch["values_g"]
    assert 99 <= len(values) <= 101  # 10 s at 10 Hz
    assert min(values) >= 3960 and max(values) <= 4040
    assert dec["end"]["status"] == "completed" and dec["end"]["steps_done"] == 1
    assert dec["events"][0]["name"] == "skip"
    # the next session gets the next number
    assert lg.begin_session("bedtime", now_ms=clock.now) == 2


def test_header_holds_boot_id_and_the_whole_routine_digest():
    d = _fresh_dir()
    clock = FakeClock(0)
    info = {"unique_id": b"\x01", "boot_count": 2, "boot_id": 0xFEEDC0DE}
    lg = logger.Logger(d, clock, info)
    digest = "0123456789abcdef" * 4  # a SHA-256 in hex: 64 characters, one more than a log string holds
    lg.begin_session("bedtime", digest, now_ms=0)
    lg.end_session("completed", 10)
    lg.begin_session("free", "", now_ms=20)  # no routine: no digest
    lg.end_session("completed", 30)
    parts = logread.split_sessions(_read(d + "/000001.acl"))
    s1 = logread.decode_session(parts[0][2])["session"]
    s2 = logread.decode_session(parts[1][2])["session"]
    assert s1["routine_hash"] == digest and not s1["routine_hash_truncated"] and s1["boot_id"] == 0xFEEDC0DE
    assert s2["routine_hash"] == "" and s2["boot_id"] == 0xFEEDC0DE
    lg2 = logger.Logger(_fresh_dir(), clock, {})  # no boot id given: 0 on flash, None (unknown) decoded
    lg2.begin_session("r", "not hex", now_ms=0)
    lg2.end_session("completed", 10)
    s3 = logread.decode_session(_read(lg2.path))["session"]
    assert s3["boot_id"] is None and s3["routine_hash"] == ""


def test_records_are_batched_not_written_one_by_one():
    d = _fresh_dir()
    clock = FakeClock(0)
    lg = _logger(d, clock, flush_ms=5000)
    lg.begin_session("r", now_ms=0)
    path = d + "/000001.acl"
    size0 = _size(path)
    lg.step_begin(0, "press", "HT7", "left", 3000, 5000, 60, 0)
    for t in range(0, 4000, 5):
        lg.sample(3500, t)
        lg.poll(t)
    lg.event(logfmt.EV_PAUSE, 0, 4000)
    assert _size(path) == size0          # nothing written within the flush interval
    for t in range(4000, 5100, 5):
        lg.sample(3500, t)
        lg.poll(t)
    assert _size(path) > size0           # one batch after flush_ms
    dec = logread.decode_session(_read(path))
    assert len(dec["trace"]) == 1 and dec["events"][0]["name"] == "pause"


def test_trace_gap_starts_new_chunk():
    d = _fresh_dir()
    lg = _logger(d, FakeClock(0))
    lg.begin_session("r", now_ms=0)
    for t in range(0, 1000, 5):
        lg.sample(2000, t)
        lg.poll(t)
    for t in range(3000, 4000, 5):   # the loop stalled for 2 s
        lg.sample(2500, t)
        lg.poll(t)
    lg.end_session("completed", 4000)
    dec = logread.decode_session(_read(d + "/000001.acl"))
    assert len(dec["trace"]) == 2
    assert dec["trace"][0]["t0_ms"] == 0 and set(dec["trace"][0]["values_g"]) == {2000}
    assert dec["trace"][1]["t0_ms"] == 3000 and set(dec["trace"][1]["values_g"]) == {2500}



def test_a_chunk_full_before_the_flush_is_continued():
    # every sample an escape (31 bits): a chunk is full after ~94 samples, before the 10 s flush seals it;
    # the samples after it go on in a continuation chunk (the coder starts again), none is dropped
    d = _fresh_dir()
    lg = _logger(d, FakeClock(0), trace_quantum_g=1)
    lg.begin_session("r", now_ms=0)
    for t in range(0, 30000, 5):
        lg.sample(16000 if (t // 100) % 2 else 0, t)
        lg.poll(t)
    lg.end_session("completed", 30000)
    dec = logread.decode_session(_read(d + "/000001.acl"))
    values = [v for c in dec["trace"] for v in c["values_g"]]
    assert len(values) == 300 and values[:4] == [0, 16000, 0, 16000], len(values)
    assert not [e for e in dec["events"] if e["name"] == "trace_dropped"] and not dec["problems"]

def _cut_session(d):
    """A session left open by a power cut: returns (path, decoded records' end offsets)."""
    clock = FakeClock(0)
    lg = _logger(d, clock, flush_ms=1000)
    lg.begin_session("bedtime", now_ms=0)
    _run_step(lg, clock, 0, 3)
    lg.step_begin(1, "press", "Yin Tang", "centre", 3000, 5000, 60, clock.now)
    for _i in range(600):
        lg.sample(4200, clock.now)
        lg.poll(clock.now)
        clock.advance(5)
    lg.flush(clock.now)
    # power cut: the logger object is gone, the file has no end record
    return d + "/000001.acl"


def test_recover_closes_cut_short_session_at_every_torn_offset():
    d = _fresh_dir()
    path = _cut_session(d)
    full = _read(path)
    _recs, _p, valid_end = logread.iter_records(full)
    assert valid_end == len(full)
    ends = [off for off, _t, _s, _pl in _recs][1:] + [len(full)]
    step = 1 if len(full) < 1500 else 3
    offsets = list(range(logfmt.FILE_HEADER_LEN + 30, len(full) + 1, step))
    for cut in offsets:
        _write(path, full[:cut])
        lg = _logger(d, FakeClock(0))
        acts = lg.recover()
        assert len(acts) == 1, cut
        if cut < ends[0]:   # torn inside the session header: nothing was recorded, the file goes
            assert "removed" in acts[0]["action"] and logrecover.session_names(d) == []
            continue
        dec = logread.decode_session(_read(path))
        assert dec["problems"] == [], (cut, dec["problems"])
        assert dec["end"]["status"] == "cut_short"
        kept = len([e for e in ends if e <= cut])
        assert dec["records"] == kept + 1, cut       # every whole record before the cut, plus the end
        # a second boot changes nothing
        assert _logger(d, FakeClock(0)).recover() == []
    assert dec["steps"][0]["summary"]["status"] == "done"
    assert dec["end"]["t_ms"] >= 3000


def test_recover_torn_header_removes_empty_file_and_tmp():
    d = _fresh_dir()
    _write(d + "/000003.acl", logread.file_header() + b"\x10\x00")
    _write(d + "/000002.acl.tmp", b"junk")
    lg = _logger(d, FakeClock(0))
    acts = lg.recover()
    assert acts[0]["name"] == "000003.acl" and "removed" in acts[0]["action"]
    assert os.listdir(d) == []


def test_recover_leaves_finished_sessions_alone():
    d = _fresh_dir()
    clock = FakeClock(0)
    lg = _logger(d, clock)
    lg.begin_session("r", now_ms=0)
    _run_step(lg, clock, 0, 2)
    lg.end_session("aborted", clock.now)
    before = _read(d + "/000001.acl")
    assert _logger(d, FakeClock(0)).recover() == []
    assert _read(d + "/000001.acl") == before


def test_recover_with_damage_inside_appends_end_once():
    d = _fresh_dir()
    path = _cut_session(d)
    data = bytearray(_read(path))
    data[40] ^= 0xFF  # inside an early record, far from the tail
    _write(path, bytes(data))
    acts = _logger(d, FakeClock(0)).recover()
    assert acts[0]["action"] == "closed as cut short"
    assert _logger(d, FakeClock(0)).recover() == []
    dec = logread.decode_session(_read(path))
    assert dec["end"]["status"] == "cut_short"
    assert any("damaged" in p for p in dec["problems"])


def test_flash_low_stops_trace_keeps_summaries():
    d = _fresh_dir()
    clock = FakeClock(0)
    free = [500000]
    lg = _logger(d, clock, reserve_bytes=65536, flush_ms=5000, free_bytes_fn=lambda: free[0])
    lg.begin_session("r", now_ms=0)
    assert not lg.flash_low
    _run_step(lg, clock, 0, 6)
    free[0] = 30000
    _run_step(lg, clock, 1, 6)
    assert lg.flash_low
    lg.end_session("completed", clock.now)
    dec = logread.decode_session(_read(d + "/000001.acl"))
    assert [e["name"] for e in dec["events"]] == ["flash_low"]
    assert len(dec["steps"]) == 2 and dec["steps"][1]["summary"]["in_ms"] == 6000
    assert dec["end"]["trace_stopped"]
    last_trace_t = max(ch["t0_ms"] + ch["period_ms"] * len(ch["values_g"]) for ch in dec["trace"])
    assert last_trace_t <= 6000 + 5000 + 200   # the trace stopped at the first flush below the reserve
    assert logadmin.info(d)["flash_low"]
    # below the hard floor no new session is started
    free[0] = 1000
    assert lg.begin_session("r", now_ms=clock.now) == -1
    assert not lg.active


def test_host_calls_list_delete_info():
    d = _fresh_dir()
    clock = FakeClock(0)
    lg = _logger(d, clock, volume_bytes=0)  # one file per session
    lg.begin_session("r", now_ms=0)
    lg.end_session("completed", 10)
    lg.begin_session("r", now_ms=20)
    lst = logadmin.list_sessions(d)
    assert [x["name"] for x in lst] == ["000001.acl", "000002.acl"]
    assert [x["open"] for x in lst] == [False, True]
    assert lst[0]["size"] == _size(d + "/000001.acl") and len(lst[0]["sha256"]) == 64
    e = raises(ValueError, logadmin.delete_session, "000001.acl", "0" * 64, d)
    assert "mismatch" in str(e)
    assert "recorded" in str(raises(ValueError, logadmin.delete_session, "000002.acl", lst[1]["sha256"], d))
    assert "bad session name" in str(raises(ValueError, logadmin.delete_session, "../x.acl", "0", d))
    assert logadmin.delete_session("000001.acl", lst[0]["sha256"], d) is True
    inf = logadmin.info(d)
    assert inf["sessions"] == 1 and inf["open"] == "000002.acl" and inf["boot_count"] == 4
    assert inf["device_id"] == "240ac401" and inf["ticks_ms"] == 0
    # numbers keep growing after a delete (never reused while the logger lives)
    lg.end_session("completed", 30)
    assert lg.next_session_no() == 3


def test_numbers_not_reused_after_every_file_is_deleted():
    # a pull --delete empties /log; a new boot (a new Logger) must not start again at 1
    d = _fresh_dir()
    lg = _logger(d, FakeClock(0))
    lg.begin_session("r", now_ms=0)
    lg.end_session("completed", 10)
    for x in logadmin.list_sessions(d):
        logadmin.delete_session(x["name"], x["sha256"], d)
    lg2 = _logger(d, FakeClock(0))
    assert lg2.recover() == []
    assert lg2.next_session_no() == 2
    assert logadmin.info(d)["next_session"] == 2
    assert lg2.begin_session("r", now_ms=0) == 2
    assert [x["name"] for x in logadmin.list_sessions(d)] == ["000002.acl"]


def test_step_stats_accumulate():
    st = logger.StepStats()
    st.update(0, 0, 100)
    st.update(1, 2000, 100)
    st.update(2, 4000, 200)
    st.update(3, 6000, 50)
    st.update(4, 8000, 50)
    st.update(5, 0, 10)
    assert (st.no_contact_ms, st.under_ms, st.in_ms, st.over_ms, st.too_hard_ms, st.fault_ms) == \
        (100, 100, 200, 100, 50, 10)
    assert st.peak_g == 8000
    assert st.dose() == (2000 * 100 + 4000 * 200 + 6000 * 50 + 8000 * 50) // 1000
    assert st.mean_g() == (2000 * 100 + 4000 * 200 + 6000 * 50 + 8000 * 50) // 400
    # an hour at 5 kg in 5 ms steps: the carry keeps every number a small int, nothing is lost
    st.reset()
    for _i in range(720000):
        st.update(2, 5000, 5)
    assert st.dose() == 5000 * 3600 and st.mean_g() == 5000


def test_sample_poll_stats_do_not_allocate():
    needs_heap_lock()
    d = _fresh_dir()
    clock = FakeClock(0)
    lg = _logger(d, clock, flush_ms=60000)
    lg.begin_session("r", now_ms=0)
    st = logger.StepStats()
    lg.sample(100, 0)
    t = 0
    heap_lock()
    try:
        for i in range(2000):  # 10 s at 200 Hz: many windows, nibbles per window, no seal due
            f = 3000 + (i * 53) % 900
            lg.sample(f, t)
            st.update(2, f, 5)
            lg.poll(t)
            t += 5
    finally:
        heap_unlock()
    lg.end_session("completed", t)
    dec = logread.decode_session(_read(d + "/000001.acl"))
    assert dec["problems"] == []
    assert len(dec["trace"][0]["values_g"]) >= 99


def test_recover_removes_a_file_cut_right_after_its_file_header():
    # begin_session writes the 8-byte file header, then the header record: a cut between the two
    d = _fresh_dir()
    _write(d + "/000001.acl", logread.file_header())
    acts = _logger(d, FakeClock(0)).recover()
    assert len(acts) == 1 and "removed" in acts[0]["action"]
    assert logrecover.session_names(d) == []


def test_a_session_that_could_not_start_uses_no_number():
    # the flash refused the new file (full): the next session that starts takes that number, so the
    # numbers stay contiguous against the device's counter (a gap would look like a lost session)
    import builtins

    d = _fresh_dir()
    lg = _logger(d, FakeClock(0))
    assert lg.begin_session("r", now_ms=0) == 1
    lg.end_session("completed", 10)

    def refuse(*a):
        raise OSError(28)  # ENOSPC

    logger.open = refuse
    try:
        assert lg.begin_session("r", now_ms=20) == -1
    finally:
        logger.open = builtins.open
    assert lg.write_errors == 1
    assert lg.next_session_no() == 2
    assert lg.begin_session("r", now_ms=30) == 2
    lg.end_session("completed", 40)
    assert [x["name"] for x in logadmin.list_sessions(d)] == ["000001.acl"]  # appended to the first file
    parts = logread.split_sessions(_read(d + "/000001.acl"))
    assert [logread.decode_session(b)["session"]["session_no"] for _a, _b, b in parts] == [1, 2]


def _sessions_in(path):
    return [logread.decode_session(b) for _a, _b, b in logread.split_sessions(_read(path))]


def test_sessions_are_appended_to_the_newest_file_until_it_is_full():
    d = _fresh_dir()
    clock = FakeClock(0)
    lg = _logger(d, clock, volume_bytes=0)
    for no in (1, 2, 3):
        assert lg.begin_session("r", now_ms=clock.now) == no
        _run_step(lg, clock, 0, 2)
        lg.end_session("completed", clock.now)
        if no == 1:
            lg.volume_bytes = _size(d + "/000001.acl") + 1  # one session fills less than a file, two more
    names = logrecover.session_names(d)
    assert names == ["000001.acl", "000003.acl"]  # session 2 went on the end of 000001, which was then full
    got = []
    for n in names:
        for dec in _sessions_in(d + "/" + n):
            assert dec["problems"] == [] and dec["end"]["status"] == "completed"
            got.append(dec["session"]["session_no"])
    assert got == [1, 2, 3]
    # a file of another format version is never appended to (only another writer can make one: the host,
    # while the app is stopped; the logger built at the next start checks the newest file in recover())
    data = bytearray(_read(d + "/" + names[-1]))
    data[6] = 1
    _write(d + "/" + names[-1], bytes(data))
    lg = _logger(d, clock, volume_bytes=lg.volume_bytes)
    lg.recover()
    lg.begin_session("r", now_ms=clock.now)
    assert lg.name == "%06d.acl" % 4


def test_power_cut_in_an_appended_session_keeps_the_sessions_before_it():
    d = _fresh_dir()
    clock = FakeClock(0)
    lg = _logger(d, clock)
    lg.begin_session("r", now_ms=0)
    _run_step(lg, clock, 0, 2)
    lg.end_session("completed", clock.now)
    first = _read(d + "/000001.acl")
    path = _cut_session(d)  # the second session, cut by a power cut (appended to the same file)
    assert path == d + "/000001.acl" and _read(path)[:len(first)] == first
    full = _read(path)
    for cut in range(len(first), len(full) + 1, 7):
        _write(path, full[:cut])
        acts = _logger(d, FakeClock(0)).recover()
        decs = _sessions_in(path)
        assert _read(path)[:len(first)] == first, cut  # the finished session is never touched
        assert decs[0]["end"]["status"] == "completed" and decs[0]["problems"] == [], cut
        if len(decs) == 1:  # torn inside the second session's header: it is gone, the file as before
            assert _read(path) == first and (cut == len(first) or "torn" in acts[0]["action"]), cut
            continue
        assert len(decs) == 2 and decs[1]["end"]["status"] == "cut_short", cut
        assert decs[1]["problems"] == [], (cut, decs[1]["problems"])
        assert _logger(d, FakeClock(0)).recover() == []


def test_a_session_start_after_the_host_deleted_the_newest_file():
    # the logger remembers its newest file and the counter between sessions; a host delete makes it look again
    d = _fresh_dir()
    lg = _logger(d, FakeClock(0))
    assert lg.recover() == []
    assert lg.begin_session("r", now_ms=0) == 1
    lg.end_session("completed", 10)
    for x in logadmin.list_sessions(d):
        assert logadmin.delete_session(x["name"], x["sha256"], d)
    assert lg.begin_session("r", now_ms=20) == 2
    assert [x["name"] for x in logadmin.list_sessions(d)] == ["000002.acl"]
    # begin_session wrote the file header and the session record in one go (before any flush)
    data = _read(d + "/000002.acl")
    assert data[:logfmt.FILE_HEADER_LEN] == logread.file_header() and data[10] == logfmt.T_SESSION
    lg.end_session("completed", 30)
    assert lg.begin_session("r", now_ms=40) == 3 and lg.name == "000002.acl"  # appended, number from the counter
    lg.end_session("completed", 50)
    decs = _sessions_in(d + "/000002.acl")
    assert [x["session"]["session_no"] for x in decs] == [2, 3]
    assert all(x["problems"] == [] and x["end"]["status"] == "completed" for x in decs)


class _Statvfs:
    """os for acu.logger with a given statvfs answer (f_bsize, f_frsize, f_blocks, f_bfree, f_bavail...)."""

    def __init__(self, st):
        self.st = st

    def statvfs(self, path):
        return self.st

    def __getattr__(self, name):
        return getattr(os, name)


def test_a_free_count_that_wrapped_is_unknown_not_16_pb():
    # LittleFS counted more blocks in use than the flash has (its count is best effort): f_bavail wrapped to
    # 2**32 - 6 blocks, and the logger thought 16 PB were free (doctor: "healthy, 17179869160 KB free"). The
    # count is unknown: no reserve check (the flash may still take writes), a write that fails tells.
    wrapped = (4096, 4096, 64, 0xFFFFFFFA, 0xFFFFFFFA, 0, 0, 0, 0, 255)
    real = logger.os, logrecover.os
    try:
        logrecover.os = _Statvfs(wrapped)
        assert logrecover.flash_bytes("/") == (None, 64 * 4096)
        logrecover.os = _Statvfs((4096, 4096, 64, 10, 9, 0, 0, 0, 0, 255))
        assert logrecover.flash_bytes("/") == (9 * 4096, 64 * 4096)
        logrecover.os = _Statvfs((4096, 4096, 64, -2, -2, 0, 0, 0, 0, 255))
        assert logrecover.flash_bytes("/") == (None, 64 * 4096)
        logrecover.os = real[1]
        d = _fresh_dir()
        lg = _logger(d, FakeClock(0))
        lg.recover()
        logger.os = _Statvfs((4096, 4096, 64, 10, 1, 0, 0, 0, 0, 255))
        assert lg.free_bytes() == 4096
        assert lg.begin_session("r", now_ms=0) == -1 and lg.write_errors == 1 and lg.flash_low  # no room
        logger.os = _Statvfs(wrapped)
        assert lg.free_bytes() is None
        assert lg.begin_session("r", now_ms=10) == 1 and not lg.flash_low   # tried, and the write went out
        lg.end_session("completed", 20)
    finally:
        logger.os, logrecover.os = real


def test_a_failed_write_inside_a_session_is_counted_and_logged():
    import builtins

    d = _fresh_dir()
    clock = FakeClock(0)
    lg = _logger(d, clock)
    lg.recover()
    assert lg.begin_session("r", now_ms=0) == 1
    lg.event(logfmt.EV_PAUSE, 0, 10)

    def refuse(*a):
        raise OSError(28)

    logger.open = refuse
    try:
        lg.flush(20)
    finally:
        logger.open = builtins.open
    assert lg.write_errors == 1
    lg.end_session("completed", 30)
    s = _sessions_in(d + "/000001.acl")[0]
    lost = [e for e in s["events"] if e["name"] == "write_failed"]
    assert len(lost) == 1 and lost[0]["value"] > 0 and s["end"]["status"] == "completed"


def _counter_files(d):
    return (d + "/" + logfmt.COUNTER, d + logfmt.COUNTER_TWIN)


def _one_session(d, t):
    lg = _logger(d, FakeClock(t))
    lg.recover()
    no = lg.begin_session("r", now_ms=t)
    lg.end_session("completed", t + 10)
    return no


def _pull_all(d):
    for n in logrecover.session_names(d):
        os.remove(d + "/" + n)


def test_session_numbers_stay_unique_when_a_counter_file_is_lost_or_damaged():
    # every file pulled and deleted, then one counter file deleted, garbled or set to 2**32 - 1 (which would
    # wrap the header's u32 to 0): the other copy keeps the numbers going
    d = _fresh_dir()
    seen = [_one_session(d, 0), _one_session(d, 100)]
    for damage in (None, b"garbage", b"4294967295", b"", b"-5"):
        _pull_all(d)
        for path in _counter_files(d):
            if damage is None:
                os.remove(path)
            else:
                _write(path, damage)
            seen.append(_one_session(d, 200 + len(seen)))
    assert seen == list(range(1, len(seen) + 1)), seen


def test_a_stale_counter_copy_is_brought_up_at_boot_and_by_the_host():
    # the flash was full when a session started: /log/next got the new number, /log.next did not. Then
    # every file was pulled and /log/next was lost: the stale copy alone would hand out a used number.
    d = _fresh_dir()
    primary, twin = _counter_files(d)
    for t in (0, 100, 200):
        _one_session(d, t)           # numbers 1..3, both copies at 4
    _write(twin, b"2")               # the copy a full flash left behind
    lg = _logger(d, FakeClock(0))
    lg.recover()                     # the next boot writes both at what the files and copies allow
    assert _read(twin) == b"4" and _read(primary) == b"4"
    _write(twin, b"2")
    _pull_all(d)
    assert logadmin.raise_next(4, d) == 4   # the host's pull: the archive holds 1..3
    assert _read(twin) == b"4"
    os.remove(primary)
    assert _one_session(d, 300) == 4


def test_session_numbers_from_the_file_names_when_both_counters_are_garbage():
    d = _fresh_dir()
    for t in (0, 100, 200):
        _one_session(d, t)
    for path in _counter_files(d):
        _write(path, b"4294967295")
    lg = _logger(d, FakeClock(0), volume_bytes=0)   # one file per session: the names tell the highest number
    lg.recover()
    assert lg.next_session_no() == 4
    lg2 = _logger(_fresh_dir(), FakeClock(0))
    for path in _counter_files(lg2.root):
        _write(path, b"999999")
    lg2.recover()
    assert lg2.begin_session("r", now_ms=0) == 999999   # the last six-digit number is still used
    lg2.end_session("completed", 10)
    assert lg2.begin_session("r", now_ms=20) == -1 and lg2.write_errors == 1   # none left: refused, counted


def test_a_file_where_the_log_folder_belongs_is_moved_aside_at_boot():
    d = _fresh_dir()
    for n in os.listdir(d):
        os.remove(d + "/" + n)
    os.rmdir(d)
    for old in (d + ".bad", d + ".bad1"):
        try:
            os.remove(old)
        except OSError:
            pass
    _write(d, b"not a folder")
    lg = _logger(d, FakeClock(0))
    acts = lg.recover()
    assert acts and "moved to %s.bad" % d in acts[0]["action"], acts
    assert _read(d + ".bad") == b"not a folder"
    assert lg.begin_session("r", now_ms=0) == 1
    lg.end_session("completed", 10)
    assert logrecover.session_names(d) == ["000001.acl"]
    os.remove(d + ".bad")


def test_recover_closes_an_open_version_2_session_and_the_next_session_starts_a_version_3_file():
    # a device updated from format-2 firmware with a session left open: recover() reads the old file's
    # times (a version 2 continuation counts on from its chunk) and steps, and never appends to it
    d = _fresh_dir()
    out = bytearray(logread.file_header(2))
    recs = [(logfmt.T_SESSION, logread.session_payload_v2(4, 1, 0, 0, 3000, 5000, 100, 20, "ab", "0.2.0", "sim",
                                                          "r", "f" * 63, "")),
            (logfmt.T_STEP_BEGIN, logread.step_begin_payload(0, 0, 3000, 5000, 10, "press", "HT7", "left")),
            (logfmt.T_STEP_SUMMARY, logread.step_summary_payload(0, 900, 0, 900, 0, 0, 0, 0, 4000, 4000, 3600, 0,
                                                                0, logfmt.STEP_DONE, version=2)),
            (logfmt.T_TRACE, logread.trace_payload(1000, 100, 20, [200] * 30)),
            (logfmt.T_TRACE_CONT, logread.trace_cont_payload_v2([201] * 20, 200))]
    for seq, (rtype, payload) in enumerate(recs):
        out += logread.record(rtype, seq, payload)
    _write(d + "/000004.acl", bytes(out))
    lg = _logger(d, FakeClock(0))
    assert len(lg.recover()) == 1
    dec = logread.decode_session(_read(d + "/000004.acl"))
    assert dec["version"] == 2 and not dec["problems"]
    assert dec["end"]["status"] == "cut_short" and dec["end"]["t_ms"] == 1000 + 100 * 50
    assert dec["end"]["steps_done"] == 1 and dec["session"]["routine_hash_truncated"]
    assert lg.begin_session("r", now_ms=0) == 5
    lg.end_session("completed", 10)
    assert sorted(logrecover.session_names(d)) == ["000004.acl", "000005.acl"]
    assert _read(d + "/000005.acl")[6] == logfmt.VERSION
