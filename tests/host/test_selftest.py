"""The bring-up self-test's judgements (host_tools/selftest.py) on made-up readings: each failure names the
part's pin from the board's PARTS and says what to check; the answers file and the typed answers."""
import pytest

from host_tools import selftest as st
from host_tools.commands.selftest import Answers, Cancelled
from host_tools.errors import InputError

DEVKIT = st.load_parts("esp32_devkitc")
LOADCELL = st.load_parts("esp32_loadcell")


def test_parts_come_from_the_board_modules():
    assert DEVKIT["sensor"]["adc_pin"] == 34 and DEVKIT["motor"]["pin"] == 26
    assert st.pin(DEVKIT, "sensor", "fsr402") == "GPIO34 (ADC)"
    assert st.pin(DEVKIT, "motor") == "GPIO26" and st.pin(DEVKIT, "button") == "GPIO0"
    assert st.pin(DEVKIT, "haptic").startswith("I2C SDA GPIO21, SCL GPIO22")
    assert st.pin(LOADCELL, "sensor", "loadcell").startswith("HX711 DOUT GPIO")
    # the A201 takes other resistors: its idle level follows them
    assert st.sensor_part(DEVKIT, "a201")["r_bleed_ohm"] == 330000
    assert st.load_parts("no_such_board") is None and st.load_parts("../etc/passwd") is None
    assert "does not know the board" in st.pin(None, "motor")


def test_idle_level_of_a_healthy_divider_passes():
    exp = st.idle_expected_raw(st.sensor_part(DEVKIT, "fsr402"))
    assert exp == 65535 * 470 // (470 + 6800)          # ~213 mV at the ADC (docs/hardware.md)
    r = st.check_idle([exp - 100, exp, exp + 120] * 10, [0] * 30, DEVKIT, "fsr402")
    assert r.ok and "spread 220" in r.measured and not r.advice


def test_an_open_sensor_names_the_adc_pin():
    r = st.check_idle([0] * 20, [1] * 20, DEVKIT, "fsr402")
    assert r.ok is False and "fault open" in r.measured
    assert "reads 0 V" in r.advice and "GPIO34 (ADC)" in r.advice and "GPIO25" in r.advice


def test_a_missing_bleed_resistor_reads_floating():
    noisy = [24000 + (i * 7919) % 20000 - 10000 for i in range(30)]
    r = st.check_idle(noisy, [0] * 30, DEVKIT, "fsr402")
    assert r.ok is False and "bleed resistor (6800 ohm" in r.advice and "GPIO34" in r.advice
    steady_high = st.check_idle([30000] * 30, [0] * 30, DEVKIT, "fsr402")   # mid-scale: floating too
    assert steady_high.ok is False and "floats" in steady_high.advice


def test_a_shorted_or_low_idle_level():
    assert "shorted" in st.check_idle([65535] * 10, [2] * 10, DEVKIT, "fsr402").advice
    low = st.check_idle([1000] * 10, [0] * 10, DEVKIT, "fsr402")
    assert low.ok is False and "level is low" in low.advice


def test_a_load_cell_idles_when_it_converts():
    assert st.check_idle([81234, 81240], [0, 0], LOADCELL, "loadcell").ok
    bad = st.check_idle([0, 0], [3, 3], LOADCELL, "loadcell")
    assert bad.ok is False and "HX711" in bad.advice and "DOUT GPIO" in bad.advice
    assert st.check_idle([], [], LOADCELL, "loadcell").ok is False


def test_open_and_short_detection():
    assert st.check_fault_seen([0, 0, 1, 1], 1, DEVKIT, "fsr402").ok
    r = st.check_fault_seen([0, 0, 0], 2, DEVKIT, "fsr402")
    assert r.ok is False and "none" in r.measured and "GPIO34" in r.advice
    assert st.check_fault_seen([], 1, DEVKIT, "fsr402", skipped=True).ok is None
    assert st.check_fault_cleared([1, 0], DEVKIT, "fsr402", "open") is None
    stuck = st.check_fault_cleared([0, 1], DEVKIT, "fsr402", "open")
    assert stuck.ok is False and "still reads open" in stuck.advice


def test_light_and_firm_presses():
    assert st.check_press(900, 20000, 4200, False, DEVKIT, "fsr402").ok
    assert st.check_press(4500, 38000, 4200, True, DEVKIT, "fsr402").ok
    dead = st.check_press(0, 4300, 4200, False, DEVKIT, "fsr402")
    assert dead.ok is False and "hardly moved" in dead.advice and "GPIO34" in dead.advice
    weak = st.check_press(2100, 30000, 4200, True, DEVKIT, "fsr402")
    assert weak.ok is False and "does not reach 3 kg" in weak.advice and "470 ohm" in weak.advice


def test_outputs_are_judged_by_the_persons_answer():
    r = st.check_output("motor", "vibration", False, DEVKIT, 1000)
    assert r.ok is False and "not felt" in r.measured and "gate from GPIO26" in r.advice
    assert st.check_output("led", "light", True, DEVKIT, 1000).ok
    assert st.check_output("buzzer", "tone", None, DEVKIT).verdict == "skip"
    assert "GPIO27" in st.check_output("buzzer", "tone", False, DEVKIT).advice


def test_button_checks():
    stuck = st.check_button_idle(True, DEVKIT)
    assert stuck.ok is False and "GPIO0 is shorted to GND" in stuck.advice
    assert st.check_button_idle(False, DEVKIT).ok
    assert st.check_button_press(None, 15, DEVKIT).ok is None
    dead = st.check_button_press({"press_ms": None, "held_ms": None}, 15, DEVKIT)
    assert dead.ok is False and "GPIO0 and GND" in dead.advice
    assert st.check_button_press({"press_ms": 1500, "held_ms": 120}, 15, DEVKIT).ok


def test_battery_flash_and_clock():
    assert st.check_battery(3900, DEVKIT).ok
    none = st.check_battery(12, DEVKIT)
    assert none.ok is False and "nothing connected" in none.advice and "GPIO35" in none.advice
    assert st.check_flash(1 << 20, 2 << 20).ok
    assert st.check_flash(1000, 2 << 20).ok is False and st.check_flash(None, None).ok is False
    now = 1796540000
    assert st.check_clock(now + 5, now, 600).ok
    assert st.check_clock(None, now, 600).advice == "set it: acutrainer sync"
    assert st.check_clock(now + 3600, now, 600).ok is False
    assert st.check_clock(946684800, 946684800, 600).ok is False   # 2000-01-01: an RTC after a power cut


def test_summary_and_exit_code():
    results = [st.check_output("led", "light", True, DEVKIT), st.check_button_idle(True, DEVKIT),
               st.check_button_press(None, 15, DEVKIT)]
    lines = st.summary(results)
    assert lines[0].split() == ["part", "check", "result", "measured"]
    assert "1 passed, 1 failed, 1 skipped" in lines
    assert lines[-1].startswith("FAIL button (released at rest): ") and "GPIO0" in lines[-1]
    assert st.exit_code(results) == 1 and st.exit_code(results[:1]) == 0


def test_typed_answers():
    assert st.parse_yes_no(" Y ") is True and st.parse_yes_no("no") is False
    assert st.parse_yes_no("s", allow_skip=True) is None
    with pytest.raises(ValueError, match="type y or n"):
        st.parse_yes_no("s")
    assert st.parse_enter("") is True and st.parse_enter("skip") is False
    with pytest.raises(ValueError, match="press Enter"):
        st.parse_enter("done")


def test_an_answers_file(tmp_path):
    f = tmp_path / "answers.txt"
    f.write_text("# bench, 6 December\n\ny\n  # the LED\nn\n")
    shown = []
    a = Answers(str(f), shown.append)
    assert a.ask("Enter? ") == ("", "%s line 2" % f)
    assert a.ask("Felt? ") == ("y", "%s line 3" % f)
    assert a.ask("Seen? ") == ("n", "%s line 5" % f)
    assert shown == ["Enter? ", "Felt? y", "Seen? n"]
    with pytest.raises(InputError, match=r"no answer left for 'Heard\?'"):
        a.ask("Heard? ")
    with pytest.raises(InputError, match="cannot read the answers"):
        Answers(str(tmp_path / "missing.txt"))


def test_ctrl_d_at_a_typed_answer_cancels(monkeypatch):
    def eof(prompt):
        raise EOFError
    monkeypatch.setattr("builtins.input", eof)
    with pytest.raises(Cancelled, match="cancelled"):
        Answers(None).ask("Felt? ")
