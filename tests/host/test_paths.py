"""Where the tools find the firmware, boards, example profiles and pins: the checkout's own files here (an
installed wheel's host_tools/_data is tested by tests/integration/test_wheel.py)."""

import ast
import os
import subprocess
import sys
from pathlib import Path

from host_tools import paths
from host_tools.sim import profile

REPO = Path(__file__).resolve().parents[2]


def test_a_checkout_uses_its_own_files():
    assert paths.IN_CHECKOUT and paths.DATA == REPO
    assert (paths.DEVICE_DIR / "acu" / "app.py").is_file() and (paths.BOARDS_DIR / "sim.py").is_file()
    assert paths.VERSIONS_MD.is_file() and paths.build_dir() == REPO / "build"


def test_setup_ships_every_folder_the_tools_read():
    """setup.py copies into the wheel exactly the folders paths.py points into."""
    ns = {t.id: ast.literal_eval(n.value) for n in ast.parse((REPO / "setup.py").read_text()).body
          if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name) and t.id in ("DATA", "DOCS")}
    shipped = set(ns["DATA"]) | set(ns["DOCS"])
    for d in (paths.DEVICE_DIR, paths.BOARDS_DIR, paths.EXAMPLES_DIR):
        assert d.relative_to(paths.DATA).as_posix() in shipped
    assert paths.VERSIONS_MD.relative_to(paths.DATA).as_posix() in shipped


def test_a_shipped_profile_is_found_by_name():
    assert "bedtime-practice" in profile.example_names()
    want = str(REPO / "examples" / "bedtime-practice.profile")
    assert profile.resolve("bedtime-practice") == want
    assert profile.resolve("bedtime-practice.profile") == want
    assert profile.resolve(want) == want


def test_a_file_beats_a_shipped_name_and_an_unknown_name_is_named(tmp_path):
    own = tmp_path / "bedtime-practice"
    own.write_text("0s 0g\n")
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        assert profile.resolve("bedtime-practice") == "bedtime-practice"
    finally:
        os.chdir(old)
    r = subprocess.run([str(Path(sys.executable).parent / "acutrainer"), "sim", "profile", "no-such-profile"],
                       capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, ACUTRAINER_HOME=str(tmp_path / "home")))
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "no-such-profile" in r.stderr and "bedtime-practice" in r.stderr
