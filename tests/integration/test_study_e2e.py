"""The study end to end (issue 21, docs/study.md): two simulated devices running side by side, enrolled to two
participants in different arms (P001 feedback, P002 sham band), practise routines; their pulls run at once, from
separate processes, into the tests' real PostgreSQL. Pulls are killed (SIGKILL) at named points of the pull
(host_tools/holdpoint.py: mid-download, mid-transaction, after a commit, before a device delete): each kill lands
where it is meant to, and after each nothing is stored twice, nothing is lost, and nothing was deleted from a
device that the archive does not hold. A last round of concurrent pulls completes the archive: every practised
session is there exactly once, attributed to its participant, with the arm its device ran; the devices are
empty. Then the coordinator's report (CSV and HTML) and the Parquet, BIDS and REDCap exports, from the server,
are checked against what was practised."""

import csv
import gzip
import hashlib
import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

from host_tools.archive import Archive
from host_tools.holdpoint import ENV_VAR as HOLD
from host_tools.paths import ensure_device_importable
from host_tools.pull import LOG_DIR, list_device_sessions
from host_tools.session import open_session
from tests.integration.conftest import BIN, deployed_simulator, run_cli, wait_for

ensure_device_importable()
from acu import logread  # noqa: E402

pytestmark = pytest.mark.integration

PROFILES = Path(__file__).parent / "profiles"
SPEED = 60
CUE_START, CUE_DONE = 1, 4
# (simulator name, seed, participant, arm, routines practised, the arm's code the device logs: acu.arms)
DEVICES = [("study-a", 2201, "P001", "feedback", 3, 0), ("study-b", 2202, "P002", "sham_band", 4, 2)]
PRESS_S = 30     # ht7-quick: HT7 left, 30 s of clock time from first contact, at ~4 kg (in the 3-5 kg band)
PRESS_KG = 4.0


@pytest.fixture(scope="module")
def sims(acu_home, tmp_path_factory):
    """The two devices, running at once (each its own simulator, flash image and serial port)."""
    tmp = tmp_path_factory.mktemp("study-e2e")
    with deployed_simulator(DEVICES[0][0], DEVICES[0][1], tmp / "a.img", SPEED) as a:
        with deployed_simulator(DEVICES[1][0], DEVICES[1][1], tmp / "b.img", SPEED) as b:
            yield [a, b]


def _cues(sim, boot):
    return [r["value"] for r in sim.trace(boot) if r["kind"] == "note" and r.get("name") == "cue"]


def _practise(sim, name: str, times: int) -> None:
    """The button, then the hand (ht7-quick's press profile), `times` over; each routine runs to its done cue."""
    st = wait_for(lambda: (lambda s: s if s["running"] else None)(sim.status()), 20, "the board to run")
    boot = st["boot"]
    wait_for(lambda: [r for r in sim.trace(boot) if r.get("name") == "state"], 20, "the app's start", sim)
    for n in range(1, times + 1):
        run_cli("sim", "button", "short", "--name", name)
        wait_for(lambda n=n: _cues(sim, boot).count(CUE_START) >= n, 20, "the start cue", sim)
        run_cli("sim", "profile", str(PROFILES / "ht7-quick.txt"), "--name", name)
        wait_for(lambda n=n: _cues(sim, boot).count(CUE_DONE) >= n, 30, "routine %d to finish" % n, sim)


def _on_device(port: str) -> tuple[str, dict[str, set]]:
    """(device id, {file name: the (device id, session no, sha256) keys of its sessions}) read from the device."""
    with open_session(port) as s:
        dev = s.call("acu.logadmin", "info")["device_id"]
        files = {}
        for e in list_device_sessions(s):
            data = s.read_file("%s/%s" % (LOG_DIR, e["name"]))
            files[e["name"]] = {(dev, logread.decode_session(blob)["session"]["session_no"],
                                 hashlib.sha256(blob).hexdigest()) for _s, _e, blob in logread.split_sessions(data)}
    return dev, files


def _archived(url) -> list[tuple]:
    with Archive(url) as arc:
        return arc.session_keys()


def _pulls(sims, env, holds: dict, tmp_path, tag: str):
    """One `acutrainer pull --delete` process per device, all at once. holds: {device index: (point, n)}: that
    pull is held at its point (host_tools/holdpoint.py) and killed there. Returns the exit codes."""
    procs, marks = [], {}
    for i, sim in enumerate(sims):
        e = dict(env)
        if i in holds:
            marks[i] = tmp_path / ("%s-%d.held" % (tag, i))
            e[HOLD] = "%s:%d:%s" % (holds[i][0], holds[i][1], marks[i])
        procs.append(subprocess.Popen([str(BIN / "acutrainer"), "pull", "--port", sim.port, "--delete"], env=e,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))

    def held(i):
        if procs[i].poll() is not None:
            raise AssertionError("pull %d ended (%d) before its hold %s: %s" % (i, procs[i].returncode, holds[i],
                                                                              procs[i].communicate()))
        return marks[i].exists()
    for i in marks:
        wait_for(lambda i=i: held(i), 60, "pull %d to reach %s" % (i, holds[i]))
        assert int(marks[i].read_text()) == procs[i].pid
        os.kill(procs[i].pid, signal.SIGKILL)
    codes = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        codes.append(p.returncode)
        if p.returncode >= 0:
            assert p.returncode == 0 and "\n" not in err.strip(), (out, err)
    return codes


def _check_nothing_lost(url, practised: dict, sims) -> dict:
    """No duplicate in the archive; every practised session is in the archive or still on its device (a file
    gone from a device holds only committed sessions). Returns {device id: its committed keys}."""
    keys = _archived(url)
    assert len(keys) == len(set(keys)), "a session stored twice"
    done = set(keys)
    for sim in sims:
        dev, files = _on_device(sim.port)
        on_dev = set().union(*files.values()) if files else set()
        assert on_dev <= practised[dev]
        assert practised[dev] - on_dev <= done, "sessions deleted from device %s before they were committed" % dev
    return {dev: {k for k in done if k[0] == dev} for dev in practised}


def test_two_devices_two_arms_concurrent_killed_pulls_report_and_exports(sims, tmp_path, pg_url):
    env = dict(os.environ, ACUTRAINER_ARCHIVE=pg_url)
    run_cli("study", "init", "--name", "e2e-trial", "--weekly-goal", "3", "--weeks", "4", env=env)
    for sim, (_name, _seed, pid, arm, _n, _code) in zip(sims, DEVICES, strict=True):
        run_cli("routine", "select", "ht7-quick", "--port", sim.port)
        run_cli("sync", "--port", sim.port, env=env)  # the device's clock: its sessions have dates
        r = run_cli("study", "enrol", pid, "--arm", arm, "--port", sim.port, env=env)
        assert "enrolled device" in r.stdout and pid in r.stdout

    for sim, (name, _seed, _pid, _arm, n, _code) in zip(sims, DEVICES, strict=True):
        _practise(sim, name, n)
    practised, files_before = {}, {}
    for sim, d in zip(sims, DEVICES, strict=True):
        dev, files = _on_device(sim.port)
        practised[dev] = set().union(*files.values())
        files_before[dev] = files
        assert len(practised[dev]) == d[4], files
    devs = list(practised)
    assert len(set(devs)) == 2  # two devices, two ids

    # round 1: A killed mid-download of its first file, B mid-transaction of its second session
    codes = _pulls(sims, env, {0: ("transfer.read", 1), 1: ("archive.store", 2)}, tmp_path, "r1")
    assert codes == [-signal.SIGKILL] * 2
    done = _check_nothing_lost(pg_url, practised, sims)
    assert len(done[devs[0]]) == 0 and len(done[devs[1]]) == 1  # the second's rows died with its transaction
    assert _on_device(sims[0].port)[1] == files_before[devs[0]]  # nothing deleted: nothing of it committed
    assert _on_device(sims[1].port)[1] == files_before[devs[1]]  # deletes come after every file is stored

    # round 2: A killed after two sessions are committed, B before its first device delete (all committed)
    codes = _pulls(sims, env, {0: ("pull.stored", 2), 1: ("pull.delete", 1)}, tmp_path, "r2")
    assert codes == [-signal.SIGKILL] * 2
    done = _check_nothing_lost(pg_url, practised, sims)
    assert len(done[devs[0]]) == 2 and done[devs[1]] == practised[devs[1]]
    assert _on_device(sims[0].port)[1] == files_before[devs[0]]
    assert _on_device(sims[1].port)[1] == files_before[devs[1]]  # killed before its first delete

    # round 3: both pulls run to their end, at once
    assert _pulls(sims, env, {}, tmp_path, "r3") == [0, 0]
    done = _check_nothing_lost(pg_url, practised, sims)
    keys = _archived(pg_url)
    assert sorted(keys) == sorted(practised[devs[0]] | practised[devs[1]])  # each exactly once
    assert all(_on_device(sim.port)[1] == {} for sim in sims)  # every device emptied, once committed

    # attribution and arms, as the archive has them
    with Archive(pg_url) as arc:
        sessions = arc.sessions()
        ran = arc.device_arms()
    for dev, (_name, _seed, pid, _arm, n, code) in zip(devs, DEVICES, strict=True):
        mine = [s for s in sessions if s["device_id"] == dev]
        assert len(mine) == n and {s["participant"] for s in mine} == {pid}
        assert {ran.get(s["id"], 0) for s in mine} == {code}
        assert all(s["end_status"] == "completed" and s["routine"] == "ht7-quick" for s in mine)
    r = run_cli("study", "status", env=env)
    rows = {ln.split()[0]: ln.split() for ln in r.stdout.splitlines() if ln.startswith("P00")}
    assert rows["P001"][1] == "feedback" and rows["P001"][3] == "3" and rows["P002"][3] == "4", r.stdout
    assert "!" not in r.stdout, r.stdout  # each device ran its participant's arm

    # the coordinator's report (CSV and HTML) from the server
    out = tmp_path / "report"
    r = run_cli("study", "report", "--out", str(out), env=env)
    assert (out / "study_report.html").stat().st_size > 0
    html = (out / "study_report.html").read_text()
    assert "P001" in html and "P002" in html and "data:image/png;base64," in html

    def table(name):
        with open(out / name) as f:
            return list(csv.DictReader(f))
    people = {p["participant"]: p for p in table("study_participants.csv")}
    weeks = {w["participant"]: w for w in table("study_weeks.csv")}
    points = {p["participant"]: p for p in table("study_points.csv")}
    for _name, _seed, pid, arm, n, _code in DEVICES:
        p, w, pt = people[pid], weeks[pid], points[pid]
        assert (p["arm"], p["status"], p["sessions"], p["undated"], p["week_now"]) == (arm, "active", str(n), "0",
                                                                                       "1"), p
        assert p["behind"] == "False"  # in week 1, practising: nobody is behind yet
        assert (w["week"], w["sessions"], w["started"], w["goal"]) == ("1", str(n), str(n), "3"), w
        assert w["goal_met"] == str(n >= 3)
        # what the hand did: n presses of ~30 s at ~4 kg, inside the real 3-5 kg band (the sham band changes
        # only what the device shows, never what it logs)
        assert abs(float(w["minutes"]) - n * PRESS_S / 60.0) <= n * 2 / 60.0, w
        assert float(w["pct_in_band"]) >= 90.0, w
        assert abs(float(w["dose_kg_s"]) - n * PRESS_S * PRESS_KG) <= n * PRESS_S * PRESS_KG * 0.1, w
        assert (pt["point"], pt["steps"], pt["minutes"], pt["dose_kg_s"]) == ("HT7", str(n), w["minutes"],
                                                                             w["dose_kg_s"]), pt

    # the analysis-ready exports, from the server
    for fmt in ("parquet", "bids", "redcap"):
        run_cli("export", "--format", fmt, "--out", str(tmp_path / fmt), env=env)
    import pyarrow.parquet as pq
    ses = pq.read_table(tmp_path / "parquet" / "sessions.parquet").to_pylist()
    steps = pq.read_table(tmp_path / "parquet" / "steps.parquet").to_pylist()
    trace = pq.read_table(tmp_path / "parquet" / "traces.parquet", columns=["session_id"]).to_pylist()
    assert sorted((s["device_id"], s["session_no"]) for s in ses) == sorted((k[0], k[1]) for k in keys)
    for _name, _seed, pid, _arm, n, _code in DEVICES:
        assert sum(s["participant"] == pid for s in ses) == n
        mine = [s for s in steps if s["participant"] == pid]
        assert len(mine) == n and {s["point"] for s in mine} == {"HT7"}
        assert abs(sum(s["dose_kg_s"] for s in mine) - float(weeks[pid]["dose_kg_s"])) < 0.01 * n
    assert {t["session_id"] for t in trace} == {s["session_id"] for s in ses}  # every session's force trace

    bids = tmp_path / "bids"
    with open(bids / "participants.tsv") as f:
        subs = {r["source_id"]: r["participant_id"] for r in csv.DictReader(f, delimiter="\t")}
    assert set(subs) == {"P001", "P002"}
    for _name, _seed, pid, _arm, n, _code in DEVICES:
        physio = sorted((bids / subs[pid]).rglob("*_physio.tsv.gz"))
        assert len(physio) == n
        for f in physio:
            side = json.loads(f.with_name(f.name.replace(".tsv.gz", ".json")).read_text())
            assert side["Participant"] == pid and side["SamplingFrequency"] == 10
            rows = gzip.open(f, "rt").read().splitlines()
            forces = [float(r.split("\t")[1]) for r in rows if r.split("\t")[1] != "n/a"]
            press = sorted(f for f in forces if f >= 1000)  # the session runs from the button; the hand comes later
            # ~30 s of the press at 10 Hz, at ~4 kg
            assert len(press) >= (PRESS_S - 1) * 10 and press[len(press) // 2] == pytest.approx(4000, rel=0.1)

    with open(tmp_path / "redcap" / "redcap_import.csv") as f:
        red = list(csv.DictReader(f))
    for _name, _seed, pid, _arm, n, _code in DEVICES:
        mine = [r for r in red if r["record_id"] == pid]
        assert [r["redcap_repeat_instance"] for r in mine] == [str(i) for i in range(1, n + 1)]
        assert {r["redcap_repeat_instrument"] for r in mine} == {"acupressure_step"}
    assert len(red) == sum(d[4] for d in DEVICES)
