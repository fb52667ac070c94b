# The session log codec: the ONE implementation of docs/log-format.md. This module is the part the device
# keeps in RAM (constants, file names, record framing, payload encoders, the trace's delta code,
# parse_record_at for the recovery walk); the decoder, the names and the bytes-returning encoders for the
# host and tests are acu.logread, which the app never imports. MicroPython and CPython.
import struct
import binascii

from micropython import const

MAGIC = b"ACULOG"
VERSION = const(3)          # 3: boot_id + the routine's full digest in the session header; 2: Rice-coded
# trace + continuation chunks; the decoder still reads 1 and 2
FILE_HEADER_LEN = const(8)  # MAGIC + version u8 + flags u8
REC_HEAD_LEN = const(5)     # u16 payload length, u8 type, u16 sequence
REC_CRC_LEN = const(4)      # u32 CRC32 over head + payload
REC_OVERHEAD = const(9)
MAX_PAYLOAD = const(2048)   # a larger length field is treated as damage, never as a skip distance
MAX_BATCH = const(1936)     # the most one write appends (acu.logger's batch, with a trace chunk): a damaged
# tail this short with no valid record after it is a torn write (acu.logrecover); kept at what firmware with
# a 1536-byte batch could leave
SUFFIX = ".acl"             # session files: /log/<nnnnnn>.acl
COUNTER = "next"            # /log/next: the next session number, so numbers are never reused after the host
# deletes every pulled file (a reused number would look like a duplicate or a gap); a second copy sits beside
# the folder (/log.next: it outlives a removed or replaced /log), and a number outside 1..MAX_SESSION_NO in
# either is damage, ignored (the file names and the other copy still count)
COUNTER_TWIN = ".next"      # appended to the log folder's path: /log.next
MAX_SESSION_NO = const(999999)  # six digits in the file name

# record types
T_SESSION = const(1)
T_STEP_BEGIN = const(2)
T_STEP_SUMMARY = const(3)
T_EVENT = const(4)
T_TRACE = const(5)
T_SESSION_END = const(6)
T_TRACE_CONT = const(7)     # a trace chunk that continues the previous one's timeline (a smaller head)

# session end status
END_COMPLETED = const(1)
END_ABORTED = const(2)
END_CUT_SHORT = const(3)     # closed at the next boot after a power cut / crash
END_INTERRUPTED = const(4)   # the app stopped (host took the REPL, soft reset) mid-session

# step status
STEP_DONE = const(1)
STEP_SKIPPED = const(2)
STEP_ABORTED = const(3)
STEP_CUT_SHORT = const(4)     # the session was closed at the next boot (recover): rebuilt by the host
STEP_INTERRUPTED = const(5)   # the session ended while the step ran (the app stopped): figures up to then

# step summary flags (version 3)
SUM_PARTIAL = const(1)        # the step did not run to its end: the figures cover it up to the cut
SUM_RECONSTRUCTED = const(2)  # rebuilt from the trace by the reader, not counted by the device
SUM_NO_BAND = const(4)        # no pressure target (rest, breathe, timed): no band figures (stored as 0)

# event codes
EV_PAUSE = const(1)
EV_RESUME = const(2)
EV_SKIP = const(3)
EV_ABORT = const(4)
EV_FAULT = const(5)
EV_OVER_FORCE = const(6)
EV_FLASH_LOW = const(7)
EV_CLOCK_SET = const(8)      # value = the new wall-clock epoch seconds
EV_LOW_BATTERY = const(9)
EV_TRACE_DROPPED = const(10)  # value = samples lost (trace buffer full / flash low)
EV_HOST_STOP = const(11)     # the host ended the practice on purpose (--stop); value = step index
EV_BOOT_FAULTS = const(12)   # bad boot files were set aside or ignored at this boot; value = how many
EV_WRITE_FAILED = const(13)  # a log write failed (flash full or failing): value = the bytes of records lost
EV_ARM = const(14)           # the study arm the session ran (acu.arms): 1 feedback off, 2 sham band; once, at its start
EV_PROGRAMME = const(15)     # a programme's session (acu.programme.place): stage | week << 8 | goal << 16; at its start
# the routine runner's (acu.runner); value = the step index unless noted
EV_CONTACT_LOST = const(20)  # the step's clock stopped: no contact for contact_pause_ms
EV_CONTACT_BACK = const(21)
EV_TIMEOUT = const(22)       # value: the runner state that timed out (PAUSED or RUNNING); an abort follows
EV_DOSE_MAX = const(23)      # a dose step hit max_s before its in-band time; value: in-band seconds
EV_MIN_REACHED = const(24)   # a timed step passed its min_s
# the trainer's (acu.app, at a routine session's end, before the end record; docs/score.md)
EV_STEPS_PLANNED = const(25)  # value: the routine's number of steps (the score's completion part)
EV_SCORE = const(26)          # value: the session score 0..100 (acu.score)

# fixed parts of payloads (little endian); strings follow as u8 length + UTF-8 bytes
SESSION_FMT = "<IIIIHHHBI"  # session_no, boot_count, start_ticks_ms, wall_start_s (0 = unset),
#                              band_lo_g, band_hi_g, trace_period_ms, trace_quantum_g, boot_id (0 = unknown);
# then strings device_id, firmware, board, routine, calib_id; then the routine's digest: u8 length + raw bytes
HASH_LEN = const(32)         # the routine digest (SHA-256) is stored raw, in full: 32 bytes, not 64 hex chars
STEP_BEGIN_FMT = "<HIHHH"    # index, t_ms, band_lo_g, band_hi_g, target_s
STEP_SUM_FMT = "<HIIIIIIIHHIHHBB"  # index, t_ms, under_ms, in_ms, over_ms, too_hard_ms, no_contact_ms,
#                                     fault_ms, mean_g, peak_g, dose_gs, pauses, skips, status, flags (SUM_*)
STEP_TEACH_FMT = "<BBIIHHb"  # after a step summary's fixed part (same version 3; older readers skip it):
#   feedback (the schedule, acu.routine.FB_*), feedback_pct (its %: faded on-share, bandwidth tolerance),
#   silent_ms, silent_in_ms (contact and in-band time the schedule kept the band feedback silent),
#   check_target_g, check_measured_g (a check step's; 0 otherwise), check_grade (acu.score.kr_grade)
EVENT_FMT = "<IBq"           # t_ms, code, value
TRACE_FMT = "<IHBH"          # t0_ms, period_ms, quantum_g, count; then the coded deltas
TRACE_HEAD_LEN = const(9)
CONT_FMT = "<IH"              # T_TRACE_CONT (version 3): t0_ms of its first sample, count; then the coded
# deltas, the first from 0; period and quantum those of the session header. It stands on its own: losing
# the chunk before it costs only that chunk (version 2's u16 count head continued the last value)
CONT_HEAD_LEN = const(6)
TRACE_DATA = const(14)         # a trace record's coded deltas start here: REC_HEAD_LEN + TRACE_HEAD_LEN
CONT_DATA = const(11)          # ... a continuation's: REC_HEAD_LEN + CONT_HEAD_LEN
# Delta code (version 2), bits MSB first, zero-padded to a byte: zigzag z = 2d (d >= 0) or -2d-1;
# q = z >> 1 < RICE_ESC: q one bits, a zero bit, then the bit z & 1 (Rice, k = 1: 0 and -1 cost 2 bits,
# +-1..2 3 bits...); q >= RICE_ESC: RICE_ESC one bits then the delta as 16-bit two's complement.
RICE_ESC = const(15)
END_FMT = "<IBHIB"           # t_ms, status, steps_done, wall_end_s (0 = unset), flags
END_REC_LEN = const(21)           # a framed session end record (9 + 12 payload bytes)
END_FLAG_TRACE_STOPPED = const(1)  # the trace was stopped (flash reserve reached)
MAX_STR = const(63)


# ---------------------------------------------------------------- encoding
# The device writes every record straight into its batch buffer (put_* then seal_in_place): no temporary
# payload or record objects. The bytes-returning encoders (record, session_payload...) are in acu.logread
# (host and tests) and are built on these.
SESSION_HEAD_LEN = const(27)   # struct.calcsize(SESSION_FMT)
SESSION_ROOM = const(380)      # a session payload's most bytes: SESSION_HEAD_LEN + 5 * (MAX_STR + 1) + 1 + HASH_LEN
STEP_BEGIN_HEAD_LEN = const(12)
STEP_SUM_LEN = const(44)
STEP_TEACH_LEN = const(15)
EVENT_LEN = const(13)
END_LEN = const(12)
FILE_HEADER = MAGIC + bytes((VERSION, 0))  # MAGIC, version, flags 0


def put_strs(buf, pos, values):
    """Strings as u8 length + UTF-8 bytes (cut to MAX_STR) into buf at pos; returns the end position."""
    for v in values:  # (no temporary objects but each str's UTF-8 bytes: this runs inside a loop iteration)
        if v is None:
            v = ""
        b = v if isinstance(v, bytes) or isinstance(v, bytearray) else str(v).encode()
        n = len(b)
        if n > MAX_STR:
            n = MAX_STR
            buf[pos + 1:pos + 1 + n] = memoryview(b)[0:n]
        else:
            buf[pos + 1:pos + 1 + n] = b
        buf[pos] = n
        pos += 1 + n
    return pos


def digest_bytes(h):
    """The routine digest to store: bytes as they are, hex text (routine_parse's sha256) as its bytes; cut
    to HASH_LEN. Text that is not hex (no digest known) stores nothing (length 0), never a wrong digest."""
    if isinstance(h, bytes) or isinstance(h, bytearray):
        return bytes(h[0:HASH_LEN])
    if not h:
        return b""
    try:
        return binascii.unhexlify(h)[0:HASH_LEN]
    except (ValueError, TypeError):
        return b""


def put_session(buf, pos, session_no, boot_count, boot_id, start_ticks_ms, wall_start_s, band_lo_g, band_hi_g,
                trace_period_ms, trace_quantum_g, device_id, firmware, board, routine, routine_hash, calib_id):
    """A session record's payload at buf[pos:] (room: SESSION_ROOM); returns its end. routine_hash: the
    digest as bytes or hex text (digest_bytes), written last as u8 length + raw bytes."""
    struct.pack_into(SESSION_FMT, buf, pos, session_no, boot_count, start_ticks_ms, wall_start_s or 0,
                     band_lo_g, band_hi_g, trace_period_ms, trace_quantum_g, boot_id or 0)
    return put_strs(buf, pos + SESSION_HEAD_LEN, (device_id, firmware, board, routine, calib_id,
                                                  digest_bytes(routine_hash)))


def put_step_begin(buf, pos, index, t_ms, band_lo_g, band_hi_g, target_s, kind, point, side):
    """A step begin payload (room: STEP_BEGIN_HEAD_LEN + 3 * 64); returns its end."""
    struct.pack_into(STEP_BEGIN_FMT, buf, pos, index, t_ms, band_lo_g, band_hi_g, target_s)
    return put_strs(buf, pos + STEP_BEGIN_HEAD_LEN, (kind, point, side))


def put_step_summary(buf, pos, index, t_ms, under_ms, in_ms, over_ms, too_hard_ms, no_contact_ms, fault_ms,
                     mean_g, peak_g, dose_gs, pauses, skips, status, flags=0):
    struct.pack_into(STEP_SUM_FMT, buf, pos, index, t_ms, under_ms, in_ms, over_ms, too_hard_ms,
                     no_contact_ms, fault_ms, mean_g, peak_g, dose_gs, pauses, skips, status, flags)
    return pos + STEP_SUM_LEN


def put_step_teach(buf, pos, fb, fb_pct, silent_ms, silent_in_ms, check_target_g, check_measured_g, check_grade):
    """The step summary's feedback and check fields, right after its fixed part; returns the end."""
    struct.pack_into(STEP_TEACH_FMT, buf, pos, fb, fb_pct, silent_ms, silent_in_ms, check_target_g,
                     check_measured_g, check_grade)
    return pos + STEP_TEACH_LEN


def put_event(buf, pos, t_ms, code, value):
    struct.pack_into(EVENT_FMT, buf, pos, t_ms, code, value)
    return pos + EVENT_LEN


def put_end(buf, pos, t_ms, status, steps_done, wall_end_s, flags):
    struct.pack_into(END_FMT, buf, pos, t_ms, status, steps_done, wall_end_s or 0, flags)
    return pos + END_LEN


def put_trace_head(buf, pos, t0_ms, period_ms, quantum_g, count):
    """A trace chunk's head (its coded deltas follow); returns its end."""
    struct.pack_into(TRACE_FMT, buf, pos, t0_ms, period_ms, quantum_g, count)
    return pos + TRACE_HEAD_LEN


def put_cont_head(buf, pos, t0_ms, count):
    """A continuation chunk's head (T_TRACE_CONT, version 3); returns its end."""
    struct.pack_into(CONT_FMT, buf, pos, t0_ms, count)
    return pos + CONT_HEAD_LEN


class TraceCoder:
    """The trace's delta code (version 2, the comment at RICE_ESC) written bit by bit into buf: the logger
    fills a chunk record with it in place, allocation-free (small ints only: n <= 16 bits at a time), and
    acu.logread.trace_bits() is the same code for the host and tests.
    start(pos, prev): code from buf[pos], deltas from prev; put(v): one value; end(): pad the last byte
    with zero bits, returns the end position. pos: where the next byte goes; prev: the last value put."""

    def __init__(self, buf):
        self.buf = buf
        self.start(0, 0)

    def start(self, pos, prev):
        self.pos = pos
        self.prev = prev
        self._acc = 0      # bits not yet in buf (fewer than 8)
        self._nbits = 0

    def put(self, v):
        d = v - self.prev
        self.prev = v
        z = d + d if d >= 0 else -d - d - 1
        k = z >> 1
        if k < RICE_ESC:
            self._bits((((1 << k) - 1) << 2) | (z & 1), k + 2)
        else:
            self._bits((1 << RICE_ESC) - 1, RICE_ESC)
            self._bits(d & 0xFFFF, 16)

    def _bits(self, x, n):
        """Append the n low bits of x, MSB first."""
        acc = (self._acc << n) | x
        n += self._nbits
        buf = self.buf
        while n >= 8:
            n -= 8
            buf[self.pos] = (acc >> n) & 255
            self.pos += 1
        self._acc = acc & ((1 << n) - 1)
        self._nbits = n

    def end(self):
        if self._nbits:
            self.buf[self.pos] = (self._acc << (8 - self._nbits)) & 255
            self.pos += 1
            self._acc = 0
            self._nbits = 0
        return self.pos


def seal_in_place(buf, start, rtype, seq, n):
    """Frame a payload already written at buf[start+5 : start+5+n]; returns the record length."""
    struct.pack_into("<HBH", buf, start, n, rtype, seq & 0xFFFF)
    end = start + REC_HEAD_LEN + n
    struct.pack_into("<I", buf, end, binascii.crc32(memoryview(buf)[start:end]) & 0xFFFFFFFF)
    return REC_OVERHEAD + n


# ---------------------------------------------------------------- framing (read side)
def parse_record_at(data, pos):
    """(rtype, seq, payload_start, payload_len, next_pos) for a valid record at pos, else a reason str."""
    size = len(data)
    if pos + REC_HEAD_LEN > size:
        return "truncated record head"
    n, rtype, seq = struct.unpack_from("<HBH", data, pos)
    if n > MAX_PAYLOAD:
        return "bad record length %d" % n
    end = pos + REC_HEAD_LEN + n
    if end + REC_CRC_LEN > size:
        return "truncated record"
    crc = struct.unpack_from("<I", data, end)[0]
    if binascii.crc32(memoryview(data)[pos:end]) & 0xFFFFFFFF != crc:
        return "bad CRC"
    return (rtype, seq, pos + REC_HEAD_LEN, n, end + REC_CRC_LEN)

