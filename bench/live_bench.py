"""Live-link bench: the laptop and the device at the same time, measured on the firmware running
on the MicroPython unix port in the simulator, through the real host tools. run(work) -> figures.

  monitor_rate_hz            samples per second `acutrainer monitor` received and drew over 6 s (target >= 20),
                             the simulator at real time on a 115200-baud link with a 16 ms USB-bridge latency
  monitor_lost_frames        stream frames lost on the way in that run (SEQ gaps)
  monitor_latency_ms         median time from a force step in the simulated world (the control socket's
                             press, no ramp) to the first streamed sample showing >= 90 % of it on the host,
                             same link; 10 steps (target <= 100); monitor_latency_max_ms the worst of them
  practice_interrupted_by_host   practices that did not end "completed" when `status`, `monitor`,
                             `sessions --device` and `sync` ran during them and `pull --wait` after (target 0);
                             practice_runs how many were run
  lost_link_error_s          wall time of `acutrainer status` with the cable pulled, to its error (target <= 5);
                             lost_link_one_line: that error is one line on stderr and nothing on stdout
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from host_tools.archive import Archive  # noqa: E402
from host_tools.commands.monitor import Monitor  # noqa: E402
from host_tools.session import connect  # noqa: E402
from host_tools.sim import control  # noqa: E402

LINK_LATENCY_MS = 16.0
PROFILE = ROOT / "tests" / "integration" / "profiles" / "ht7-quick.txt"


def cli(*args, check=True, timeout=300):
    r = subprocess.run([str(BIN / "acutrainer"), *args], capture_output=True, text=True, timeout=timeout)
    if check and r.returncode:
        raise RuntimeError("acutrainer %s: %s" % (" ".join(args), (r.stderr or r.stdout).strip()))
    return r


def _setup(name: str, flash: Path, seed: int) -> None:
    """A deployed, calibrated simulator image (made fast), ready to restart at a board's pace."""
    st = control.start(name, speed=20.0, seed=seed, flash=str(flash))
    try:
        cli("deploy", "--board", "sim", "--port", st["port"])
        cli("calibrate", "--auto", "-y", "--no-creep", "--port", st["port"])
    finally:
        control.stop(name)


def monitor_figures(work: Path) -> dict:
    name = "bench-live"
    flash = work / "live.img"
    _setup(name, flash, 31)
    st = control.start(name, speed=1.0, seed=31, flash=str(flash), baud=115200, latency_ms=LINK_LATENCY_MS)
    out: dict = {}
    try:
        r = cli("monitor", "--plain", "--duration", "6", "--port", st["port"])
        last = r.stdout.strip().splitlines()[-1]          # "monitor: N samples in T s (R/s), L lost"
        out["monitor_rate_hz"] = float(last.split("(")[1].split("/s")[0])
        out["monitor_lost_frames"] = int(last.rsplit(",", 1)[1].split()[0])
        sim = control.SimControl(st)
        lat = []
        with connect(st["port"]) as c:
            mon = Monitor(c.live, rate_hz=50)
            for i in range(10):
                sim.release(ramp_ms=0)
                t_end = time.monotonic() + 1.5
                while time.monotonic() < t_end:
                    mon.read(0.02)
                g = 3000 + 300 * i
                t0 = time.monotonic()
                sim.press(g, ramp_ms=0)
                seen = None
                while seen is None and time.monotonic() - t0 < 3:
                    for s in mon.read(0.01):
                        if s.force_g >= 0.9 * g:
                            seen = s.host_s
                            break
                if seen is not None:
                    lat.append((seen - t0) * 1000)
            c.live.stop_stream()
        out["monitor_latency_ms"] = round(statistics.median(lat), 1) if lat else None
        out["monitor_latency_max_ms"] = round(max(lat), 1) if lat else None
        out["monitor_latency_steps_seen"] = len(lat)
        # the cable pulled: how long `status` takes to say so, and how it says it
        sim.unplug(30000)
        t0 = time.monotonic()
        r = cli("status", "--port", st["port"], check=False)
        out["lost_link_error_s"] = round(time.monotonic() - t0, 2)
        out["lost_link_one_line"] = r.returncode != 0 and r.stdout == "" and len(r.stderr.strip().splitlines()) == 1
    finally:
        control.stop(name)
    return out


def practice_figures(work: Path, runs: int = 3) -> dict:
    """Practices with the read-only commands run during them: do they all complete?"""
    name = "bench-practice"
    flash = work / "practice.img"
    _setup(name, flash, 32)
    st = control.start(name, speed=10.0, seed=32, flash=str(flash))
    port = st["port"]
    bad = 0
    try:
        cli("routine", "select", "ht7-quick", "--port", port)
        for _ in range(runs):
            cli("sim", "button", "short", "--name", name)
            deadline = time.monotonic() + 30
            while not cli("status", "--port", port).stdout.count("step 1 of") and time.monotonic() < deadline:
                time.sleep(0.2)
            cli("status", "--port", port)
            cli("monitor", "--plain", "--duration", "1", "--port", port)
            cli("sessions", "--device", "--port", port)
            cli("sync", "--port", port)
            cli("sim", "profile", str(PROFILE), "--name", name)     # waits for the hand to finish
            cli("pull", "--wait", "--port", port, timeout=600)
            with Archive(None) as arc:
                last = arc.sessions()[-1]
            if last["routine"] != "ht7-quick" or last["end_status"] != "completed":
                bad += 1
    finally:
        control.stop(name)
    return {"practice_interrupted_by_host": bad, "practice_runs": runs}


def run(work: Path) -> dict:
    out = monitor_figures(work)
    out.update(practice_figures(work))
    return out
