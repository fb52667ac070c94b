"""make bench: speed, memory, feedback and transfer figures -> one flat JSON object in build/bench.json.

Figures come from the real MicroPython unix port and the simulator (virtual time for feedback timing, an
emulated 115200-baud link for transfers). Keys already in the file (e.g. from make reliability) are kept.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
BIN = Path(sys.executable).parent

from host_tools.session import open_session  # noqa: E402
from host_tools.sim import control  # noqa: E402


def cli(*args, timeout=300):
    r = subprocess.run([str(BIN / "acutrainer"), *args], capture_output=True, text=True, timeout=timeout)
    if r.returncode:
        raise RuntimeError("acutrainer %s: %s" % (" ".join(args), (r.stderr or r.stdout).strip()))
    return r.stdout


# ---- feedback latency and flicker, in the simulator's virtual time -------------------------------------
STEP_PROFILE = """
hold 1s at 0
ramp 300ms to 2000g
hold 3s
ramp 0ms to 4000g
hold 3s
ramp 0ms to 6000g
hold 3s
ramp 0ms to 4000g
hold 3s
ramp 0ms to 2000g
hold 3s
release
"""
# (time of the step after the profile starts, the band state it must reach): UNDER=1 IN=2 OVER=3
STEPS = [(4300, 2), (7300, 3), (10300, 2), (13300, 1)]


def wait_virtual(sim, boot, t_ms, timeout_s=120):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        recs = sim.trace(boot)
        if recs and max(r.get("t_ms", 0) for r in recs) >= t_ms:
            return recs
        if sim.status()["t_ms"] >= t_ms:
            return sim.trace(boot)
        time.sleep(0.2)
    raise RuntimeError("the simulator did not reach virtual time %d ms" % t_ms)


def profile_start(recs, after_t=0):
    starts = [r["t_ms"] for r in recs if r.get("name") == "profile" and r["t_ms"] >= after_t]
    if not starts:
        raise RuntimeError("the profile never reached the firmware")
    return starts[-1]


def measure_latency(sim) -> dict:
    boot = sim.status()["boot"]
    sim.load_profile(STEP_PROFILE, "step-profile")
    time.sleep(0.5)
    t0 = profile_start(sim.trace(boot))
    recs = wait_virtual(sim, boot, t0 + 17000)
    lat = []
    for t_step, want in STEPS:
        ts = t0 + t_step
        state_t = next((r["t_ms"] for r in recs if r.get("name") == "state" and r["t_ms"] >= ts
                        and r["value"] == want), None)
        out_t = None
        if state_t is not None:
            out_t = next((r["t_ms"] for r in recs if r["kind"] == "level" and r["t_ms"] >= state_t
                          and r["name"] in ("motor", "led", "rgb", "buzzer", "haptic_rtp")), None)
        lat.append(None if out_t is None else out_t - ts)
    got = [x for x in lat if x is not None]
    return {"feedback_latency_ms": max(got) if len(got) == len(lat) else None,
            "feedback_latency_mean_ms": round(sum(got) / len(got), 1) if got else None,
            "feedback_latency_steps_ms": lat}


def measure_flicker(sim, edge_g: int, hold_s: int = 60, noise_pct: int = 3) -> float:
    boot = sim.status()["boot"]
    sim.load_profile("ramp 500ms to %dg\nhold %ds noise %d%%\nrelease\n" % (edge_g, hold_s + 2, noise_pct), "edge")
    time.sleep(0.5)
    t0 = profile_start(sim.trace(boot))
    recs = wait_virtual(sim, boot, t0 + 2500 + hold_s * 1000)
    lo, hi = t0 + 2500, t0 + 2500 + hold_s * 1000  # after settling, for hold_s
    changes = [r for r in recs if r.get("name") == "state" and lo <= r["t_ms"] < hi]
    return len(changes) * 60.0 / hold_s


def feedback_figures(work: Path) -> dict:
    name = "bench-feedback"
    control.stop(name)
    st = control.start(name, flash=str(work / "fb.img"), speed=8.0, seed=20261123)
    try:
        os.environ["ACUTRAINER_PORT"] = st["port"]
        cli("deploy", "--board", "sim", "--port", st["port"])
        calibrated = True
        try:
            cli("calibrate", "--auto", "--port", st["port"], timeout=600)
        except RuntimeError as e:
            calibrated = False
            print("  (calibration failed, measuring on the nominal curve: %s)" % e)
        sim = control.SimControl.find(name)
        time.sleep(1.0)
        out = measure_latency(sim)
        out["feedback_flicker_per_min"] = max(measure_flicker(sim, 3000), measure_flicker(sim, 5000))
        out["feedback_bench_calibrated"] = calibrated
        return out
    finally:
        os.environ.pop("ACUTRAINER_PORT", None)
        control.stop(name)


# ---- transfer over an emulated 115200-baud link ------------------------------------------------------
LINK_LATENCY_MS = 16  # an FTDI bridge's default latency timer (Linux ftdi_sio); 0 = an ideal pty


def transfer_figures(work: Path, baud: int = 115200, latency_ms: float = LINK_LATENCY_MS) -> dict:
    """`acutrainer pull` of a real 200 KB session file (a long free-press session written by the
    device's own logger) against `mpremote cp` of the same file, both as whole commands a user runs, on
    the same simulated 115200-baud link. The pull also verifies, decodes and archives the session."""
    import log_bench
    name = "bench-link"
    control.stop(name)
    st = control.start(name, flash=str(work / ("link-%g.img" % latency_ms)), baud=baud, seed=1, latency_ms=latency_ms)
    try:
        cli("deploy", "--board", "sim", "--port", st["port"], timeout=900)
        data = log_bench.long_session_file(200 * 1024)
        with open_session(st["port"], timeout_s=120) as s:
            s.write_file_atomic("/log/000001.acl", data)
            s.keep_repl()
        archive = work / ("transfer-%g.sqlite" % latency_ms)
        t = time.monotonic()
        out = cli("pull", "--port", st["port"], "--archive", str(archive), timeout=900)
        ours_s = time.monotonic() - t
        if "000001.acl" not in out:
            raise RuntimeError("acutrainer pull did not store the session: %s" % out.strip()[:200])
        dest = work / "mpremote.bin"
        t = time.monotonic()
        r = subprocess.run([str(BIN / "mpremote"), "connect", st["port"], "resume", "cp", ":/log/000001.acl",
                            str(dest)], capture_output=True, text=True, timeout=1200)
        cp_s = time.monotonic() - t
        if r.returncode or dest.read_bytes() != data:
            raise RuntimeError("mpremote cp failed: %s" % r.stderr)
        return {
            "transfer_file_bytes": len(data),
            "transfer_baud": baud,
            "transfer_link_latency_ms": latency_ms,
            "transfer_ours_s": round(ours_s, 2),
            "transfer_mpremote_cp_s": round(cp_s, 2),
            "transfer_ratio_vs_mpremote_cp": round(cp_s / ours_s, 2),
            "transfer_link_utilisation": round((len(data) / ours_s) / (baud / 10.0), 3),
        }
    finally:
        control.stop(name)


# ---- memory and loop figures on the unix port --------------------------------------------------------
def _probe(heap_kb: int, rom: Path | None = None) -> dict:
    """One heap probe run: the firmware as .mpy files on the filesystem, or (rom) from a ROMFS image mapped
    outside the heap by host_tools/sim/romrun.py, as `acutrainer deploy --romfs` runs it on a board."""
    probe = str(ROOT / "tools" / "heap_probe.py")
    if rom is None:
        cmd = [str(BIN / "micropython"), "-X", "heapsize=%dK" % heap_kb, probe]
    else:
        cmd = [sys.executable, str(ROOT / "host_tools" / "sim" / "romrun.py"), str(rom),
               "-X", "heapsize=%dK" % heap_kb, probe, "--rom"]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=str(ROOT), timeout=600)
    line = (r.stdout.strip().splitlines() or ["{}"])[-1]
    try:
        d = json.loads(line)
    except ValueError:
        return {"ok": False, "error": (r.stderr or r.stdout).strip()[-300:]}
    # micropython.qstr_info() lines the probe prints at its base and once the app has started
    d["qstr_info"] = [(int(a), int(b)) for a, b in re.findall(r"n_pool=(\d+), n_qstr=(\d+)", r.stdout)]
    return d


def _min_heap_kb(rom: Path | None) -> int:
    """The smallest -X heapsize (2 KB steps from 64K) the whole practice runs in."""
    if _probe(64, rom).get("ok"):
        return 64
    lo, hi = 64, 256  # lo fails, hi works: bisect
    while hi - lo > 2:
        mid = (lo + hi) // 4 * 2
        if _probe(mid, rom).get("ok"):
            hi = mid
        else:
            lo = mid
    return hi


def heap_figures() -> dict:
    """The whole firmware on a board built from the real drivers (tools/heap_probe.py): allocations per loop
    iteration under heap_lock, peak heap over a bedtime practice, loop rate; and the smallest heap it runs in.
    Twice: with the modules in a ROMFS image (`deploy --romfs`: code runs from flash; heap_* keys) and as
    .mpy files on the flash filesystem (stock firmware without ROMFS: the code is loaded into the heap;
    heap_lfs_* keys)."""
    sys.path.insert(0, str(ROOT / "tools"))
    import heap_rom

    rom = heap_rom.build()
    keep = ("loop_allocs_per_iter", "heap_peak_bytes", "loop_rate_hz", "heap_after_import_bytes",
            "heap_after_start_bytes", "heap_base_bytes", "routine_done", "ok")
    d = _probe(256, rom)
    out = {k if k != "ok" else "heap_probe_ok": d.get(k) for k in keep}
    # interned names: the probe's own (its code, the machine fake, the ROM driver) and the firmware's. The
    # unix port allocates its name pools in doubling sizes: past 611 in all, the next pool (640 names,
    # 7.1 KB on 64 bits) is allocated
    q = d.get("qstr_info") or []
    if len(q) == 2:
        out["heap_qstrs_probe"] = q[0][1]
        out["heap_qstrs_firmware"] = q[1][1] - q[0][1]
        out["heap_qstr_pools"] = q[1][0]
    out["heap_min_working_kb"] = _min_heap_kb(rom)
    out["firmware_fits_64k_heap"] = out["heap_min_working_kb"] == 64
    out["heap_rom_image_bytes"] = rom.stat().st_size
    d = _probe(256)
    for k in ("peak_bytes", "after_import_bytes", "after_start_bytes"):
        out["heap_lfs_" + k] = d.get("heap_" + k)
    out["heap_lfs_loop_allocs_per_iter"] = d.get("loop_allocs_per_iter")
    out["heap_lfs_probe_ok"] = d.get("ok")
    out["heap_lfs_min_working_kb"] = _min_heap_kb(None)
    out["firmware_fits_64k_heap_lfs"] = out["heap_lfs_min_working_kb"] == 64
    return out


WASM_PKG = "@micropython/micropython-webassembly-pyscript"
WASM_DIR = ROOT / "build" / "wasm"


def _wasm_port() -> Path:
    """The 32-bit WebAssembly port at the version docs/versions.md pins, installed into build/wasm with npm
    when missing or at another version."""
    from host_tools import versions
    pin = versions.pins()["micropython-webassembly-pyscript"]
    for tool in ("node", "npm"):
        if not shutil.which(tool):
            raise RuntimeError("%s not found: the 32-bit heap figures need node and npm" % tool)
    pkg = WASM_DIR / "node_modules" / WASM_PKG
    try:
        have = json.loads((pkg / "package.json").read_text()).get("version")
    except (OSError, ValueError):
        have = None
    if have != pin:
        WASM_DIR.mkdir(parents=True, exist_ok=True)
        r = subprocess.run(["npm", "install", "--prefix", str(WASM_DIR), "--no-audit", "--no-fund", "--save-exact",
                            "%s@%s" % (WASM_PKG, pin)], capture_output=True, text=True, timeout=600)
        if r.returncode:
            raise RuntimeError("npm install %s@%s: %s" % (WASM_PKG, pin, (r.stderr or r.stdout).strip()[-200:]))
    return pkg / "micropython.mjs"


def _wasm_probe(mjs: Path, rom: bool) -> dict:
    env = dict(os.environ, MICROPYTHON=str(BIN / "micropython"), PYTHON=sys.executable)
    r = subprocess.run(["node", str(ROOT / "tools" / "heap_probe_wasm.mjs"), "--mp", str(mjs), "--heap-kb", "64"]
                       + (["--rom"] if rom else []), capture_output=True, text=True, cwd=str(ROOT), env=env,
                       timeout=900)
    try:
        d = json.loads((r.stdout.strip().splitlines() or ["{}"])[-1])
    except ValueError:
        d = {}
    if "heap_peak_bytes" not in d:
        raise RuntimeError("heap_probe_wasm: %s" % (d.get("error") or r.stderr.strip()[-300:] or "no result"))
    if d.get("word_bits") != 32:
        raise RuntimeError("heap_probe_wasm: the port is not 32-bit (%s)" % d.get("word_bits"))
    return d


def heap32_figures() -> dict:
    """The heap probe of heap_figures() on a 32-bit MicroPython (the WebAssembly port: an ESP32's object
    sizes), tools/heap_probe_wasm.mjs, from a ROMFS image (heap32_*) and from .mpy files (heap32_lfs_*).
    Its heap starts at 64 KB and grows on demand (no smallest working heap to bisect): heap32_fits_64k_heap
    says the practice ran without the heap growing past its first 64 KB area."""
    mjs = _wasm_port()
    out: dict = {}
    for prefix, rom in (("heap32_", True), ("heap32_lfs_", False)):
        d = _wasm_probe(mjs, rom)
        for k in ("peak_bytes", "peak_total_bytes", "after_import_bytes", "after_start_bytes", "base_bytes"):
            out[prefix + k] = d.get("heap_" + k)
        out[prefix + "loop_allocs_per_iter"] = d.get("loop_allocs_per_iter")
        out[prefix + "probe_ok"] = d.get("ok")
        out[prefix + "areas_total_bytes"] = d.get("heap_areas_total_bytes")
        out[prefix + "fits_64k_heap"] = bool(d.get("ok") and d.get("heap_areas_total_bytes", 1 << 30) <= 64 * 1024)
        out["heap32_port"] = d["port"] + ", 32-bit"
    return out


def power_cut_figures(work: Path) -> dict:
    """200 power cuts at random moments while the device logs a practice
    (the full mix of moments is in make reliability)."""
    from bench.reliability.power import scenario_power_cuts
    fig = scenario_power_cuts(work / "cuts", n_cuts=200, parallel=2, seed=5, mix=[("logging", 1)])
    return {"power_cut_cuts": fig.get("rel_power_cuts"), "power_cut_sessions_lost": fig.get("rel_power_cut_losses"),
            "power_cut_marked_cut_short": fig.get("rel_power_cut_sessions_marked_cut_short"),
            "power_cut_worker_errors": fig.get("rel_power_cut_worker_errors")}


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT / "build" / "bench.json"))
    ap.add_argument("--only", nargs="*",
                    help="heap heap32 log calib feedback transfer powercut live pkg validate power study")
    a = ap.parse_args(argv)
    os.environ.setdefault("ACUTRAINER_HOME", tempfile.mkdtemp(prefix="acubench-"))
    work = Path(tempfile.mkdtemp(prefix="acubench-work-"))
    parts = a.only or ["heap", "heap32", "log", "calib", "feedback", "transfer", "powercut", "live", "pkg",
                       "validate", "power", "study"]
    out_path = Path(a.out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        results = json.loads(out_path.read_text())
    except (OSError, ValueError):
        results = {}
    for part in parts:
        t = time.monotonic()
        print("bench: %s ..." % part, flush=True)
        try:
            if part == "heap":
                got = heap_figures()
            elif part == "heap32":
                got = heap32_figures()
            elif part == "log":
                import log_bench
                got = log_bench.run()
            elif part == "calib":
                import calib_bench
                got = calib_bench.run(work=work)
            elif part == "feedback":
                got = feedback_figures(work)
            elif part == "transfer":
                got = transfer_figures(work)
                ideal = transfer_figures(work, latency_ms=0)  # the same on an ideal pty, for reference
                got.update({k.replace("transfer_", "transfer_nolatency_"): v for k, v in ideal.items()
                            if k in ("transfer_ours_s", "transfer_mpremote_cp_s", "transfer_ratio_vs_mpremote_cp",
                                     "transfer_link_utilisation")})
            elif part == "powercut":
                got = power_cut_figures(work)
            elif part == "live":
                import live_bench
                got = live_bench.run(work)
            elif part == "pkg":
                import pkg_bench
                got = pkg_bench.run_bench(work)
            elif part == "validate":
                import validate_bench
                got = validate_bench.run(work)
            elif part == "power":
                import power_bench
                got = power_bench.run(work)
            elif part == "study":
                import study_bench
                got = study_bench.run(work)
            else:
                raise SystemExit("unknown bench part %r" % part)
        except Exception as e:  # one broken part must not hide the others' figures
            got = {"bench_error_" + part: str(e)[:300]}
        results.update(got)
        results["bench_%s_s" % part] = round(time.monotonic() - t, 1)
        out_path.write_text(json.dumps(results, indent=1, sort_keys=True))
        for k in sorted(got):
            print("  %-40s %s" % (k, got[k]))
    print("wrote %s" % out_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
