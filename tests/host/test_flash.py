"""tools/flash.py (make flash): argument handling and the esptool commands (no board needed)."""

import importlib.util
from pathlib import Path
from types import SimpleNamespace

import pytest

REPO = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("flash_tool", REPO / "tools" / "flash.py")
flash = importlib.util.module_from_spec(spec)
spec.loader.exec_module(flash)


def fake_bin(path, size=400_000, magic=0xE9):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes([magic]) + b"\0" * (size - 1))
    return path


def test_commands_for_esp32_and_s3(tmp_path):
    fw = fake_bin(tmp_path / "ESP32_GENERIC-20260101-v1.29.0.bin")
    erase, write = flash.build_commands("/dev/ttyUSB0", "esp32_devkitc", fw, python="py")
    assert erase == ["py", "-m", "esptool", "--chip", "esp32", "--port", "/dev/ttyUSB0", "erase-flash"]
    assert write == [
        "py",
        "-m",
        "esptool",
        "--chip",
        "esp32",
        "--port",
        "/dev/ttyUSB0",
        "--baud",
        "460800",
        "write-flash",
        "-z",
        "0x1000",
        str(fw),
    ]
    (write_s3,) = flash.build_commands("COM5", "esp32s3_devkitc", fw, baud=115200, erase=False, python="py")
    assert write_s3[4:7] == ["esp32s3", "--port", "COM5"] and write_s3[-3:] == ["-z", "0x0", str(fw)]
    # esptool 4 spells the commands with underscores
    old = flash.build_commands("/dev/ttyUSB0", "esp32_devkitc", fw, esptool_ver=(4, 8, 1), python="py")
    assert old[0][-1] == "erase_flash" and "write_flash" in old[1]


def test_find_firmware_picks_the_newest_of_the_pinned_series(tmp_path):
    for n in (
        "ESP32_GENERIC-20260101-v1.29.0.bin",
        "ESP32_GENERIC-20260301-v1.29.1.bin",
        "ESP32_GENERIC-20250101-v1.28.0.bin",
        "ESP32_GENERIC_S3-20260301-v1.29.2.bin",
        "ESP32_GENERIC-20260301-v1.29.1.uf2",
    ):
        fake_bin(tmp_path / n)
    assert (
        flash.find_firmware("ESP32_GENERIC", "1.29", [tmp_path]).name == "ESP32_GENERIC-20260301-v1.29.1.bin"
    )
    assert flash.find_firmware("ESP32_GENERIC_S3", "1.29", [tmp_path]).name.startswith("ESP32_GENERIC_S3-")
    with pytest.raises(flash.FlashError) as e:
        flash.find_firmware("ESP32_GENERIC", "1.30", [tmp_path, tmp_path / "missing"])
    assert "micropython.org/download/ESP32_GENERIC/" in str(e.value)


def test_check_firmware_refuses_wrong_files(tmp_path):
    flash.check_firmware(fake_bin(tmp_path / "ESP32_GENERIC-20260101-v1.29.0.bin"), "esp32_devkitc")
    cases = [
        (tmp_path / "nope.bin", "no such firmware"),
        (fake_bin(tmp_path / "x.bin", magic=0x00), "not an ESP32 firmware image"),
        (fake_bin(tmp_path / "small.bin", size=1000), "too small"),
        (fake_bin(tmp_path / "ESP32_GENERIC_S3-20260101-v1.29.0.bin"), "firmware for ESP32_GENERIC_S3"),
    ]
    for path, why in cases:
        with pytest.raises(flash.FlashError) as e:
            flash.check_firmware(path, "esp32_devkitc")
        assert why in str(e.value)


def test_main_dry_run_and_run(tmp_path, capsys):
    fw = fake_bin(tmp_path / "ESP32_GENERIC-20260101-v1.29.0.bin")
    assert flash.main(["--port", "/dev/ttyUSB3", "--firmware", str(fw), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "erase-flash" in out and "write-flash -z 0x1000 %s" % fw in out
    ran = []
    flash.esptool_version = lambda: (5, 1, 0)
    rc = flash.main(
        ["--port", "/dev/ttyUSB3", "--board", "m5stack_atom", "--firmware", str(fw)],
        run=lambda c: ran.append(c) or SimpleNamespace(returncode=0),
    )
    assert rc == 0 and len(ran) == 2 and ran[1][-1] == str(fw)
    assert "acutrainer deploy --port /dev/ttyUSB3 --board m5stack_atom" in capsys.readouterr().out
    rc = flash.main(
        ["--port", "/dev/ttyUSB3", "--firmware", str(fw)], run=lambda c: SimpleNamespace(returncode=2)
    )
    assert rc == 1 and "hold BOOT" in capsys.readouterr().err


def test_main_errors_are_one_line(tmp_path, capsys, monkeypatch):
    assert flash.main(["--board", "arduino_uno", "--dry-run"]) == 2
    assert "unknown board 'arduino_uno'" in capsys.readouterr().err
    fw = fake_bin(tmp_path / "ESP32_GENERIC-20260101-v1.29.0.bin")
    monkeypatch.setattr(flash.ports, "usb_boards", lambda: [])
    assert flash.main(["--port", "", "--firmware", str(fw), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "no board found" in err and err.count("\n") == 1
    monkeypatch.setattr(
        flash.ports,
        "usb_boards",
        lambda: [{"port": "/dev/ttyUSB0", "chip": "CP210x"}, {"port": "/dev/ttyACM0", "chip": "CH9102"}],
    )
    assert flash.main(["--firmware", str(fw), "--dry-run"]) == 2
    assert "several boards found" in capsys.readouterr().err
    monkeypatch.setattr(flash.ports, "usb_boards", lambda: [{"port": "/dev/ttyUSB9", "chip": "CP210x"}])
    assert flash.main(["--firmware", str(fw), "--dry-run"]) == 0
    assert "/dev/ttyUSB9" in capsys.readouterr().out


def test_boards_table_covers_every_real_board():
    real = {p.stem for p in (REPO / "boards").glob("*.py")} - {"__init__", "sim"}
    assert set(flash.BOARDS) == real
