"""The reliability suite: power cuts, cable pulls, bad input, a year of use, security basics.

Runs against simulators (host_tools/sim) in a private data dir and merges its figures into build/bench.json:
    python -m bench.reliability --out build/bench.json [--only power,cable,year,devbad,bad,security,boot,record,host]
The scenario modules (power, cable, year, device_inputs, host_inputs, security, boot_faults, record_faults,
host_faults) are also run with small counts by tests/integration/test_reliability.py. docs/reliability.md says what each
figure means and what the trainer promises.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from host_tools.sim import control

from .boot_faults import scenario_boot_faults
from .cable import scenario_cable_pulls
from .common import REPO, log, run_scenarios
from .device_inputs import scenario_device_bad_inputs
from .host_faults import scenario_host
from .host_inputs import scenario_bad_inputs
from .power import scenario_power_cuts
from .record_faults import scenario_record_faults
from .security import scenario_security
from .year import scenario_year

TARGETS = {"rel_power_cut_losses": 0, "rel_pull_duplicates": 0, "rel_pull_gaps": 0,
           "rel_pull_deleted_unverified": 0, "rel_year_sessions_lost": 0, "rel_cable_routine_torn": 0,
           "rel_cable_multiline_errors": 0, "rel_power_cut_boot_failures": 0, "rel_power_cut_config_torn": 0,
           "rel_bad_inputs_crashed": 0, "rel_security_path_escapes": 0, "rel_security_non_private_files": 0,
           "rel_security_eval_sites": 0,
           "rel_boot_faults_bricked": 0, "rel_boot_faults_unreported": 0, "rel_boot_faults_uncued": 0,
           "rel_silent_record_losses": 0, "rel_record_faults_mishandled": 0,
           "rel_host_tracebacks": 0, "rel_host_partial_files": 0, "rel_host_raw_device_text": 0,
           "rel_host_wrong_outcome": 0, "rel_scenarios_aborted": 0}


def merge_into(out: Path, figures: dict) -> dict:
    data = {}
    if out.exists():
        try:
            data = json.loads(out.read_text())
        except ValueError:
            data = {}
    data.update({k: v for k, v in figures.items() if not k.startswith("_")})
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    os.replace(tmp, out)
    return data


def print_table(figures: dict) -> None:
    from rich.console import Console
    from rich.table import Table
    t = Table(title="acutrainer reliability")
    t.add_column("figure")
    t.add_column("value", justify="right")
    t.add_column("target")
    for k, v in figures.items():
        if k.startswith("_"):
            continue
        tgt = TARGETS.get(k)
        ok = "" if tgt is None else ("ok" if v == tgt else "MISSED (target %s)" % tgt)
        t.add_row(k, json.dumps(v) if isinstance(v, dict) else str(v), ok)
    Console().print(t)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.reliability", description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(REPO / "build" / "bench.json"))
    ap.add_argument("--cuts", type=int, default=500)
    ap.add_argument("--pulls", type=int, default=200)
    ap.add_argument("--parallel", type=int, default=3, help="simulators per scenario (power cuts, cable pulls)")
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--only", default="power,cable,year,devbad,bad,security,boot,record,host")
    ap.add_argument("--record-rounds", type=int, default=3, help="rounds of every recording fault (record)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    home = Path(tempfile.mkdtemp(prefix="acu_rel_"))
    os.environ["ACUTRAINER_HOME"] = str(home)
    os.environ.pop("ACUTRAINER_PORT", None)
    only = set(args.only.split(","))
    figures: dict = {}
    t0 = time.monotonic()
    try:
        # the host-only scenarios first, one after the other (they use the CPU, the others mostly wait)
        for key, fn in (("security", scenario_security), ("bad", scenario_bad_inputs), ("host", scenario_host)):
            if key in only:
                for fig in run_scenarios([(fn, (home,))]):
                    figures.update(fig)
        # the simulator scenarios run side by side (each drives its own simulators; they mostly wait)
        jobs = []
        if "power" in only:
            jobs.append(("power", scenario_power_cuts, (home, args.cuts, args.parallel, args.seed)))
        if "cable" in only:
            jobs.append(("cable", scenario_cable_pulls, (home, args.pulls, args.parallel, args.seed + 6)))
        if "year" in only:
            jobs.append(("year", scenario_year, (home, args.days)))
        if "devbad" in only:
            jobs.append(("devbad", scenario_device_bad_inputs, (home,)))
        if "boot" in only:
            jobs.append(("boot", scenario_boot_faults, (home,)))
        if "record" in only:
            jobs.append(("record", scenario_record_faults, (home, args.record_rounds, args.seed + 16)))
        for fig in run_scenarios([(j[1], j[2]) for j in jobs]):
            figures.update(fig)
        if "rel_device_bad_inputs_tried" in figures:  # one count of bad inputs, host and device side
            figures["rel_bad_inputs_tried"] = (figures.get("rel_bad_inputs_tried", 0)
                                               + figures["rel_device_bad_inputs_tried"])
            figures["rel_bad_inputs_crashed"] = (figures.get("rel_bad_inputs_crashed", 0)
                                                 + figures["rel_device_bad_inputs_crashed"])
    finally:
        for n in control.running():
            control.stop(n)
    # a scenario that raised has no figures of its own to miss a target with: the suite counts it
    figures["rel_scenarios_aborted"] = sum(1 for k in figures if k.startswith("_aborted_"))
    figures["rel_suite_seconds"] = round(time.monotonic() - t0, 1)
    merge_into(Path(args.out), figures)
    print_table(figures)
    for k in sorted(k for k in figures if k.startswith("_notes")):
        for n in figures.get(k, []):
            log("  note: " + n)
    shutil.rmtree(home, ignore_errors=True)
    missed = [k for k, v in TARGETS.items() if k in figures and figures[k] != v]
    return 1 if missed else 0

