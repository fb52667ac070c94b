# Gesture decoder: debounce, SHORT, DOUBLE, LONG, ticks wrap, and no allocation in update().
from acu import button
from acu import ticks
from mpcompat import heap_lock, heap_unlock, needs_heap_lock


def feed(dec, script, start_ms=0, step_ms=5):
    """script: list of (level, duration_ms); returns [(gesture, t_ms)] for every non-NONE result."""
    out = []
    t = start_ms
    for level, dur in script:
        end = t + dur
        while t < end:
            g = dec.update(level, t & (ticks.PERIOD - 1))
            if g != button.NONE:
                out.append((g, t))
            t += step_ms
    return out


def test_short_press_reported_after_double_gap():
    d = button.ButtonDecoder(debounce_ms=30, double_gap_ms=350, long_ms=1200)
    got = feed(d, [(0, 100), (1, 150), (0, 600)])
    assert [g for g, _ in got] == [button.SHORT]
    # release is confirmed at ~280 ms, SHORT 350 ms later
    t = got[0][1]
    assert 600 <= t <= 660, t


def test_double_press_reported_on_second_press():
    d = button.ButtonDecoder()
    got = feed(d, [(0, 50), (1, 120), (0, 150), (1, 120), (0, 800)])
    assert [g for g, _ in got] == [button.DOUBLE]


def test_long_press_reported_while_held_and_release_ignored():
    d = button.ButtonDecoder(long_ms=1200)
    got = feed(d, [(0, 50), (1, 2500), (0, 1000)])
    assert [g for g, _ in got] == [button.LONG]
    assert 1250 <= got[0][1] <= 1300


def test_bounce_is_filtered():
    d = button.ButtonDecoder(debounce_ms=30)
    # contact chatter: 5 ms pulses never last the debounce time
    script = [(0, 50)] + [(1, 5), (0, 5)] * 10 + [(0, 1000)]
    assert feed(d, script) == []
    # a bouncy but real press still gives one SHORT
    script = [(0, 50), (1, 5), (0, 5), (1, 5), (0, 5), (1, 200), (0, 5), (1, 5), (0, 800)]
    assert [g for g, _ in feed(d, script, start_ms=5000)] == [button.SHORT]


def test_two_slow_presses_are_two_shorts():
    d = button.ButtonDecoder(double_gap_ms=350)
    got = feed(d, [(0, 50), (1, 150), (0, 800), (1, 150), (0, 800)])
    assert [g for g, _ in got] == [button.SHORT, button.SHORT]


def test_works_across_ticks_wrap():
    d = button.ButtonDecoder()
    start = ticks.PERIOD - 200
    d.reset(start)
    got = feed(d, [(0, 50), (1, 120), (0, 150), (1, 120), (0, 800)], start_ms=start)
    assert [g for g, _ in got] == [button.DOUBLE]
    d2 = button.ButtonDecoder(long_ms=1000)
    d2.reset(start)
    got = feed(d2, [(0, 50), (1, 1500), (0, 100)], start_ms=start)
    assert [g for g, _ in got] == [button.LONG]


def test_update_does_not_allocate():
    needs_heap_lock()
    d = button.ButtonDecoder()
    upd = d.update
    levels = bytearray(400)
    for i in range(400):
        levels[i] = 1 if (i // 40) % 3 == 0 else 0
    count = 0
    heap_lock()
    try:
        for i in range(400):
            if upd(levels[i], i * 5) != button.NONE:
                count += 1
    finally:
        heap_unlock()
    assert count > 0
