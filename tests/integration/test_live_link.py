"""The live link, as a person uses it: host commands during a practice never end it; a command that
needs the raw REPL says which practice runs and refuses, waits or stops it on purpose; monitor follows a
2 -> 4 -> 6 kg hand; every connection leaves a time anchor; mpremote and ampy still work on the running app."""

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from host_tools.archive import Archive
from tests.integration.conftest import deployed_simulator, run_cli, wait_for

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
NAME = "live-link"


@pytest.fixture(scope="module")
def sim(acu_home, tmp_path_factory):
    with deployed_simulator(NAME, 515, tmp_path_factory.mktemp("live") / "flash.img", speed=10) as sim:
        r = run_cli("calibrate", "--auto", "-y", "--no-creep", "--port", sim.port)
        assert "written /cfg/calib.json" in r.stdout
        yield sim


def cli(sim, *args, check=True, timeout=120):
    return run_cli(*args, "--port", sim.port, check=check, timeout=timeout)


def status(sim) -> dict:
    return json.loads(cli(sim, "status", "--json").stdout)


def test_host_commands_during_a_practice_leave_it_running_and_it_completes(sim, tmp_path):
    run_cli("routine", "select", "ht7-quick", "--port", sim.port)
    # the button starts the routine; its step waits for the first contact (up to 5 minutes of the board's
    # time): the host's commands run while it waits, then the hand does the step
    run_cli("sim", "button", "short", "--name", NAME)
    wait_for(lambda: status(sim).get("practice"), 30, "the practice to start", sim)
    boot = sim.status()["boot"]
    # the read-only commands, through the live link, while the user practises
    st = status(sim)
    assert st["practice"]["routine"] == "ht7-quick" and st["runner"]["state"] in ("running", "transition")
    r = cli(sim, "monitor", "--plain", "--duration", "1")
    assert "runner=running" in r.stdout or "runner=transition" in r.stdout
    # piped into a file (not a terminal) the live view is text lines too, one per sample
    r = cli(sim, "monitor", "--duration", "1")
    assert "force_g=" in r.stdout and "\x1b" not in r.stdout
    assert "being recorded now" in cli(sim, "sessions", "--device").stdout
    cli(sim, "sync")
    # a command that needs the raw REPL refuses, naming the practice, and changes nothing
    r = cli(sim, "pull", check=False)
    assert r.returncode == 6, r.stdout + r.stderr
    err = r.stderr.strip().splitlines()
    assert len(err) == 1 and "practice is running" in err[0] and "'ht7-quick', step 1 of" in err[0]
    assert "--wait" in err[0] and "--stop" in err[0]
    assert sim.status()["boot"] == boot    # nothing restarted the app during the practice
    run_cli("sim", "profile", str(ROOT / "tests/integration/profiles/ht7-quick.txt"), "--name", NAME, "--no-wait")
    # pull --wait waits for the end, then pulls the completed session
    r = cli(sim, "pull", "--wait", timeout=180)
    assert "waiting for the practice" in r.stderr and "1 new session(s)" in r.stdout
    with Archive(None) as arc:
        s = arc.sessions()[-1]
    assert s["routine"] == "ht7-quick" and s["end_status"] == "completed"
    assert s["wall_source"] == "clock_set"   # sync during the practice: its log has the clock-set event


def test_stop_ends_the_practice_on_purpose_and_the_log_says_so(sim):
    run_cli("routine", "select", "ht7-quick", "--port", sim.port)
    run_cli("sim", "button", "short", "--name", NAME)
    wait_for(lambda: status(sim).get("practice"), 30, "the practice to start", sim)
    r = cli(sim, "pull", "--stop")
    assert "stopped the practice ('ht7-quick'" in r.stderr and "1 new session(s)" in r.stdout
    with Archive(None) as arc:
        s = arc.sessions()[-1]
        events = [e["name"] for e in arc.db.execute("SELECT name FROM events WHERE session_id = ?", (s["id"],))]
    assert s["end_status"] == "aborted" and "host_stop" in events


def test_monitor_follows_a_2_4_6_kg_hand(acu_home, tmp_path):
    # real time and a 115200-baud link, as a board on USB
    from host_tools.sim import control
    flash = str(tmp_path / "flash.img")
    with deployed_simulator("live-monitor", 616, flash, speed=20) as fast:   # set up quickly...
        run_cli("calibrate", "--auto", "-y", "--no-creep", "--port", fast.port)
    st = control.start("live-monitor", speed=1.0, seed=616, flash=flash, baud=115200)  # ...then a board's pace
    try:
        mon = subprocess.Popen([str(BIN / "acutrainer"), "monitor", "--plain", "--duration", "7", "--port",
                                st["port"]], stdout=subprocess.PIPE, text=True)
        lines: list[str] = []
        streaming = threading.Event()

        def read():
            for ln in mon.stdout:
                lines.append(ln)
                if "force_g=" in ln:
                    streaming.set()
        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        wait_for(streaming.is_set, 20, "the monitor's first sample")
        # the hand, on the board's clock: each force held 1.5 s
        hand = []
        for g in (2000, 4000, 6000):
            hand += [(200, -1, g, 0), (1300, g, g, 0)]
        control.SimControl(st).segments(hand + [(150, -1, 0, 0)])
        mon.wait(timeout=30)
        reader.join(5)
        out = "".join(lines)
    finally:
        control.stop("live-monitor")
    rows = [dict(kv.split("=") for kv in ln.split()[1:]) for ln in out.splitlines() if "force_g=" in ln]
    rate = float(out.strip().splitlines()[-1].split("(")[1].split("/s")[0])
    assert rate >= 20, out[-300:]
    states = [r["state"] for r in rows]
    # the states in the order the hand went through them (each held for over a second)
    seen = [s for i, s in enumerate(states) if i == 0 or s != states[i - 1]]
    assert ["under", "in", "over"] == [s for s in seen if s in ("under", "in", "over")][:3], seen
    peak = max(int(r["force_g"]) for r in rows)
    assert 5400 <= peak <= 6600


def test_mpremote_and_ampy_still_interrupt_the_running_app(sim):
    # the app reads its console (the live link): Ctrl-C must still reach it as an interrupt, for every client
    r = subprocess.run([str(BIN / "mpremote"), "connect", sim.port, "resume", "exec", "print(6 * 7)"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "42" in r.stdout, r.stdout + r.stderr
    r = subprocess.run([str(BIN / "ampy"), "--port", sim.port, "ls", "/cfg"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0 and "calib.json" in r.stdout, r.stdout + r.stderr
    # the board sits at its REPL after them (as a board does): the next command starts the app again
    assert not app_running(sim.port)
    cli(sim, "status")
    wait_for(lambda: app_running(sim.port), 30, "the app to run again", sim)


def app_running(port) -> bool:
    from host_tools.session import Connection
    with Connection(port, anchor=False) as c:
        return c.app_running


def test_every_connection_leaves_a_time_anchor(sim):
    with Archive(None) as arc:
        before = arc.db.execute("SELECT COUNT(*) FROM anchors WHERE kind = 'connect'").fetchone()[0]
    cli(sim, "status")
    with Archive(None) as arc:
        rows = arc.db.execute("SELECT * FROM anchors WHERE kind = 'connect'").fetchall()
    assert len(rows) > before
    assert rows[-1]["boot_count"] == status(sim)["boots"]
