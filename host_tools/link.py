"""The live link's host end (docs/protocol.md): requests to the *running* app and its sample stream, on the
same serial port the raw REPL uses. Nothing here stops the app: a practice goes on while we talk.

The device's codec is device/acu/link.py; this side frames with binascii.crc_hqx (the same CRC-16/CCITT-FALSE)
and reads lines with pyserial. Frames that fail their CRC are skipped; a request that gets no answer is sent
again with a new id.
"""
from __future__ import annotations

import binascii
import json
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import serial

from host_tools.errors import DeviceError, LinkError

PROTO = 1
HELLO_WAITS_S = (0.3, 0.6)  # a running app answers in a few loop iterations (~50 ms at 115200 baud); a REPL never


def crc(body: bytes) -> int:
    return binascii.crc_hqx(body, 0xFFFF)


def request_frame(rid: int, verb: str, *args) -> bytes:
    body = " ".join([str(rid), verb] + [str(a) for a in args]).encode("ascii")
    if b"#" in body or b"*" in body:
        raise ValueError("a request may not contain '#' or '*'")
    return b"#>" + body + b"*%04X\n" % crc(body)


def parse_line(line: bytes) -> tuple[str, str] | None:
    """(kind, rest) of the first valid device frame in a line, or None. Noise before a frame (a boot banner,
    REPL output) and torn frames are skipped: each '#<' is tried until one's CRC checks."""
    start = line.find(b"#<")
    while start >= 0:
        star = line.rfind(b"*")
        cand = line[start + 2:star] if star > start else b""
        tail = line[star + 1:star + 5] if star > start else b""
        if len(tail) == 4:
            try:
                if int(tail, 16) == crc(cand):
                    kind, _, rest = cand.decode("utf-8", errors="replace").partition(" ")
                    return kind, rest
            except ValueError:
                pass
        start = line.find(b"#<", start + 2)
    return None


@dataclass(frozen=True)
class Sample:
    """One stream frame (docs/protocol.md, "The stream"); host_s: time.monotonic() when it arrived."""

    seq: int
    t_ms: int
    raw: int
    force_g: int
    state: int
    lo_g: int
    hi_g: int
    runner: int
    step: int
    step_ms: int
    goal_ms: int
    fault: int
    flags: int
    host_s: float

    STATES = ("no_contact", "under", "in", "over", "too_hard", "fault")
    RUNNER_STATES = ("idle", "running", "paused", "transition", "done", "aborted")

    @property
    def state_name(self) -> str:
        return self.STATES[self.state] if 0 <= self.state < len(self.STATES) else str(self.state)

    @property
    def runner_name(self) -> str:
        return self.RUNNER_STATES[self.runner] if 0 <= self.runner < len(self.RUNNER_STATES) else str(self.runner)

    @property
    def logging(self) -> bool:
        return bool(self.flags & 1)


SAMPLE_FIELDS = ("seq", "t_ms", "raw", "force_g", "state", "lo_g", "hi_g", "runner", "step", "step_ms", "goal_ms",
                 "fault", "flags")


def parse_sample(rest: str, host_s: float) -> Sample | None:
    try:
        f = [int(x) for x in rest.split()]
    except ValueError:
        return None
    if len(f) != len(SAMPLE_FIELDS):
        return None
    return Sample(**dict(zip(SAMPLE_FIELDS, f, strict=True)), host_s=host_s)


class LiveLink:
    """Talks to the running app over an open pyserial port. scale: device milliseconds per real
    millisecond (the simulator's --speed; 1 on a board)."""

    def __init__(self, ser: serial.Serial, port: str = "", scale: float = 1.0):
        self.ser = ser
        self.port = port or getattr(ser, "port", "") or "the device"
        self.scale = scale if scale and scale > 0 else 1.0
        self._buf = bytearray()
        self._lines: deque[bytes] = deque()
        self._rid = int(time.monotonic() * 1000) % 900000 + 1
        self.samples: deque[Sample] = deque(maxlen=20000)
        self.boots_seen = 0          # 'B' frames: the app (re)started while we listened
        self.lost = 0                # stream frames missing (SEQ gaps)
        self._last_seq: int | None = None
        self.streaming = False       # we asked for a stream (close() stops it)

    # ---- time ----
    def device_ms(self, real_s: float) -> int:
        """Device milliseconds that pass in real_s seconds (a simulator runs --speed times faster)."""
        return max(1, int(round(real_s * 1000 * self.scale)))

    # ---- bytes ----
    def _write(self, data: bytes):
        try:
            self.ser.write(data)
            self.ser.flush()
        except (serial.SerialException, OSError) as e:
            raise LinkError("link to %s lost: %s" % (self.port, e)) from None

    def _next_line(self, timeout_s: float) -> bytes | None:
        """The next complete line (waiting up to timeout_s for one), or None. Lines read along with it wait in
        self._lines for the next call: nothing that arrived is dropped."""
        if not self._lines:
            self._lines.extend(self._read_lines(timeout_s))
        return self._lines.popleft() if self._lines else None

    def _read_lines(self, timeout_s: float) -> list[bytes]:
        """Complete lines that arrived within timeout_s (returns as soon as there is at least one)."""
        deadline = time.monotonic() + timeout_s
        out: list[bytes] = []
        while True:
            try:
                self.ser.timeout = max(0.0, min(0.05, deadline - time.monotonic()))
                n = self.ser.in_waiting
                chunk = self.ser.read(n if n else 1)
            except (serial.SerialException, OSError, TypeError) as e:
                raise LinkError("link to %s lost: %s" % (self.port, e)) from None
            if chunk:
                self._buf += chunk
                while True:
                    i = self._buf.find(b"\n")
                    if i < 0:
                        break
                    out.append(bytes(self._buf[:i]))
                    del self._buf[:i + 1]
                if len(self._buf) > 4096:  # a torrent without newlines is not ours
                    del self._buf[:-512]
            if out or time.monotonic() >= deadline:
                return out

    def _dispatch(self, line: bytes, want_rid: int | None):
        """Handle one line: stream samples are queued; returns (kind, payload) for the awaited answer."""
        fr = parse_line(line)
        if fr is None:
            return None
        kind, rest = fr
        if kind == "F":
            smp = parse_sample(rest, time.monotonic())
            if smp is not None:
                if self._last_seq is not None:
                    self.lost += (smp.seq - self._last_seq - 1) % (1 << 24)
                self._last_seq = smp.seq
                self.samples.append(smp)
        elif kind == "B":
            self.boots_seen += 1
        elif kind in ("R", "E") and want_rid is not None:
            rid, _, payload = rest.partition(" ")
            if rid == str(want_rid):
                return kind, payload
        return None

    # ---- requests ----
    def request(self, verb: str, *args, timeout_s: float = 1.5, tries: int = 3, sent=None) -> Any:
        """verb(*args) on the running app; its JSON answer. DeviceError when refused, LinkError when nothing
        answers after `tries` attempts (the app is not running, or the link is down). sent(): called once the
        first request is on the wire (a prompt that must not come before it: the self-test's button wait)."""
        for _ in range(tries):
            self._rid = self._rid % 999999 + 1
            rid = self._rid
            self._write(request_frame(rid, verb, *args))
            if sent is not None:
                sent()
                sent = None
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline:
                line = self._next_line(deadline - time.monotonic())
                got = None if line is None else self._dispatch(line, rid)
                if got is not None:
                    kind, payload = got
                    if kind == "E":
                        raise DeviceError("device: " + payload)
                    try:
                        return json.loads(payload)
                    except ValueError:
                        raise DeviceError("device: unreadable answer to %s: %r" % (verb, payload[:80])) from None
        raise LinkError("no answer from the app on %s to %r (is it running? a cable unplugged?)" % (self.port, verb))

    def hello(self) -> dict | None:
        """The app's hello, or None when nothing answers (the board is at its REPL, or other firmware)."""
        for wait in HELLO_WAITS_S:
            try:
                got = self.request("hello", timeout_s=wait, tries=1)
            except LinkError:
                continue
            if isinstance(got, dict) and got.get("proto") == PROTO:
                return got
            if isinstance(got, dict):
                raise DeviceError("device: live link protocol %r, this acutrainer speaks %d: "
                                  "update the firmware (acutrainer deploy)" % (got.get("proto"), PROTO))
        return None

    def status(self) -> dict:
        return self.request("status", timeout_s=3.0)

    # ---- the stream ----
    def start_stream(self, every_s: float, lease_s: float = 3.0, mode: str = "live",
                     every_device_ms: int | None = None) -> dict:
        """Samples every every_s seconds of real time (or every every_device_ms of the device's time: a
        capture that judges steadiness on the device's clock) until lease_s pass without a renewal (call
        again to renew); scaled to device time."""
        every = every_device_ms if every_device_ms else self.device_ms(every_s)
        got = self.request("stream", every, self.device_ms(lease_s), mode)
        self.streaming = True
        return got

    def stop_stream(self):
        self.streaming = False
        try:
            self.request("stream", 0, tries=2, timeout_s=1.0)
        except (LinkError, DeviceError):
            pass  # the lease ends it anyway
        self.samples.clear()

    def poll(self, timeout_s: float = 0.05) -> list[Sample]:
        """Read what arrived (waiting up to timeout_s for something); return the new samples, oldest first."""
        if not self._lines:
            self._lines.extend(self._read_lines(timeout_s))
        while self._lines:
            self._dispatch(self._lines.popleft(), None)
        out = list(self.samples)
        self.samples.clear()
        return out
