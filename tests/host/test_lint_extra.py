"""tools/lint_extra.py: package.json and manifest.py match device/ and boards/; mypy uses the ESP32 stubs."""

import importlib.util
import json
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("lint_extra", REPO / "tools" / "lint_extra.py")
lint = importlib.util.module_from_spec(spec)
spec.loader.exec_module(lint)


def test_checked_in_files_list_exactly_the_firmware():
    assert lint.check_package_json() == []
    assert lint.check_manifest() == []
    assert lint.PACKAGE_JSON.read_text() == lint.render_package_json()
    assert lint.MANIFEST.read_text() == lint.render_manifest()


def test_flash_layout_of_package_json():
    urls = dict((src, dest) for dest, src in json.loads(lint.PACKAGE_JSON.read_text())["urls"])
    assert urls["device/main.py"] == "main.py" and urls["device/boot.py"] == "boot.py"
    assert urls["device/acu/app.py"] == "lib/acu/app.py"
    assert urls["boards/esp32_devkitc.py"] == "lib/boards/esp32_devkitc.py"
    assert set(urls) == set(lint.device_files())


def fake_repo(tmp_path):
    for rel in lint.device_files():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(lint.REPO / rel, tmp_path / rel)
    (tmp_path / "package.json").write_text(lint.render_package_json(tmp_path))
    (tmp_path / "manifest.py").write_text(lint.render_manifest(tmp_path))
    return tmp_path


def test_a_new_module_or_a_stale_entry_is_found(tmp_path):
    repo = fake_repo(tmp_path)
    assert lint.check_package_json(repo / "package.json", repo) == []
    assert lint.check_manifest(repo / "manifest.py", repo) == []
    (repo / "device" / "acu" / "newmod.py").write_text("X = 1\n")
    pj = lint.check_package_json(repo / "package.json", repo)
    mf = lint.check_manifest(repo / "manifest.py", repo)
    assert pj == ["package.json: device/acu/newmod.py is missing (run: python tools/lint_extra.py --write)"]
    assert mf == ["manifest.py: device/acu/newmod.py is missing (run: python tools/lint_extra.py --write)"]
    (repo / "device" / "acu" / "newmod.py").unlink()
    (repo / "device" / "acu" / "ticks.py").unlink()
    assert any(
        "ticks.py is not a firmware file" in p for p in lint.check_package_json(repo / "package.json", repo)
    )
    assert any(
        "ticks.py is not a firmware file" in p for p in lint.check_manifest(repo / "manifest.py", repo)
    )


def test_wrong_destination_version_and_bad_manifest(tmp_path):
    repo = fake_repo(tmp_path)
    d = json.loads((repo / "package.json").read_text())
    d["urls"][0][0] = "lib/boot.py"
    d["version"] = "0.0.1"
    (repo / "package.json").write_text(json.dumps(d))
    pj = lint.check_package_json(repo / "package.json", repo)
    assert "package.json: device/boot.py goes to lib/boot.py, the flash layout says boot.py" in pj
    assert any(p.startswith("package.json: version '0.0.1'") for p in pj)
    (repo / "manifest.py").write_text('require("aioble")\n')
    assert lint.check_manifest(repo / "manifest.py", repo) == [
        "manifest.py: require(): the firmware needs no micropython-lib packages"
    ]
    (repo / "package.json").write_text("{")
    assert lint.check_package_json(repo / "package.json", repo)[0].startswith("package.json: not JSON")


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None, reason="mypy not installed")
def test_device_mypy_is_clean_and_catches_a_wrong_machine_call(tmp_path):
    rc, out = lint.run_mypy_device()
    # the stubs are found (whether the firmware is clean is make lint's verdict, not this test's)
    assert "checked" in out or "Success" in out, out
    for mod in ("machine", "esp32", "neopixel", "micropython"):
        assert 'module named "%s"' % mod not in out, out
    # a wrong call into machine must be caught: that is what the stubs are for
    work = tmp_path / "w"
    (work / "device" / "bad").mkdir(parents=True)
    (work / "tools").mkdir()
    shutil.copyfile(lint.REPO / "tools" / "mypy-device.ini", work / "tools" / "mypy-device.ini")
    (work / "device" / "bad" / "__init__.py").write_text(
        "import machine\n\n\ndef f():\n    adc = machine.ADC(machine.Pin(34))\n    return adc.read_u16(7)\n"
    )
    rc, out = lint.run_mypy_device(packages=("bad",), config=work / "tools" / "mypy-device.ini", cwd=work)
    assert rc == 1 and "read_u16" in out and "device/bad/__init__.py:6" in out, out
