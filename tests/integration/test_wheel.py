"""The built wheel is all a maker needs: installed with its dependencies into a fresh virtual environment
outside the repository, its `acutrainer` starts the simulator, deploys, calibrates, practises with the shipped
example profile, pulls and writes a report, using only what the wheel carries (docs/architecture.md,
"Installed package"). Needs the package index (or pip's cache) for the dependencies."""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from host_tools import __version__

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
# what a clean clone holds besides the sources: never copied into the build
NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "build", "out", "node_modules", "__pycache__", "*.egg-info",
                                    ".pytest_cache", ".hypothesis", ".mypy_cache", ".ruff_cache")
INSTALL_TIMEOUT_S = 900  # downloads numpy, matplotlib... on a cold pip cache


def _run(cmd, cwd, env, timeout=180):
    r = subprocess.run([str(c) for c in cmd], cwd=str(cwd), env=env, capture_output=True, text=True,
                       timeout=timeout)
    assert r.returncode == 0, "%s failed (%d):\n%s\n%s" % (" ".join(map(str, cmd)), r.returncode, r.stdout, r.stderr)
    return r.stdout


def _clean_env(home: Path) -> dict:
    """The user's environment: no PYTHONPATH or virtual env of the repository's, a data dir of the test's."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME",
                                                            "ACUTRAINER_PORT", "PYTHONSAFEPATH")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if not p.startswith(str(REPO)))
    env["ACUTRAINER_HOME"] = str(home)
    return env


def test_wheel_installs_and_runs_the_whole_trainer_outside_the_repo(tmp_path):
    tmp = tmp_path
    assert REPO not in tmp.parents and tmp != REPO, "the test's folder must be outside the repository"
    src, dist, venv, user = tmp / "src", tmp / "dist", tmp / "venv", tmp / "user"
    user.mkdir()
    shutil.copytree(REPO, src, ignore=NOT_SOURCE)  # build from a copy: the checkout gets no build/ or egg-info
    env = _clean_env(tmp / "home")

    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", dist, src], user, env,
         timeout=INSTALL_TIMEOUT_S)
    (wheel,) = dist.glob("acutrainer-%s-*.whl" % __version__)
    names = zipfile.ZipFile(wheel).namelist()
    for f in ("host_tools/_data/device/acu/app.py", "host_tools/_data/device/main.py",
              "host_tools/_data/boards/sim.py", "host_tools/_data/examples/bedtime-practice.profile",
              "host_tools/_data/docs/versions.md", "host_tools/library/bedtime.json", "host_tools/sim/rom/simhw.py"):
        assert f in names, "the wheel lacks %s" % f

    _run([sys.executable, "-m", "venv", venv], user, env)
    _run([venv / "bin" / "python", "-m", "pip", "install", "-q", "%s[sim]" % wheel], user, env,
         timeout=INSTALL_TIMEOUT_S)
    acu = venv / "bin" / "acutrainer"

    where = _run([venv / "bin" / "python", "-c", "import host_tools.paths as p; print(p.DEVICE_DIR)"], user, env)
    assert Path(where.strip()).is_relative_to(venv), "the installed tools use %s, not their own data" % where
    assert _run([acu, "--version"], user, env).split() == ["acutrainer", __version__]
    try:
        assert "running: port" in _run([acu, "sim", "start", "--speed", "60", "--seed", "4242"], user, env)
        assert "the app is running" in _run([acu, "deploy"], user, env)
        status = json.loads(_run([acu, "status", "--json"], user, env))
        assert status["firmware"] == __version__, status
        assert "written /cfg/calib.json" in _run([acu, "calibrate", "--auto"], user, env)
        assert "played: boot" in _run([acu, "sim", "profile", "bedtime-practice"], user, env, timeout=300)
        assert "1 new session(s)" in _run([acu, "pull"], user, env)
        _run([acu, "report", "--out", "report"], user, env)
    finally:
        subprocess.run([str(acu), "sim", "stop"], cwd=str(user), env=env, capture_output=True, timeout=60)

    assert (user / "report" / "adherence.png").stat().st_size > 0
    assert (user / "report" / "session_000001.png").stat().st_size > 0
    db = sqlite3.connect(str(tmp / "home" / "archive.sqlite"))
    try:
        assert db.execute("SELECT count(*) FROM sessions").fetchone() == (1,)
    finally:
        db.close()
