"""The built wheel is all a maker needs: installed with its dependencies into a fresh virtual environment
outside the repository, its `acutrainer` starts the simulator, deploys, calibrates, practises with the shipped
example profile, pulls and writes a report, using only what the wheel carries (docs/architecture.md,
"Installed package"). Needs the package index (or pip's cache) for the dependencies."""

import json
import sqlite3
import subprocess
import zipfile
from pathlib import Path

import pytest

from bench.pkg_bench import ROOT, build_and_install, run, user_env
from host_tools import __version__

pytestmark = pytest.mark.integration

SHIPPED = ("host_tools/_data/device/acu/app.py", "host_tools/_data/device/main.py", "host_tools/_data/boards/sim.py",
           "host_tools/_data/examples/bedtime-practice.profile", "host_tools/_data/docs/versions.md",
           "host_tools/library/bedtime.json", "host_tools/library/programmes/sleep-4wk.json",
           "host_tools/sim/rom/simhw.py")


def test_wheel_installs_and_runs_the_whole_trainer_outside_the_repo(tmp_path):
    assert ROOT not in tmp_path.parents, "the test's folder must be outside the repository"
    user, home = tmp_path / "user", tmp_path / "home"
    user.mkdir()
    env = user_env(home)
    got = build_and_install(tmp_path, env)
    wheel, venv = got["wheel"], got["venv"]
    assert wheel.name.startswith("acutrainer-%s-" % __version__)
    names = zipfile.ZipFile(wheel).namelist()
    for f in SHIPPED:
        assert f in names, "the wheel lacks %s" % f

    where = run([venv / "bin" / "python", "-c", "import host_tools.paths as p; print(p.DEVICE_DIR)"], user, env)
    assert Path(where.strip()).is_relative_to(venv), "the installed tools use %s, not their own data" % where
    acu = venv / "bin" / "acutrainer"
    assert run([acu, "--version"], user, env).split() == ["acutrainer", __version__]
    try:
        assert "running: port" in run([acu, "sim", "start", "--speed", "60", "--seed", "4242"], user, env)
        assert "the app is running" in run([acu, "deploy"], user, env)
        assert json.loads(run([acu, "status", "--json"], user, env))["firmware"] == __version__
        assert "written /cfg/calib.json" in run([acu, "calibrate", "--auto"], user, env)
        assert "played: boot" in run([acu, "sim", "profile", "bedtime-practice"], user, env, timeout=300)
        assert "1 new session(s)" in run([acu, "pull"], user, env)
        run([acu, "report", "--out", "report"], user, env)
    finally:
        subprocess.run([str(acu), "sim", "stop"], cwd=str(user), env=env, capture_output=True, timeout=60)

    assert (user / "report" / "adherence.png").stat().st_size > 0
    assert (user / "report" / "session_000001.png").stat().st_size > 0
    assert (home / "build" / "mpy-cache").is_dir(), "the installed tools cache compiled modules in the data dir"
    db = sqlite3.connect(str(home / "archive.sqlite"))
    try:
        assert db.execute("SELECT count(*) FROM sessions").fetchone() == (1,)
    finally:
        db.close()
