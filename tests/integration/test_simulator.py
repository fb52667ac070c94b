"""The simulated trainer as a user's tools see it: mpremote, ampy, our session, power cuts, the trace."""

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from host_tools.errors import DeviceError
from host_tools.session import open_session
from host_tools.sim import control
from tests.integration.conftest import wait_for

BIN = Path(sys.executable).parent
pytestmark = pytest.mark.integration


def mpremote(port, *args, timeout=60):
    return subprocess.run([str(BIN / "mpremote"), "connect", port, *args], capture_output=True, text=True,
                          timeout=timeout)



def test_mpremote_resume_exec_interrupts_the_app(deployed_sim):
    r = mpremote(deployed_sim.port, "resume", "exec", "import acu.app as a; print('iters', a.current.iterations > 0)")
    assert r.returncode == 0, r.stderr
    assert "iters True" in r.stdout


def test_mpremote_cp_and_ls(deployed_sim, tmp_path):
    src = tmp_path / "note.txt"
    src.write_bytes(b"hello flash\n")
    r = mpremote(deployed_sim.port, "resume", "cp", str(src), ":note.txt", "+", "ls", ":")
    assert r.returncode == 0, r.stderr
    assert "note.txt" in r.stdout
    back = tmp_path / "back.txt"
    r = mpremote(deployed_sim.port, "resume", "cp", ":note.txt", str(back), "+", "rm", ":note.txt")
    assert r.returncode == 0, r.stderr
    assert back.read_bytes() == b"hello flash\n"


def test_mpremote_soft_reset_without_resume_reboots_into_raw_repl(deployed_sim):
    boot = deployed_sim.status()["boot"]
    r = mpremote(deployed_sim.port, "exec", "import acu.app as a; print('app', a.current)")
    assert r.returncode == 0, r.stderr
    assert "app None" in r.stdout  # a board reset into the raw REPL does not run main.py
    assert deployed_sim.status()["boot"] == boot + 1


def test_ampy_ls_get_put(deployed_sim, tmp_path):
    ampy = str(BIN / "ampy")
    r = subprocess.run([ampy, "--port", deployed_sim.port, "ls", "/rom/acu"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    assert "/rom/acu/app.mpy" in r.stdout  # the firmware, deployed to the simulator's ROM partition
    f = tmp_path / "a.txt"
    f.write_text("from ampy\n")
    r = subprocess.run([ampy, "--port", deployed_sim.port, "put", str(f), "/ampy.txt"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([ampy, "--port", deployed_sim.port, "get", "/ampy.txt"], capture_output=True, text=True,
                       timeout=60)
    assert r.stdout.strip() == "from ampy"


def test_session_roundtrip_binary_file_with_control_bytes(deployed_sim):
    data = bytes(range(256)) * 40 + b"\x04\x03\x01\x02\r\n" * 100
    with open_session(deployed_sim.port) as s:
        s.write_file_atomic("/data/blob.bin", data)
        assert s.read_file("/data/blob.bin") == data
        assert s.sha256("/data/blob.bin") == hashlib.sha256(data).hexdigest()
        s.remove("/data/blob.bin")
        assert not s.exists("/data/blob.bin")


def test_failed_check_keeps_the_old_file(deployed_sim):
    with open_session(deployed_sim.port) as s:
        s.write_file_atomic("/cfg/probe.json", b'{"v": 1}')
        with pytest.raises(DeviceError) as e:
            s.write_file_atomic("/cfg/probe.json", b"not json", check=("acu.api", "validate_calib_file"))
        assert "device:" in str(e.value)
        assert s.read_file("/cfg/probe.json") == b'{"v": 1}'
        assert not s.exists("/cfg/probe.json.tmp")
        s.remove("/cfg/probe.json")


def test_device_error_is_one_line(deployed_sim):
    with open_session(deployed_sim.port) as s:
        with pytest.raises(DeviceError) as e:
            s.exec("raise ValueError('routine x: step 3: band_hi_g 12000 out of range')")
    assert str(e.value) == "device: routine x: step 3: band_hi_g 12000 out of range"


def test_power_cut_reboots_on_the_same_flash(deployed_sim):
    with open_session(deployed_sim.port) as s:
        s.write_file_atomic("/cfg/keep.txt", b"survives")
    boot = deployed_sim.status()["boot"]
    deployed_sim.power_cut(off_ms=100)
    wait_for(lambda: deployed_sim.status()["boot"] > boot and deployed_sim.status()["running"], what="reboot")
    with open_session(deployed_sim.port) as s:
        assert s.read_file("/cfg/keep.txt") == b"survives"
        s.remove("/cfg/keep.txt")


def test_press_and_release_show_in_the_trace(deployed_sim):
    sim = deployed_sim
    boot = sim.status()["boot"]
    wait_for(lambda: any(r.get("name") == "state" for r in sim.trace(boot)), what="app start")
    sim.press(4000, ramp_ms=100)
    wait_for(lambda: any(r.get("name") == "state" and r["value"] == 2 for r in sim.trace(boot)), what="in band")
    sim.release(ramp_ms=100)
    wait_for(lambda: [r for r in sim.trace(boot) if r.get("name") == "state"][-1]["value"] == 0, what="no contact")
    states = [r["value"] for r in sim.trace(boot) if r.get("name") == "state" and r["value"] >= 0]
    # no contact -> under (rising through the band's lower part) -> in -> ... -> no contact
    assert 2 in states and states[-1] == 0
    outs = {r["name"] for r in sim.trace(boot) if r["kind"] == "level"}
    assert {"motor", "rgb", "led"} <= outs


def test_sim_cli_status_and_trace(deployed_sim):
    from tests.integration.conftest import run_cli
    r = run_cli("sim", "status")
    assert deployed_sim.port in r.stdout
    r = run_cli("sim", "trace")
    # for a person: the boot, the band states and the cues with virtual times; the output levels counted
    assert r.stdout.startswith("boot %d" % deployed_sim.status()["boot"]), r.stdout
    assert " s  band  no_contact" in r.stdout and "output level changes" in r.stdout, r.stdout
    assert "motor_hz" not in r.stdout.replace("(", " ").split("output level changes")[0]
    r = run_cli("sim", "trace", "--raw")
    assert "level motor" in r.stdout and "note  state          no_contact" in r.stdout
    r = run_cli("sim", "trace", "--json")
    assert all(json.loads(ln)["kind"] for ln in r.stdout.splitlines())


def test_bad_profile_is_one_line_error(deployed_sim, tmp_path):
    from tests.integration.conftest import run_cli
    p = tmp_path / "bad.txt"
    p.write_text("press 4kg for 10s\nramp 2 to 3kg\n")
    r = run_cli("sim", "profile", str(p), check=False)
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0
    assert "bad.txt:2" in r.stderr


def test_a_second_simulator_is_independent(acu_home, deployed_sim, tmp_path):
    st = control.start("second", flash=str(tmp_path / "f2.img"), seed=7)
    try:
        assert st["port"] != deployed_sim.port
        r = mpremote(st["port"], "resume", "exec", "import os; print(sorted(os.listdir('/')))")
        assert r.returncode == 0
        assert "lib" not in r.stdout  # a blank board: nothing deployed there
    finally:
        assert control.stop("second")
    assert os.path.exists(tmp_path / "f2.img")


def test_the_world_goes_on_while_a_host_holds_the_repl(deployed_sim):
    """With the app stopped and the host at the raw REPL, a press sent by `sim press` reaches the sensor at
    the next read, and virtual time follows real time (docs/simulator.md, "Virtual time")."""
    sim = deployed_sim
    read = "[hw.sensor.read_raw(), hw.clock.ticks_ms()]"
    with open_session(sim.port) as s:
        s.hw_call(read)
        base, t_base = s.hw_call(read)
        sim.press(4000, ramp_ms=0)  # no ramp: the whole force at the instant the board takes the press
        got = [s.hw_call(read) for _ in range(5)]
        assert any(raw > base + 5000 for raw, _ in got), (base, got)
        sim.release(ramp_ms=0)
        after = [s.hw_call(read) for _ in range(5)]
        assert any(raw < base + 2000 for raw, _ in after), (base, after)
        # time goes on between the host's calls, with no sleep on the board
        t1 = s.hw_call("hw.clock.ticks_ms()")
        time.sleep(0.05)
        t2 = s.hw_call("hw.clock.ticks_ms()")
        assert t_base <= got[0][1] <= after[-1][1] <= t1 < t2


def test_sim_profile_returns_when_the_board_has_played_it(deployed_sim, tmp_path):
    from tests.integration.conftest import run_cli
    sim = deployed_sim
    p = tmp_path / "short.profile"
    p.write_text("press 3kg for 1s ramp 200ms\nrelease ramp 100ms\nbutton short\n")
    boot = sim.status()["boot"]
    r = run_cli("sim", "profile", str(p))
    assert "3 segments, 1 button press(es), 1.4 s of virtual time" in r.stdout and "played: boot %d" % boot in r.stdout
    start = [x["t_ms"] for x in sim.trace(boot) if x["kind"] == "note" and x["name"] == "profile"][-1]
    # the force and the button presses start at one virtual instant (docs/press-profiles.md)
    assert [x["t_ms"] for x in sim.trace(boot) if x["kind"] == "note" and x["name"] == "button_input"][-1] == start
    # the board's own clock has passed the script's end (1.3 s of force; the button is let go at 1.42 s)
    assert sim.status()["t_ms"] >= start + 1420
    r = run_cli("sim", "profile", "--no-wait", str(p))
    assert "played" not in r.stdout
    wait_for(lambda: len([x for x in sim.trace(boot) if x.get("name") == "profile" and x["kind"] == "note"]) == 2,
             what="the second profile")


def test_sim_profile_stops_waiting_at_a_power_cut(deployed_sim, tmp_path):
    sim = deployed_sim
    p = tmp_path / "long.profile"
    p.write_text("press 3kg for 60s\n")
    boot = sim.status()["boot"]

    def taken():
        return len([x for x in sim.trace(boot) if x.get("name") == "profile" and x["kind"] == "note"])

    before = taken()
    proc = subprocess.Popen([str(BIN / "acutrainer"), "sim", "profile", str(p)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: taken() > before, what="the board to take the profile")
        sim.power_cut(off_ms=100)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, (out, err)
    err = err.strip()
    assert "\n" not in err and "before the profile ended" in err, err
    assert "power was cut" in err or "the board reset" in err, err
    wait_for(lambda: sim.status()["boot"] > boot and sim.status()["running"], what="reboot")


def test_sim_reset_makes_a_factory_fresh_device_with_the_same_settings(acu_home, tmp_path):
    from tests.integration.conftest import run_cli
    st = control.start("fresh", speed=30, seed=99, sensor="a201", heapsize="200K")
    try:
        probe = "import os, machine\nprint(os.listdir('/'), machine.RTC().datetime()[0], machine.unique_id().hex())"
        r = mpremote(st["port"], "resume", "exec", "f = open('/mine.txt', 'w'); f.write('x'); f.close()\n"
                     "import machine; machine.RTC().datetime((2030, 1, 2, 3, 4, 5, 6, 0))\n" + probe)
        assert "['mine.txt'] 2030" in r.stdout, r.stdout + r.stderr
        uid = r.stdout.split()[-1]
        rom = Path(st["flash"]).with_suffix(".romfs")
        with open(rom, "r+b") as f:  # something in the ROM partition
            f.write(b"\x00not erased")
        r = run_cli("sim", "reset", "--name", "fresh")
        assert "reset simulator 'fresh': blank flash" in r.stdout and "the same part (seed 99)" in r.stdout
        st2 = control.read_state("fresh")
        assert st2 and (st2["speed"], st2["sensor"], st2["seed"], st2["heapsize"]) == (30.0, "a201", 99, "200K")
        assert st2["port"] in r.stdout
        r = mpremote(st2["port"], "resume", "exec", probe)
        assert r.stdout.split() == ["[]", "1970", uid], r.stdout + r.stderr  # empty flash, RTC unset, same part
        assert set(rom.read_bytes()) == {0xFF}

        r = run_cli("sim", "reset", "--name", "fresh", "--new-part")
        assert "a new part is drawn" in r.stdout
        st3 = control.read_state("fresh")
        assert st3 and st3["seed"] != 99
        r = mpremote(st3["port"], "resume", "exec", probe)
        assert r.stdout.split()[-1] != uid

        control.stop("fresh")
        r = run_cli("sim", "reset", "--name", "fresh")
        assert "it was not running" in r.stdout and not control.read_state("fresh")
        assert set(Path(st["flash"]).read_bytes()) == {0xFF}
    finally:
        control.stop("fresh")


def test_sim_reset_leaves_a_flash_image_given_with_flash_alone(acu_home, tmp_path):
    from tests.integration.conftest import run_cli
    img = tmp_path / "mine.img"
    st = control.start("ownimage", flash=str(img), seed=5)
    try:
        wait_for(lambda: control.SimControl(st).status()["fw_ready"], what="the board to boot")
        before = img.read_bytes()
        r = run_cli("sim", "reset", "--name", "ownimage", check=False)
        assert r.returncode == 2
        err = r.stderr.strip()
        assert "\n" not in err and "--flash" in err and str(img) in err, err
        assert control.read_state("ownimage") and img.read_bytes() == before  # still running, untouched
    finally:
        control.stop("ownimage")


def test_rshell_lists_and_copies_like_on_a_board(deployed_sim, tmp_path):
    """rshell splits the board's replies on CR LF: the simulated console ends text lines as a board's does."""
    import subprocess
    import sys
    from pathlib import Path
    rsh = str(Path(sys.executable).parent / "rshell")
    r = subprocess.run([rsh, "-p", deployed_sim.port, "--quiet", "ls", "/pyboard/cfg"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0 and "board.json" in r.stdout, r.stdout + r.stderr
    out = tmp_path / "board.json"
    r = subprocess.run([rsh, "-p", deployed_sim.port, "--quiet", "cp", "/pyboard/cfg/board.json", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and '"sim"' in out.read_text(), r.stdout + r.stderr


def test_the_clock_sync_sets_survives_a_soft_reset_but_not_a_power_cut(deployed_sim):
    # a board's RTC runs on through a soft reset (every host command ends with one) and stops at a power
    # cut; the firmware makes its clock afresh at each boot and trusts a plausible RTC time. The simulator
    # does the same (it used to keep the wall time itself, so a firmware that dropped it went unnoticed).
    from tests.integration.conftest import run_cli
    sim = deployed_sim
    run_cli("sync")
    boot = sim.status()["boot"]
    r = mpremote(sim.port, "exec", "print('reset')")   # a soft reset, then the raw REPL
    assert r.returncode == 0, r.stderr
    wait_for(lambda: sim.status()["boot"] > boot, what="the soft reset")
    st = json.loads(run_cli("status", "--json").stdout)
    assert st["wall_s"] is not None and abs(st["wall_s"] - time.time()) < 300, st["wall_s"]
    assert isinstance(st["boot_id"], int) and st["boot_id"] > 0
    boot = sim.status()["boot"]
    sim.power_cut(off_ms=100)
    wait_for(lambda: sim.status()["boot"] > boot and sim.status()["running"], what="reboot")
    st2 = json.loads(run_cli("status", "--json").stdout)
    assert st2["wall_s"] is None, "the RTC stops at a power cut: the time is unset until the next sync"
    assert st2["boot_id"] > 0 and st2["boot_id"] != st["boot_id"]
    run_cli("sync")   # leave the shared simulator with a set clock
