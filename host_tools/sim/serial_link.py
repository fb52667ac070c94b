"""The simulator's serial link: the pseudo-terminal a host opens as it would open /dev/ttyUSB0, relayed to the
firmware's console (the controlling terminal of its process) as a board's UART and USB-serial bridge do.

- **Pacing**: bytes cross at the emulated baud rate, each direction on its own budget (`Pacer`).
- **Bridge latency**: with --latency-ms the host gets what the bridge received in USB packets, or whatever
  it holds once its latency timer expires (`flush_out`).
- **Ctrl-C**: while boot.py/main.py run, a host's Ctrl-C is not passed on as a byte but sent as an
  interrupt on the world link (host_tools/sim/world_link.py), as a board's UART raises it in any code.
- **Resets**: the host's bytes wait while the firmware boots; a reset in the raw REPL comes back in the raw
  REPL as a board's does (the launcher enters it for the host and shows nothing before its banner), which
  ampy and mpremote expect.
- **Unplug**: nothing crosses either way while the cable is out.
"""

from __future__ import annotations

import errno
import os
import re
import selectors
import time
import tty
from typing import Callable

from host_tools.sim.world_link import Trace, WorldLink

RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n"
SOFT_REBOOT = b"MPY: soft reboot\r\n"
BRIDGE_PACKET = 62  # data bytes in one USB packet of an FTDI-style bridge (64 less 2 status bytes)
RAW_BOOT_PATIENCE_S = 10.0  # a reset into the raw REPL shows its banner well within this


class Pacer:
    """Byte budget for one direction of an emulated UART (8N1: 10 bits per byte)."""

    def __init__(self, baud: int):
        self.cps = baud / 10.0 if baud else 0.0
        self.tokens = 0.0
        self.t = time.monotonic()

    def budget(self) -> int:
        if not self.cps:
            return 1 << 20
        now = time.monotonic()
        self.tokens = min(self.tokens + (now - self.t) * self.cps, max(64.0, self.cps * 0.01))
        self.t = now
        return int(self.tokens)

    def spend(self, n: int):
        if self.cps:
            self.tokens -= n

    def wait_s(self) -> float:
        return 0.0 if not self.cps else max(0.0005, (1 - self.tokens) / self.cps)


class Cooker:
    """A board's console turns each "\n" the firmware prints as text into "\r\n" (MicroPython's cooked
    stdout), and sends what it writes to sys.stdout.buffer as it is. The unix port writes both as they are,
    so the simulator cooks here: a bare "\n" becomes "\r\n" (a "\r\n" a program wrote itself stays, as
    the live link's frames and the REPL's banners do on a board: they are written raw). The one binary body
    the firmware's consumers send is our verified download (host_tools/transfer.py), whose text header
    announces it ("ACUX <size> <offset> B"): its bytes pass untouched, as a board passes them."""

    HEADER = re.compile(rb"ACUX (\d+) (\d+) B\r?$")

    def __init__(self):
        self.prev = 0             # the last byte sent on: a "\n" after "\r" is already cooked
        self.raw_left = 0         # bytes of a binary body still to pass untouched
        self.line = bytearray()   # the text line so far (its end may announce a binary body)

    def cook(self, data: bytes) -> bytes:
        out = bytearray()
        i, n = 0, len(data)
        while i < n:
            if self.raw_left:
                k = min(self.raw_left, n - i)
                out += data[i:i + k]
                self.raw_left -= k
                i += k
                self.prev = out[-1]
                continue
            j = data.find(b"\n", i)
            if j < 0:
                out += data[i:]
                self.line += data[i:]
                del self.line[:-64]
                self.prev = data[-1]
                return bytes(out)
            if j > i:
                out += data[i:j]
                self.line += data[i:j]
                self.prev = data[j - 1]
            if self.prev != 13:
                out.append(13)
            out.append(10)
            self.prev = 10
            m = self.HEADER.search(bytes(self.line[-64:]))
            self.line.clear()
            if m:
                self.raw_left = int(m.group(1)) - int(m.group(2))
            i = j + 1
        return bytes(out)


class SerialLink:
    """Both ends of the console and the bytes between them.

    on_fw_hangup() is called when the firmware's terminal reports EIO (its process may have ended)."""

    def __init__(self, sel, world: WorldLink, trace: Trace, baud: int, latency_ms: float,
                 on_fw_hangup: Callable[[], None]):
        self.sel = sel
        self.world = world
        self.trace = trace
        self.on_fw_hangup = on_fw_hangup
        self.to_client = bytearray()
        self.to_fw = bytearray()
        self.held_for_fw = bytearray()  # client bytes that arrive while the firmware reboots
        self.up_pacer = Pacer(baud)
        self.down_pacer = Pacer(baud)
        # the USB-serial bridge between the board's UART and the host (--latency-ms, 0 = none): it hands
        # the host what it received in packets of BRIDGE_PACKET bytes, or whatever it holds once its
        # latency timer expires (an FTDI chip's timer defaults to 16 ms). A stream flows at the baud rate;
        # a short reply (a raw-REPL "OK...\x04\x04>") waits for the timer: what each round trip costs.
        self.latency_s = max(0.0, latency_ms) / 1000.0
        self.bridge = bytearray()
        self.bridge_since = 0.0
        self.unplugged_until = 0.0
        # the firmware's end (a pty master per boot) and the raw REPL as the host sees it
        self.fw_fd = -1
        self.in_raw = False
        self.fw_tail = b""
        self.wait_raw_banner = False  # a reset in the raw REPL: nothing reaches the host before its banner
        self.raw_sent = False         # ... and the launcher has entered the raw REPL for the host
        self.booting_until = 0.0
        self.cooker = Cooker()

        # the client's end: a pty whose slave we keep open so clients may come and go without EIO
        self.cl_master, self.cl_slave = os.openpty()
        tty.setraw(self.cl_slave)
        self.port = os.ttyname(self.cl_slave)
        os.set_blocking(self.cl_master, False)
        sel.register(self.cl_master, selectors.EVENT_READ, self.on_client_readable)

    # ---- the firmware's end --------------------------------------------------------------------
    def attach_firmware(self, fd: int, mode: str):
        """A new boot's console (mode 'raw': a reset in the raw REPL, which the host gets back)."""
        os.set_blocking(fd, False)
        self.fw_fd = fd
        self.sel.register(fd, selectors.EVENT_READ, self.on_fw_readable)
        self.in_raw = False
        self.fw_tail = b""
        self.wait_raw_banner = mode == "raw"
        self.raw_sent = False
        self.booting_until = time.monotonic() + RAW_BOOT_PATIENCE_S if mode == "raw" else 0.0
        self.cooker = Cooker()   # a new boot's console starts a fresh line

    def detach_firmware(self):
        if self.fw_fd < 0:
            return
        try:
            self.sel.unregister(self.fw_fd)
        except (KeyError, ValueError):
            pass
        os.close(self.fw_fd)
        self.fw_fd = -1

    def on_fw_readable(self, fd):
        if fd != self.fw_fd:
            return  # this firmware ended earlier in the same batch (a power cut from the control socket)
        try:
            d = os.read(self.fw_fd, 65536)
        except BlockingIOError:
            d = b""
        except OSError as e:
            d = b""
            if e.errno == errno.EIO:
                self.on_fw_hangup()
                return
        if d:
            self.on_fw_output(d)

    def drain_fw(self):
        """What the ended firmware printed last."""
        try:
            while True:
                d = os.read(self.fw_fd, 65536)
                if not d:
                    break
                self.on_fw_output(d)
        except OSError:
            pass

    def on_fw_output(self, data: bytes):
        # keep less than a banner's length of tail, so a banner already seen is never seen twice
        keep = len(RAW_BANNER) - 1
        self.trace.debug("board->host %r" % data)
        scan = self.fw_tail + data
        if self.wait_raw_banner:
            if not self.raw_sent and b">>> " in scan:
                os.write(self.fw_fd, b"\x01")  # enter the raw REPL on the client's behalf
                self.raw_sent = True
            i = scan.find(RAW_BANNER)
            if i < 0:
                self.fw_tail = scan[-keep:]
                return  # a board reset into the raw REPL shows nothing before the banner
            self.wait_raw_banner = False
            self.booting_until = 0.0
            self.in_raw = True
            data = scan[i:]
            self.fw_tail = b""
            self.release_held()
        else:
            i = scan.rfind(RAW_BANNER)
            if i >= 0:
                self.in_raw = True
                self.fw_tail = b""
            else:
                self.fw_tail = scan[-keep:]
        data = self.cooker.cook(data)
        if self.unplugged():
            return
        self.to_client += data
        if len(self.to_client) > 1 << 20:  # nobody reading: a USB CDC drops output, so do we
            del self.to_client[: len(self.to_client) - (1 << 16)]

    def firmware_ready(self):
        """The firmware's interpreter runs (its HELLO): the host's bytes may reach it. Before, a Ctrl-C that
        reached the process before MicroPython installed its SIGINT handler would kill it instead."""
        if not self.wait_raw_banner:
            self.release_held()

    def release_held(self):
        self.to_fw += self.held_for_fw
        self.held_for_fw.clear()


    # ---- the client's end ----------------------------------------------------------------------
    def on_client_readable(self, fd):
        try:
            d = os.read(self.cl_master, 65536)
        except (BlockingIOError, OSError):
            d = b""
        if d:
            self.on_client_input(d)

    def on_client_input(self, data: bytes):
        self.trace.debug("host->board %r" % data)
        if self.unplugged():
            return
        if b"\x02" in data:
            self.in_raw = False
        if self.fw_fd < 0 or self.wait_raw_banner or not self.world.ready:
            self.held_for_fw += data
        else:
            self.to_fw += data

    # ---- events --------------------------------------------------------------------------------
    def unplug(self, ms: float):
        """The USB cable is out for ms: nothing crosses the link either way, bytes in flight are lost."""
        self.unplugged_until = time.monotonic() + ms / 1000.0
        self.to_client.clear()
        self.to_fw.clear()

    def unplugged(self) -> bool:
        return time.monotonic() < self.unplugged_until

    def soft_rebooted(self):
        """The board's soft reset, as the host sees it."""
        self.to_client += SOFT_REBOOT

    def lose_input(self, raw_repl_next: bool = False):
        """A reset the host did not ask for: what it sent the firmware is lost. raw_repl_next: the reboot
        comes up in the raw REPL (main.py not run)."""
        self.to_fw.clear()
        if raw_repl_next:
            self.in_raw = True

    # ---- the relay -----------------------------------------------------------------------------
    def select_timeout(self) -> float:
        """How long the launcher may wait for input before bytes are due to move."""
        timeout = 0.05
        if self.to_client or self.to_fw:
            timeout = min(self.down_pacer.wait_s(), self.up_pacer.wait_s(), 0.05)
        if self.bridge:
            timeout = max(0.0005, min(timeout, self.bridge_since + self.latency_s - time.monotonic()))
        return timeout

    def service(self):
        """Once per turn of the launcher's loop: give up waiting for a raw-REPL banner that is overdue (hand
        over whatever the host sent), then move the bytes that are due."""
        if self.booting_until and time.monotonic() > self.booting_until:
            self.booting_until = 0.0
            self.wait_raw_banner = False
            self.release_held()
        self.flush_out()

    def flush_out(self):
        if self.to_client:
            n = min(len(self.to_client), self.down_pacer.budget())
            if n > 0 and self.latency_s:
                if not self.bridge:
                    self.bridge_since = time.monotonic()
                self.bridge += self.to_client[:n]
                self.down_pacer.spend(n)
                del self.to_client[:n]
            elif n > 0:
                try:
                    w = os.write(self.cl_master, self.to_client[:n])
                    self.down_pacer.spend(w)
                    del self.to_client[:w]
                except BlockingIOError:
                    pass
        if self.bridge and (len(self.bridge) >= BRIDGE_PACKET
                            or time.monotonic() - self.bridge_since >= self.latency_s):
            try:
                w = os.write(self.cl_master, self.bridge)
                del self.bridge[:w]
                self.bridge_since = time.monotonic()
            except BlockingIOError:
                pass
        if self.to_fw and self.fw_fd >= 0:
            if self.world.taking_interrupt():
                # a Ctrl-C is being taken: the bytes after it are for the REPL that comes up (a board raises
                # the interrupt at once, so the app never reads them; the simulated board takes it at its
                # next call into the hardware, and its app reads the console in between)
                return
            n = min(len(self.to_fw), self.up_pacer.budget())
            if n > 0 and self.world.interruptible:
                i = self.to_fw.find(b"\x03", 0, n)
                if i == 0:  # the board's UART takes a Ctrl-C as an interrupt, not as input, while code runs
                    del self.to_fw[:1]
                    self.up_pacer.spend(1)
                    self.world.interrupt()
                    return
                elif i > 0:
                    n = i  # the bytes before it first
            if n > 0:
                try:
                    w = os.write(self.fw_fd, self.to_fw[:n])
                    self.up_pacer.spend(w)
                    del self.to_fw[:w]
                except (BlockingIOError, OSError):
                    pass
