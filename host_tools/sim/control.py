"""Start, stop and steer simulators (the launcher daemons) from the host."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from host_tools import paths
from host_tools.errors import AcuError
from host_tools.sim import profile as profile_mod


def sim_dir(name: str = "default") -> Path:
    return paths.data_dir() / "sim" / name


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_state(name: str = "default") -> dict | None:
    f = sim_dir(name) / "state.json"
    try:
        st = json.loads(f.read_text())
    except (OSError, ValueError):
        return None
    if not _alive(int(st.get("pid", 0))):
        return None
    return st


def running() -> list[str]:
    base = paths.data_dir() / "sim"
    if not base.exists():
        return []
    return sorted(d.name for d in base.iterdir() if d.is_dir() and read_state(d.name))


def start(name: str = "default", flash: str | None = None, speed: float = 1.0, baud: int = 0,
          sensor: str = "fsr402", seed: int | None = None, haptic: str = "", heapsize: str = "192K",
          flash_blocks: int = 512, timeout_s: float = 20.0, latency_ms: float = 0.0,
          population: str = "datasheet") -> dict:
    st = read_state(name)
    if st:
        raise AcuError("simulator %r is already running on %s (acutrainer sim stop first)" % (name, st["port"]))
    d = sim_dir(name)
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    for stale in ("state.json", "control.sock"):
        try:
            (d / stale).unlink()
        except FileNotFoundError:
            pass
    flash = str(Path(flash).resolve()) if flash else str(d / "flash.img")
    if seed is None:
        seed = int.from_bytes(os.urandom(3), "little") or 1
        seedf = d / "seed"
        if seedf.exists():  # one simulated device keeps its part from run to run
            seed = int(seedf.read_text())
        else:
            seedf.write_text(str(seed))
    cmd = [sys.executable, "-m", "host_tools.sim.launcher", "--state-dir", str(d), "--flash", flash,
           "--speed", str(speed), "--baud", str(baud), "--sensor", sensor, "--seed", str(seed),
           "--heapsize", heapsize, "--flash-blocks", str(flash_blocks), "--latency-ms", str(latency_ms),
           "--population", population]
    if haptic:
        cmd += ["--haptic", haptic]
    log = open(d / "launcher.log", "ab")
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                            cwd=str(paths.ROOT))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        st = read_state(name)
        if st and st.get("pid") == proc.pid:
            return st
        if proc.poll() is not None:
            tail = (d / "launcher.log").read_text(errors="replace")[-400:]
            raise AcuError("the simulator did not start: %s" % tail.strip().splitlines()[-1:] )
        time.sleep(0.05)
    proc.kill()
    raise AcuError("the simulator did not start within %.0f s (see %s)" % (timeout_s, d / "launcher.log"))


def stop(name: str = "default", timeout_s: float = 10.0) -> bool:
    st = read_state(name)
    if not st:
        return False
    pid = int(st["pid"])
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and _alive(pid):
        try:  # reap it if it is our child (tests), harmless otherwise
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.05)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
    return True


def reset(name: str = "default", new_part: bool = False) -> dict:
    """Make a simulator a factory-fresh device: an ESP32 with MicroPython and no app. Stops it if it runs,
    blanks its flash image (erased: the ROM boot formats it, as the ESP32 port does on first boot), erases its
    ROM partition, and starts it again with the settings it ran with; the RTC starts unset with the new
    process. The simulated part (seed) is kept unless new_part. Only the images in the simulator's own state
    dir are reset: one given with --flash elsewhere is the user's file, and is refused."""
    from host_tools.errors import InputError
    from host_tools.sim.launcher import ROM_PARTITION_BYTES

    d = sim_dir(name)
    st = read_state(name)
    if st is None and not d.is_dir():
        raise InputError("no simulator %r to reset (acutrainer sim start makes a factory-fresh one)" % name)
    flash = Path(st["flash"]) if st else d / "flash.img"
    if flash.resolve().parent != d.resolve():
        raise InputError("simulator %r runs on %s, a flash image given with --flash: sim reset erases only the "
                         "images in %s; stop it and replace that file yourself" % (name, flash, d))
    rom = Path(st["rom"]) if st and st.get("rom") else flash.with_suffix(".romfs")
    blocks = int(st.get("flash_blocks") or 512) if st else 512
    if st is None and flash.exists() and flash.stat().st_size % 4096 == 0 and flash.stat().st_size:
        blocks = flash.stat().st_size // 4096
    if st is not None:
        stop(name)
    _write_erased(flash, blocks * 4096)
    if rom.exists() or (st is not None and st.get("rom")):
        _write_erased(rom, ROM_PARTITION_BYTES)
    seedf = d / "seed"
    seed = st.get("seed") if st else None
    if new_part:
        seedf.unlink(missing_ok=True)
        seed = None
    out: dict = {"name": name, "flash": str(flash), "rom": str(rom) if rom.exists() else None,
                 "was_running": st is not None,
                 "seed": seed if seed is not None else (int(seedf.read_text()) if seedf.exists() else None)}
    if st is not None:
        out["state"] = start(name, speed=float(st.get("speed", 1.0)), baud=int(st.get("baud", 0)),
                             sensor=st.get("sensor", "fsr402"), seed=seed, haptic=st.get("haptic") or "",
                             heapsize=st.get("heapsize") or "192K", flash_blocks=blocks,
                             latency_ms=float(st.get("latency_ms", 0.0)),
                             population=st.get("population") or "datasheet")
        out["seed"] = out["state"]["seed"]
    return out


def _write_erased(path: Path, size: int) -> None:
    """A flash part as it leaves the factory: every byte 0xFF (written beside it, then renamed over it)."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        block = b"\xff" * 65536
        left = size
        while left > 0:
            left -= f.write(block[:min(left, len(block))])
    os.replace(tmp, path)


class SimControl:
    """Steer one running simulator: the hand, the button, the power, and read the output trace."""

    def __init__(self, state: dict):
        self.state = state

    @classmethod
    def find(cls, name: str | None = None) -> "SimControl":
        """name None: the simulator serving $ACUTRAINER_PORT, else 'default', else the only one running."""
        if name is None:
            port = os.environ.get("ACUTRAINER_PORT")
            by_port = running_port_names()
            names = running()
            if port and port in by_port:
                name = by_port[port]
            elif "default" in names or len(names) != 1:
                name = "default"
            else:
                name = names[0]
        st = read_state(name)
        if not st:
            raise AcuError("no simulator %r is running (start one with 'acutrainer sim start')" % name)
        return cls(st)

    @classmethod
    def for_port(cls, port: str) -> "SimControl":
        """The simulator serving this port (a command connected to it wants its hand too)."""
        name = running_port_names().get(port)
        if name is None:
            raise AcuError("%s is not a simulator: --auto needs one (acutrainer sim start)" % port)
        return cls.find(name)

    @property
    def port(self) -> str:
        return self.state["port"]

    def _request(self, req: dict, timeout_s: float = 10.0) -> dict:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout_s)
        try:
            s.connect(self.state["control"])
            s.sendall(json.dumps(req).encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                d = s.recv(65536)
                if not d:
                    break
                data += d
        except OSError as e:
            raise AcuError("simulator control failed: %s" % e) from None
        finally:
            s.close()
        reply = json.loads(data.decode() or "{}")
        if not reply.get("ok"):
            raise AcuError("simulator: %s" % reply.get("error", "no answer"))
        return reply

    def status(self) -> dict:
        return self._request({"cmd": "status"})

    def segments(self, segs, buttons=()) -> dict:
        """Play force segments (and button presses at times from the start), from the same virtual instant.
        -> a ticket for wait_played(): the boot and how many hand frames the board has taken once it began."""
        r = self._request({"cmd": "profile", "segments": [list(s) for s in segs],
                           "buttons": [[int(t), k] for t, k in buttons]})
        return {"boot": r.get("boot"), "hand_seq": r.get("hand_seq"), "duration_ms": script_ms(segs, buttons)}

    def wait_played(self, ticket: dict, timeout_s: float | None = None, progress=None, poll_s: float = 0.05) -> dict:
        """Return once the board's virtual time has passed the end of the script segments() sent, following
        the simulator's own clock (the note the board writes when it takes the script, then its virtual
        time), whatever --speed and the host's load. progress(done_ms, total_ms) is called as it plays.
        Raises AcuError, one line, if the simulator stops, the power is cut, the board resets (a reset drops
        the hand's script), another press or script replaces this one, or timeout_s of real time pass
        (default: proportional to the script's length at the simulator's speed)."""
        total = int(ticket["duration_ms"])
        if timeout_s is None:
            timeout_s = wait_timeout_s(total, float(self.state.get("speed") or 0))
        deadline = time.monotonic() + timeout_s
        start = None
        st: dict = {}
        while True:
            try:
                st = self.status()
            except AcuError:
                raise AcuError("the simulator stopped before the profile ended") from None
            if st.get("power_off") or not st.get("running"):
                raise AcuError("the power was cut before the profile ended: the simulated hand's script is lost")
            if st["boot"] != ticket["boot"]:
                raise AcuError("the board reset (boot %d, now %d) before the profile ended: a reset drops the "
                               "simulated hand's script" % (ticket["boot"], st["boot"]))
            seq, taken = ticket["hand_seq"], st["hand_taken"]
            if start is None and taken >= seq:
                kept = st["hand_t_ms"]
                i = len(kept) - 1 - (taken - seq)
                if taken > seq or i < 0:
                    raise AcuError("another press or profile replaced this one before it ended")
                start = kept[i]
            elif start is not None and taken > seq:
                raise AcuError("another press or profile replaced this one before it ended")
            if start is not None:
                done = _tick_diff(st["t_ms"], start)
                if progress is not None:
                    progress(min(max(done, 0), total), total)
                if done >= total:
                    return {"start_ms": start, "end_ms": (start + total) & _TICK_MASK, "boot": st["boot"]}
            if time.monotonic() > deadline:
                if start is None and st.get("at_repl"):
                    raise AcuError("the board has not taken the profile: it sits at its REPL (a host holds it) "
                                   "and nothing has read its sensor or clock since")
                raise AcuError("the profile did not finish within %.0f s (virtual time %.1f s of %.1f s)" % (
                    timeout_s, 0 if start is None else _tick_diff(st["t_ms"], start) / 1000.0, total / 1000.0))
            time.sleep(poll_s)

    def press(self, force_g: int, ramp_ms: int = 150, noise_g: int = 0) -> None:
        self.segments([(ramp_ms, -1, int(force_g), 0), (1000, int(force_g), int(force_g), noise_g)])

    def release(self, ramp_ms: int = 150) -> None:
        self.segments([(ramp_ms, -1, 0, 0)])

    def load_profile(self, text: str, source: str = "<profile>") -> list:
        segs, buttons = profile_mod.parse_full(text, source)
        self.segments(segs, buttons)
        return segs

    def button(self, kind: str) -> None:
        self._request({"cmd": "button", "kind": kind})

    def sensor_fault(self, code: int, label: str = "") -> None:
        self._request({"cmd": "sensor_fault", "code": code, "label": label})

    def fault(self, kind: str) -> None:
        """A bring-up fault by its `acutrainer sim fault` name (FAULTS); "ok" mends them all."""
        if kind not in FAULTS:
            raise AcuError("unknown fault %r (one of %s)" % (kind, ", ".join(FAULTS)))
        if kind == "ok":
            self.sensor_fault(0, "ok")
            for part in (PART_MOTOR, PART_BUTTON, PART_BLEED):
                self._request({"cmd": "part_fault", "part": part, "value": 0, "label": ""})
            return
        sensor, part, value = FAULTS[kind]
        if part:
            self._request({"cmd": "part_fault", "part": part, "value": value, "label": kind})
        else:
            self.sensor_fault(sensor, kind)

    def power_cut(self, off_ms: int = 200) -> None:
        self._request({"cmd": "power_cut", "off_ms": off_ms})

    def unplug(self, ms: int = 1000) -> None:
        """Pull the USB cable for ms: bytes in flight are lost, nothing crosses; the board keeps running."""
        self._request({"cmd": "unplug", "ms": ms})

    def trace(self, boot: int | None = None) -> list[dict]:
        out = []
        try:
            with open(self.state["trace"]) as f:
                for line in f:
                    try:
                        rec = json.loads(line)
                    except ValueError:
                        continue
                    if boot is None or rec.get("boot") == boot:
                        out.append(rec)
        except FileNotFoundError:
            pass
        return out

    def clear_trace(self) -> None:
        open(self.state["trace"], "w").close()

    def wait_boot(self, boot: int, timeout_s: float = 20.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.status()["boot"] >= boot:
                return
            time.sleep(0.05)
        raise AcuError("the simulator did not reboot")


_TICK_MASK = (1 << 30) - 1  # the board's ticks_ms wraps here (acu.ticks)


# `acutrainer sim fault` kinds: (sensor fault code, rom/simhw.py PART_*, value). A fault lasts until `ok`
# or the board restarts (the firmware process, and its world, start afresh), as a sensor fault always has.
PART_MOTOR, PART_BUTTON, PART_BLEED = 1, 2, 3
FAULTS = {
    "ok": (0, 0, 0),
    "open": (1, 0, 0),             # the sensor unplugged (a divider reads 0 V; an HX711 stops converting)
    "short": (2, 0, 0),            # the sensor's leads shorted
    "motor-dead": (0, PART_MOTOR, 1),      # the motor's pin is driven; nothing spins
    "button-stuck": (0, PART_BUTTON, 1),   # shorted to GND: reads pressed all the time
    "button-dead": (0, PART_BUTTON, 2),    # an open lead: never reads pressed
    "no-bleed": (0, PART_BLEED, 1),        # the bleed resistor left out: an unloaded FSR's input floats
}


def _tick_diff(a: int, b: int) -> int:
    return ((a - b + (1 << 29)) & _TICK_MASK) - (1 << 29)


def wait_timeout_s(duration_ms: int, speed: float) -> float:
    """Real seconds to wait for a script: twice its length at --speed, plus 15 s (--speed 0: as x1)."""
    return 15.0 + 2.0 * duration_ms / 1000.0 / (speed or 1.0)


def script_ms(segs, buttons=()) -> int:
    """How long a hand's script plays: its force segments, or its last button press's release if later."""
    from host_tools.sim.world_link import BUTTON_PATTERNS

    end = profile_mod.duration_ms(segs)
    for t, kind in buttons:
        end = max(end, int(t) + BUTTON_PATTERNS[kind][-1][0])
    return end


def running_port_names() -> dict[str, str]:
    """pty path -> simulator name, for every running simulator."""
    out = {}
    for n in running():
        st = read_state(n)
        if st:
            out[st["port"]] = n
    return out
