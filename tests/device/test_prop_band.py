# Property tests of the band classifier (CPython only: hypothesis).
from hypothesis import given, settings, strategies as st

from acu.band import BandClassifier, FAULT, NO_CONTACT, UNDER, IN_BAND, OVER, TOO_HARD
from acu.forcefilter import ForceFilter


def _edges(b):
    # (edge, h) pairs as the classifier computes them
    out = [(b.contact_g, b.contact_g // 3)]
    for e in (b.lo_g, b.hi_g, b.too_hard_g):
        out.append((e, max(e * 4 // 100, 40)))
    return out


def _zone(b, force_g):
    if force_g < b.contact_g:
        return NO_CONTACT
    if force_g < b.lo_g:
        return UNDER
    if force_g < b.hi_g:
        return IN_BAND
    if force_g < b.too_hard_g:
        return OVER
    return TOO_HARD


bands = st.tuples(st.integers(1000, 6000), st.integers(500, 4000)).map(lambda t: (t[0], t[0] + t[1]))


@settings(max_examples=200, deadline=None)
@given(band=bands, which=st.integers(0, 3), start=st.integers(0, 12000),
       noise=st.lists(st.integers(-1000, 1000), min_size=50, max_size=400))
def test_no_flicker_with_noise_inside_hysteresis(band, which, start, noise):
    lo, hi = band
    b = BandClassifier(lo_g=lo, hi_g=hi, too_hard_g=hi + 2500)
    edge, h = _edges(b)[which]
    a = h - 2  # bounded noise strictly inside the hysteresis (2 g margin for the filter's rounding)
    f = ForceFilter(zero_band_g=0)
    t = 0
    # approach the edge from anywhere, then hold it with noise
    for _ in range(100):
        t += 5
        b.update(f.update(start, t), t, 0)
    for _ in range(100):
        t += 5
        b.update(f.update(edge, t), t, 0)
    held = b.state
    for n in noise:
        t += 5
        s = b.update(f.update(edge + n * a // 1000, t), t, 0)
        assert s == held


@settings(max_examples=300, deadline=None)
@given(band=bands, a=st.integers(0, 12000), target=st.integers(0, 12000), dt=st.sampled_from([1, 2, 5, 10]))
def test_eventually_correct_after_a_step(band, a, target, dt):
    lo, hi = band
    b = BandClassifier(lo_g=lo, hi_g=hi, too_hard_g=hi + 2500)
    # the filter is still closing the last ~2 % of the step after 300 ms (seen: 400 -> 196 g read 201 g)
    settle_g = 2 + abs(a - target) // 40
    for edge, h in _edges(b):
        if abs(target - edge) <= h + settle_g:
            return  # inside a hysteresis window (or its settling margin) either neighbour is correct
    f = ForceFilter(zero_band_g=0)
    t = 0
    for _ in range(200 // dt):
        t += dt
        b.update(f.update(a, t), t, 0)
    for _ in range(300 // dt):
        t += dt
        s = b.update(f.update(target, t), t, 0)
    assert s == _zone(b, target)


@settings(max_examples=100, deadline=None)
@given(forces=st.lists(st.integers(0, 12000), min_size=1, max_size=50), code=st.integers(1, 3))
def test_fault_is_immediate(forces, code):
    b = BandClassifier()
    t = 0
    for x in forces:
        t += 5
        b.update(x, t, 0)
    t += 5
    assert b.update(forces[-1], t, code) == FAULT


@settings(max_examples=200, deadline=None)
@given(band=bands, xs=st.lists(st.integers(0, 12000), min_size=1, max_size=100), down=st.booleans())
def test_monotone_ramp_lags_never_overshoots(band, xs, down):
    # on a rising ramp the state never runs ahead of the input's zone and never goes back down
    # (hysteresis and confirmation only delay); mirrored for a falling ramp
    lo, hi = band
    b = BandClassifier(lo_g=lo, hi_g=hi, too_hard_g=hi + 2500)
    xs = sorted(xs, reverse=down)
    t = 0
    for _ in range(20):  # start from the far end: TOO_HARD for a falling ramp, NO_CONTACT for a rising one
        t += 5
        prev = b.update(20000 if down else 0, t, 0)
    for x in xs:
        t += 5
        s = b.update(x, t, 0)
        z = _zone(b, x)
        if down:
            assert s >= z and s <= prev
        else:
            assert s <= z and s >= prev
        prev = s
