"""acutrainer deploy against the simulator: only what changed, --source, the .mpy ABI refusal."""

import pytest

from host_tools import deploy as deploy_mod
from host_tools.errors import AcuError
from host_tools.session import open_session
from tests.integration.conftest import run_cli

pytestmark = pytest.mark.integration


def device_files(port):
    with open_session(port) as s:
        return {p for p, _ in s.call("acu.api", "ls_tree", "/lib")}


def test_a_second_deploy_copies_nothing(deployed_sim):
    run_cli("deploy", "--board", "sim", "--no-confirm")  # whatever an earlier test left, now in step
    r = run_cli("deploy", "--board", "sim")
    assert "copied 0 file(s)" in r.stdout and "0 stale removed" in r.stdout
    assert "the app is running" in r.stdout


def test_source_deploy_then_back_to_mpy(deployed_sim):
    try:
        r = run_cli("deploy", "--board", "sim", "--source")
        assert "sources" in r.stdout and "the app is running" in r.stdout
        files = device_files(deployed_sim.port)
        assert "/lib/acu/app.py" in files and "/lib/boards/sim.py" in files
        assert not any(p.endswith(".mpy") for p in files)  # the .mpy copies would shadow the sources
        with open_session(deployed_sim.port) as s:
            assert s.call("acu.api", "version")["firmware"]
            import json

            assert json.loads(s.read_file("/cfg/version.json"))["format"] == "source"
    finally:
        r = run_cli("deploy", "--board", "sim")
    assert "stale removed" in r.stdout and "the app is running" in r.stdout
    files = device_files(deployed_sim.port)
    assert "/lib/acu/app.mpy" in files and "/lib/acu/app.py" not in files


def test_a_mismatched_mpy_abi_is_refused(deployed_sim, monkeypatch):
    monkeypatch.setattr(deploy_mod, "mpy_cross_abi", lambda: (5, 0))
    with open_session(deployed_sim.port) as s:
        before = s.sha256("/lib/acu/app.mpy")
        with pytest.raises(AcuError) as e:
            deploy_mod.deploy(s, board="sim")
        msg = str(e.value)
        assert "\n" not in msg
        assert "mpy-cross emits .mpy v5.0" in msg and "MicroPython 1.29" in msg
        assert "docs/versions.md" in msg and "--source" in msg
        assert s.sha256("/lib/acu/app.mpy") == before  # nothing was copied
        # --source needs no mpy-cross: it is not refused
        r = deploy_mod.deploy(s, board="sim", source=True, progress=lambda *a: None)
        assert r["copied"]
    run_cli("deploy", "--board", "sim")
