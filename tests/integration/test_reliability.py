"""Fast versions of the reliability suite (bench/reliability.py; the full run is `make reliability`)."""

import importlib.util
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration


def _suite():
    spec = importlib.util.spec_from_file_location("acu_reliability", REPO / "bench" / "reliability.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


R = _suite()


def test_nothing_from_a_device_is_evaluated_on_the_host():
    assert R.host_eval_sites() == []


def test_security_paths_and_permissions(tmp_path):
    fig = R.scenario_security(tmp_path)
    assert fig["rel_security_path_escapes"] == 0
    assert fig["rel_security_non_private_files"] == 0
    assert fig["rel_security_bad_names_refused"] == 5  # every hostile name is refused
    assert fig["rel_security_eval_sites"] == 0


def test_bad_inputs_never_crash(tmp_path):
    fig = R.scenario_bad_inputs(tmp_path, n_per_kind=8)
    assert fig["rel_bad_inputs_tried"] > 40
    assert fig["rel_bad_inputs_crashed"] == 0, fig["_notes_bad"]


def test_merge_keeps_other_keys(tmp_path):
    out = tmp_path / "bench.json"
    out.write_text('{"transfer_ratio_vs_mpremote_cp": 3.5}')
    data = R.merge_into(out, {"rel_power_cuts": 3, "_notes_power": ["x"]})
    assert data == {"transfer_ratio_vs_mpremote_cp": 3.5, "rel_power_cuts": 3}


def test_a_few_power_cuts_lose_nothing(acu_home):
    fig = R.scenario_power_cuts(Path(os.environ["ACUTRAINER_HOME"]), n_cuts=6, parallel=1, seed=5)
    assert fig["rel_power_cuts"] >= 6
    assert fig["rel_power_cut_boot_failures"] == 0
    assert fig["rel_power_cut_config_torn"] == 0, fig["_notes_power"]
    assert fig["rel_power_cut_losses"] == 0, fig["_notes_power"]
