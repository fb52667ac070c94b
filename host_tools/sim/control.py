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
          flash_blocks: int = 512, timeout_s: float = 20.0, latency_ms: float = 0.0) -> dict:
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
           "--heapsize", heapsize, "--flash-blocks", str(flash_blocks), "--latency-ms", str(latency_ms)]
    if haptic:
        cmd += ["--haptic", haptic]
    log = open(d / "launcher.log", "ab")
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                            cwd=str(paths.REPO))
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

    def segments(self, segs, buttons=()) -> None:
        """Play force segments (and button presses at times from the start), from the same virtual instant."""
        self._request({"cmd": "profile", "segments": [list(s) for s in segs],
                       "buttons": [[int(t), k] for t, k in buttons]})

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

    def sensor_fault(self, code: int) -> None:
        self._request({"cmd": "sensor_fault", "code": code})

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


def running_port_names() -> dict[str, str]:
    """pty path -> simulator name, for every running simulator."""
    out = {}
    for n in running():
        st = read_state(n)
        if st:
            out[st["port"]] = n
    return out
