"""acutrainer deploy against the simulator: only what changed, --source, the .mpy ABI refusal."""

import subprocess
import sys
from pathlib import Path

import pytest

from host_tools import deploy as deploy_mod
from host_tools.errors import AcuError
from host_tools.session import open_session
from tests.integration.conftest import run_cli

pytestmark = pytest.mark.integration


def device_files(port):
    """The firmware files in /lib, listed from a fresh raw REPL (a soft reset: main.py does not run): after a
    --source deploy the interrupted app leaves a heap too fragmented for compiling acu.api beside it."""
    import json

    with open_session(port) as s:
        s.reset_to_raw_repl()
        s.exec(deploy_mod.HASHES_CODE)
        return set(json.loads(s.exec("print(json.dumps(_acu_tree('/lib')))\n").strip().splitlines()[-1]))


def app_file(port):
    with open_session(port) as s:
        s.reset_to_raw_repl()
        return s.exec("import acu.app\nprint(acu.app.__file__)\n").split()[-1]


def test_a_second_deploy_copies_nothing(deployed_sim):
    run_cli("deploy", "--board", "sim", "--no-confirm")  # whatever an earlier test left, now in step
    r = run_cli("deploy", "--board", "sim")
    assert "copied 0 file(s)" in r.stdout and "0 stale removed" in r.stdout
    assert "holds this image already" in r.stdout  # the simulator has ROMFS: the default puts the modules there
    assert "the app is running" in r.stdout


def test_source_deploy_then_back_to_mpy(deployed_sim):
    try:
        r = run_cli("deploy", "--board", "sim", "--source")
        assert "sources" in r.stdout and "the app is running" in r.stdout
        assert "the modules are in /lib" in r.stdout  # sources never go to the ROM; its image was erased
        files = device_files(deployed_sim.port)
        assert "/lib/acu/app.py" in files and "/lib/boards/sim.py" in files
        assert not any(p.endswith(".mpy") for p in files)  # the .mpy copies would shadow the sources
        with open_session(deployed_sim.port) as s:
            s.reset_to_raw_repl()  # the app's heap freed: acu.api compiles from source beside nothing
            assert s.call("acu.api", "version")["firmware"]
            import json

            assert json.loads(s.read_file("/cfg/version.json"))["format"] == "source"
            assert s.exec("import acu.app\nprint(acu.app.__file__)\n").split()[-1] == "/lib/acu/app.py"
        r = run_cli("deploy", "--board", "sim", "--no-romfs")
        assert "stale removed" in r.stdout and "the app is running" in r.stdout
        files = device_files(deployed_sim.port)
        assert "/lib/acu/app.mpy" in files and "/lib/acu/app.py" not in files
    finally:
        r = run_cli("deploy", "--board", "sim")
    # back to the default: the modules in ROM, /lib emptied of the firmware
    assert "wrote the ROM partition" in r.stdout and "the app is running" in r.stdout
    assert not device_files(deployed_sim.port)
    assert app_file(deployed_sim.port) == "/rom/acu/app.mpy"


def test_a_mismatched_mpy_abi_is_refused(deployed_sim, monkeypatch):
    monkeypatch.setattr(deploy_mod, "mpy_cross_abi", lambda: (5, 0))
    with open_session(deployed_sim.port) as s:
        before = s.sha256("/cfg/version.json")  # every deploy rewrites it
        with pytest.raises(AcuError) as e:
            deploy_mod.deploy(s, board="sim", romfs=None)
        msg = str(e.value)
        assert "\n" not in msg
        assert "mpy-cross emits .mpy v5.0" in msg and "MicroPython 1.29" in msg
        assert "docs/versions.md" in msg and "--source" in msg
        assert s.sha256("/cfg/version.json") == before  # nothing was deployed
        # --source needs no mpy-cross: it is not refused
        r = deploy_mod.deploy(s, board="sim", source=True, progress=lambda *a: None, romfs=None)
        assert r["copied"]
    run_cli("deploy", "--board", "sim")


def test_romfs_deploy_runs_from_rom_then_back_to_lib(deployed_sim):
    try:
        run_cli("deploy", "--board", "sim", "--no-romfs")
        r = run_cli("deploy", "--board", "sim", "--romfs")
        assert "wrote the ROM partition" in r.stdout and "the modules are in the ROM partition" in r.stdout
        assert "the app is running" in r.stdout
        assert not device_files(deployed_sim.port)  # /lib holds no firmware: it is all in the ROM
        with open_session(deployed_sim.port) as s:
            out = s.exec("import acu.app, boards.sim\nprint(acu.app.__file__, boards.sim.__file__)\n").split()
            assert out[-2:] == ["/rom/acu/app.mpy", "/rom/boards/sim.mpy"]
            import json

            v = json.loads(s.read_file("/cfg/version.json"))
            assert v["format"] == "romfs" and v["rom_bytes"] > 0 and "/lib/acu/app.mpy" in v["files"]
        # the same image again: nothing written, nothing copied
        r = run_cli("deploy", "--board", "sim", "--romfs")
        assert "holds this image already" in r.stdout and "copied 0 file(s)" in r.stdout
        # mpremote sees the same ROM partition (its own romfs query, as with a board)
        q = subprocess.run([str(Path(sys.executable).parent / "mpremote"), "connect", deployed_sim.port,
                            "romfs", "query"], capture_output=True, text=True, timeout=60)
        assert "ROMFS0 partition has size 262144 bytes" in q.stdout and "Raw contents: d2:cd:31" in q.stdout
        size = int(q.stdout.split("ROMFS image size: ")[1].split()[0])  # the payload: less its 3+n byte head
        assert v["rom_bytes"] - 8 <= size < v["rom_bytes"]
        # --no-romfs: to /lib, and the image is erased so it cannot shadow the flash's copies
        r = run_cli("deploy", "--board", "sim", "--no-romfs")
        assert "erased the ROMFS image" in r.stdout and "the app is running" in r.stdout
        assert "/lib/acu/app.mpy" in device_files(deployed_sim.port)
        assert app_file(deployed_sim.port) == "/lib/acu/app.mpy"
    finally:
        run_cli("deploy", "--board", "sim")


def test_romfs_deploy_with_sources_is_refused(deployed_sim):
    r = run_cli("deploy", "--board", "sim", "--romfs", "--source", check=False)
    assert r.returncode != 0
    err = r.stderr.strip()
    assert "\n" not in err and "--romfs holds .mpy files only" in err


def test_romfs_on_a_board_without_it_is_refused_and_changes_nothing(tmp_path):
    from host_tools import romfs

    class NoRomBoard:
        def exec(self, code):
            assert code == romfs._QUERY, code  # nothing but the question is sent
            return "-1 0\n"

    with pytest.raises(AcuError) as e:
        romfs.write(NoRomBoard(), romfs.image({"acu/app.mpy": b"x"}))
    assert "no ROMFS partition" in str(e.value) and "without --romfs" in str(e.value)


def test_a_romfs_deploy_cut_halfway_leaves_a_board_the_next_deploy_repairs(deployed_sim):
    """The cable is pulled after a few chunks of a new image and the board loses power: it boots without
    /rom (the image's first chunk, written last, is still erased), so the app does not start, and nothing
    of the flash is lost; the next deploy writes the whole image and the app runs."""
    from host_tools import romfs
    from host_tools.errors import LinkError

    class PulledAfter:
        def __init__(self, s, chunks):
            self.s, self.left = s, chunks

        def exec(self, code):
            if code.startswith("print(vfs.rom_ioctl(4,"):
                if self.left == 0:
                    raise LinkError("cable pulled")
                self.left -= 1
            return self.s.exec(code)

    modules = deploy_mod.plan("sim", False)
    modules["/lib/acu/__init__.mpy"] += b"\0"  # a different image than the one on the board
    img = romfs.image(deploy_mod.rom_files(modules))
    with open_session(deployed_sim.port) as s:
        routines_before = sorted(n for n, _, _ in s.listdir("/routines"))
        s.reset_to_raw_repl()
        with pytest.raises(LinkError):
            romfs.write(PulledAfter(s, 5), img)
        s.keep_repl()
    boot = deployed_sim.status()["boot"]
    deployed_sim.power_cut(200)
    deployed_sim.wait_boot(boot + 1)
    with open_session(deployed_sim.port) as s:
        s.reset_to_raw_repl()
        out = s.exec("import sys, os\nprint('/rom' in sys.path, 'rom' in os.listdir('/'))\n").split()
        assert out[-2:] == ["False", "False"]  # no image mounted: no half firmware runs
        assert sorted(n for n, _, _ in s.listdir("/routines")) == routines_before
    r = run_cli("deploy", "--board", "sim")
    assert "wrote the ROM partition" in r.stdout and "the app is running" in r.stdout
    assert app_file(deployed_sim.port) == "/rom/acu/app.mpy"


def test_another_board_on_the_simulator_is_refused_before_anything_is_written(deployed_sim):
    with open_session(deployed_sim.port) as s:
        before = (s.sha256("/cfg/version.json"), s.read_file("/cfg/board.json"))
    boot = deployed_sim.status()["boot"]
    r = run_cli("deploy", "--board", "m5stack_atom", check=False)
    assert r.returncode == 2, (r.stdout, r.stderr)
    err = r.stderr.strip()
    assert "\n" not in err and "--board m5stack_atom" in err and "use --board sim" in err, err
    assert deployed_sim.status()["boot"] == boot  # not even connected: no reset
    with open_session(deployed_sim.port) as s:
        assert (s.sha256("/cfg/version.json"), s.read_file("/cfg/board.json")) == before


def _leave_another_board(sim, monkeypatch):
    """What `deploy --board m5stack_atom` did to a simulator before it was refused: that board's app runs on
    its own clock and pins and never calls into the simulated hardware, so a Ctrl-C never reached it."""
    from host_tools.sim import control

    with monkeypatch.context() as m:
        m.setattr(control, "running_port_names", lambda: {})
        with open_session(sim.port) as s:
            deploy_mod.deploy(s, board="m5stack_atom", progress=lambda *a: None, romfs=None)
    with open_session(sim.port) as s:
        s.reset_to_raw_repl()
        assert s.exec("import acu.appcfg\nprint(acu.appcfg.board_name())\n").split()[-1] == "m5stack_atom"


def test_a_simulator_left_with_another_board_is_repaired_by_deploy_or_reset(acu_home, monkeypatch):
    """docs/troubleshooting.md: `acutrainer deploy --board sim` repairs it (the launcher reboots a board that
    does not take the host's Ctrl-C into the raw REPL), keeping its data; `acutrainer sim reset` makes it a
    factory-fresh device."""
    from host_tools.sim import control

    st = control.start("wrongboard", speed=60, seed=77)
    try:
        sim = control.SimControl(st)
        run_cli("deploy", "--board", "sim", "--port", sim.port)
        with open_session(sim.port) as s:
            s.write_file_atomic("/data/keep.txt", b"kept")
        _leave_another_board(sim, monkeypatch)
        r = run_cli("deploy", "--board", "sim", "--port", sim.port)
        assert "the app is running" in r.stdout
        assert any(x["kind"] == "interrupt_reset" for x in sim.trace(None))
        with open_session(sim.port) as s:
            assert s.read_file("/data/keep.txt") == b"kept"

        _leave_another_board(sim, monkeypatch)
        r = run_cli("sim", "reset", "--name", "wrongboard")
        assert "blank flash" in r.stdout and "erased ROM partition" in r.stdout and "seed 77" in r.stdout
        sim = control.SimControl.find("wrongboard")
        r = run_cli("deploy", "--board", "sim", "--port", sim.port)
        assert "installed the routine library" in r.stdout and "the app is running" in r.stdout  # a new device
        with open_session(sim.port) as s:
            assert not s.exists("/data/keep.txt")
    finally:
        control.stop("wrongboard")
