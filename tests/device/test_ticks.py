from acu import ticks


def test_diff_across_wrap():
    a = ticks.add(ticks.PERIOD - 5, 10)
    assert a == 5
    assert ticks.diff(a, ticks.PERIOD - 5) == 10
    assert ticks.diff(ticks.PERIOD - 5, a) == -10


def test_add_small():
    assert ticks.add(100, 25) == 125
