"""The days left on the device's charge at the user's own practice rate (host_tools/battery_days.py), against
figures worked out by hand from the energy table (host_tools/sim/energy.py) and the LiPo curve."""

import pytest

from host_tools import battery_days as bd

NOW = 1_767_650_000
DAY = 86400


def test_currents_and_a_day_from_the_table_by_hand():
    # the battery board at 3840 mV (50 %): regulator 4 + charger 2 + divider 3840 mV / 2 MΩ = 1 µA -> 7 µA base
    # awake idle at 80 MHz: 7 + 22 000 + the FSR divider idle 454 = 22 461 µA
    # practising: 7 + 22 000 + FSR pressed 4 000 + motor 75 000 x 3276/65535 (3 749) + LED 3 900 x 3276/65535
    # (194) = 29 950 µA; asleep: 7 + the chip's 10 = 17 µA (the FSR divider is on a GPIO, off)
    # a day of 10 min: 600 s x 29 950 + 300 s x 22 461 + 85 500 s x 17 = 26 161 800 µA·s = 7 267.17 µAh
    assert bd.day_uah("esp32_battery", 3840, 10, False) == pytest.approx(26_161_800 / 3600)
    # 250 mAh left (50 % of 500): 34.40 days
    assert bd.days_left("esp32_battery", 3840, 10, False) == pytest.approx(250_000 / (26_161_800 / 3600))
    assert bd.days_left("esp32_battery", 3840, 10, False) == pytest.approx(34.40, abs=0.01)
    # reminders on: a minute more awake each day (the pick-up window): 360 s idle, 85 440 s asleep
    assert bd.day_uah("esp32_battery", 3840, 10, True) == pytest.approx(
        (600 * 29950 + 360 * 22461 + 85440 * 17) / 3600)
    # no practice: asleep all day bar the reminder's minute
    assert bd.day_uah("esp32_battery", 3840, 0, True) == pytest.approx((60 * 22461 + 86340 * 17) / 3600)
    # an empty cell has no days left; a board with no row of its own (the simulator's) takes the battery board's
    assert bd.days_left("esp32_battery", 3300, 10, False) == 0
    assert bd.day_uah("sim", 3840, 10, False) == bd.day_uah("esp32_battery", 3840, 10, False)


def _s(days_ago, minutes, dev="ab"):
    return {"wall_start_s": NOW - int(days_ago * DAY), "duration_ms": minutes * 60000, "device_id": dev}


def test_practice_rate_from_the_last_14_days():
    # seven 20-minute sessions in the last fortnight, an older one 30 days ago: 140 min over 14 days
    ss = [_s(d, 20) for d in (1, 3, 5, 7, 9, 11, 13)] + [_s(30, 45)]
    r = bd.practice_rate(ss, NOW)
    assert (r.minutes_per_day, r.source, r.days) == (pytest.approx(10.0), "archive", 14.0)
    # a young archive (its first session four days ago): 24 min over 4 days
    r = bd.practice_rate([_s(4, 12), _s(1, 12)], NOW)
    assert r.minutes_per_day == pytest.approx(6.0) and r.days == pytest.approx(4.0)
    # at least a day: a first session an hour ago is 15 min a day, not 360
    assert bd.practice_rate([_s(1 / 24, 15)], NOW).minutes_per_day == pytest.approx(15.0)
    # nothing in the window (or undated): the default, said so
    r = bd.practice_rate([_s(20, 30), {"wall_start_s": None, "duration_ms": 60000}], NOW)
    assert (r.minutes_per_day, r.source) == (10.0, "default")


def test_describe_says_the_rate_it_used_and_only_for_a_cell():
    st = {"battery_mv": 3840, "board": "esp32_battery", "unique_id": "ab", "remind": {"on": False}}
    text = bd.describe(st, [], NOW)
    assert text == "about 34 days at 10 min a day (the default: no practice in the archive in the last 14 days)"
    ss = [_s(d, 20) for d in (1, 3, 5, 7, 9, 11, 13)] + [_s(30, 45), _s(2, 500, dev="other")]
    text = bd.describe(dict(st, remind={"on": True}), ss, NOW)
    assert text.startswith("about 32 days at your 10.0 min a day (the archive, last 14 days), reminders on")
    assert bd.describe(dict(st, battery_mv=None), [], NOW) is None
    assert bd.describe(dict(st, battery_mv=40), [], NOW) is None  # USB power, no cell
    assert bd.describe(dict(st, board="sim"), [], NOW).endswith("; the battery board's currents")
