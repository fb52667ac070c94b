"""make demo: the trainer end to end on the simulator, through the same commands a user types.

Boots the real MicroPython firmware on a simulated board, deploys it, calibrates the simulated sensor,
installs and runs the bedtime routine with a scripted hand (60x faster than real time), pulls the session
into an archive, and writes a CSV export and an HTML report with plots under build/demo/.
Safe to run again: the simulated device keeps its flash, the archive keeps earlier sessions.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
OUT = ROOT / "build" / "demo"
SIM = "demo"


def say(text: str) -> None:
    print("\n\033[1m== %s\033[0m" % text, flush=True)


def run(*args: str, check: bool = True) -> str:
    print("$ acutrainer " + " ".join(shlex.quote(a) for a in args), flush=True)
    r = subprocess.run([str(BIN / "acutrainer"), *args], capture_output=True, text=True, timeout=900)
    out = (r.stdout + r.stderr).rstrip()
    if out:
        print("  " + out.replace("\n", "\n  "), flush=True)
    if check and r.returncode:
        raise SystemExit("demo: 'acutrainer %s' failed (exit %d)" % (" ".join(args), r.returncode))
    return r.stdout


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    os.environ["ACUTRAINER_HOME"] = str(OUT / "home")  # the demo's device and archive, not yours
    from host_tools.sim import control

    control.stop(SIM)
    say("Start the simulated trainer: real micropython on a pseudo-terminal, LittleFS flash image, 60x time")
    st = control.start(SIM, speed=60.0, seed=7)
    os.environ["ACUTRAINER_PORT"] = st["port"]
    print("  simulator on %s, flash %s" % (st["port"], st["flash"]))
    try:
        say("Deploy the firmware over the serial link (mpy-cross, only what changed)")
        run("deploy", "--board", "sim")
        run("status")
        say("Calibrate the simulated FSR part (the simulator applies known loads) and check it at 4 kg")
        run("calibrate", "--auto", "--yes")
        run("check", "--weight", "4.0")
        say("Set the device clock")
        run("sync")
        say("Routines: the built-in library, push and select bedtime")
        run("routine", "list", "--library")
        run("routine", "push", "bedtime")
        run("routine", "select", "bedtime")
        say("Press the tip at 4.2 kg, then let go: the trace shows the eyes-free feedback's band states")
        sim = control.SimControl.find(SIM)
        press = OUT / "press-and-release.profile"
        press.write_text("press 4.2kg for 15s ramp 300ms\nrelease ramp 300ms\nwait 2s\n")
        run("sim", "profile", str(press))  # returns once the board's virtual clock has passed the profile's end
        run("sim", "trace", "--since", "profile")
        say("Practise the bedtime routine: a scripted hand presses the button, then each point "
            "(about 6 minutes of virtual time)")
        boot = sim.status()["boot"]
        run("sim", "profile", str(ROOT / "examples" / "bedtime-practice.profile"), "--no-wait")
        time.sleep(2.0)
        say("The laptop during the practice: the app answers on its live link and the practice goes on")
        run("status")
        run("pull", check=False)   # needs the device to itself: says which practice runs, changes nothing
        say("Pull when the practice has ended (--wait), verified and resumable; list the sessions")
        run("pull", "--wait")
        run("sessions")
        run("sim", "trace", "--boot", str(boot), "--since", "profile")   # the pull restarted the app: its boot
        if not any(r.get("name") == "cue" and _cue_name(r["value"]) == "done" for r in sim.trace(boot)):
            print("  (the routine did not finish; pulled what was recorded)")
        say("Export CSV and write the report with plots")
        run("export", "--format", "csv", "--out", str(OUT / "export"))
        run("report", "--html", "--out", str(OUT / "report"))
        print("\nDemo done. Open %s in a browser; the export is in %s." % (OUT / "report" / "report.html",
                                                                        OUT / "export"))
    finally:
        control.stop(SIM)
    return 0


def _cue_name(v: int) -> str:
    from host_tools.paths import ensure_device_importable
    ensure_device_importable()
    from acu import feedback_views
    return feedback_views.CUE_NAMES[v] if 0 <= v < len(feedback_views.CUE_NAMES) else str(v)


if __name__ == "__main__":
    sys.exit(main())
