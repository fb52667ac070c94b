"""The installable package: build the wheel from a copy of the sources, install it with its dependencies
into a fresh venv outside the repository. Used by `make bench` (--only pkg: pkg_* figures) and by
tests/integration/test_wheel.py (which then runs the whole trainer from that venv)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# what a clean clone holds besides the sources: never copied into the build
NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "build", "out", "node_modules", "__pycache__", "*.egg-info",
                                   ".pytest_cache", ".hypothesis", ".mypy_cache", ".ruff_cache")
INSTALL_TIMEOUT_S = 900  # downloads numpy, matplotlib... on a cold pip cache


def run(cmd, cwd, env, timeout=180) -> str:
    r = subprocess.run([str(c) for c in cmd], cwd=str(cwd), env=env, capture_output=True, text=True,
                       timeout=timeout)
    if r.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s\n%s" % (" ".join(map(str, cmd)), r.returncode, r.stdout, r.stderr))
    return r.stdout


def user_env(home: Path) -> dict:
    """A user's environment: no PYTHONPATH, virtual env or PATH entry of the repository's; a data dir of its own."""
    drop = ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "PYTHONSAFEPATH", "ACUTRAINER_PORT")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(str(ROOT)))
    env["ACUTRAINER_HOME"] = str(home)
    return env


def build_and_install(tmp: Path, env: dict) -> dict:
    """tmp/src (a copy of the sources) -> tmp/dist/*.whl -> tmp/venv with the [sim] extra. Returns the wheel,
    the venv and the seconds each step took."""
    src, dist, venv = tmp / "src", tmp / "dist", tmp / "venv"
    shutil.copytree(ROOT, src, ignore=NOT_SOURCE)  # the checkout gets no build/ or egg-info
    t0 = time.monotonic()
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", dist, src], tmp, env, INSTALL_TIMEOUT_S)
    t1 = time.monotonic()
    (wheel,) = dist.glob("acutrainer-*.whl")
    run([sys.executable, "-m", "venv", venv], tmp, env)
    run([venv / "bin" / "python", "-m", "pip", "install", "-q", "%s[sim]" % wheel], tmp, env, INSTALL_TIMEOUT_S)
    return {"wheel": wheel, "venv": venv, "build_s": t1 - t0, "install_s": time.monotonic() - t1}


def run_bench(work: Path) -> dict:
    tmp = work / "pkg"
    tmp.mkdir()
    env = user_env(tmp / "home")
    got = build_and_install(tmp, env)
    t = time.monotonic()
    run([got["venv"] / "bin" / "acutrainer", "--version"], tmp, env)
    return {"pkg_wheel_kb": round(got["wheel"].stat().st_size / 1024, 1), "pkg_build_s": round(got["build_s"], 1),
            "pkg_install_s": round(got["install_s"], 1), "pkg_first_start_s": round(time.monotonic() - t, 1)}
