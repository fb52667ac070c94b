"""A device that always comes up, as a user meets it (docs/troubleshooting.md, "Boot files set aside"): a hand
edit the user guide does not allow, a damaged selection file and a folder in /log each leave a running app
that plays the fault cue; `status` and `doctor` (the CLI, a subprocess) name each file with its fix; `pull`
skips a folder with a session's name instead of failing. The scenario with every file and damage is
bench/reliability/boot_faults.py (`make reliability`, `--only boot`)."""

import json

import pytest

from host_tools.session import open_session
from tests.integration.conftest import deployed_simulator, run_cli, wait_for

pytestmark = pytest.mark.integration

CUE_FAULT = 9  # acu.feedback.CUE_FAULT


def _restart(sim, s):
    boot = sim.status()["boot"]
    s.close(restart=True)
    wait_for(lambda: sim.status()["boot"] > boot, 20, "the soft reset", sim)
    boot = sim.status()["boot"]
    wait_for(lambda: any(r.get("name") == "cue" and r.get("value") for r in sim.trace(boot)), 30,
             "the app's start cue", sim)
    return boot


def test_bad_boot_files_leave_a_running_app_that_names_them(acu_home, tmp_path_factory):
    work = tmp_path_factory.mktemp("bootfaults")
    with deployed_simulator("bootfaults", 1717, work / "flash.img") as sim:
        s = open_session(sim.port)
        s.write_file_atomic("/cfg/settings.json", json.dumps({"feedback": "none", "intensity_pct": 50}).encode())
        s.write_file_atomic("/cfg/selected", b"bed\xfftime")
        s.makedirs("/log/000042.acl")
        boot = _restart(sim, s)
        cues = [r["value"] for r in sim.trace(boot) if r.get("name") == "cue" and r.get("value")]
        assert cues[0] == CUE_FAULT, cues

        r = run_cli("status", "--json", "--port", sim.port)
        st = json.loads(r.stdout)
        files = [p["file"] for p in st["boot_problems"]]
        assert files == ["/cfg/settings.json", "/cfg/selected", "/log/000042.acl"], st["boot_problems"]
        assert st["routine"] == "bedtime"   # the default routine stands in for the unreadable selection
        assert "/cfg/selected.bad" in st["set_aside"] and "/log/000042.acl.bad" in st["set_aside"]
        r = run_cli("status", "--port", sim.port)
        assert "/cfg/settings.json" in r.stdout and "set aside" in r.stdout

        r = run_cli("doctor", "--json", "--port", sim.port, check=False)
        assert r.returncode == 1
        boot_checks = [c for c in json.loads(r.stdout)["checks"] if c["name"] == "boot files"]
        assert [c["status"] for c in boot_checks] == ["fail"] * 3
        assert '"feedback": "none"' in boot_checks[0]["detail"] and "user-guide" in boot_checks[0]["fix"]
        assert "routine select" in boot_checks[1]["fix"]

        # a folder with a session's name that appears while the app is stopped: pull lists and skips it
        s = open_session(sim.port)
        try:
            s.makedirs("/log/000043.acl")
        finally:
            s.close(restart=False)
        r = run_cli("pull", "--archive", str(work / "archive.sqlite"), "--port", sim.port, check=False)
        assert r.returncode == 0 and "Traceback" not in r.stderr and "EISDIR" not in r.stderr + r.stdout, r

        # fixed by the user: the next start is quiet, the older copies are a warning
        run_cli("routine", "select", "bedtime", "--port", sim.port)
        s = open_session(sim.port)
        s.write_file_atomic("/cfg/settings.json", json.dumps({"intensity_pct": 50}).encode())
        # (the folder pull skipped was set aside when the app started again after pull)
        assert not s.exists("/log/000043.acl") and s.exists("/log/000043.acl.bad")
        boot = _restart(sim, s)
        assert [r["value"] for r in sim.trace(boot) if r.get("name") == "cue" and r.get("value")][0] != CUE_FAULT
        data = json.loads(run_cli("doctor", "--json", "--port", sim.port, check=False).stdout)
        boot_checks = [c for c in data["checks"] if c["name"] == "boot files"]
        assert [c["status"] for c in boot_checks] == ["warn"], boot_checks
        assert "/cfg/selected.bad" in boot_checks[0]["detail"]
