"""Every JSON the host reads from a person or a device file refuses a key given twice, NaN/Infinity, a
number too long to be a value of ours and absurd nesting, in one line naming the file."""
import json

import pytest

from host_tools import routines, strictjson
from host_tools.calibration import pointsfile
from host_tools.calibration.device import validate_file_bytes
from host_tools.errors import InputError

BEDTIME = routines.library_routine("bedtime").decode()


@pytest.mark.parametrize("text,why", [
    ('{"a": 1, "a": 2}', "appears twice"),
    ('{"a": NaN}', "NaN is not a number"),
    ('{"a": -Infinity}', "-Infinity is not a number"),
    ('{"a": %s}' % ("9" * 5000), "5000 digits is too long"),
    ("[" * 100 + "]" * 100, "nested more than"),
])
def test_strict_json_refuses(text, why):
    with pytest.raises(ValueError, match=why):
        strictjson.loads(text)


def test_strict_json_reads_ordinary_json():
    assert strictjson.loads('{"a": [1, -2.5, "x", null, true], "b": {"c": 12345678901}}') == \
        {"a": [1, -2.5, "x", None, True], "b": {"c": 12345678901}}


def _one_line(exc, name):
    msg = str(exc.value)
    assert name in msg and "\n" not in msg, msg


def test_routine_files(tmp_path):
    d = json.loads(BEDTIME)
    dup = BEDTIME.replace('"name": "bedtime"', '"name": "dup", "name": "bedtime"', 1)
    assert dup != BEDTIME
    for text, why in ((dup, "appears twice"), (BEDTIME.replace('"weekly_goal": 7', '"weekly_goal": NaN'), "NaN"),
                      (BEDTIME.replace('"weekly_goal": 7', '"weekly_goal": ' + "7" * 5000), "digits"),
                      (json.dumps({k: v for k, v in d.items() if k != "format"}), "format field is missing")):
        if text == BEDTIME:
            continue
        with pytest.raises(InputError, match=why) as ei:
            routines.parse_bytes(text.encode(), "mine.json")
        _one_line(ei, "mine.json")


def test_points_and_calibration_files(tmp_path):
    p = tmp_path / "p.json"
    p.write_text('{"sensor": "fsr402", "sensor": "loadcell", "points": [[0, 4000]]}')
    with pytest.raises(InputError, match="appears twice") as ei:
        pointsfile.load_points_file(p)
    _one_line(ei, str(p))
    with pytest.raises(InputError, match="NaN"):
        validate_file_bytes(b'{"format": "acu-calib", "zero_raw": NaN}', "calib.json")
