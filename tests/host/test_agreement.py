"""The validation kit's statistics (host_tools/agreement.py) against values worked out by hand."""
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from host_tools import agreement as ag
from host_tools.errors import InputError


def test_bland_altman_in_grams_by_hand():
    # d = 10, 20, -10, 50: mean 17.5; deviations -7.5 2.5 -27.5 32.5, squares sum 1875, /3 = 625, SD 25
    r = ag.bland_altman([1010, 2020, 2990, 4050], [1000, 2000, 3000, 4000])
    assert r["n"] == 4
    assert r["bias_g"] == pytest.approx(17.5)
    assert r["sd_g"] == pytest.approx(25.0)
    assert r["loa_lo_g"] == pytest.approx(17.5 - 49.0)
    assert r["loa_hi_g"] == pytest.approx(17.5 + 49.0)


def test_bland_altman_in_percent_by_hand():
    # 1 %, 2 %, 0 %: mean 1, SD 1, limits -0.96 and 2.96; the wider is 2.96
    r = ag.bland_altman([1010, 2040, 3000], [1000, 2000, 3000])
    assert r["bias_pct"] == pytest.approx(1.0)
    assert r["sd_pct"] == pytest.approx(1.0)
    assert (r["loa_lo_pct"], r["loa_hi_pct"]) == (pytest.approx(-0.96), pytest.approx(2.96))
    assert r["loa_pct"] == pytest.approx(2.96)


@pytest.mark.parametrize("dev,ref,why", [
    ([1000], [1000], "at least 2 pairs"),
    ([1000, 2000], [1000], "1 reference readings"),
    ([1000, 2000], [1000, 0], "positive number"),
    ([1000, float("nan")], [1000, 2000], "is not a number"),
])
def test_bland_altman_refuses_bad_input_in_one_line(dev, ref, why):
    with pytest.raises(InputError, match=why):
        ag.bland_altman(dev, ref)


@given(st.lists(st.floats(100, 20000), min_size=2, max_size=30), st.floats(-500, 500))
def test_a_constant_offset_is_all_bias_and_no_spread(ref, offset):
    r = ag.bland_altman([x + offset for x in ref], ref)
    assert r["bias_g"] == pytest.approx(offset, abs=1e-6)
    assert r["sd_g"] == pytest.approx(0.0, abs=1e-6)
    assert r["loa_lo_g"] <= r["bias_g"] + 1e-6 <= r["loa_hi_g"] + 2e-6


def test_per_load_groups_repeats():
    rows = ag.per_load([1000, 1000, 3000], [1010, 1030, 2970], [1000, 1000, 3000])
    assert [x["target_g"] for x in rows] == [1000, 3000]
    assert rows[0]["n"] == 2 and rows[0]["bias_g"] == pytest.approx(20.0)
    assert rows[0]["sd_g"] == pytest.approx(math.sqrt(200.0))   # (10-20)^2 + (30-20)^2, / 1
    assert rows[1]["bias_pct"] == pytest.approx(-1.0) and rows[1]["sd_g"] is None


@pytest.mark.parametrize("g,cls", [(2999, "under"), (3000, "in"), (5000, "in"), (5001, "over")])
def test_classify_edges_belong_to_the_band(g, cls):
    assert ag.classify(g) == cls


def test_band_agreement_by_hand():
    ref = [1000, 2950, 3000, 4000, 5000, 6000]
    dev = ["under", "under", "under", "in", "over", "fault"]
    r = ag.band_agreement(dev, ref)
    # agree: 1000, 2950, 4000 (3000 is in on the reference, 5000 in, 6000 over but a fault on the device)
    assert r["all"] == {"n": 6, "agree": 3, "share": 0.5}
    assert r["lo_edge"] == {"n": 3, "agree": 2, "share": pytest.approx(2 / 3)}   # below 4 kg
    assert r["hi_edge"] == {"n": 3, "agree": 1, "share": pytest.approx(1 / 3)}
    # within 5 %: 2950, 3000 (of 3 kg), 5000 (of 5 kg)
    assert r["near_edges"] == {"n": 3, "agree": 1, "share": pytest.approx(1 / 3)}
    assert r["clear_of_edges"] == {"n": 3, "agree": 2, "share": pytest.approx(2 / 3)}


def test_drift_by_hand():
    # +10 g every 30 s: 1/3 g/s = 20 g/min = 0.5 % of 4 kg per minute; first/last tenth 4000 -> 4040: 1 %
    samples = [(0, 4000), (30, 4010), (60, 4020), (90, 4030), (120, 4040)]
    r = ag.drift(samples, 4000)
    assert r["slope_g_per_min"] == pytest.approx(20.0)
    assert r["pct_per_min"] == pytest.approx(0.5)
    assert r["change_pct"] == pytest.approx(1.0)
    assert r["hold_s"] == 120 and r["n"] == 5


@pytest.mark.parametrize("samples,ref,why", [
    ([(0, 1), (1, 1)], 4000, "at least 3"),
    ([(0, 1), (1, 1), (2, 1)], 0, "positive reference"),
    ([(5, 1), (5, 1), (5, 1)], 4000, "span no time"),
])
def test_drift_refuses_bad_input(samples, ref, why):
    with pytest.raises(InputError, match=why):
        ag.drift(samples, ref)


@given(st.floats(-50, 50), st.floats(1000, 8000))
def test_drift_of_a_straight_line_is_its_slope(slope_g_per_min, ref):
    samples = [(t, ref + slope_g_per_min * t / 60.0) for t in range(0, 121, 5)]
    assert ag.drift(samples, ref)["slope_g_per_min"] == pytest.approx(slope_g_per_min, abs=1e-6)
