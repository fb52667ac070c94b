# acu.forcefilter.ForceFilter: smoothing, fast response to real presses, zero tracking, tare.
from acu.forcefilter import ForceFilter


def _noise_seq(n, amp, seed=12345):
    # deterministic bounded noise in [-amp, amp] (xorshift; same on both interpreters), a generator so
    # the MicroPython test heap holds no list
    x = seed
    for _ in range(n):
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        yield (x % (2 * amp + 1)) - amp


def test_settles_on_constant_input():
    f = ForceFilter()
    t = 0
    for _ in range(100):
        t += 5
        y = f.update(4000, t)
    assert y == 4000
    assert f.force_g == 4000


def test_step_followed_within_a_few_samples():
    f = ForceFilter()
    t = 0
    for _ in range(100):
        t += 5
        f.update(2000, t)
    ys = []
    for _ in range(6):
        t += 5
        ys.append(f.update(4000, t))
    assert ys[0] < 2600        # one sample is not trusted (could be an outlier)
    assert ys[2] > 3500        # a real step is followed after two samples
    assert ys[5] > 3900


def test_single_outlier_is_damped():
    f = ForceFilter()
    t = 0
    for _ in range(100):
        t += 5
        f.update(3000, t)
    t += 5
    y = f.update(4500, t)
    assert y < 3250
    t += 5
    y = f.update(3000, t)
    assert y < 3250


def test_noise_is_reduced():
    f = ForceFilter()
    noise = _noise_seq(2000, 150)
    t = 0
    lo = 100000
    hi = -1
    for i, n in enumerate(noise):
        t += 5
        y = f.update(3000 + n, t)
        if i > 50:
            lo = min(lo, y)
            hi = max(hi, y)
    assert hi - lo < 200, (lo, hi)  # input spans 300 g


def test_zero_tracking_follows_slow_drift_when_unloaded():
    f = ForceFilter(contact_g=300)
    t = 0
    # baseline drifts from 0 to 100 g over 20 s: tracked away
    for i in range(4000):
        t += 5
        y = f.update(i // 40, t)
    assert y <= 5
    assert 90 <= f.offset_g <= 100


def test_zero_tracking_pulls_negative_up():
    f = ForceFilter()
    t = 0
    for _ in range(1000):
        t += 5
        y = f.update(-200, t)
    assert y == 0
    assert f.offset_g == -200


def test_no_zero_tracking_under_load_or_light_touch():
    f = ForceFilter(contact_g=300)
    t = 0
    for _ in range(4000):
        t += 5
        y = f.update(3500, t)
    assert y == 3500 and f.offset_g == 0
    f2 = ForceFilter(contact_g=300)
    for _ in range(4000):
        t += 5
        y = f2.update(200, t)  # a steady light touch above half the contact threshold stays
    assert y == 200 and f2.offset_g == 0


def test_tare_makes_current_reading_zero():
    f = ForceFilter()
    t = 0
    for _ in range(20):
        t += 5
        f.update(1200, t)
    f.tare()
    assert f.offset_g == 1200
    t += 5
    assert f.update(1200, t) == 0
    for _ in range(50):
        t += 5
        y = f.update(4200, t)
    assert y == 3000


def test_offset_limited():
    f = ForceFilter(max_zero_g=50)
    t = 0
    for _ in range(2000):
        t += 5
        f.update(-500, t)
    assert f.offset_g == -50


def test_output_never_negative():
    f = ForceFilter()
    t = 0
    for n in _noise_seq(500, 80):
        t += 5
        assert f.update(n, t) >= 0
