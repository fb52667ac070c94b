"""Integration fixtures: a real simulator (micropython on a pty) in a private data dir, firmware deployed."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from host_tools.sim import control

BIN = Path(sys.executable).parent


def run_cli(*args, check=True, timeout=120, env=None):
    """Run the acutrainer CLI as a user would (a subprocess)."""
    r = subprocess.run([str(BIN / "acutrainer"), *args], capture_output=True, text=True, timeout=timeout,
                       env=env or os.environ.copy())
    if check and r.returncode != 0:
        raise AssertionError("acutrainer %s failed (%d): %s %s" % (" ".join(args), r.returncode, r.stdout, r.stderr))
    return r


def launcher_pids():
    out = subprocess.run(["pgrep", "-f", "host_tools.sim.launcher --state-dir %s" % os.environ["ACUTRAINER_HOME"]],
                         capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


@pytest.fixture(scope="session")
def acu_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("acuhome")
    old = os.environ.get("ACUTRAINER_HOME")
    os.environ["ACUTRAINER_HOME"] = str(home)
    os.environ.pop("ACUTRAINER_PORT", None)
    yield home
    for name in control.running():
        control.stop(name)
    if old is None:
        os.environ.pop("ACUTRAINER_HOME", None)
    else:
        os.environ["ACUTRAINER_HOME"] = old


@pytest.fixture(scope="session")
def deployed_sim(acu_home):
    """One simulator for the session with the firmware deployed through the host tools (like a user)."""
    st = control.start("default", speed=1.0, seed=4242)
    r = run_cli("deploy", "--board", "sim")
    assert "the app is running" in r.stdout
    yield control.SimControl(st)
    control.stop("default")
    assert not launcher_pids(), "a simulator launcher outlived sim stop"
