"""Fast versions of the reliability suite (bench/reliability/; the full run is `make reliability`)."""

import json
import os
from pathlib import Path

import pytest

from bench.reliability import (boot_faults, cable, device_inputs, host_inputs, power, record_faults, security,
                               suite, year)

pytestmark = pytest.mark.integration


def test_nothing_from_a_device_is_evaluated_on_the_host():
    assert security.host_eval_sites() == []


def test_security_paths_and_permissions(tmp_path):
    fig = security.scenario_security(tmp_path)
    assert fig["rel_security_path_escapes"] == 0
    assert fig["rel_security_non_private_files"] == 0
    assert fig["rel_security_bad_names_refused"] == 5  # every hostile name is refused
    assert fig["rel_security_eval_sites"] == 0


def test_bad_inputs_never_crash(tmp_path):
    fig = host_inputs.scenario_bad_inputs(tmp_path, n_per_kind=8)
    assert fig["rel_bad_inputs_tried"] > 40
    assert fig["rel_bad_inputs_crashed"] == 0, fig["_notes_bad"]


def test_merge_keeps_other_keys(tmp_path):
    out = tmp_path / "bench.json"
    out.write_text('{"transfer_ratio_vs_mpremote_cp": 3.5}')
    data = suite.merge_into(out, {"rel_power_cuts": 3, "_notes_power": ["x"]})
    assert data == {"transfer_ratio_vs_mpremote_cp": 3.5, "rel_power_cuts": 3}


def test_a_scenario_that_raises_is_counted_not_a_quiet_pass(tmp_path, monkeypatch):
    def scenario_boom(work):
        raise OSError(28, "no space left")
    monkeypatch.setattr(suite, "scenario_security", scenario_boom)
    # the suite points ACUTRAINER_HOME at a home of its own: monkeypatch puts the session's back afterwards
    monkeypatch.setenv("ACUTRAINER_HOME", os.environ.get("ACUTRAINER_HOME", str(tmp_path)))
    monkeypatch.delenv("ACUTRAINER_PORT", raising=False)
    out = tmp_path / "bench.json"
    assert suite.main(["--only", "security", "--out", str(out)]) == 1   # a target missed
    data = json.loads(out.read_text())
    assert data["rel_scenarios_aborted"] == 1


def test_a_few_power_cuts_lose_nothing(acu_home):
    fig = power.scenario_power_cuts(Path(os.environ["ACUTRAINER_HOME"]), n_cuts=6, parallel=1, seed=5)
    assert fig["rel_power_cuts"] >= 6
    assert fig["rel_power_cut_boot_failures"] == 0
    assert fig["rel_power_cut_config_torn"] == 0, fig["_notes_power"]
    assert fig["rel_power_cut_losses"] == 0, fig["_notes_power"]


def test_cable_pulls_leave_no_duplicates_gaps_or_unverified_deletes(acu_home):
    fig = cable.scenario_cable_pulls(Path(os.environ["ACUTRAINER_HOME"]), n_pulls=3, parallel=1, seed=3)
    assert fig["rel_cable_pulls"] == 3
    assert fig["rel_cable_other_errors"] == 0, fig["_notes_cable"]
    assert fig["rel_cable_multiline_errors"] == 0
    assert fig["rel_pull_duplicates"] == 0, fig["_notes_cable"]
    assert fig["rel_pull_gaps"] == 0, fig["_notes_cable"]
    assert fig["rel_pull_deleted_unverified"] == 0, fig["_notes_cable"]
    assert fig["rel_cable_routine_torn"] == 0


def test_ten_days_of_use_lose_nothing(acu_home):
    fig = year.scenario_year(Path(os.environ["ACUTRAINER_HOME"]), days=10, session_ms=30000)
    assert "_notes_year" not in fig, fig.get("_notes_year")
    assert fig["rel_year_sessions_lost"] == 0
    assert fig["rel_year_duplicates"] == 0
    assert fig["rel_year_sessions_archived"] == 10
    assert fig["rel_year_flash_bounded"] == 1
    assert fig["rel_year_report_rc"] == 0


def test_a_blank_board_is_named_not_our_firmware(acu_home):
    fig = device_inputs.scenario_device_bad_inputs(Path(os.environ["ACUTRAINER_HOME"]), blank_only=True)
    assert fig["rel_device_bad_inputs_tried"] >= 6
    assert fig["rel_device_bad_inputs_crashed"] == 0, fig["_notes_devbad"]


def test_damaged_boot_files_never_stop_the_app(acu_home):
    fig = boot_faults.scenario_boot_faults(Path(os.environ["ACUTRAINER_HOME"]), limit=6)
    assert fig["rel_boot_faults_tried"] == 6, fig["_notes_boot"]
    assert fig["rel_boot_faults_bricked"] == 0, fig["_notes_boot"]
    assert fig["rel_boot_faults_unreported"] == 0, fig["_notes_boot"]
    assert fig["rel_boot_faults_uncued"] == 0, fig["_notes_boot"]


def test_the_boot_faults_cover_every_boot_file_forty_ways():
    cs = boot_faults.cases()
    assert len(cs) >= 40
    files = {c[0] for c in cs}
    for f in ("/cfg/settings.json", "/cfg/state.json", "/cfg/board.json", "/cfg/calib.json", "/cfg/selected",
              "/routines/bedtime.json", "/log/next"):
        assert f in files
        assert any(c[0] == f and c[2] is None for c in cs), f  # a folder in its place


def test_recording_faults_lose_no_practice_in_silence(acu_home):
    fig = record_faults.scenario_record_faults(Path(os.environ["ACUTRAINER_HOME"]), rounds=1, seed=21)
    assert fig["rel_record_faults_tried"] >= 15 and fig["rel_record_practices"] >= 8
    assert fig["rel_silent_record_losses"] == 0, fig.get("_notes_record")
    assert fig["rel_record_faults_mishandled"] == 0, fig.get("_notes_record")


def test_host_faults_one_line_no_partial_files(acu_home):
    """Every host-side fault (damaged/locked/read-only archives, full disk, bad output folders, hostile device
    text, absurd point files, usage errors, Ctrl-C; pull --delete into faulty archives) with small counts."""
    from bench.reliability import host_faults
    f = host_faults.scenario_host(Path(os.environ["ACUTRAINER_HOME"]), n_garbage=1, n_full=1, n_interrupts=1,
                                  n_moved=2)
    notes = f.pop("_notes_host")
    assert f["rel_host_cases"] > 100
    for k in ("rel_host_tracebacks", "rel_host_partial_files", "rel_host_raw_device_text",
              "rel_host_wrong_outcome", "rel_host_rebuild_sessions_lost"):
        assert f[k] == 0, (k, notes)
