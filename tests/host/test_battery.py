"""The battery as the host shows it (host_tools/battery.py: status, doctor) and the simulator's cell and energy
meter (host_tools/sim/energy.py), with `sim battery`'s argument."""

import pytest

from host_tools import battery, doctor
from host_tools.commands import sim as sim_cmd
from host_tools.errors import InputError
from host_tools.sim import energy


def test_soc_follows_the_curve_and_clamps():
    for pct, mv in battery.OCV_MV:
        assert battery.soc_pct(mv) == pytest.approx(pct)
        assert energy.ocv_mv(pct) == mv  # the simulator's cell rests on the same curve
    assert battery.soc_pct(3000) == 0.0 and battery.soc_pct(4300) == 100.0
    assert battery.soc_pct(3830) == pytest.approx(47.5)  # half-way between 45 % (3820) and 50 % (3840)


def test_describe_rounds_and_warns_low():
    assert battery.describe(3840) == "3.84 V, about 50 %"
    assert "LOW: charge it" in battery.describe(battery.LOW_MV - 1)
    assert "no battery" in battery.describe(None)
    assert "no cell" in battery.describe(40)
    assert "unreadable" in battery.describe("3.9")


def test_doctor_checks_the_battery():
    assert doctor.check_battery({"battery_mv": 4000}).status == doctor.OK
    low = doctor.check_battery({"battery_mv": 3400})
    assert low.status == doctor.WARN and "charge" in low.fix
    assert doctor.check_battery({}).status == doctor.INFO


def test_the_meter_drains_the_cell_by_the_table_and_sags_under_load():
    m = energy.Meter(board="esp32_battery")
    asleep = energy.current_ua("esp32_battery", "deep_sleep", energy.Loads(), m.battery.ocv_mv())
    b = energy.BOARDS["esp32_battery"]
    assert asleep == (b["regulator_ua"] + b["charger_ua"] + energy.CHIP_UA["deep_sleep"]
                      + 4200 * 1000 // b["battery_divider_ohm"])
    m.set_state("deep_sleep")
    full = m.battery.charge_uams
    m.advance(3_600_000)
    assert full - m.battery.charge_uams == asleep * 3_600_000
    assert m.average_ua("deep_sleep") == asleep
    m.set_state("awake")
    m.level("motor", 65535)
    awake = m.current_ua()
    assert awake - energy.current_ua("esp32_battery", "awake", energy.Loads(), m.battery.ocv_mv()) == b["motor_ua"]
    assert m.cell_mv() == m.battery.ocv_mv() - awake * energy.CELL_R_MOHM // 1_000_000
    m.battery.set_soc(0)
    assert m.current_ua() == 0 and m.cell_mv() == 0  # flat: the board is off
    m.battery.set_soc(100)
    assert m.battery.ocv_mv() == 4200  # a charge brings it back


def test_the_devkitc_sleeps_at_its_regulator_and_bridge():
    ua = energy.current_ua("esp32_devkitc", "deep_sleep", energy.Loads(), 4200)
    assert 3800 <= ua  # FIELD_NOTES: 3.8 mA measured; the simulated board adds its NeoPixel and FSR divider
    with pytest.raises(ValueError, match="no energy figures"):
        energy.Meter(board="nope")


def test_sim_battery_argument():
    assert sim_cmd.parse_battery("3.6V") == {"mv": 3600}
    assert sim_cmd.parse_battery("3700mV") == {"mv": 3700}
    assert sim_cmd.parse_battery("20%") == {"soc_pct": 20}
    assert sim_cmd.parse_battery("charge") == {"charge": True}
    assert sim_cmd.parse_battery("status") == {}
    for bad in ("5V", "120%", "lots", "3.1V"):
        with pytest.raises(InputError, match="sim battery"):
            sim_cmd.parse_battery(bad)
