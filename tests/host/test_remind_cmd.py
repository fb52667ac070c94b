"""acutrainer remind: the time and days parsed, one-line errors (a bad time, bad days, no clock on the device),
the setting written as docs/remind.md says and checked by the firmware's own rule (acu.remind), status's row."""

import json

import pytest

from host_tools import cli, remind
from host_tools.commands import remind as remind_cmd
from host_tools.errors import InputError


def test_times_are_hh_mm_24_hour():
    assert remind.parse_time("21:45") == 21 * 60 + 45
    assert remind.parse_time("7:05") == 7 * 60 + 5
    assert remind.parse_time("00:00") == 0
    for bad in ("24:00", "21:60", "2145", "9pm", "", "21:5", "-1:00"):
        with pytest.raises(InputError, match="not a time of day"):
            remind.parse_time(bad)


def test_days_are_names_ranges_and_lists():
    assert remind.parse_days("mon-fri") == 0b0011111
    assert remind.parse_days("Mon,Wed,Fri") == 0b0010101
    assert remind.parse_days("sat-mon") == 0b1100001  # a range may wrap over the week's end
    assert remind.parse_days("sun") == 0b1000000
    assert remind.parse_days("daily") == remind.EVERY_DAY
    assert remind.parse_days("weekends") == 0b1100000
    assert remind.parse_days("monday-friday") == 0b0011111
    for bad in ("mon-fry", "mo", "mon-tue-wed", "", "1-5"):
        with pytest.raises(InputError, match="not a day"):
            remind.parse_days(bad)


def test_days_read_back_for_people():
    assert remind.days_text(0b0011111) == "mon-fri"
    assert remind.days_text(0b0010101) == "mon,wed,fri"
    assert remind.days_text(127) == "every day"
    assert remind.days_text(0) == "no day"


def test_a_new_setting_keeps_what_was_not_given():
    old = {"at_min": 1305, "days": 31, "utc_offset_min": 60, "on": True}
    assert remind.new_setting(old, "22:00", None, False, 60) == {"at_min": 1320, "days": 31, "utc_offset_min": 60,
                                                                 "on": True}
    assert remind.new_setting(old, None, "sat-sun", False, 120)["at_min"] == 1305
    assert remind.new_setting(old, None, None, True, 60) == dict(old, on=False)
    assert remind.new_setting(None, "21:45", None, False, 0)["days"] == remind.EVERY_DAY
    with pytest.raises(InputError, match="no reminder time is set"):
        remind.new_setting(None, None, "mon-fri", False, 0)
    with pytest.raises(InputError, match="no reminder is set"):
        remind.new_setting(None, None, None, True, 0)


def test_the_file_is_what_the_firmware_accepts(tmp_path):
    from acu import remind as device_remind

    data = remind.encode(remind.new_setting(None, "21:45", "mon-fri", False, -300))
    assert json.loads(data) == {"at_min": 1305, "days": 31, "utc_offset_min": -300, "on": True}  # docs/remind.md
    p = tmp_path / "remind.json"
    p.write_bytes(data)
    assert device_remind.check_file(str(p))
    p.write_text(json.dumps({"at_min": 1305, "days": 200}))
    with pytest.raises(ValueError, match="days"):
        device_remind.check_file(str(p))


class _FakeConn:
    def __init__(self, st):
        self.st = st
        self.wrote = []

    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False

    def repl(self, practice="refuse"):
        conn = self

        class S:
            def __enter__(self):
                return self

            def __exit__(self, *a):
                return False

            def makedirs(self, p):
                pass

            def write_file_atomic(self, path, data, check=None):
                conn.wrote.append((path, data, check))
        return S()


def _cli(monkeypatch, st, *argv):
    conn = _FakeConn(st)
    monkeypatch.setattr(remind_cmd, "connect", lambda port: conn)
    monkeypatch.setattr(remind_cmd, "read_status", lambda c: c.st)
    return cli._main(["remind", *argv]), conn


def test_no_clock_on_the_device_is_one_line_and_changes_nothing(monkeypatch, capsys):
    rc, conn = _cli(monkeypatch, {"wall_s": None, "remind": {"on": False, "why": "clock not set"}}, "21:45")
    err = capsys.readouterr().err
    assert rc == 3 and conn.wrote == []
    assert err.count("\n") == 1 and "clock is not set" in err and "acutrainer sync" in err


def test_bad_input_is_one_line_before_the_device_is_touched(monkeypatch, capsys):
    monkeypatch.setattr(remind_cmd, "connect", lambda port: pytest.fail("the device was touched"))
    for argv, what in ((["9pm"], "not a time of day"), (["21:45", "--days", "mon-fry"], "not a day"),
                       (["--off", "21:45"], "takes no time")):
        assert cli._main(["remind", *argv]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and what in err


def test_set_writes_the_file_with_the_firmwares_check_and_show_reads_it(monkeypatch, capsys):
    rc, conn = _cli(monkeypatch, {"wall_s": 1767650000, "remind": {"on": False, "why": "off"}}, "21:45", "--days",
                    "mon-fri")
    assert rc == 0
    (path, data, check), = conn.wrote
    assert path == "/cfg/remind.json" and check == ("acu.remind", "check_file")
    assert json.loads(data)["at_min"] == 1305 and json.loads(data)["days"] == 31
    assert "reminder set: 21:45 mon-fri" in capsys.readouterr().out
    rc, conn = _cli(monkeypatch, {"wall_s": None, "remind": {"on": True, "at_min": 1305, "days": 31,
                                                              "why": "clock not set", "next_s": None}})
    out = capsys.readouterr().out
    assert rc == 0 and conn.wrote == [] and out.count("\n") == 1
    assert "21:45 mon-fri" in out and "clock is not set" in out


def test_status_row_says_when_the_next_one_comes():
    assert remind.describe_status({"on": False}, 1) == "off (acutrainer remind HH:MM)"
    assert "was 21:45" in remind.describe_status({"on": False, "at_min": 1305, "days": 31}, 1)
    row = remind.describe_status({"on": True, "at_min": 1305, "days": 127, "next_s": 1767650000, "why": None}, 1)
    assert row.startswith("21:45 every day, next ")
    row = remind.describe_status({"on": True, "at_min": 1305, "days": 127, "next_s": None, "why": "weekly goal met"},
                                 1)
    assert "weekly goal met" in row
