# Press profiles for the teaching trainer (docs/press-profiles.md): the scripted blind hand (`blind`) and
# lines marked `quiet` (no band feedback expected), and the trace check that uses them.
import pytest

from host_tools.errors import InputError
from host_tools.sim import profile as P

TEXT = """
press 4kg for 5s
blind 4kg +12% for 10s ramp 1s quiet   # a check: 4.48 kg
blind 4000g -25% for 2s
hold 3s at 0 quiet
button short
"""


def test_a_blind_hand_presses_the_target_off_by_its_error_and_quiet_lines_are_windows():
    segs, buttons, quiet = P.parse_plan(TEXT, "t.profile")
    assert segs[2:5] == [(1000, 4000, 4480, 0), (10000, 4480, 4480, 0), (300, 4480, 3000, 0)]
    assert segs[5] == (2000, 3000, 3000, 0)
    assert quiet == [(5300, 16300), (18600, 21600)]
    assert buttons == [(21600, "short")]
    assert P.parse_full(TEXT, "t.profile") == (segs, buttons)  # the old reading is unchanged


@pytest.mark.parametrize("line, want", [
    ("blind 4kg 12% for 10s", "t.profile:1: bad error '12%' (use a signed percentage"),
    ("blind 4kg +300% for 10s", "t.profile:1: error '+300%' out of -90..+200 %"),
    ("blind 4kg +12% 10s", "t.profile:1: use 'blind 4kg +12% for 10s"),
    ("blind 20kg +100% for 1s", "t.profile:1: +100% of 20000 g is above 30 kg"),
])
def test_bad_blind_lines_are_one_line_errors_naming_the_file_and_line(line, want):
    with pytest.raises(InputError) as e:
        P.parse_plan(line, "t.profile")
    assert str(e.value).startswith(want) and "\n" not in str(e.value)


def test_quiet_violations_reads_the_schedule_verdict_and_the_shown_state():
    t0 = 1000
    trace = [{"t_ms": 1000, "name": "state", "value": 2}, {"t_ms": 1000, "name": "band_fb", "value": 1},
             {"t_ms": 2000, "name": "band_fb", "value": 0}, {"t_ms": 2500, "name": "state", "value": 4},
             {"t_ms": 3000, "name": "state", "value": 1}, {"t_ms": 4000, "name": "band_fb", "value": 1}]
    # too hard (state 4) in the quiet window is safety, not band feedback; speaking again at 3 s is
    assert P.quiet_violations(trace, t0, [(1000, 2800)]) == []
    assert P.quiet_violations(trace, t0, [(1000, 3500)]) == ["band feedback (state 1) at 3000 ms"]
    assert P.quiet_violations(trace, t0, [(0, 500)]) == ["band feedback (state 2) at 0 ms"]
