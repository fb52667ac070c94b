"""The simulator's world link: frames between the launcher and the firmware's simulated hardware
(rom/simhw.py), over a TCP socket on localhost the firmware connects to when it boots.

The launcher sends the hand (force profiles, button presses), sensor faults and the host's Ctrl-C; the
firmware reports its virtual clock, its output levels and notes (written to the trace), that its
interpreter runs (HELLO), whether boot.py/main.py run (a Ctrl-C then interrupts them), its wall clock and
the resets it asks for. A frame is `<H length><B type><payload>`, length counting the type byte.
"""

from __future__ import annotations

import json
import os
import selectors
import socket
import struct
import sys
import time
from typing import Callable

# frame types shared with rom/simhw.py
RX_PROFILE, RX_BUTTON, RX_SENSOR_FAULT, RX_INTERRUPT, RX_PART_FAULT = 1, 2, 3, 4, 5
TX_HELLO, TX_NAME, TX_LEVEL, TX_NOTE, TX_CLOCK, TX_WALL, TX_RESET, TX_INTERRUPTIBLE = 10, 11, 12, 13, 14, 15, 16, 17

BUTTON_PATTERNS = {  # (delay_ms, level) relative to now
    "short": [(0, 1), (120, 0)],
    "double": [(0, 1), (100, 0), (250, 1), (350, 0)],
    "long": [(0, 1), (1500, 0)],
    "down": [(0, 1)],
    "up": [(0, 0)],
}

INTERRUPT_GRACE_S = 3.0  # a Ctrl-C the firmware has not taken by then reboots it into the raw REPL
HAND_KEEP = 16  # virtual start times of the hand's last scripts kept for `sim profile` to wait on
TICKS_MASK = (1 << 30) - 1  # the board's ticks_ms wraps here (acu.ticks)


class Trace:
    """The simulator run's trace (trace.jsonl, one JSON record a line, docs/simulator.md) and the boot it is
    at. With ACU_SIM_LINKLOG set, debug() also logs every byte crossing the links to stderr."""

    def __init__(self, path):
        self.f = open(path, "w", buffering=1)  # one trace per simulator run
        self.boot = 0
        self.linklog = bool(os.environ.get("ACU_SIM_LINKLOG"))

    def next_boot(self) -> int:
        self.boot += 1
        return self.boot

    def write(self, t_ms: int, kind: str, **fields):
        rec = {"boot": self.boot, "t_ms": t_ms, "kind": kind, **fields}
        self.f.write(json.dumps(rec, separators=(",", ":")) + "\n")

    def debug(self, msg: str):
        if self.linklog:
            sys.stderr.write("%.3f boot%d %s\n" % (time.monotonic(), self.boot, msg))
            sys.stderr.flush()

    def close(self):
        self.f.close()


class WorldLink:
    """The launcher's end of the world link, and what the firmware of this boot has said on it.

    on_hello() is called when the firmware's interpreter runs (its HELLO): the serial link may pass the
    host's bytes from then on."""

    def __init__(self, sel, trace: Trace, speed: float, on_hello: Callable[[], None]):
        self.sel = sel
        self.trace = trace
        self.speed = speed
        self.on_hello = on_hello
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(4)
        sel.register(self.listener, selectors.EVENT_READ, self.on_accept)
        self.conn: socket.socket | None = None
        self.rx = b""
        # what this boot's firmware said (new_boot() starts again)
        self.names: dict[int, str] = {}
        self.ready = False           # HELLO: its interpreter runs
        self.interruptible = False   # boot.py/main.py run: a Ctrl-C is an interrupt, not input
        self.interrupt_at = 0.0      # when a Ctrl-C went to it as an interrupt it has not taken yet
        self.pending_reset: int | None = None  # it asked for a reset (machine.soft_reset/reset, ROM halt)
        self.last_t_ms = 0
        self.last_t_at = time.monotonic()  # when last_t_ms was reported
        self.last_uptime = 0
        # the hand's scripts this boot: frames sent (each gives one note when the firmware takes it) and the
        # virtual times of the notes taken (the last few), so `sim profile` can wait for its own script
        self.hand_sent = 0
        self.hand_taken = 0
        self.hand_t: list[int] = []
        # the board's RTC: survives soft resets, not power cuts
        self.rtc_epoch: int | None = None
        self.rtc_uptime = 0

    @property
    def port(self) -> int:
        return self.listener.getsockname()[1]

    def new_boot(self):
        self.names = {}
        self.last_t_ms = 0
        self.last_t_at = time.monotonic()
        self.hand_sent = self.hand_taken = 0
        self.hand_t = []
        self.ready = False
        self.interruptible = False
        self.interrupt_at = 0.0
        self.pending_reset = None

    # ---- the socket ----------------------------------------------------------------------------
    def on_accept(self, listener):
        conn, _ = self.listener.accept()
        if self.conn is not None:
            self.sel.unregister(self.conn)
            self.conn.close()
        self.conn = conn
        conn.setblocking(False)
        self.sel.register(conn, selectors.EVENT_READ, self.on_readable)

    def on_readable(self, conn):
        if self.conn is None or conn is not self.conn:
            return  # closed earlier in this batch (a power cut ends the firmware's link)
        try:
            d = self.conn.recv(65536)
        except (BlockingIOError, OSError):
            d = None
        if d:
            self.rx += d
            self.parse()
        elif d == b"":
            self.sel.unregister(self.conn)
            self.conn.close()
            self.conn = None

    def close(self):
        """The firmware ended: take what it said last, then close its end."""
        if self.conn is None:
            return
        self.drain()
        try:
            self.sel.unregister(self.conn)
        except (KeyError, ValueError):
            pass
        self.conn.close()
        self.conn = None
        self.rx = b""

    def drain(self):
        try:
            self.conn.setblocking(False)
            while True:
                d = self.conn.recv(65536)
                if not d:
                    break
                self.rx += d
        except (BlockingIOError, OSError):
            pass
        self.parse()

    # ---- launcher -> firmware ------------------------------------------------------------------
    def send_frames(self, frames):
        """Frames in one write: the firmware takes them in the same read, at the same virtual instant."""
        if self.conn is None:
            raise RuntimeError("the firmware is not running (booting or at a power cut)")
        self.conn.sendall(b"".join(struct.pack("<HB", len(p) + 1, typ) + p for typ, p in frames))

    def send_hand(self, segments, buttons) -> None:
        """A hand's script: force segments (dur_ms, f0_g, f1_g, noise_g) and button presses [(t_ms, kind)],
        from the same virtual instant (both frames in one write)."""
        frames = []
        if segments:
            payload = b"".join(struct.pack("<iiii", int(d), int(f0), int(f1), int(nz)) for d, f0, f1, nz in segments)
            frames.append((RX_PROFILE, payload))
        if buttons:
            events = sorted((int(t) + d, lv) for t, kind in buttons for d, lv in BUTTON_PATTERNS[kind])
            frames.append((RX_BUTTON, b"".join(struct.pack("<ii", d, lv) for d, lv in events)))
        if frames:
            self.send_frames(frames)
            self.hand_sent += len(frames)

    def send_button(self, kind: str) -> None:
        self.send_frames([(RX_BUTTON, b"".join(struct.pack("<ii", d, lv) for d, lv in BUTTON_PATTERNS[kind]))])
        self.hand_sent += 1

    def send_sensor_fault(self, code: int) -> None:
        self.send_frames([(RX_SENSOR_FAULT, struct.pack("<i", code))])

    def send_part_fault(self, part: int, value: int) -> None:
        self.send_frames([(RX_PART_FAULT, struct.pack("<ii", part, value))])

    def interrupt(self):
        """The host's Ctrl-C while boot.py/main.py run: the firmware raises KeyboardInterrupt at its next call
        into the simulated hardware."""
        self.trace.debug("interrupt (Ctrl-C) to the firmware")
        try:
            self.send_frames([(RX_INTERRUPT, b"")])
        except (RuntimeError, OSError):
            return  # the firmware is gone (reset, power cut): nothing to interrupt
        if not self.interrupt_at:
            self.interrupt_at = time.monotonic()

    def taking_interrupt(self) -> bool:
        """A Ctrl-C went to the running code and it has not taken it yet."""
        return bool(self.interrupt_at and self.interruptible)

    def interrupt_overdue(self) -> bool:
        """A board's UART interrupts any Python code; the simulated board takes a Ctrl-C at its next call into
        the simulated hardware. Code that never makes one (a board module for other hardware, with its own
        clock and pins the simulator does not wire; a tight loop) would keep the host out for good, so after
        INTERRUPT_GRACE_S the launcher reboots the board into the raw REPL (main.py not run): for the host,
        what the Ctrl-C gives on a board. `acutrainer deploy --board sim` can then repair it. True once: the
        interrupt is forgotten."""
        if self.taking_interrupt() and time.monotonic() - self.interrupt_at > INTERRUPT_GRACE_S:
            self.interrupt_at = 0.0
            return True
        return False

    def assume_ready(self):
        """No HELLO within the launcher's patience (a firmware without the link?): treat it as running."""
        self.ready = True

    # ---- firmware -> launcher ------------------------------------------------------------------
    def parse(self):
        buf = self.rx
        pos = 0
        while len(buf) - pos >= 3:
            (ln,) = struct.unpack_from("<H", buf, pos)
            if len(buf) - pos - 2 < ln:
                break
            typ = buf[pos + 2]
            body = buf[pos + 3: pos + 2 + ln]
            pos += 2 + ln
            self.handle_frame(typ, body)
        self.rx = buf[pos:]

    def handle_frame(self, typ: int, body: bytes):
        if typ == TX_INTERRUPTIBLE:
            self.interruptible = bool(struct.unpack_from("<I", body, 0)[0])
            if not self.interruptible:
                self.interrupt_at = 0.0  # taken: boot.py/main.py ended, the REPL is up
        elif typ == TX_HELLO:
            self.ready = True
            self.on_hello()
        elif typ == TX_NAME:
            self.names[body[0]] = body[1:].decode(errors="replace")
        elif typ in (TX_LEVEL, TX_NOTE):
            t_ms, oid, value = struct.unpack("<IBi", body)
            self._set_t_ms(t_ms)
            name = self.names.get(oid, "id%d" % oid)
            self.trace.write(t_ms, "level" if typ == TX_LEVEL else "note", name=name, value=value)
            if typ == TX_NOTE and name in ("profile", "button_input"):  # the firmware took a hand frame
                self.hand_taken += 1
                self.hand_t = (self.hand_t + [t_ms])[-HAND_KEEP:]
        elif typ == TX_CLOCK:
            t_ms, uptime = struct.unpack("<II", body)
            self._set_t_ms(t_ms)
            self.last_uptime = uptime
        elif typ == TX_RESET:
            (kind,) = struct.unpack("<I", body)
            self.pending_reset = kind
        elif typ == TX_WALL:
            uptime, epoch = struct.unpack("<II", body)
            self.rtc_epoch, self.rtc_uptime = epoch, uptime
            self.last_uptime = uptime

    def _set_t_ms(self, t_ms: int):
        self.last_t_ms = t_ms
        self.last_t_at = time.monotonic()

    def take_reset(self) -> int | None:
        """The reset the firmware asked for (once)."""
        r, self.pending_reset = self.pending_reset, None
        return r

    # ---- the board's clocks --------------------------------------------------------------------
    def at_repl(self) -> bool:
        """The interpreter runs and boot.py/main.py do not: the board sits at its REPL."""
        return self.ready and not self.interruptible

    def virtual_now_ms(self, clock_runs_unseen: bool) -> int:
        """The board's virtual time as far as the launcher knows: the last time it reported (once per virtual
        second, and with every output change and note) or, while it sits at its REPL (clock_runs_unseen),
        that time moved on by real time x speed, as the board's next observation will move it
        (rom/simhw.py World._catch_up)."""
        t = self.last_t_ms
        if clock_runs_unseen:
            t += int((time.monotonic() - self.last_t_at) * 1000 * (self.speed or 1.0))
        return t & TICKS_MASK

    def rtc_after_soft_reset(self):
        """The RTC keeps running across a soft reset: it is where the uptime the firmware reported last put
        it."""
        if self.rtc_epoch is not None:
            self.rtc_epoch += max(0, self.last_uptime - self.rtc_uptime)
            self.rtc_uptime = 0
        self.last_uptime = 0

    def rtc_after_power_cut(self):
        self.rtc_epoch = None
