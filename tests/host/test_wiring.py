"""docs/wiring.svg: drawn by tools/wiring.py from boards/esp32_devkitc.py PARTS, up to date and complete."""

import importlib.util
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SVG = REPO / "docs" / "wiring.svg"
spec = importlib.util.spec_from_file_location("wiring_tool", REPO / "tools" / "wiring.py")
wiring = importlib.util.module_from_spec(spec)
spec.loader.exec_module(wiring)

NS = "{http://www.w3.org/2000/svg}"


def svg_texts(svg: str) -> list[str]:
    root = ET.fromstring(svg.encode("utf-8"))
    return ["".join(t.itertext()) for t in root.iter(NS + "text")]


def test_checked_in_svg_is_up_to_date():
    assert SVG.read_bytes().decode("utf-8") == wiring.render(wiring.load_parts()), \
        "docs/wiring.svg is stale: run python tools/wiring.py"
    r = subprocess.run([sys.executable, str(REPO / "tools" / "wiring.py"), "--check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_check_fails_on_a_stale_file(tmp_path):
    stale = tmp_path / "wiring.svg"
    stale.write_text(SVG.read_text(encoding="utf-8").replace("GPIO34", "GPIO99"), encoding="utf-8")
    assert wiring.main(["--check", "--out", str(stale)]) == 1
    assert wiring.main(["--check", "--out", str(tmp_path / "missing.svg")]) == 1
    assert wiring.main(["--out", str(stale)]) == 0
    assert wiring.main(["--check", "--out", str(stale)]) == 0


def test_svg_is_well_formed_xml():
    root = ET.parse(SVG).getroot()
    assert root.tag == NS + "svg"
    assert int(root.get("width")) > 0 and int(root.get("height")) > 0
    assert root.find(NS + "title") is not None


def test_parts_are_read_from_the_board_module():
    parts = wiring.load_parts()
    # the same dict the firmware uses (checked against an import of the board with machine faked)
    sys.path.insert(0, str(REPO / "device"))
    fake = type(sys)("machine")
    saved = sys.modules.get("machine")
    sys.modules["machine"] = fake
    try:
        spec_b = importlib.util.spec_from_file_location("board_devkitc", REPO / "boards" / "esp32_devkitc.py")
        board = importlib.util.module_from_spec(spec_b)
        spec_b.loader.exec_module(board)
    finally:
        sys.path.remove(str(REPO / "device"))
        if saved is None:
            del sys.modules["machine"]
        else:
            sys.modules["machine"] = saved
    assert parts == board.PARTS


def test_every_pin_in_parts_appears_in_the_svg():
    parts = wiring.load_parts()
    pins = wiring.pins_in(parts)
    assert set(pins.values()) >= {34, 25, 23, 26, 21, 22, 27, 0, 35}
    texts = svg_texts(SVG.read_text(encoding="utf-8"))
    labels = {int(m.group(1)) for t in texts for m in re.finditer(r"\bGPIO(\d+)\b", t)}
    for (part, field), pin in pins.items():
        assert pin in labels, "%s.%s = GPIO%d missing from docs/wiring.svg" % (part, field, pin)
    # resistor values come from PARTS too
    joined = "\n".join(texts)
    assert "R_M 470 Ω" in joined and "R_B 6.8 kΩ" in joined


def test_a_pin_change_in_parts_changes_the_picture():
    parts = wiring.load_parts()
    parts["motor"] = dict(parts["motor"], pin=32)
    texts = svg_texts(wiring.render(parts))
    assert "GPIO32" in texts and "GPIO26" not in texts


def test_an_undrawn_pin_is_refused():
    parts = wiring.load_parts()
    parts["sensor"] = dict(parts["sensor"], sda=5)
    with pytest.raises(SystemExit, match="sensor.sda"):
        wiring.render(parts)


def test_electrical_values_in_parts_change_the_picture():
    parts = wiring.load_parts()
    parts["sensor"] = dict(parts["sensor"], r_m_ohm=1000, atten="6dB")
    parts["haptic"] = dict(parts["haptic"], i2c_hz=100000)
    joined = "\n".join(svg_texts(wiring.render(parts)))
    assert "R_M 1 kΩ" in joined and "R_M 470 Ω" not in joined
    assert "~423 mV" in joined  # the idle reading: 3300 mV * 1000 / (1000 + 6800)
    assert "input only, 6 dB" in joined and "100 kHz" in joined
