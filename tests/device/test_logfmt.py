# The session log codec (docs/log-format.md): round trips, unknown types, torn tails, damage.
from acu import logfmt, logread
from mpcompat import raises


def _session_bytes(extra_unknown=False):
    out = bytearray(logread.file_header())
    seq = 0
    recs = [
        (logfmt.T_SESSION, logread.session_payload(7, 3, 123456, 0, 3000, 5000, 100, 10, "a1b2c3", "0.1.0",
                                                  "sim", "bedtime", "deadbeef", "cal-1")),
        (logfmt.T_STEP_BEGIN, logread.step_begin_payload(0, 10, 3000, 5000, 120, "press", "HT7", "left")),
        (logfmt.T_TRACE, logread.trace_payload(10, 100, 10, [0, 5, 120, 400, 398, 401, -3, 0])),
        (logfmt.T_EVENT, logread.event_payload(500, logfmt.EV_PAUSE, 0)),
    ]
    if extra_unknown:
        recs.append((99, b"future stuff"))
    recs += [
        (logfmt.T_EVENT, logread.event_payload(600, logfmt.EV_CLOCK_SET, 1700000000)),
        (logfmt.T_STEP_SUMMARY, logread.step_summary_payload(0, 120010, 1000, 110000, 5000, 1000, 4000, 0,
                                                            4012, 7100, 460000, 1, 0, logfmt.STEP_DONE)),
        (logfmt.T_SESSION_END, logread.end_payload(121000, logfmt.END_COMPLETED, 1, 1700000121, 0)),
    ]
    ends = []
    for rtype, payload in recs:
        out += logread.record(rtype, seq, payload)
        seq += 1
        ends.append(len(out))
    return bytes(out), ends


def test_round_trip_all_types():
    data, ends = _session_bytes()
    d = logread.decode_session(data)
    assert d["problems"] == []
    s = d["session"]
    assert s["session_no"] == 7 and s["boot_count"] == 3 and s["start_ticks_ms"] == 123456
    assert s["wall_start_s"] is None
    assert s["band_lo_g"] == 3000 and s["band_hi_g"] == 5000
    assert s["device_id"] == "a1b2c3" and s["routine"] == "bedtime" and s["routine_hash"] == "deadbeef"
    assert s["firmware"] == "0.1.0" and s["board"] == "sim" and s["calib_id"] == "cal-1"
    assert len(d["steps"]) == 1
    b = d["steps"][0]["begin"]
    assert b["point"] == "HT7" and b["side"] == "left" and b["target_s"] == 120 and b["kind"] == "press"
    sm = d["steps"][0]["summary"]
    assert sm["in_ms"] == 110000 and sm["mean_g"] == 4012 and sm["peak_g"] == 7100
    assert sm["dose_gs"] == 460000 and sm["pauses"] == 1 and sm["status"] == "done"
    assert [e["name"] for e in d["events"]] == ["pause", "clock_set"]
    assert d["events"][1]["value"] == 1700000000
    tr = d["trace"][0]
    assert tr["values_g"] == [0, 50, 1200, 4000, 3980, 4010, -30, 0]
    assert tr["t0_ms"] == 10 and tr["period_ms"] == 100
    assert d["end"]["status"] == "completed" and d["end"]["wall_end_s"] == 1700000121
    assert d["valid_end"] == len(data)


def test_version_3_header_keeps_the_whole_digest_and_boot_id():
    digest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"  # sha256("test")
    p = logread.session_payload(1, 2, 3, 4, 3000, 5000, 100, 20, "ab", "0.2.0", "sim", "bedtime", digest,
                                "cal", boot_id=0x12345678)
    data = logread.file_header() + logread.record(logfmt.T_SESSION, 0, p)
    s = logread.decode_session(data)["session"]
    assert data[6] == 3 and s["routine_hash"] == digest and s["routine_hash_truncated"] is False
    assert s["boot_id"] == 0x12345678 and s["calib_id"] == "cal" and s["routine"] == "bedtime"
    assert s["wall_start_s"] == 4 and s["trace_quantum_g"] == 20
    # raw bytes go in as they are; 32 bytes is the most a digest holds
    p = logread.session_payload(1, 2, 3, 4, 3000, 5000, 100, 20, "", "", "", "", bytes(range(40)), "")
    s = logread.decode_session(logread.file_header() + logread.record(logfmt.T_SESSION, 0, p))["session"]
    assert s["routine_hash"] == "".join("%02x" % i for i in range(32))


def test_version_2_header_still_read_and_its_cut_hash_marked():
    digest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    for version in (1, 2):
        for h, cut in ((digest, True), ("deadbeef", False), ("", False)):
            p = logread.session_payload_v2(5, 1, 0, 0, 3000, 5000, 100, 20, "ab", "0.1.0", "sim", "r", h, "cal")
            data = logread.file_header(version) + logread.record(logfmt.T_SESSION, 0, p) + logread.record(
                logfmt.T_SESSION_END, 1, logread.end_payload(10, logfmt.END_COMPLETED, 0, 0, 0))
            d = logread.decode_session(data)
            s = d["session"]
            assert d["version"] == version and d["problems"] == []
            assert s["routine_hash"] == h[:63] and s["routine_hash_truncated"] is cut
            assert s["boot_id"] is None and s["calib_id"] == "cal" and s["session_no"] == 5


def test_unknown_type_skipped_rest_kept():
    data, ends = _session_bytes(extra_unknown=True)
    d = logread.decode_session(data)
    assert len(d["problems"]) == 1 and "unknown record type 99" in d["problems"][0]
    assert d["end"]["status"] == "completed"
    assert len(d["events"]) == 2


def test_torn_tail_at_every_offset():
    data, ends = _session_bytes()
    for cut in range(logfmt.FILE_HEADER_LEN, len(data)):
        d = logread.decode_session(data[:cut])
        complete = len([e for e in ends if e <= cut])
        assert d["records"] == complete, cut
        assert d["valid_end"] == (ends[complete - 1] if complete else logfmt.FILE_HEADER_LEN)
        if cut not in ends and cut != logfmt.FILE_HEADER_LEN:
            assert any("torn" in p for p in d["problems"]), cut
        assert d["end"] is None


def test_damage_inside_is_skipped_and_later_records_kept():
    data, ends = _session_bytes()
    bad = bytearray(data)
    bad[ends[1] + 7] ^= 0x55   # inside the trace record
    d = logread.decode_session(bytes(bad))
    assert d["trace"] == []
    assert any("damaged" in p for p in d["problems"])
    assert d["end"]["status"] == "completed"
    assert d["steps"][0]["summary"]["in_ms"] == 110000


def test_not_a_log():
    raises(logread.LogFormatError, logread.decode_session, b"hello world, not a log")
    raises(logread.LogFormatError, logread.decode_session, b"")
    data, ends = _session_bytes()
    future = bytearray(data)
    future[6] = 9
    e = raises(logread.LogFormatError, logread.decode_session, bytes(future))
    assert "version 9" in str(e)


def test_malformed_payload_with_valid_crc_is_reported():
    out = bytearray(logread.file_header())
    out += logread.record(logfmt.T_SESSION, 0, b"\x01\x02")  # too short for a header
    out += logread.record(logfmt.T_TRACE, 1, logread.trace_payload(0, 100, 10, [1, 2, 3])[:-1])
    d = logread.decode_session(bytes(out))
    assert d["session"] is None
    assert any("type 1" in p for p in d["problems"])
    assert any("2 of 3" in p for p in d["problems"])


def test_sequence_gap_reported():
    out = bytearray(logread.file_header())
    out += logread.record(logfmt.T_EVENT, 0, logread.event_payload(1, 1, 0))
    out += logread.record(logfmt.T_EVENT, 5, logread.event_payload(2, 2, 0))
    d = logread.decode_session(bytes(out))
    assert len(d["events"]) == 2
    assert any("sequence" in p for p in d["problems"])


def test_trace_rice_coding_sizes_and_large_steps():
    vals = [0, 1000, -1000, 6500, 6499, 0, 63, -64, 64, -65]
    d = logread.decode_payload(logfmt.T_TRACE, logread.trace_payload(0, 50, 1, vals))
    assert d["values_g"] == vals and d["problem"] is None
    # deltas 0 and -1 take 2 bits, +1 and -2 3 bits, +2 and -3 4 bits; 400 (from 0) an escape: 31 bits
    assert logread.trace_bits([0, 0, 0, 0]) == bytes([0])
    assert logread.trace_bits([-1]) == bytes([0b01000000])
    assert logread.trace_bits([1]) == bytes([0b10000000])
    assert logread.trace_bits([-2]) == bytes([0b10100000])
    assert logread.trace_bits([2]) == bytes([0b11000000])
    p = logread.trace_payload(0, 100, 10, [400, 401, 399, 400])
    assert len(p) == logfmt.TRACE_HEAD_LEN + 5  # deltas 400, +1, -2, +1: 31 + 3 + 3 + 3 bits = 5 bytes
    raises(ValueError, logread.trace_payload, 0, 100, 10, [0, 40000])


def test_version_1_nibble_trace_still_decodes():
    vals = [0, 5, 120, 400, 398, 401, -3, 0]
    data = bytearray(logfmt.MAGIC + bytes((1, 0)))
    data += logread.record(logfmt.T_SESSION, 0, logread.session_payload(
        1, 1, 0, 0, 3000, 5000, 100, 10, "ab", "0.1.0", "sim", "", "", ""))
    data += logread.record(logfmt.T_TRACE, 1, logread.trace_payload_v1(10, 100, 10, vals))
    data += logread.record(logfmt.T_SESSION_END, 2, logread.end_payload(900, logfmt.END_COMPLETED, 0, 0, 0))
    d = logread.decode_session(bytes(data))
    assert d["version"] == 1 and d["problems"] == []
    assert d["trace"][0]["values_g"] == [v * 10 for v in vals]
    data[6] = 9
    raises(logread.LogFormatError, logread.decode_session, bytes(data))


def _chain(parts, lose=None, version=logfmt.VERSION):
    """A session whose trace is one chunk plus continuations (parts: lists of quantised values)."""
    data = bytearray(logread.file_header(version))
    seq = 0
    enc = logread.session_payload if version >= 3 else logread.session_payload_v2
    recs = [(logfmt.T_SESSION, enc(1, 1, 0, 0, 3000, 5000, 100, 20, "ab", "", "", "", "", ""))]
    prev = 0
    n = 0
    for i, part in enumerate(parts):
        if i == 0:
            recs.append((logfmt.T_TRACE, logread.trace_payload(500, 100, 20, part)))
        elif version >= 3:
            recs.append((logfmt.T_TRACE_CONT, logread.trace_cont_payload(500 + 100 * n, part)))
        else:
            recs.append((logfmt.T_TRACE_CONT, logread.trace_cont_payload_v2(part, prev)))
        recs.append((logfmt.T_EVENT, logread.event_payload(1000 * i, logfmt.EV_PAUSE, 0)))
        n += len(part)
        if part:
            prev = part[-1]
    recs.append((logfmt.T_SESSION_END, logread.end_payload(99000, logfmt.END_COMPLETED, 0, 0, 0)))
    for rtype, payload in recs:
        if seq != lose:
            data += logread.record(rtype, seq, payload)
        seq += 1
    return bytes(data)


def test_trace_continuations_join_their_chunk():
    parts = [[200, 201, 199], [198, 250, 0], [5], [7, 7, 7, 7]]
    for version in (2, 3):
        d = logread.decode_session(_chain(parts, version=version))
        assert d["problems"] == []
        assert len(d["trace"]) == 1
        c = d["trace"][0]
        assert c["t0_ms"] == 500 and c["period_ms"] == 100
        assert c["values_g"] == [v * 20 for p in parts for v in p]


def test_a_lost_trace_record_costs_only_its_own_samples():
    parts = [[200, 201], [198, 250], [5, 6], [9]]
    # record 3 is the first continuation: lost; the next ones stand on their own (format 3)
    d = logread.decode_session(_chain(parts, lose=3))
    assert [(c["t0_ms"], c["values_g"]) for c in d["trace"]] == [(500, [4000, 4020]), (900, [100, 120, 180])]
    assert not any("continuation" in p for p in d["problems"])
    assert any("sequence" in p for p in d["problems"])
    # the chunk itself lost: its continuations are kept, at their own times
    d = logread.decode_session(_chain(parts, lose=1))
    assert [(c["t0_ms"], c["values_g"]) for c in d["trace"]] == [(700, [3960, 5000, 100, 120, 180])]
    # the session header lost: the continuations take the period and quantum of the session's chunk
    d = logread.decode_session(_chain(parts, lose=0))
    assert [(c["t0_ms"], c["values_g"]) for c in d["trace"]] == [(500, [v * 20 for p in parts for v in p])]


def test_version_2_continuation_after_a_lost_record_is_skipped_with_a_message():
    parts = [[200, 201], [198, 250], [5, 6]]
    # record 3 is the first continuation: lost -> the next one cannot be placed either
    d = logread.decode_session(_chain(parts, lose=3, version=2))
    assert d["trace"][0]["values_g"] == [4000, 4020]
    assert sum("continuation" in p for p in d["problems"]) == 1
    assert any("sequence" in p for p in d["problems"])
    # the chunk itself lost: every continuation is skipped, the rest of the session kept
    d = logread.decode_session(_chain(parts, lose=1, version=2))
    assert d["trace"] == [] and d["end"] is not None
    assert sum("continuation" in p for p in d["problems"]) == 2


def test_long_strings_truncated():
    p = logread.session_payload(1, 1, 0, 0, 3000, 5000, 100, 10, "x" * 200, "", "", "r" * 100, "", "")
    d = logread.decode_payload(logfmt.T_SESSION, p)
    assert d["device_id"] == "x" * logfmt.MAX_STR and d["routine"] == "r" * logfmt.MAX_STR
