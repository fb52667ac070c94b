# The read side of the session log codec (docs/log-format.md): names, the decoder, and the bytes-returning
# encoders (record, *_payload, trace_bits) for the host and tests; the firmware's app never imports it
# (acu.logfmt holds what the device needs, and everything here is built on it). MicroPython and CPython.
# Decoding never raises anything but LogFormatError (bad magic/version: not a log at all); damage
# inside a log becomes a problem message and the decoder resynchronises on the next valid record.
import binascii
import struct

from micropython import const

from acu import logfmt
from acu.logfmt import (CONT_HEAD_LEN, END_FLAG_TRACE_STOPPED, END_FMT, END_LEN, EVENT_FMT, EVENT_LEN,
                        FILE_HEADER, FILE_HEADER_LEN, MAGIC, MAX_PAYLOAD, MAX_STR, REC_HEAD_LEN, REC_OVERHEAD,
                        SESSION_FMT, SESSION_HEAD_LEN, STEP_BEGIN_FMT, STEP_BEGIN_HEAD_LEN, STEP_SUM_FMT,
                        STEP_SUM_LEN, T_EVENT, T_SESSION, T_SESSION_END, T_STEP_BEGIN, T_STEP_SUMMARY, T_TRACE,
                        T_TRACE_CONT, TRACE_FMT, TRACE_HEAD_LEN, VERSION, TraceCoder, parse_record_at, put_cont_head,
                        put_end, put_event, put_session, put_step_begin, put_step_summary, put_trace_head,
                        seal_in_place)

NIB_ESC = 15  # version 1 trace: nibble 0..14 = delta -7..+7, 15 + 4 nibbles = int16 delta
VERSIONS = (1, 2, 3)  # what this decoder reads
SESSION_FMT_V2 = "<IIIIHHHB"  # versions 1 and 2: no boot_id; the hash a capped string among the others

_SESSION_STRS = const(("device_id", "firmware", "board", "routine", "calib_id"))
_SESSION_STRS_V2 = const(("device_id", "firmware", "board", "routine", "routine_hash", "calib_id"))
_STEP_BEGIN_STRS = const(("kind", "point", "side"))
TYPE_NAMES = {T_SESSION: "session", T_STEP_BEGIN: "step_begin", T_STEP_SUMMARY: "step_summary", T_EVENT: "event",
              T_TRACE: "trace", T_SESSION_END: "session_end", T_TRACE_CONT: "trace_cont"}
END_NAMES = {logfmt.END_COMPLETED: "completed", logfmt.END_ABORTED: "aborted",
             logfmt.END_CUT_SHORT: "cut_short", logfmt.END_INTERRUPTED: "interrupted"}
STEP_NAMES = {logfmt.STEP_DONE: "done", logfmt.STEP_SKIPPED: "skipped", logfmt.STEP_ABORTED: "aborted",
              logfmt.STEP_CUT_SHORT: "cut_short", logfmt.STEP_INTERRUPTED: "interrupted"}
STEP_SUM_FMT_V2 = "<HIIIIIIIHHIHHB"  # versions 1 and 2: no flags byte
BAND_FIELDS = ("under_ms", "in_ms", "over_ms", "too_hard_ms")  # null in a step without a pressure target
REBUILD_CONTACT_G = 300  # a rebuilt summary counts a trace sample from here as contact: the firmware's default
# contact threshold (acu.band); a rebuilt summary's too_hard_ms is null (the threshold is a device setting)
EVENT_NAMES = {logfmt.EV_PAUSE: "pause", logfmt.EV_RESUME: "resume", logfmt.EV_SKIP: "skip",
               logfmt.EV_ABORT: "abort", logfmt.EV_FAULT: "fault", logfmt.EV_OVER_FORCE: "over_force",
               logfmt.EV_FLASH_LOW: "flash_low", logfmt.EV_CLOCK_SET: "clock_set",
               logfmt.EV_LOW_BATTERY: "low_battery", logfmt.EV_TRACE_DROPPED: "trace_dropped",
               logfmt.EV_HOST_STOP: "host_stop", logfmt.EV_BOOT_FAULTS: "boot_faults",
               logfmt.EV_WRITE_FAILED: "write_failed", logfmt.EV_ARM: "arm", logfmt.EV_PROGRAMME: "programme",
               logfmt.EV_CONTACT_LOST: "contact_lost",
               logfmt.EV_CONTACT_BACK: "contact_back", logfmt.EV_TIMEOUT: "timeout",
               logfmt.EV_DOSE_MAX: "dose_max", logfmt.EV_MIN_REACHED: "min_reached",
               logfmt.EV_STEPS_PLANNED: "steps_planned", logfmt.EV_SCORE: "score"}
FEEDBACK_NAMES = ("full", "faded", "bandwidth", "none")  # acu.routine.FB_NAMES (the summary's feedback byte)


class LogFormatError(ValueError):
    """The bytes are not a session log this codec can read (bad magic or unsupported version)."""


def file_header(version=VERSION):
    """A session file's first bytes (MAGIC, version, flags); an older version for tests of old logs."""
    return FILE_HEADER if version == VERSION else MAGIC + bytes((version, 0))


def record(rtype, seq, payload):
    """One framed record: head + payload + CRC32 (bytes)."""
    n = len(payload)
    if n > MAX_PAYLOAD:
        raise ValueError("payload too long")
    buf = bytearray(REC_OVERHEAD + n)
    buf[REC_HEAD_LEN:REC_HEAD_LEN + n] = payload
    seal_in_place(buf, 0, rtype, seq, n)
    return bytes(buf)


def session_payload(session_no, boot_count, start_ticks_ms, wall_start_s, band_lo_g, band_hi_g,
                    trace_period_ms, trace_quantum_g, device_id, firmware, board, routine,
                    routine_hash, calib_id, boot_id=0):
    """routine_hash: the digest as bytes or hex text (stored as its raw bytes)."""
    buf = bytearray(logfmt.SESSION_ROOM)
    n = put_session(buf, 0, session_no, boot_count, boot_id, start_ticks_ms, wall_start_s, band_lo_g, band_hi_g,
                    trace_period_ms, trace_quantum_g, device_id, firmware, board, routine, routine_hash,
                    calib_id)
    return bytes(buf[:n])


def session_payload_v2(session_no, boot_count, start_ticks_ms, wall_start_s, band_lo_g, band_hi_g,
                       trace_period_ms, trace_quantum_g, device_id, firmware, board, routine,
                       routine_hash, calib_id):
    """A version 1/2 session header (the hash a string cut to 63 bytes): for tests of reading old logs."""
    buf = bytearray(SESSION_HEAD_LEN + 6 * (MAX_STR + 1))
    struct.pack_into(SESSION_FMT_V2, buf, 0, session_no, boot_count, start_ticks_ms, wall_start_s or 0,
                     band_lo_g, band_hi_g, trace_period_ms, trace_quantum_g)
    n = logfmt.put_strs(buf, struct.calcsize(SESSION_FMT_V2),
                        (device_id, firmware, board, routine, routine_hash, calib_id))
    return bytes(buf[:n])


def step_begin_payload(index, t_ms, band_lo_g, band_hi_g, target_s, kind, point, side):
    buf = bytearray(STEP_BEGIN_HEAD_LEN + 3 * (MAX_STR + 1))
    return bytes(buf[:put_step_begin(buf, 0, index, t_ms, band_lo_g, band_hi_g, target_s, kind, point, side)])


def step_summary_payload(index, t_ms, under_ms, in_ms, over_ms, too_hard_ms, no_contact_ms, fault_ms,
                         mean_g, peak_g, dose_gs, pauses, skips, status, flags=0, version=VERSION, teach=None):
    """teach: (feedback, feedback_pct, silent_ms, silent_in_ms, check_target_g, check_measured_g,
    check_grade), the fields after the fixed part (logfmt.STEP_TEACH_FMT); None: a summary without them, as
    firmware before the feedback schedules wrote."""
    buf = bytearray(STEP_SUM_LEN + logfmt.STEP_TEACH_LEN)
    end = put_step_summary(buf, 0, index, t_ms, under_ms, in_ms, over_ms, too_hard_ms, no_contact_ms, fault_ms,
                           mean_g, peak_g, dose_gs, pauses, skips, status, flags)
    if version < 3:
        return bytes(buf[:STEP_SUM_LEN - 1])  # versions 1-2: no flags byte
    if teach is not None:
        end = logfmt.put_step_teach(buf, end, *teach)
    return bytes(buf[:end])


def event_payload(t_ms, code, value):
    buf = bytearray(EVENT_LEN)
    put_event(buf, 0, t_ms, code, value)
    return bytes(buf)


def end_payload(t_ms, status, steps_done, wall_end_s, flags):
    buf = bytearray(END_LEN)
    put_end(buf, 0, t_ms, status, steps_done, wall_end_s, flags)
    return bytes(buf)


def trace_bits(values_q, prev=0):
    """The version 2 delta code of quantised values (docs/log-format.md), from prev: the logger's coder."""
    buf = bytearray(4 * len(values_q))  # at most 31 bits a value
    w = TraceCoder(buf)
    w.start(0, prev)
    for v in values_q:
        if not -32768 <= v - w.prev <= 32767:
            raise ValueError("trace delta out of range")
        w.put(v)
    return bytes(buf[:w.end()])


def trace_payload(t0_ms, period_ms, quantum_g, values_q):
    """Trace chunk payload (version 2) from quantised values (tests and the bench; the logger encodes in place)."""
    head = bytearray(TRACE_HEAD_LEN)
    put_trace_head(head, 0, t0_ms, period_ms, quantum_g, len(values_q))
    return bytes(head) + trace_bits(values_q)


def trace_cont_payload(t0_ms, values_q):
    """A continuation chunk's payload (version 3): values_q from t0_ms on, the session header's period."""
    head = bytearray(CONT_HEAD_LEN)
    put_cont_head(head, 0, t0_ms, len(values_q))
    return bytes(head) + trace_bits(values_q)


def trace_cont_payload_v2(values_q, prev_q):
    """A version 2 continuation's payload: values_q follow a chunk whose last quantised value was prev_q."""
    return struct.pack("<H", len(values_q)) + trace_bits(values_q, prev_q)


def trace_payload_v1(t0_ms, period_ms, quantum_g, values_q):
    """A version 1 (nibble-coded) trace chunk payload: for tests of the decoder's backward compatibility."""
    data = bytearray(struct.pack(TRACE_FMT, t0_ms, period_ms, quantum_g, len(values_q)))
    nibs = []
    prev = 0
    for v in values_q:
        d = v - prev
        prev = v
        if -7 <= d <= 7:
            nibs.append(d + 7)
        elif -32768 <= d <= 32767:
            u = d & 0xFFFF
            nibs.extend((NIB_ESC, u >> 12, (u >> 8) & 15, (u >> 4) & 15, u & 15))
        else:
            raise ValueError("trace delta out of range")
    for i in range(0, len(nibs), 2):
        lo = nibs[i + 1] if i + 1 < len(nibs) else 0
        data.append((nibs[i] << 4) | lo)
    return bytes(data)


# ---------------------------------------------------------------- decoding
def check_file_header(data):
    if len(data) < FILE_HEADER_LEN or bytes(data[0:6]) != MAGIC:
        raise LogFormatError("not a session log (bad magic)")
    if data[6] not in VERSIONS:
        raise LogFormatError("unsupported log format version %d (this codec reads %s)"
                             % (data[6], ", ".join(str(v) for v in VERSIONS)))


def iter_records(data):
    """Walk framed records: returns (records, problems, valid_end).

    records: list of (offset, rtype, seq, payload bytes); problems: list of messages; valid_end: the
    offset just after the last valid record (where a torn tail starts). Damage is skipped by scanning
    forward for the next position holding a valid record (CRC32 makes a false match negligible).
    """
    check_file_header(data)
    records = []
    problems = []
    pos = FILE_HEADER_LEN
    size = len(data)
    valid_end = pos
    expect_seq = None
    while pos < size:
        r = parse_record_at(data, pos)
        if isinstance(r, str):
            bad = pos
            nxt = None
            p = pos + 1
            while p + REC_OVERHEAD <= size:
                r2 = parse_record_at(data, p)
                if not isinstance(r2, str):
                    nxt = p
                    break
                p += 1
            if nxt is None:
                problems.append("torn or damaged tail at byte %d (%s): %d bytes dropped"
                                % (bad, r, size - bad))
                break
            problems.append("damaged bytes %d..%d (%s) skipped" % (bad, nxt, r))
            pos = nxt
            continue
        rtype, seq, pstart, n, nxt = r
        if rtype == T_SESSION and seq == 0:
            expect_seq = None  # the next session of a multi-session file numbers its records from 0
        if expect_seq is not None and seq != expect_seq:
            problems.append("record sequence jumps from %d to %d at byte %d"
                            % ((expect_seq - 1) & 0xFFFF, seq, pos))
        expect_seq = (seq + 1) & 0xFFFF
        records.append((pos, rtype, seq, bytes(data[pstart:pstart + n])))
        pos = nxt
        valid_end = nxt
    return records, problems, valid_end


def split_sessions(data):
    """A log file holds one or more sessions back to back. Returns [(start, end, blob)]: each session's
    byte range in the file and the session as a file of its own (the file header + its bytes), which
    decode_session() reads and the archive keeps. Damaged bytes stay with the session they follow."""
    records, _problems, _end = iter_records(data)
    # a session starts at its header and ends with its end record: a cut at both keeps the records of
    # a session whose header was damaged from joining the session before it
    starts = [FILE_HEADER_LEN]
    for offset, rtype, _seq, payload in records:
        if rtype == T_SESSION and offset > starts[-1]:
            starts.append(offset)
        elif rtype == T_SESSION_END:
            starts.append(offset + REC_OVERHEAD + len(payload))
    starts = sorted(set(starts))
    out = []
    head = bytes(data[0:FILE_HEADER_LEN])
    for i, a in enumerate(starts):
        b = starts[i + 1] if i + 1 < len(starts) else len(data)
        if b > a:
            out.append((a, b, head + bytes(data[a:b])))
    return out


def _unpack_strs(payload, off, names, out):
    for name in names:
        if off >= len(payload):
            out[name] = ""
            continue
        n = payload[off]
        raw = bytes(payload[off + 1:off + 1 + n])
        off += 1 + n
        try:
            out[name] = raw.decode("utf-8")
        except Exception:  # MicroPython has no errors= handler; keep something printable
            out[name] = "".join(chr(c) if 32 <= c < 127 else "?" for c in raw)
    return off


def _fixed(fmt, payload):
    n = struct.calcsize(fmt)
    if len(payload) < n:
        raise ValueError("payload too short (%d < %d bytes)" % (len(payload), n))
    return struct.unpack_from(fmt, payload, 0), n


def _decode_nibbles(payload, off, count, prev, q, values):
    """Version 1 deltas; returns a problem or None."""
    nib_total = (len(payload) - off) * 2
    i = 0

    def nib(k):
        b = payload[off + (k >> 1)]
        return (b >> 4) if not (k & 1) else (b & 15)

    while len(values) < count and i < nib_total:
        n = nib(i)
        i += 1
        if n == NIB_ESC:
            if i + 4 > nib_total:
                return "trace escape cut off"
            u = (nib(i) << 12) | (nib(i + 1) << 8) | (nib(i + 2) << 4) | nib(i + 3)
            i += 4
            d = u - 0x10000 if u & 0x8000 else u
        else:
            d = n - 7
        prev += d
        values.append(prev * q)
    return None


def _decode_rice(payload, off, count, prev, q, values):
    """Version 2 deltas; returns a problem or None. The bits as a "0"/"1" string: str.find() runs through
    a run of ones far faster than a Python loop per bit (a pull decodes ~1.6 million bits per 200 KB)."""
    n = len(payload) - off
    if n <= 0:
        return None
    bits = bin(int.from_bytes(bytes(payload[off:]), "big") | (1 << (8 * n)))[3:]  # the 1 keeps leading zeros
    total = len(bits)
    i = 0
    while len(values) < count:
        j = bits.find("0", i, i + logfmt.RICE_ESC)  # the zero that ends the run of ones
        if j < 0:
            if i + logfmt.RICE_ESC > total:
                break  # ones to the end: cut off
            i += logfmt.RICE_ESC
            if i + 16 > total:
                return "trace escape cut off"
            u = int(bits[i:i + 16], 2)
            i += 16
            d = u - 0x10000 if u & 0x8000 else u
        else:
            if j + 2 > total:
                break
            k = j - i
            d = -k - 1 if bits[j + 1] == "1" else k
            i = j + 2
        prev += d
        values.append(prev * q)
    return None


def decode_trace(payload, version=VERSION, prev_q=None, cont_of=None):
    """(t0_ms, period_ms, quantum_g, values_g list, problem or None) of a trace chunk. A continuation
    (cont_of = (t0_ms, period_ms, quantum_g): version 3 the session header's period and quantum, its t0_ms
    its own; version 2 those of the chunk it continues, with prev_q its last quantised value)."""
    if cont_of is None:
        (t0, period, q, count), off = _fixed(TRACE_FMT, payload)
        prev_q = 0
    elif version >= 3:
        (t0, count), off = _fixed(logfmt.CONT_FMT, payload)
        period, q = cont_of[1], cont_of[2]
        prev_q = 0
    else:
        (count,), off = _fixed("<H", payload)
        t0, period, q = cont_of
    values = []  # type: list[int]
    if version == 1:
        problem = _decode_nibbles(payload, off, count, prev_q, q, values)
    else:
        problem = _decode_rice(payload, off, count, prev_q, q, values)
    if problem is None and len(values) != count:
        problem = "trace chunk holds %d of %d samples" % (len(values), count)
    return t0, period, q, values, problem


def _teach(d, payload, off):
    """The summary's feedback and check fields (logfmt.STEP_TEACH_FMT) when it holds them; a summary
    without them (older firmware) had full feedback and no check."""
    d["feedback"] = "full"
    d["feedback_pct"] = None
    d["silent_ms"] = 0
    d["silent_in_ms"] = 0
    d["check"] = None
    if off is None or len(payload) < off + logfmt.STEP_TEACH_LEN:
        return
    fb, pct, sil, sil_in, tgt, meas, grade = struct.unpack_from(logfmt.STEP_TEACH_FMT, payload, off)
    d["feedback"] = FEEDBACK_NAMES[fb] if fb < len(FEEDBACK_NAMES) else "unknown(%d)" % fb
    d["feedback_pct"] = pct if fb == 1 or fb == 2 else None
    d["silent_ms"] = sil
    d["silent_in_ms"] = sil_in
    if tgt:
        d["check"] = {"target_g": tgt, "measured_g": meas, "grade": grade}


def _no_band(summary):
    """A step without a pressure target has no band figures: null, not the 0 on flash (nor, in logs before
    version 3, the time counted against a band the step never had)."""
    summary["no_band"] = True
    for k in BAND_FIELDS:
        summary[k] = None
    summary["feedback"] = summary["feedback_pct"] = summary["silent_ms"] = summary["silent_in_ms"] = None


def _session(payload, version):
    """The session header: version 3 holds boot_id and the routine's digest in full (hex here); versions
    1-2 hold no boot_id (None) and the hash as a string capped at 63 bytes: a 64-character SHA-256 hex
    digest lost its last character (routine_hash_truncated)."""
    v, off = _fixed(SESSION_FMT if version >= 3 else SESSION_FMT_V2, payload)
    d = {"session_no": v[0], "boot_count": v[1], "start_ticks_ms": v[2],
         "wall_start_s": v[3] or None, "band_lo_g": v[4], "band_hi_g": v[5],
         "trace_period_ms": v[6], "trace_quantum_g": v[7], "boot_id": None}
    if version < 3:
        _unpack_strs(payload, off, _SESSION_STRS_V2, d)
        d["routine_hash_truncated"] = len(d["routine_hash"]) >= MAX_STR
        return d
    d["boot_id"] = v[8] or None
    off = _unpack_strs(payload, off, _SESSION_STRS, d)
    n = payload[off] if off < len(payload) else 0
    d["routine_hash"] = binascii.hexlify(bytes(payload[off + 1:off + 1 + n])).decode()
    d["routine_hash_truncated"] = False
    return d


def decode_payload(rtype, payload, version=VERSION):
    """A dict for a known record type; ValueError on a malformed payload; None for an unknown type.
    A trace continuation (T_TRACE_CONT) needs its chunk: decode_session joins them."""
    if rtype == T_SESSION:
        return _session(payload, version)
    if rtype == T_STEP_BEGIN:
        v, off = _fixed(STEP_BEGIN_FMT, payload)
        d = {"index": v[0], "t_ms": v[1], "band_lo_g": v[2], "band_hi_g": v[3], "target_s": v[4]}
        _unpack_strs(payload, off, _STEP_BEGIN_STRS, d)
        return d
    if rtype == T_STEP_SUMMARY:
        v, off = _fixed(STEP_SUM_FMT if version >= 3 else STEP_SUM_FMT_V2, payload)
        flags = v[14] if version >= 3 else 0
        d = {"index": v[0], "t_ms": v[1], "under_ms": v[2], "in_ms": v[3], "over_ms": v[4],
             "too_hard_ms": v[5], "no_contact_ms": v[6], "fault_ms": v[7], "mean_g": v[8],
             "peak_g": v[9], "dose_gs": v[10], "pauses": v[11], "skips": v[12],
             "status": STEP_NAMES.get(v[13], "unknown(%d)" % v[13]), "partial": bool(flags & logfmt.SUM_PARTIAL),
             "reconstructed": bool(flags & logfmt.SUM_RECONSTRUCTED), "no_band": False}
        _teach(d, payload, off if version >= 3 else None)
        if flags & logfmt.SUM_NO_BAND:
            _no_band(d)
        return d
    if rtype == T_EVENT:
        v, off = _fixed(EVENT_FMT, payload)
        return {"t_ms": v[0], "code": v[1], "name": EVENT_NAMES.get(v[1], "unknown(%d)" % v[1]),
                "value": v[2]}
    if rtype == T_TRACE:
        t0, period, q, values, problem = decode_trace(payload, version)
        return {"t0_ms": t0, "period_ms": period, "quantum_g": q, "values_g": values, "problem": problem}
    if rtype == T_SESSION_END:
        v, off = _fixed(END_FMT, payload)
        return {"t_ms": v[0], "status": END_NAMES.get(v[1], "unknown(%d)" % v[1]), "steps_done": v[2],
                "wall_end_s": v[3] or None, "flags": v[4],
                "trace_stopped": bool(v[4] & END_FLAG_TRACE_STOPPED)}
    return None


def _cont_v3(out, chunk, offset, payload):
    """A version 3 continuation: decoded on its own (its start, the header's period and quantum); joined to
    the chunk before it when it starts where that one ends, else a chunk of its own. Returns the chunk a
    next continuation may join (None after damage)."""
    problems = out["problems"]
    hdr = out["session"]
    pq = None
    if hdr is not None and hdr["trace_quantum_g"] and hdr["trace_period_ms"]:
        pq = (hdr["trace_period_ms"], hdr["trace_quantum_g"])
    else:  # the header was lost: the logger gives every chunk of a session the same period and quantum
        for c in out["trace"]:
            if c["quantum_g"] and c["period_ms"]:
                pq = (c["period_ms"], c["quantum_g"])
                break
    if pq is None:
        problems.append("trace continuation at byte %d skipped: no session header to give its period" % offset)
        return None
    try:
        t0, period, q, values, problem = decode_trace(payload, 3, None, (0, pq[0], pq[1]))
    except Exception as e:
        problems.append("record type %d at byte %d skipped: %s" % (T_TRACE_CONT, offset, e))
        return chunk  # no samples: the trace so far is unchanged
    if problem:
        problems.append("trace chunk at byte %d: %s" % (offset, problem))
    if (chunk is not None and chunk["period_ms"] == period and chunk["quantum_g"] == q
            and chunk["t0_ms"] + period * len(chunk["values_g"]) == t0):
        chunk["values_g"].extend(values)
    else:
        chunk = {"t0_ms": t0, "period_ms": period, "quantum_g": q, "values_g": values, "problem": problem}
        out["trace"].append(chunk)
    return None if problem else chunk


def _rebuild(out):
    """Steps that began but have no summary (the session was cut short by a power cut or crash, or the
    summary was lost to damage): a summary rebuilt from the trace and events between the step's begin and
    the next step's begin (or the session's end, or the last time the log tells), flagged reconstructed;
    partial when the session stopped during the step. Band times count each trace sample as period_ms
    against the step's band; no trace samples in the step: the force figures are null."""
    steps = out["steps"]
    end = out["end"]
    if end is not None:
        last_t = end["t_ms"]
    else:  # the latest time any record of the session tells
        last_t = 0
        for c in out["trace"]:
            last_t = max(last_t, c["t0_ms"] + c["period_ms"] * len(c["values_g"]))
        for ev in out["events"]:
            last_t = max(last_t, ev["t_ms"])
        for st in steps:
            for r in (st["begin"], st["summary"]):
                if r is not None:
                    last_t = max(last_t, r["t_ms"])
    for i, st in enumerate(steps):
        b = st["begin"]
        if st["summary"] is not None or b is None:
            continue
        nxt = [x["begin"]["t_ms"] for x in steps[i + 1:] if x["begin"] is not None]
        stop = nxt[0] if nxt else last_t
        if end is None or (not nxt and end["status"] == "cut_short"):
            status, partial = "cut_short", True
        elif not nxt and end["status"] == "interrupted":
            status, partial = "interrupted", True
        else:
            status, partial = "unknown", False  # the summary was lost; the step ended, how is not known
        lo, hi = b["band_lo_g"], b["band_hi_g"]
        n = under = inb = over = none = dose = peak = 0
        period = 0
        for c in out["trace"]:
            p = c["period_ms"]
            for k, v in enumerate(c["values_g"]):
                if b["t_ms"] <= c["t0_ms"] + p * k < stop:
                    n += 1
                    period = p
                    if v < REBUILD_CONTACT_G:
                        none += p
                        continue
                    dose += v * p
                    peak = max(peak, v)
                    if v < lo:
                        under += p
                    elif v > hi:
                        over += p
                    else:
                        inb += p
        contact = under + inb + over
        known = n > 0 and period > 0
        evs = [e for e in out["events"] if b["t_ms"] <= e["t_ms"] < stop]
        d = {"index": st["index"], "t_ms": stop, "under_ms": under if known else None,
             "in_ms": inb if known else None, "over_ms": over if known else None, "too_hard_ms": None,
             "no_contact_ms": none if known else None, "fault_ms": None,
             "mean_g": dose // contact if contact else (0 if known else None), "peak_g": peak if known else None,
             "dose_gs": dose // 1000 if known else None,
             "pauses": len([e for e in evs if e["code"] in (logfmt.EV_PAUSE, logfmt.EV_CONTACT_LOST)]),
             "skips": len([e for e in evs if e["code"] == logfmt.EV_SKIP]), "status": status,
             "partial": partial, "reconstructed": True, "no_band": False,
             # the schedule and a check's result are the device's, not in the trace
             "feedback": None, "feedback_pct": None, "silent_ms": None, "silent_in_ms": None, "check": None}
        st["summary"] = d


def decode_session(data):
    """Decode a whole session file into a dict; damage becomes messages in "problems".

    {"version", "session": header dict or None,
     "steps": [{"index", "begin": dict|None, "summary": dict|None}],
     "events": [...], "trace": [chunk dicts], "end": dict or None, "problems": [str], "records": n}
    Raises LogFormatError only when the bytes are not a log of a version this codec reads.
    """
    records, problems, valid_end = iter_records(data)
    version = data[6]
    out = {"version": version, "session": None, "steps": [], "events": [], "trace": [], "end": None,
           "problems": problems, "records": len(records), "valid_end": valid_end}
    steps = {}
    order = []
    chunk = None  # the trace chunk a continuation extends (None after anything breaks the chain)
    prev_seq = None
    for offset, rtype, seq, payload in records:
        if prev_seq is not None and seq != (prev_seq + 1) & 0xFFFF and version < 3:
            chunk = None  # a record was lost here: it may have been a chunk of the (version 2) chain
        prev_seq = seq
        if rtype == T_TRACE_CONT and version >= 3:
            chunk = _cont_v3(out, chunk, offset, payload)
            continue
        if rtype == T_TRACE_CONT and version == 2:
            if chunk is None:
                problems.append("trace continuation at byte %d without the chunk it continues: skipped" % offset)
                continue
            try:
                prev_q = chunk["values_g"][-1] // chunk["quantum_g"] if chunk["values_g"] else 0
                t = decode_trace(payload, version, prev_q, (chunk["t0_ms"], chunk["period_ms"], chunk["quantum_g"]))
            except Exception as e:
                problems.append("record type %d at byte %d skipped: %s" % (rtype, offset, e))
                chunk = None
                continue
            chunk["values_g"].extend(t[3])
            if t[4]:
                problems.append("trace chunk at byte %d: %s" % (offset, t[4]))
                chunk = None
            continue
        try:
            d = decode_payload(rtype, payload, version)
        except Exception as e:  # a record with a valid CRC but a malformed payload (a buggy writer)
            problems.append("record type %d at byte %d skipped: %s" % (rtype, offset, e))
            continue
        if d is None:
            problems.append("unknown record type %d at byte %d skipped (%d bytes)"
                            % (rtype, offset, len(payload)))
            continue
        if rtype == T_SESSION:
            if out["session"] is None:
                out["session"] = d
            else:
                problems.append("second session header at byte %d ignored" % offset)
        elif rtype == T_STEP_BEGIN or rtype == T_STEP_SUMMARY:
            idx = d["index"]
            if idx not in steps:
                steps[idx] = {"index": idx, "begin": None, "summary": None}
                order.append(idx)
            key = "begin" if rtype == T_STEP_BEGIN else "summary"
            if steps[idx][key] is not None:
                problems.append("duplicate %s for step %d at byte %d ignored"
                                % (TYPE_NAMES[rtype], idx, offset))
            else:
                steps[idx][key] = d
        elif rtype == T_EVENT:
            out["events"].append(d)
        elif rtype == T_TRACE:
            if d["problem"]:
                problems.append("trace chunk at byte %d: %s" % (offset, d["problem"]))
            out["trace"].append(d)
            chunk = d if d["quantum_g"] and not d["problem"] else None
        elif rtype == T_SESSION_END:
            if out["end"] is None:
                out["end"] = d
            else:
                problems.append("second session end at byte %d ignored" % offset)
    out["steps"] = [steps[i] for i in order]
    _rebuild(out)
    for st in out["steps"]:
        b = st["begin"]
        if st["summary"] is not None and b is not None and (b["kind"] not in ("press", "check")
                                                             or not b["band_hi_g"]):
            _no_band(st["summary"])  # logs before version 3 say it only in the step begin
    if out["session"] is None:
        problems.append("no session header")
    if out["end"] is None:
        problems.append("no session end record (session still open or cut short)")
    return out
