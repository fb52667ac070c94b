# The live link (docs/protocol.md): the laptop talks to the *running* app over the serial console, between
# loop iterations, so a practice goes on while `acutrainer monitor`, `status`, `sessions --device`, `sync`
# or the calibration wizard run. Every frame is one line:
#   host -> device   #>ID VERB ARGS...*CRC\n        (a Python comment: a REPL that gets it does nothing)
#   device -> host   #<R ID JSON*CRC\r\n (answer)   #<E ID MESSAGE*CRC\r\n (refused)
#                    #<F SEQ T_MS RAW FORCE_G ...*CRC\r\n (a stream sample)   #<B BOOTS PROTO*CRC\r\n (app up)
# CRC: CRC-16/CCITT-FALSE of the bytes between the 2-byte lead and the '*', 4 upper-case hex digits.
# service() runs every loop iteration: with no request waiting and a stream running it allocates nothing
# (preallocated buffers, integer formatting by hand). Answering a request may allocate; requests are rare.
from array import array

import acu
from acu import ticks

from micropython import const

PROTO = const(1)
_REQ_MAX = const(96)          # a longer request line is dropped
_READ_PER_ITER = const(64)    # bytes taken from the console per loop iteration
_FRAME_MAX = const(120)       # a stream frame
_SAMPLE_FIELDS = const(13)
_LEASE_DEFAULT_MS = const(5000)
_LEASE_MAX_MS = const(600000)
_EVERY_MIN_MS = const(5)
_HASH = const(35)   # '#'
_STAR = const(42)   # '*'
_GT = const(62)     # '>'
_CR = const(13)
_LF = const(10)

# stream flags (docs/protocol.md)
FLAG_LOGGING = const(1)
FLAG_CALIBRATING = const(2)
FLAG_FREE = const(4)


# CRC-16/CCITT-FALSE a nibble at a time: the CRC of each 4-bit value (16 u16, 32 bytes; a byte table would
# hold 512 bytes of the small heap for twice the speed)
_TABLE = array("H", bytes(32))
for _i in range(16):
    _c = _i << 12
    for _k in range(4):
        _c = ((_c << 1) ^ 0x1021) if _c & 0x8000 else (_c << 1)
    _TABLE[_i] = _c & 0xFFFF
del _i, _k, _c
_HEX = b"0123456789ABCDEF"


def crc16(buf, start, end):
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) of buf[start:end]: allocation-free."""
    t = _TABLE
    c = 0xFFFF
    for i in range(start, end):
        b = buf[i]
        c = ((c << 4) & 0xFFFF) ^ t[(c >> 12) ^ (b >> 4)]
        c = ((c << 4) & 0xFFFF) ^ t[(c >> 12) ^ (b & 15)]
    return c


def _put_int(buf, pos, v):
    """Write v in decimal at buf[pos:], return the position after it (no allocation)."""
    if v < 0:
        buf[pos] = 45  # '-'
        pos += 1
        v = -v
    start = pos
    while True:
        buf[pos] = 48 + v % 10
        pos += 1
        v //= 10
        if not v:
            break
    i = start
    j = pos - 1
    while i < j:
        c = buf[i]
        buf[i] = buf[j]
        buf[j] = c
        i += 1
        j -= 1
    return pos


def _seal(buf, pos):
    """Append '*', the CRC of buf[2:pos] and CR LF; return the frame's length."""
    c = crc16(buf, 2, pos)
    buf[pos] = _STAR
    buf[pos + 1] = _HEX[(c >> 12) & 15]
    buf[pos + 2] = _HEX[(c >> 8) & 15]
    buf[pos + 3] = _HEX[(c >> 4) & 15]
    buf[pos + 4] = _HEX[c & 15]
    buf[pos + 5] = _CR
    buf[pos + 6] = _LF
    return pos + 7


def frame(kind, body):
    """A whole device frame (bytes) for a body string: for answers (allocates)."""
    b = ("#<" + kind + " " + body).encode()
    buf = bytearray(len(b) + 7)
    buf[0:len(b)] = b
    return buf


class Link:
    """The app's end of the live link. app: the App (its objects are read for answers and samples);
    console: acu.console.StdioConsole or a fake with read_byte() and write(buf, n)."""

    proto = PROTO  # the protocol version it speaks (acu.linkverbs' hello tells the host)

    def __init__(self, app, console):
        self.app = app
        self.con = console
        self._req = bytearray(_REQ_MAX)
        self._n = -1                 # bytes of the request being assembled; -1: not inside a frame
        self._out = bytearray(_FRAME_MAX)
        self._fields = array("i", bytes(4 * _SAMPLE_FIELDS))  # the sample's values (int32: raw fits too)
        self.every_ms = 0            # the stream's period (0: no stream)
        self.calibrating = False     # the stream's mode: a calibration is being captured
        self._next_ms = 0
        self._lease_end_ms = 0
        self.seq = 0
        self.requests = 0            # requests answered (status, tests)
        self.bad_frames = 0          # request lines that failed their CRC or did not parse

    # ---- every loop iteration ----
    def service(self, now_ms):
        con = self.con
        for _ in range(_READ_PER_ITER):
            b = con.read_byte()
            if b < 0:
                break
            if b == _HASH:  # a frame starts: whatever was half-assembled was noise
                self._req[0] = b
                self._n = 1
            elif self._n < 0:
                pass  # bytes between frames (a REPL client's \r, noise): ignored
            elif b == _LF or b == _CR:
                n = self._n
                self._n = -1
                self._request(n, now_ms)
            elif self._n < _REQ_MAX:
                self._req[self._n] = b
                self._n += 1
            else:
                self._n = -1  # too long for a request: dropped
                self.bad_frames += 1
        if self.every_ms:
            if ticks.diff(now_ms, self._lease_end_ms) >= 0:
                self.stop_stream()
            elif ticks.diff(now_ms, self._next_ms) >= 0:
                self._next_ms = ticks.add(self._next_ms, self.every_ms)
                if ticks.diff(now_ms, self._next_ms) >= 0:  # late (a slow iteration): no burst
                    self._next_ms = ticks.add(now_ms, self.every_ms)
                self._sample(now_ms)

    def _sample(self, now_ms):
        """One stream frame: F SEQ T_MS RAW FORCE_G STATE LO_G HI_G RUNNER STEP STEP_MS GOAL_MS FAULT FLAGS.
        The fields go through a preallocated array: no tuple, no string, nothing allocated."""
        a = self.app
        r = a.runner
        f = self._fields
        f[0] = self.seq
        f[1] = now_ms
        f[2] = a.raw
        f[3] = a.force_g
        f[4] = a.state
        f[5] = a.band.lo_g
        f[6] = a.band.hi_g
        f[7] = r.state
        f[8] = r.index
        f[9] = r.step_ms
        f[10] = r.step.duration_ms if r.step is not None else 0
        f[11] = a.fault
        flags = 0
        if a.log.active:
            flags |= FLAG_LOGGING
        if self.calibrating:
            flags |= FLAG_CALIBRATING
        if a.free_session:
            flags |= FLAG_FREE
        f[12] = flags
        b = self._out
        b[0] = _HASH
        b[1] = 60  # '<'
        b[2] = 70  # 'F'
        p = 3
        for i in range(_SAMPLE_FIELDS):
            b[p] = 32
            p = _put_int(b, p + 1, f[i])
        self.con.write(b, _seal(b, p))
        self.seq = (self.seq + 1) & 0xFFFFFF

    def stop_stream(self):
        self.every_ms = 0
        if self.calibrating:
            self.calibrating = False
            self.app.set_calibrating(False)

    def announce(self):
        """'B BOOTS PROTO' when the app starts: a listening host learns that the board (re)started."""
        self._send("B", "%d %d" % (self.app.log.boot_count, PROTO))

    # ---- requests (may allocate) ----
    def _request(self, n, now_ms):
        b = self._req
        if n < 8 or b[1] != _GT or b[n - 5] != _STAR:
            self.bad_frames += 1
            return
        try:
            crc = int(bytes(b[n - 4:n]).decode(), 16)
            words = bytes(b[2:n - 5]).decode().split()
        except (ValueError, UnicodeError):
            self.bad_frames += 1
            return
        if crc != crc16(b, 2, n - 5) or len(words) < 2:
            self.bad_frames += 1
            return
        rid = words[0]
        self.requests += 1
        self.app.runner.idle_ms = 0  # a host is there: the idle time towards deep sleep starts again (acu.power)
        try:
            if words[1] == "stream":  # renewed every few seconds: answered here
                result = self.on_stream(words[2:], now_ms)
            else:  # the others are rare: their code is loaded for the answer only
                result = acu.call("linkverbs", "answer", self, words[1], words[2:], now_ms)
        except (ValueError, TypeError, IndexError) as e:
            self._send("E", "%s %s" % (rid, e))
            return
        except OSError as e:
            self._send("E", "%s flash error %s" % (rid, e))
            return
        import json
        self._send("R", "%s %s" % (rid, json.dumps(result)))

    def _send(self, kind, body):
        buf = frame(kind, body)
        self.con.write(buf, _seal(buf, len(buf) - 7))

    # the verbs: on_stream here, the others in acu.linkverbs; (args, now_ms) -> a JSON-able result, a
    # ValueError(message) refuses
    def on_stream(self, args, now_ms):
        """stream EVERY_MS [LEASE_MS [live|calib]]: samples every EVERY_MS until LEASE_MS pass without
        another stream request (a host that went away stops it); EVERY_MS 0 stops it."""
        every = int(args[0]) if args else 50
        lease = int(args[1]) if len(args) > 1 else _LEASE_DEFAULT_MS
        mode = args[2] if len(args) > 2 else "live"
        if mode not in ("live", "calib"):
            raise ValueError("stream mode must be live or calib, not %r" % mode[:20])
        if every <= 0:
            self.stop_stream()
            return {"every_ms": 0}
        if mode == "calib" and not self.calibrating:
            if self.app.runner.active():
                raise ValueError("a practice is running: calibrate when it has ended")
            self.app.set_calibrating(True)
        elif mode == "live" and self.calibrating:
            self.app.set_calibrating(False)
        self.calibrating = mode == "calib"
        if not self.every_ms:
            self._next_ms = now_ms
        self.every_ms = max(every, _EVERY_MIN_MS)
        self._lease_end_ms = ticks.add(now_ms, min(max(lease, self.every_ms), _LEASE_MAX_MS))
        return {"every_ms": self.every_ms, "lease_ms": ticks.diff(self._lease_end_ms, now_ms), "mode": mode}
