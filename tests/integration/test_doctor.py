"""acutrainer doctor against the simulator: finds it, reports each problem with a fix, exit code."""

import json

import pytest

from tests.integration.conftest import run_cli

pytestmark = pytest.mark.integration


def test_doctor_finds_the_simulator_and_reports(deployed_sim):
    r = run_cli("doctor", "--json", check=False)
    assert r.returncode in (0, 1), r.stderr
    data = json.loads(r.stdout)
    checks = {c["name"]: c for c in data["checks"]}
    assert checks["board"]["status"] == "ok" and checks["board"]["detail"] == deployed_sim.port
    assert "(simulator)" in checks["ports"]["detail"]
    for name in ("link", "micropython", "mpy", "app", "files", "routine", "sensor"):
        assert checks[name]["status"] == "ok", checks[name]
    assert checks["flash"]["status"] == "ok" and "KB free" in checks["flash"]["detail"]
    # exit code follows the failed checks
    failed = [c for c in data["checks"] if c["status"] == "fail"]
    assert data["healthy"] == (not failed)
    assert r.returncode == (1 if failed else 0)


def test_doctor_table_and_what_to_do(deployed_sim):
    run_cli("sync")
    r = run_cli("doctor", check=False)
    assert "acutrainer doctor" in r.stdout and "micropython" in r.stdout
    data = json.loads(run_cli("doctor", "--json", check=False).stdout)
    checks = {c["name"]: c for c in data["checks"]}
    assert checks["clock"]["status"] == "ok"  # just synced
    if checks["calibration"]["status"] == "fail":
        assert "What to do next" in r.stdout and "calibrate" in r.stdout
        assert r.returncode == 1


def test_doctor_with_a_wrong_port_fails_cleanly(deployed_sim, tmp_path):
    r = run_cli("doctor", "--port", str(tmp_path / "no-such-tty"), "--json", check=False)
    assert r.returncode == 1
    checks = {c["name"]: c for c in json.loads(r.stdout)["checks"]}
    assert checks["link"]["status"] == "fail" and "troubleshooting" in checks["link"]["fix"]
