# The session logger: append-only log files under /log, each holding one or more whole sessions
# (format: docs/log-format.md, codec: acu.logfmt). The app calls sample()/poll() every loop iteration
# (allocation-free unless a batch is being written), the step/event/session calls on changes, and
# recover() once at boot (the recovery itself is acu.logrecover, loaded for that call only). Records are
# batched in RAM and written every flush_ms and at step ends (LittleFS commits on close; syncing per record
# wears the flash). The host's calls over the REPL (list_sessions, delete_session, info) are acu.logadmin.
import os
import binascii

import acu
from acu import logfmt, ticks
from acu.band import FAULT, IN_BAND, NO_CONTACT, TOO_HARD, UNDER
from micropython import const

_OUT_CAP = const(640)       # batched records waiting for the next flush: 10 s of a practice is ~100 bytes, the
# largest record (a session record with the longest strings) 416, a sealed trace chunk at most _TB_CAP; a
# fuller batch is written early.
# With a trace chunk it stays within logfmt.MAX_BATCH, the torn-tail limit the recovery relies on.
_TB_CAP = const(256)        # one trace chunk record being filled: the 10 s between flushes (which seal it) take
# 25-60 bytes; only large jumps (4-byte escapes) fill it sooner, and the next chunk continues it
_TDATA_END = const(247)     # a sample adds at most 4 bytes (31-bit escape) + 1 pad byte, then the CRC (4)
_TMAX_Q = const(16383)      # quantised values stay small so every delta fits the int16 escape
_DOSE_CARRY = const(1000000)  # move g·ms into g·s before it outgrows a small int on the ESP32

DEFAULT_ROOT = "/log"
VOLUME_BYTES = const(32768)  # sessions are appended to the newest file while it is smaller than this: a
# 5-minute session is ~2.2 KB and LittleFS gives every file whole 4 KB blocks (one file per session would
# take 4 KB each); a recovery rewrite after a power cut copies at most this much

_STEP_STATUS = {"done": logfmt.STEP_DONE, "skipped": logfmt.STEP_SKIPPED, "aborted": logfmt.STEP_ABORTED,
                "cut_short": logfmt.STEP_CUT_SHORT, "interrupted": logfmt.STEP_INTERRUPTED}
_END_STATUS = {"completed": logfmt.END_COMPLETED, "done": logfmt.END_COMPLETED,
               "aborted": logfmt.END_ABORTED, "cut_short": logfmt.END_CUT_SHORT,
               "interrupted": logfmt.END_INTERRUPTED}

_current = None  # the Logger the app built: the host's REPL calls see it (same interpreter)


def current():
    """The Logger the app built (the last one made), or None: acu.logadmin and acu.api act on it."""
    return _current


class StepStats:
    """Per-step accumulator the app feeds every loop iteration: update(state, force_g, dt_ms)."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.under_ms = 0
        self.in_ms = 0
        self.over_ms = 0        # OVER and TOO_HARD
        self.too_hard_ms = 0    # the TOO_HARD part of over_ms
        self.no_contact_ms = 0
        self.fault_ms = 0
        self.peak_g = 0
        self.dose_gs = 0        # integral of force over contact time, g·s (kg·s = /1000)
        self._dose_gms = 0      # the sub-g·s remainder, g·ms
        self.pauses = 0
        self.skips = 0
        self.fb = 0             # the step's feedback schedule (acu.routine.FB_*) and its %, set by the app
        self.fb_pct = 0
        self.silent_ms = 0      # contact time the schedule kept the band feedback silent
        self.silent_in_ms = 0   # ... of it in the band
        self.check_target_g = 0  # a check step's target, measured force and result grade (acu.score)
        self.check_measured_g = 0
        self.check_grade = 0

    def update(self, state, force_g, dt_ms, silent=False):
        """Allocation-free: integer maths on small ints only. silent: the schedule withheld the band
        feedback this iteration."""
        if dt_ms <= 0:
            return
        if state == NO_CONTACT:
            self.no_contact_ms += dt_ms
            return
        if state == FAULT:
            self.fault_ms += dt_ms
            return
        if silent:
            self.silent_ms += dt_ms
            if state == IN_BAND:
                self.silent_in_ms += dt_ms
        if state == IN_BAND:
            self.in_ms += dt_ms
        elif state == UNDER:
            self.under_ms += dt_ms
        else:
            self.over_ms += dt_ms
            if state == TOO_HARD:
                self.too_hard_ms += dt_ms
        if force_g > 0:
            if force_g > self.peak_g:
                self.peak_g = force_g
            self._dose_gms += force_g * dt_ms
            if self._dose_gms >= _DOSE_CARRY:
                q = self._dose_gms // 1000
                self.dose_gs += q
                self._dose_gms -= q * 1000

    def count_pause(self):
        self.pauses += 1

    def count_skip(self):
        self.skips += 1

    def contact_ms(self):
        return self.under_ms + self.in_ms + self.over_ms

    def dose(self):
        """Dose in g·s (rounded down)."""
        return self.dose_gs + self._dose_gms // 1000

    def mean_g(self):
        """Mean force over the time in contact (0 without contact)."""
        c = self.contact_ms()
        if c <= 0:
            return 0
        return (self.dose_gs * 1000 + self._dose_gms) // c


def _u16(x):
    return max(0, min(0xFFFF, int(x)))


def _u32(x):
    return max(0, min(0xFFFFFFFF, int(x)))


def write_counter(root, value):
    """Both copies of the next number (logfmt.COUNTER in root, logfmt.COUNTER_TWIN beside it), each atomic
    (tmp + rename): a power cut leaves the old or the new number, never an empty file."""
    for path in (acu.join(root, logfmt.COUNTER), root.rstrip("/") + logfmt.COUNTER_TWIN):
        tmp = path + ".tmp"
        try:
            with open(tmp, "w") as f:
                f.write(str(value))
            os.rename(tmp, path)
        except OSError:
            pass  # flash full: the other copy and the file names still give a lower bound


class Logger:
    """Session logger. device_info: {"unique_id": bytes or "device_id": hex, "firmware", "board",
    "boot_count", "boot_id", "calib_id", "next_session"} (all optional). boot_id: a random id of this boot
    (u32, 0 = unknown), written into every session header so the host can tell boots apart."""

    def __init__(self, fs_root=DEFAULT_ROOT, clock=None, device_info=None, reserve_bytes=65536,
                 flush_ms=10000, trace_period_ms=100, trace_quantum_g=20, free_bytes_fn=None,
                 min_free_bytes=None, volume_bytes=VOLUME_BYTES):
        global _current
        self.root = fs_root
        self.clock = clock
        info = device_info or {}
        uid = info.get("unique_id")
        if uid is not None and not isinstance(uid, str):
            self.device_id = binascii.hexlify(bytes(uid)).decode()
        else:
            self.device_id = str(info.get("device_id") or uid or "")
        self.firmware = str(info.get("firmware", ""))
        self.board = str(info.get("board", ""))
        self.boot_count = int(info.get("boot_count", 0))
        self.boot_id = _u32(info.get("boot_id") or 0)
        self.calib_id = str(info.get("calib_id", ""))
        self._next_hint = int(info.get("next_session", 1))
        self.reserve_bytes = reserve_bytes
        # below this nothing new is started (summaries of a running session still go out)
        self.min_free_bytes = reserve_bytes // 8 if min_free_bytes is None else min_free_bytes
        self.flush_ms = flush_ms
        self.volume_bytes = volume_bytes  # 0: one file per session
        self.trace_period_ms = trace_period_ms
        self.trace_quantum_g = trace_quantum_g
        self.free_bytes_fn = free_bytes_fn
        self.flash_low = False
        self.active = False
        self.name = None
        self.path = None
        self.session_no = 0
        # what the next begin_session needs to know about the files (acu.logrecover.scan): the newest session
        # file's name (None: none; "": not scanned yet), the counter file's number, and that file's size if
        # a session may be appended to it and this logger alone has written it since (else -1)
        self._last = ""
        self._count = 0
        self._size = -1
        self.recovered = []
        self.write_errors = 0     # writes and sessions the flash refused since boot (status, doctor)
        self._write_failed = False
        self._lost = 0            # bytes of records a failed write dropped: an EV_WRITE_FAILED with the next batch
        self.trace_dropped = 0
        self.stats = None        # the running step's StepStats (the app's): a session that ends mid-step
        self._step = -1          # still gets that step's summary, marked partial; -1: no step open
        self._step_band = True   # the open step has a pressure band (False: rest, breathe, timed)
        self._out = bytearray(_OUT_CAP)
        self._out_n = 0
        self._tb = bytearray(_TB_CAP)
        self._tc = logfmt.TraceCoder(self._tb)  # codes the samples into the chunk record in _tb
        self._seq = 0
        self.start_ms = 0
        self.last_flush_ms = 0
        self._steps_done = 0
        self._trace_on = False
        self._trace_stopped = False
        self._reset_trace()
        _current = self

    # ------------------------------------------------------------ helpers
    def _now(self, now_ms):
        return self.clock.ticks_ms() if now_ms is None else now_ms

    def _t(self, now_ms):
        d = ticks.diff(now_ms, self.start_ms)
        return d if d > 0 else 0

    def free_bytes(self):
        if self.free_bytes_fn is not None:
            return self.free_bytes_fn()
        try:
            st = os.statvfs(self.root)
        except (OSError, AttributeError):
            return None
        # f_bsize * f_bavail; None (unknown: no reserve check, a failed write is what tells) when LittleFS's
        # best-effort count of used blocks passed the total and f_bavail wrapped (acu.logrecover.flash_bytes)
        return st[0] * st[4] if 0 <= st[4] <= st[2] else None

    def _wall(self):
        if self.clock is None:
            return 0
        w = self.clock.wall_s()
        return int(w) if w else 0

    def _reset_trace(self):
        self._tcount = 0         # samples in the chunk
        self._tt0 = 0            # chunk start, ms since session start
        self._tcont = False      # the chunk continues the previous one's timeline (T_TRACE_CONT)
        self._tnext = -1         # session time of the sample that would continue the last chunk
        self._wstart = 0         # decimation window start (ticks)
        self._wsum = 0
        self._wn = 0
        self._wopen = False
        self._tseal = False      # a seal is due (chunk full or a time gap): poll() does it

    def _rec(self, room):
        """Where the next record's payload goes in the batch (room: its most bytes). Records are encoded
        in place (logfmt.put_*, then _seal): no temporary payload or record objects."""
        if self._out_n + logfmt.REC_OVERHEAD + room > _OUT_CAP:
            self._flush_out()
        return self._out_n + logfmt.REC_HEAD_LEN

    def _seal(self, rtype, end):
        """Frame the payload written from _rec()'s position up to end."""
        o = self._out_n
        self._out_n = o + logfmt.seal_in_place(self._out, o, rtype, self._seq, end - o - logfmt.REC_HEAD_LEN)
        self._seq = (self._seq + 1) & 0xFFFF

    def _event(self, t_ms, code, value):
        self._seal(logfmt.T_EVENT, logfmt.put_event(self._out, self._rec(logfmt.EVENT_LEN), t_ms, code, value))

    def _flush_out(self):
        if self._out_n == 0 or self.path is None:
            return
        try:
            with open(self.path, "ab") as f:
                f.write(memoryview(self._out)[0:self._out_n])
            if self._size >= 0:
                self._size += self._out_n
        except OSError:
            self.write_errors += 1  # flash full or gone: the app keeps running and cues it; info() tells the host
            self._lost += self._out_n
            self._write_failed = True  # the file may end in a partial batch: the next session starts a new one
            self._size = -1
        self._out_n = 0

    def _check_space(self, now_ms):
        free = self.free_bytes()
        if free is None or free >= self.reserve_bytes:
            return
        if not self.flash_low:
            self.flash_low = True
            if self.active:
                self._event(self._t(now_ms), logfmt.EV_FLASH_LOW, free)
        if self._trace_on:
            self._seal_trace()
            self._trace_on = False
            self._trace_stopped = True

    def _seal_trace(self):
        """Frame the chunk being filled into the write batch. The next chunk continues it (a 2-byte
        head instead of 9) if its first sample is the next one on the same timeline."""
        if self._tcount == 0:
            self._tseal = False
            return
        tb = self._tb
        end = self._tc.end()
        if self._tcont:
            logfmt.put_cont_head(tb, logfmt.REC_HEAD_LEN, self._tt0, self._tcount)
            rtype = logfmt.T_TRACE_CONT
        else:
            logfmt.put_trace_head(tb, logfmt.REC_HEAD_LEN, self._tt0, self.trace_period_ms, self.trace_quantum_g,
                                  self._tcount)
            rtype = logfmt.T_TRACE
        n = logfmt.seal_in_place(tb, 0, rtype, self._seq, end - logfmt.REC_HEAD_LEN)
        self._seq = (self._seq + 1) & 0xFFFF
        if self._out_n + n > _OUT_CAP:
            self._flush_out()
        self._out[self._out_n:self._out_n + n] = memoryview(tb)[0:n]
        self._out_n += n
        self._tcount = 0
        self._tseal = False

    # ------------------------------------------------------------ boot
    def recover(self):
        """At boot: remove stale .tmp files, drop a torn tail, close sessions left open (cut short); returns
        what was done, [{"name", "action"}] (kept in .recovered). The recovery code (acu.logrecover) is
        loaded for this call only; it also scans the files for the first begin_session (at boot, not in the
        loop)."""
        self.recovered, self._last, self._count, self._size = acu.call(
            "logrecover", "recover", self.root, self.volume_bytes, self._tb)
        if self._count:
            # both copies of the counter at the number the files and copies allow: a copy left behind by a
            # full flash cannot bring a used number back after the other is lost
            write_counter(self.root, self._count)
        return self.recovered

    def files_changed(self):
        """Session files were removed (acu.logadmin.delete_session, outside the loop): scan them again now
        (the scan reads the newest file's headers: not inside a loop iteration), or at the next session's
        start while one runs (its trace buffer is busy)."""
        self._size = -1
        if self.active:
            self._last = ""
        else:
            self._scan()

    def _scan(self):
        # reads into _tb: idle outside a session
        self._last, self._count, self._size = acu.call("logrecover", "scan", self.root, self.volume_bytes, self._tb)

    # ------------------------------------------------------------ session
    def next_session_no(self):
        """For the host, outside a session."""
        self._scan()
        return self._next_no(self._last, self._count)

    def _next_no(self, last_name, counter):
        return max(int(last_name[:6]) + 1 if last_name else 1, self._next_hint, self.session_no + 1, counter)

    def begin_session(self, routine="", routine_hash="", band_lo_g=3000, band_hi_g=5000, calib_id=None,
                      now_ms=None, session_no=None):
        """Start a session file; returns its number, or -1 when the flash is too full to start one."""
        now_ms = self._now(now_ms)
        if self.active:
            self.end_session(logfmt.END_INTERRUPTED, now_ms)
        free = self.free_bytes()
        self.flash_low = free is not None and free < self.reserve_bytes
        if free is not None and free < self.min_free_bytes:
            self.write_errors += 1  # no room for a session: this practice is not logged (cued, reported)
            return -1
        # this runs inside a loop iteration: the newest file and the counter as recover() or the last session
        # left them (a scan only when the host removed files, or for a logger that never recovered)
        if self._last == "":
            self._scan()
        last = self._last
        no = int(session_no) if session_no else self._next_no(last, self._count)
        if not 0 < no <= logfmt.MAX_SESSION_NO:
            self.write_errors += 1  # every six-digit number is used: nothing can be recorded (cued, reported)
            return -1
        prev_no = self.session_no
        self.session_no = no
        size = self._size if last is not None and not self._write_failed else -1
        append = 0 <= size < self.volume_bytes
        self.name = last if append else "%06d%s" % (no, logfmt.SUFFIX)
        self.path = acu.join(self.root, self.name)
        self._seq = 0
        self._out_n = 0
        self._lost = 0
        self.start_ms = now_ms
        self.last_flush_ms = now_ms
        self._steps_done = 0
        self.trace_dropped = 0
        self._step = -1
        self._reset_trace()
        self._trace_on = not self.flash_low
        self._trace_stopped = self.flash_low
        # the session record goes out in the same open as the file header (or onto the file's end)
        self._seal(logfmt.T_SESSION, logfmt.put_session(
            self._out, self._rec(logfmt.SESSION_ROOM),
            no, self.boot_count, self.boot_id, now_ms, self._wall(), _u16(band_lo_g), _u16(band_hi_g),
            self.trace_period_ms, self.trace_quantum_g, self.device_id, self.firmware, self.board,
            routine or "", routine_hash or "", calib_id if calib_id is not None else self.calib_id))
        if self.flash_low:
            self._event(0, logfmt.EV_FLASH_LOW, free)
        f = None
        try:
            try:
                f = open(self.path, "ab" if append else "wb")
            except OSError:
                if append:
                    raise
                acu.makedirs(self.root)  # the first session (or the directory was removed)
                f = open(self.path, "wb")
            with f:
                if not append:
                    f.write(logfmt.FILE_HEADER)
                    size = logfmt.FILE_HEADER_LEN
                f.write(memoryview(self._out)[0:self._out_n])
        except OSError:
            self.write_errors += 1
            if f is not None:
                self._write_failed = True  # the file may end in a partial record: the next session starts a new one
                self._size = -1
            self._out_n = 0
            self.path = None
            self.session_no = prev_no  # not started: the next session takes this number (no gap)
            return -1
        self._size = size + self._out_n
        self._out_n = 0
        self._write_failed = False
        write_counter(self.root, no + 1)
        self._last = self.name
        self._count = no + 1
        self.active = True
        return no

    def step_begin(self, index, kind="press", point="", side="", band_lo_g=0, band_hi_g=0, target_s=0,
                   now_ms=None):
        """band_hi_g 0: the step has no pressure target (its summary holds no band figures)."""
        if not self.active:
            return
        now_ms = self._now(now_ms)
        self._step = _u16(index)
        self._step_band = band_hi_g > 0
        self._seal(logfmt.T_STEP_BEGIN, logfmt.put_step_begin(
            self._out, self._rec(logfmt.STEP_BEGIN_HEAD_LEN + 3 * (logfmt.MAX_STR + 1)),
            _u16(index), self._t(now_ms), _u16(band_lo_g), _u16(band_hi_g), _u16(target_s),
            kind or "", point or "", side or ""))

    def step_end(self, index, status, stats=None, now_ms=None, flags=0):
        """Write the step summary and flush (a step end is a natural commit point). flags: logfmt.SUM_*."""
        if not self.active:
            return
        now_ms = self._now(now_ms)
        st = _STEP_STATUS.get(status, status) if isinstance(status, str) else status
        if not isinstance(st, int):
            st = logfmt.STEP_ABORTED
        if st == logfmt.STEP_DONE:
            self._steps_done += 1
        s = stats if stats is not None else StepStats()
        band = self._step_band or self._step != _u16(index)
        if not band:
            flags |= logfmt.SUM_NO_BAND  # its time in/under/over a band it never had would mislead
        self._step = -1
        self._seal_trace()
        pos = logfmt.put_step_summary(
            self._out, self._rec(logfmt.STEP_SUM_LEN + logfmt.STEP_TEACH_LEN), _u16(index), self._t(now_ms),
            _u32(s.under_ms) if band else 0, _u32(s.in_ms) if band else 0, _u32(s.over_ms) if band else 0,
            _u32(s.too_hard_ms) if band else 0, _u32(s.no_contact_ms), _u32(s.fault_ms), _u16(s.mean_g()),
            _u16(s.peak_g), _u32(s.dose()), _u16(s.pauses), _u16(s.skips), st, flags)
        self._seal(logfmt.T_STEP_SUMMARY, logfmt.put_step_teach(
            self._out, pos, s.fb & 255, s.fb_pct & 255, _u32(s.silent_ms), _u32(s.silent_in_ms),
            _u16(s.check_target_g), _u16(s.check_measured_g), max(-127, min(127, s.check_grade))))
        self.flush(now_ms)

    def event(self, code, value=0, now_ms=None):
        if not self.active:
            return
        now_ms = self._now(now_ms)
        self._event(self._t(now_ms), int(code), int(value))

    def end_session(self, status=logfmt.END_COMPLETED, now_ms=None):
        if not self.active:
            return
        now_ms = self._now(now_ms)
        st = _END_STATUS.get(status, status) if isinstance(status, str) else status
        if not isinstance(st, int):
            st = logfmt.END_INTERRUPTED
        if self._step >= 0 and self.stats is not None:
            # the session ends while a step runs: what the step did up to now, marked partial
            self.step_end(self._step, logfmt.STEP_INTERRUPTED, self.stats, now_ms, logfmt.SUM_PARTIAL)
        self._close_window()
        self._seal_trace()
        if self.trace_dropped:
            self._event(self._t(now_ms), logfmt.EV_TRACE_DROPPED, self.trace_dropped)
        flags = logfmt.END_FLAG_TRACE_STOPPED if self._trace_stopped else 0
        self._note_lost(now_ms)
        self._seal(logfmt.T_SESSION_END, logfmt.put_end(self._out, self._rec(logfmt.END_LEN), self._t(now_ms), st,
                                                        self._steps_done, self._wall(), flags))
        self._flush_out()
        self.active = False
        self._trace_on = False

    # ------------------------------------------------------------ every loop iteration
    def sample(self, force_g, now_ms):
        """Feed the force every loop iteration; averages into trace_period_ms windows. Allocation-free."""
        if not self._trace_on:
            return
        if not self._wopen:
            self._wstart = now_ms
            self._wopen = True
        el = ticks.diff(now_ms, self._wstart)
        if el >= self.trace_period_ms:
            self._close_window()
            if el >= 2 * self.trace_period_ms:
                # the loop stalled: the chunk's timeline breaks, start a new chunk at this sample
                if self._tcount:
                    self._tseal = True
                self._wstart = now_ms
            else:
                self._wstart = ticks.add(self._wstart, self.trace_period_ms)
            self._wopen = True
        if force_g < 0:
            force_g = 0
        self._wsum += force_g
        self._wn += 1

    def _close_window(self):
        if self._wn == 0:
            return
        q = self.trace_quantum_g
        v = (self._wsum // self._wn + (q >> 1)) // q
        self._wsum = 0
        self._wn = 0
        if self._tseal:
            self.trace_dropped += 1  # poll() has not sealed yet: lose one sample rather than allocate
            return
        tc = self._tc
        if self._tcount == 0:
            # every record codes from 0 and says its own start: a lost record costs only its samples
            t = self._t(self._wstart)
            self._tcont = t == self._tnext
            tc.start(logfmt.CONT_DATA if self._tcont else logfmt.TRACE_DATA, 0)
            self._tt0 = t
            self._tnext = t
        tc.put(v if v < _TMAX_Q else _TMAX_Q)
        self._tcount += 1
        self._tnext += self.trace_period_ms
        if tc.pos > _TDATA_END:
            self._tseal = True  # full: poll() seals it

    def poll(self, now_ms):
        """Every loop iteration: seals a full trace chunk and writes the batch every flush_ms."""
        if not self.active:
            return
        if self._tseal:
            self._seal_trace()
        if ticks.diff(now_ms, self.last_flush_ms) >= self.flush_ms:
            self.flush(now_ms)

    def flush(self, now_ms=None):
        """Seal the trace chunk, check the flash reserve, write the batch (one open/append/close)."""
        if not self.active:
            return
        now_ms = self._now(now_ms)
        self._seal_trace()
        self._check_space(now_ms)
        self._note_lost(now_ms)
        self._flush_out()
        self.last_flush_ms = now_ms

    def _note_lost(self, now_ms):
        if self._lost:
            self._event(self._t(now_ms), logfmt.EV_WRITE_FAILED, self._lost)
            self._lost = 0
