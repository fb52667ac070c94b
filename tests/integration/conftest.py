"""Integration fixtures: a real simulator (micropython on a pty) in a private data dir, firmware deployed."""

import contextlib
import json
import os
import subprocess
import sys
import time
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


def trace_story(sim) -> str:
    """The trace without the output levels: inputs, cues and band states (for failure messages)."""
    return "\n".join(json.dumps(r) for r in sim.trace() if r["kind"] != "level")


def wait_for(pred, timeout_s=20.0, what="condition", sim=None, every_s=0.05):
    """Poll pred() every every_s until it returns something true; fail with the simulator's story if given."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(every_s)
    raise AssertionError("timed out waiting for %s%s" % (what, "" if sim is None else "; trace:\n" + trace_story(sim)))


@contextlib.contextmanager
def deployed_simulator(name, seed, flash, speed=60, sensor="fsr402", **start):
    """A named simulator of its own, with the firmware deployed through the CLI as a user would (start: more
    control.start() arguments)."""
    st = control.start(name, speed=speed, seed=seed, flash=str(flash), sensor=sensor, **start)
    try:
        r = run_cli("deploy", "--board", "sim", "--port", st["port"])
        assert "the app is running" in r.stdout
        yield control.SimControl(st)
    finally:
        control.stop(name)


def foreground_signals():
    """pexpect's preexec_fn: the child gets Ctrl-C as a person's foreground command does. An interactive shell
    restores SIGINT for its foreground job; a test run started in the background (`make test &`) has it
    ignored, and the ignored disposition would pass to the command under test, which then never sees Ctrl-C."""
    import signal
    signal.signal(signal.SIGINT, signal.SIG_DFL)
