"""Two routines run, the power is cut in the middle of a third, the board reboots,
`acutrainer pull` archives the two whole sessions and the third marked as cut short; `export` and
`report --html` write files a person can read; a second pull adds nothing; `pull --delete` removes only
sessions that are verified in the archive."""

import csv
import json
import sqlite3
import time
from pathlib import Path

import pytest

from host_tools.session import open_session
from tests.integration.conftest import deployed_simulator, run_cli, wait_for

pytestmark = pytest.mark.integration

PROFILES = Path(__file__).parent / "profiles"
NAME = "e2e-logs"
SPEED = 60
CUE_START, CUE_DONE = 1, 4
IN_BAND = 2



def notes(sim, boot, name):
    return [(r["t_ms"], r["value"]) for r in sim.trace(boot) if r["kind"] == "note" and r.get("name") == name]


def cues(sim, boot):
    return [v for _, v in notes(sim, boot, "cue")]


def current_boot(sim):
    st = wait_for(lambda: (lambda s: s if s["running"] else None)(sim.status()), 20, "the board to run")
    boot = st["boot"]
    wait_for(lambda: notes(sim, boot, "state"), 20, "the app to start", sim)
    return boot


def start_practice(sim, boot, wait=True):
    """The button, then the hand: a session of ht7-quick (30 s on HT7) begins. sim profile returns when the
    hand's script has played, or at once with --no-wait (a practice to cut short)."""
    n = cues(sim, boot).count(CUE_START)
    run_cli("sim", "button", "short", "--name", NAME)
    wait_for(lambda: cues(sim, boot).count(CUE_START) > n, 20, "the start cue", sim)
    run_cli("sim", "profile", str(PROFILES / "ht7-quick.txt"), "--name", NAME, *([] if wait else ["--no-wait"]))


@pytest.fixture(scope="module")
def sim(acu_home, tmp_path_factory):
    with deployed_simulator(NAME, 505, tmp_path_factory.mktemp("e2e5") / "flash.img", SPEED) as sim:
        yield sim


def archive_rows(path):
    db = sqlite3.connect(str(path))
    db.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in db.execute("SELECT * FROM sessions ORDER BY session_no")]
    finally:
        db.close()


def test_sessions_survive_a_power_cut_and_reach_the_archive_report_and_export(sim, tmp_path):
    port = sim.port
    arc = tmp_path / "archive.sqlite"
    run_cli("routine", "select", "ht7-quick", "--port", port)
    run_cli("sync", "--port", port, "--archive", str(arc))  # the device's clock: sessions get dates
    boot = current_boot(sim)

    # two whole practices
    for done in (1, 2):
        start_practice(sim, boot)
        wait_for(lambda n=done: cues(sim, boot).count(CUE_DONE) >= n, 30, "practice %d to finish" % done, sim)
    # a third one, cut off by the power after ~17 s in the band (of its 30): the logger writes every 10 s,
    # so at least 7 s of the press are on flash whatever the phase of its batches (after 10 s: maybe none)
    n_prof = len(notes(sim, boot, "profile"))
    start_practice(sim, boot, wait=False)
    wait_for(lambda: len(notes(sim, boot, "profile")) > n_prof, 20, "the board to take the profile", sim)
    t_prof = notes(sim, boot, "profile")[-1][0]
    wait_for(lambda: any(v == IN_BAND and t > t_prof for t, v in notes(sim, boot, "state")), 20,
             "the third practice to be in the band", sim)
    t_in = [t for t, v in notes(sim, boot, "state") if v == IN_BAND and t > t_prof][0]
    # virtual time: wait until the board has been in the band for a while (the trace's clock moves)
    wait_for(lambda: any(r["t_ms"] >= t_in + 17000 for r in sim.trace(boot)), 20, "17 s of pressing", sim)
    assert cues(sim, boot).count(CUE_DONE) == 2
    sim.power_cut(off_ms=200)
    wait_for(lambda: sim.status()["boot"] > boot and sim.status()["running"], 20, "the reboot")
    current_boot(sim)

    r = run_cli("pull", "--port", port, "--archive", str(arc))
    assert "3 new session(s), 0 already archived" in r.stdout, r.stdout
    rows = archive_rows(arc)
    assert [x["end_status"] for x in rows] == ["completed", "completed", "cut_short"], rows
    assert all(x["routine"] == "ht7-quick" for x in rows)
    whole = rows[:2]
    for x in whole:
        # from the start button (the hand comes a CLI call later) to the done cue
        assert x["steps_done"] == 1 and 30000 <= x["duration_ms"] <= 200000, x
        assert x["wall_start_s"] and abs(x["wall_start_s"] - time.time()) < 3600  # dated by the synced clock
    assert rows[2]["steps_done"] == 0 and rows[2]["duration_ms"] >= 10000, rows[2]

    # the sessions list a person reads
    r = run_cli("sessions", "--archive", str(arc))
    lines = [ln for ln in r.stdout.splitlines() if "ht7-quick" in ln]
    assert len(lines) == 3 and "completed" in lines[0] and "cut_short" in lines[2], r.stdout

    # a second pull adds nothing
    r = run_cli("pull", "--port", port, "--archive", str(arc))
    assert "0 new session(s), 3 already archived" in r.stdout, r.stdout
    assert len(archive_rows(arc)) == 3

    # export: one row per step, per-sample traces in grams
    out = tmp_path / "export"
    r = run_cli("export", "--archive", str(arc), "--format", "csv", "--out", str(out))
    steps = list(csv.DictReader((out / "steps.csv").open()))
    assert len(steps) == 3, steps
    assert {s["point"] for s in steps} == {"HT7"} and {s["side"] for s in steps} == {"left"}
    by_no = {int(s["session_no"]): s for s in steps}
    assert by_no[1]["session_status"] == "completed" and by_no[3]["session_status"] == "cut_short"
    for no in (1, 2):
        st = by_no[no]
        assert st["step_status"] == "done" and float(st["in_s"]) >= 25 and 3000 < float(st["mean_g"]) < 5000, st
    assert by_no[1]["start_utc"].startswith(time.strftime("%Y-", time.gmtime()))
    traces = sorted(p.name for p in out.glob("trace_*.csv"))
    assert traces == ["trace_000001.csv", "trace_000002.csv", "trace_000003.csv"], traces
    for no, min_pressed in ((1, 290), (2, 290), (3, 50)):
        rows = list(csv.reader((out / ("trace_%06d.csv" % no)).open()))
        assert rows[0] == ["t_ms", "force_g"], rows[0]
        t = [int(r[0]) for r in rows[1:]]
        g = [int(r[1]) for r in rows[1:]]
        assert t == sorted(t) and max(b - a for a, b in zip(t[:-1], t[1:], strict=True)) <= 100  # >= 10 Hz, no gaps
        pressed = [x for x in g if x > 1000]
        # 30 s of a ~4 kg press (the cut session: until the last batch that reached the flash)
        assert len(pressed) >= min_pressed and 3000 < sorted(pressed)[len(pressed) // 2] < 5000, \
            (no, len(pressed), len(g))
    jout = tmp_path / "export-json"
    run_cli("export", "--archive", str(arc), "--format", "json", "--out", str(jout))
    js = json.loads((jout / "steps.json").read_text())
    assert js["format"] == "acu-export" and [x["status"] for x in js["sessions"]] == \
        ["completed", "completed", "cut_short"]
    assert all(x["steps"][0]["point"] == "HT7" for x in js["sessions"][:2])
    tj = json.loads((jout / js["sessions"][0]["trace_file"]).read_text())
    assert len(tj["t_ms"]) == len(tj["force_g"]) >= 300

    # the report: text, PNGs and one self-contained HTML page
    rep = tmp_path / "report"
    r = run_cli("report", "--archive", str(arc), "--html", "--out", str(rep))
    assert "HT7" in r.stdout and "ht7-quick" in r.stdout, r.stdout
    page = (rep / "report.html").read_text()
    assert page.lstrip().lower().startswith("<!doctype html")
    assert "ht7-quick" in page and "HT7" in page and "2 completed, 1 cut short" in page
    assert page.count("data:image/png;base64,") >= 2 and "src=\"http" not in page
    pngs = list(rep.glob("*.png"))
    assert len(pngs) >= 2 and all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)

    # pull --delete: a new session is archived then deleted; a file that is not a log stays on the device
    start_practice(sim, sim.status()["boot"])
    b = sim.status()["boot"]
    wait_for(lambda: cues(sim, b).count(CUE_DONE) >= 1, 30, "a fourth practice", sim)
    with open_session(port) as s:
        # not a log (and too big to be a file torn at its creation, which the boot would remove)
        s.write_file_atomic("/log/000099.acl", b"this is not a practice log. " * 400)
        before = sorted(n for n, _, _ in s.listdir("/log"))
    # the four sessions share one log file (the device appends to its newest file up to 32 KB)
    assert before == ["000001.acl", "000099.acl", "next"], before
    r = run_cli("pull", "--delete", "--port", port, "--archive", str(arc))
    assert "1 new session(s), 3 already archived" in r.stdout and "1 deleted" in r.stdout, r.stdout
    assert "000099.acl" in r.stdout  # what was skipped and why
    with open_session(port) as s:
        left = sorted(n for n, _, _ in s.listdir("/log") if n.endswith(".acl"))
    assert left == ["000099.acl"], left
    assert len(archive_rows(arc)) == 4
