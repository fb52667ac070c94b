"""A study on the simulator (docs/study.md) with its archive on the test PostgreSQL server: `study init`, one
device enrolled to P001 in the feedback-off arm, then to P002 in the sham-band arm; a press in each; `pull`;
`study status` attributes each session to its participant; the study report and the Parquet, BIDS and REDCap
exports read the server. The simulator's output trace shows what each arm
did: no band feedback at all with feedback off, the sham band's decisions with a sham band, and the too-hard
warning in both. `study unenrol` sets the device back to normal."""

import csv
import os

import pytest

from host_tools.archive import Archive
from host_tools.paths import ensure_device_importable
from tests.integration.conftest import deployed_simulator, run_cli, wait_for

ensure_device_importable()
from acu import band  # noqa: E402

pytestmark = pytest.mark.integration

NAME = "study"
# a free press: 4 s at ~2.3 kg (under the 3-5 kg band, inside the sham band 1.5-3.5 kg), then 10 kg (too hard)
PRESS = """
press 2.3kg for 4s ramp 0.3s noise 1%
press 14kg for 1s ramp 0.2s
release ramp 0.2s
"""


@pytest.fixture(scope="module")
def sim(acu_home, tmp_path_factory):
    with deployed_simulator(NAME, 2101, tmp_path_factory.mktemp("study") / "flash.img", speed=1) as sim:
        yield sim


def _boot(sim):
    st = wait_for(lambda: (lambda s: s if s["running"] else None)(sim.status()), 20, "the board to run")
    wait_for(lambda: [r for r in sim.trace(st["boot"]) if r.get("name") == "state"], 20, "the app's start", sim)
    return st["boot"]


def _shown_states(sim, tmp_path, env) -> set:
    """Play PRESS on the running app; the band states its feedback showed while it played."""
    boot = _boot(sim)
    n = len(sim.trace(boot))
    prof = tmp_path / "press.txt"
    prof.write_text(PRESS)
    run_cli("sim", "profile", str(prof), "--name", NAME, env=env)
    return {r["value"] for r in sim.trace(boot)[n:] if r.get("name") == "state"}


def test_enrolled_arms_run_on_the_device_and_sessions_are_attributed(sim, tmp_path, pg_url):
    env = dict(os.environ, ACUTRAINER_ARCHIVE=pg_url)
    port = ["--port", sim.port]
    r = run_cli("study", "enrol", "P001", "--arm", "no_feedback", *port, check=False, env=env)
    assert r.returncode != 0 and "study init first" in r.stderr and "\n" not in r.stderr.strip()
    run_cli("study", "init", "--name", "sleep-pilot", "--weekly-goal", "5", "--weeks", "4", env=env)
    r = run_cli("study", "enrol", "jane.doe@example.org", "--arm", "feedback", *port, check=False, env=env)
    assert r.returncode == 2 and "e-mail" in r.stderr

    r = run_cli("study", "enrol", "P001", "--arm", "no_feedback", *port, env=env)
    assert "enrolled device" in r.stdout and "P001" in r.stdout
    shown = _shown_states(sim, tmp_path, env)
    # feedback off: nothing of the band shown (quiet as with no press), the too-hard warning still given
    assert band.TOO_HARD in shown and not shown & {band.UNDER, band.IN_BAND, band.OVER}, shown

    # the device goes to the next participant: the open enrolment ends, the practice on it is ended first
    r = run_cli("study", "enrol", "P002", "--arm", "sham_band", *port, "--stop", env=env)
    assert "ended: device" in r.stdout and "P001" in r.stdout
    shown = _shown_states(sim, tmp_path, env)
    # ~2.3 kg is under the real band: the sham band (1.5-3.5 kg) shows it in band; too hard is still too hard
    assert band.IN_BAND in shown and band.TOO_HARD in shown, shown

    run_cli("pull", *port, "--stop", env=env)
    r = run_cli("study", "status", env=env)
    lines = r.stdout.splitlines()
    p1 = [ln for ln in lines if ln.startswith("P001")][0].split()
    p2 = [ln for ln in lines if ln.startswith("P002")][0].split()
    assert p1[1] == "no_feedback" and p1[3] == "1", lines   # participant, arm, device, sessions
    assert p2[1] == "sham_band" and p2[2].endswith("*") and p2[3] == "1", lines
    assert not [ln for ln in lines if ln.lstrip().startswith("!")], lines  # each ran its enrolled arm

    with Archive(pg_url) as arc:
        by = {s["participant"]: s for s in arc.sessions()}
        arms = arc.device_arms()
        assert arms[by["P001"]["id"]] == 1 and arms[by["P002"]["id"]] == 2
        assert [e["participant"] for e in arc.enrolments()] == ["P001", "P002"]

    # the coordinator's report and the analysis-ready exports, from the server
    out = tmp_path / "report"
    run_cli("study", "report", "--out", str(out), env=env)
    with open(out / "study_participants.csv") as f:
        rows = {r["participant"]: r for r in csv.DictReader(f)}
    assert rows["P001"]["arm"] == "no_feedback" and rows["P002"]["arm"] == "sham_band", rows
    for fmt in ("parquet", "bids", "redcap"):
        run_cli("export", "--format", fmt, "--out", str(tmp_path / fmt), env=env)
        assert any((tmp_path / fmt).rglob("*")), fmt
    with open(next((tmp_path / "redcap").rglob("*.csv"))) as f:
        text = f.read()
    assert "P001" in text and "P002" in text

    r = run_cli("study", "unenrol", *port, env=env)
    assert "unenrolled device" in r.stdout and "P002" in r.stdout
    shown = _shown_states(sim, tmp_path, env)
    assert band.UNDER in shown and band.TOO_HARD in shown, shown  # normal feedback again
    with Archive(pg_url) as arc:
        assert all(e["end_s"] is not None for e in arc.enrolments())
