"""In the simulator: a press ramping through the band gives the documented feedback sequence
(docs/feedback.md): states under -> in -> over and back, each with its own colour and haptic rhythm."""

import pytest

from host_tools.paths import ensure_device_importable
from tests.integration.conftest import run_cli, wait_for

ensure_device_importable()
from acu import band  # noqa: E402

pytestmark = pytest.mark.integration

RAMP = """
wait 2s
ramp 3s to 6kg
hold 2s
ramp 3s to 0
wait 2s
"""


def _hue(rgb):
    r, g, b = (rgb >> 16) & 255, (rgb >> 8) & 255, rgb & 255
    if g > r and g > b:
        return "green"
    if b > r and b > g:
        return "blue"
    if r > b and g > b:
        return "amber"
    if r > g and r > b:
        return "red"
    return "white"


def test_a_ramp_through_the_band_shows_the_documented_sequence(deployed_sim):
    sim = deployed_sim
    # an uncalibrated part reads up to ~25 % off: calibrate it, as a user would, so 6 kg reads over the band
    # (without the 60 s creep hold, which is not what this test is about)
    r = run_cli("calibrate", "--auto", "--no-creep", "-y", "--port", sim.port)
    assert "written /cfg/calib.json" in r.stdout
    boot = sim.status()["boot"]
    wait_for(lambda: any(r.get("name") == "state" for r in sim.trace(boot)), 30, "the app's first band state", sim)
    sim.load_profile(RAMP, "ramp")
    t0 = None

    def finished():
        nonlocal t0
        recs = sim.trace(boot)
        starts = [r["t_ms"] for r in recs if r.get("name") == "profile"]
        if starts:
            t0 = starts[-1]
            return max(r["t_ms"] for r in recs) >= t0 + 11500 or sim.status()["t_ms"] >= t0 + 12000
        return False

    wait_for(finished, 60, "the profile to play", sim)
    recs = [r for r in sim.trace(boot) if r["t_ms"] >= t0]
    states = [r["value"] for r in recs if r.get("name") == "state"]
    # collapse repeats: the documented order for a slow press and release
    seq = [s for i, s in enumerate(states) if i == 0 or s != states[i - 1]]
    assert seq[:3] == [band.UNDER, band.IN_BAND, band.OVER], [band.NAMES[s] for s in seq]
    assert seq[-3:] == [band.IN_BAND, band.UNDER, band.NO_CONTACT], [band.NAMES[s] for s in seq]
    assert band.TOO_HARD not in seq and band.FAULT not in seq
    # each state shows its colour (RGB LED) and moves the motor in the same loop iteration
    for want_state, hue in ((band.UNDER, "blue"), (band.IN_BAND, "green"), (band.OVER, "amber")):
        t_state = next(r["t_ms"] for r in recs if r.get("name") == "state" and r["value"] == want_state)
        same_t = [r for r in recs if r["kind"] == "level" and r["t_ms"] == t_state]
        colours = [_hue(r["value"]) for r in same_t if r["name"] == "rgb"]
        assert colours and colours[0] == hue, (band.NAMES[want_state], colours)
        assert any(r["name"] == "motor" and r["value"] > 0 for r in same_t), band.NAMES[want_state]
    # in band the device is mostly quiet: after the confirm, the motor is off most of the time
    t_in = next(r["t_ms"] for r in recs if r.get("name") == "state" and r["value"] == band.IN_BAND)
    t_over = next(r["t_ms"] for r in recs if r.get("name") == "state" and r["value"] == band.OVER)
    assert t_over - t_in > 300
