"""Power cuts: simulators at 50x speed have their power cut during an activity (logging, a routine upload, a
calibration write, `pull --delete`, a deploy), then a few more times while they boot and record, then the
device is checked (power_check.py; docs/reliability.md)."""

from __future__ import annotations

import json
import random
import threading
import time
from pathlib import Path

from host_tools import deploy as hdeploy
from host_tools import routines as hroutines
from host_tools.archive import Archive
from host_tools.calibration import device as caldev
from host_tools.errors import AcuError, LinkError
from host_tools.pull import list_device_sessions, pull

from .common import OP_TIMEOUT_S, SHORT_ROUTINE, Rig, one_line, run_parallel, sha, wait_for
from .firmware import variant_plan
from .power_check import CutState, check_device

MIX = [("logging", 60), ("upload", 10), ("calibration", 10), ("pull", 10), ("deploy", 10)]


def _worker(fn):
    """Run fn(session) in a thread; a LinkError/DeviceError from the cut is the expected outcome."""
    box = {}

    def run():
        try:
            fn(box)
        except AcuError as e:
            box["error"] = e
        except Exception as e:  # noqa: BLE001 - reported as a failure by the caller
            box["crash"] = e
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, box


class PowerCutRig(Rig):
    """A simulator whose power is cut during an activity, then checked (power_check.py)."""

    extra_cuts = (1, 2, 3, 4, 5, 6)  # cuts after the first one in a cycle: several per (costly) check

    def __init__(self, work: Path, name: str, seed: int, rng: random.Random):
        super().__init__(work, name, seed=seed)
        self.rng = rng
        self.state = CutState()
        self.version = 0  # of the routine and calibration files it writes
        self.fw_variant = 0  # the firmware build deployed last (firmware.py)
        self.calib_base: dict = {}

    def setup(self):
        self.start()
        self.deploy()
        with self.session(10.0) as s:
            hroutines.select_routine(s, "rel-short")
            nominal = s.call("acu.calib", "nominal", "fsr402")
            self.calib_base = nominal
            self._write_calib(s)
            s.keep_repl()
        self.restart_and_wait(self.session(10.0))
        self.verify()   # records the starting versions

    def _calib(self) -> dict:
        d = dict(self.calib_base)
        self.version += 1
        d["id"] = "rel-%d" % self.version
        d["created"] = "2025-01-01T00:00:%02d" % (self.version % 60)
        return d

    def _write_calib(self, s):
        d = self._calib()
        caldev.write_calibration(s, d)

    def _routine_version(self) -> bytes:
        self.version += 1
        r = dict(SHORT_ROUTINE, name="rel-up", title="upload %d" % self.version,
                 description="x" * self.rng.randint(0, 500))
        return json.dumps(r).encode()

    def _start_activity(self, kind: str):
        """Begin an activity; returns (thread, box, expected new file versions) for host operations."""
        if kind == "logging":
            if self.rng.random() < 0.35:
                self.routine_run(self.rng)
            else:
                self.free_sessions(self.rng, self.rng.randint(1, 4))
            return None, None, {}
        if kind == "upload":
            data = self._routine_version()
            t, box = _worker(lambda box: self._op(box, lambda s: hroutines.push(s, data, "rel-up.json")))
            return t, box, {"/routines/rel-up.json": sha(data)}
        if kind == "calibration":
            d = self._calib()
            data = (json.dumps(d, separators=(",", ":")) + "\n").encode()
            cur = self.state.allowed.get("/cfg/calib.json", set())
            t, box = _worker(lambda box: self._op(box, lambda s: caldev.write_calibration(s, d)))
            return t, box, {"/cfg/calib.json": sha(data), "/cfg/calib.prev.json": cur}
        if kind == "pull":
            self.free_sessions(self.rng, 1, hold_s=(2.2, 3.0))
            time.sleep(0.6)

            def op(s):
                with Archive(self.archive_path) as arc:
                    pull(s, arc, delete=True)
            t, box = _worker(lambda box: self._op(box, op))
            return t, box, {}
        if kind == "deploy":
            self.fw_variant = 2 if self.fw_variant == 1 else 1

            def op(s, n=self.fw_variant):
                hdeploy.deploy(s, "sim", progress=lambda *_: None, install_library=False, firmware=variant_plan(n))
            t, box = _worker(lambda box: self._op(box, op))
            return t, box, {"deploy": set()}
        raise ValueError(kind)

    def _op(self, box, fn):
        s = self.session(5.0)
        s.set_timeout(OP_TIMEOUT_S)  # once in: a cut is noticed within this
        box["opened"] = time.monotonic()
        try:
            fn(s)
        except BaseException:
            s.close(restart=False)  # the power is off: no soft reset to wait for
            raise
        box["done"] = time.monotonic()
        s.close(restart=True)

    def cycle(self, kind: str, est_s: float):
        """One check cycle: a cut during `kind`, 0-2 more cuts soon after the reboots, then verify."""
        st = self.state
        self.sim.clear_trace()
        t, box, expect = self._start_activity(kind)
        if t is not None:
            wait_for(lambda: "opened" in box or not t.is_alive(), 15, "the host operation to start")
            time.sleep(self.rng.uniform(0.0, est_s))
        else:
            time.sleep(self.rng.uniform(0.05, 1.6))
        last = self._cut(150)
        st.cuts += 1
        st.kinds[kind] = st.kinds.get(kind, 0) + 1
        if t is not None:
            t.join(30)
            if "crash" in box:
                st.notes.append("%s: host operation crashed: %r" % (kind, box["crash"]))
                st.damaged += 1
            for p, v in expect.items():
                if isinstance(v, set):
                    self.state.allowed.setdefault(p, set()).update(v)
                else:
                    self.state.allowed.setdefault(p, set()).add(v)
        for _ in range(self.rng.choice(self.extra_cuts)):
            # cut again while it boots, recovers the log or records the next practice
            self._wait_reboot(last)
            cur = self.boot()
            if self.rng.random() < 0.5:
                time.sleep(self.rng.uniform(0.0, 0.25))
            else:
                try:
                    wait_for(lambda cur=cur: self.app_up(cur), 10, "app")
                    self.free_sessions(self.rng, 1)
                except RuntimeError:
                    pass
                time.sleep(self.rng.uniform(0.05, 0.8))
            last = self._cut(100)
            st.cuts += 1
            st.kinds["boot/logging"] = st.kinds.get("boot/logging", 0) + 1
        try:
            self._wait_reboot(last)
            self.wait_app(self.boot(), 30)
        except RuntimeError as e:
            st.boot_failures += 1
            st.notes.append("boot failure after a cut during %s: %s" % (kind, e))
            raise
        self.verify(expect, lib=kind == "deploy")

    def revive(self):
        """After a failed cycle: restart the simulator on the same flash, wait for the app, verify."""
        try:
            self.stop()
            self.start()
            self.wait_app(self.boot(), 30)
            self.verify()
        except Exception as e:  # noqa: BLE001 - the next cycle reports again if it stays broken
            self.state.notes.append("revive: %s" % one_line(e))

    def _cut(self, max_off_ms: int) -> int:
        b = self.sim.status()["boot"]
        self.sim.power_cut(off_ms=self.rng.randint(10, max_off_ms))
        return b

    def _wait_reboot(self, cut_boot: int):
        wait_for(lambda: (lambda x: x["boot"] > cut_boot and x["running"])(self.sim.status()), 20, "reboot")

    def verify(self, expect: dict | None = None, lib: bool = True):
        """The device boots, mounts, config files are an old or new whole version, finished sessions are
        intact (on the device or in the archive), sessions recorded since the last check are closed."""
        st = self.state
        st.checks += 1
        for attempt in range(3):
            try:
                return self._verify(expect, lib)
            except LinkError:
                if attempt == 2:
                    raise
                self.link_retries += 1
                time.sleep(0.5)

    def _verify(self, expect, lib):
        """Read what the device holds (then restart its app), and judge it (power_check.check_device)."""
        st = self.state
        s = self.session(10.0)
        try:
            fs = self.fs_state(s, lib)
            listing = list_device_sessions(s)
            new_files = {}
            for e in listing:
                if st.sessions.get(e["name"]) != e["sha256"]:  # new, or sessions appended since
                    new_files[e["name"]] = s.read_file("/log/" + e["name"])
        finally:
            self.restart_and_wait(s)
        check_device(st, fs, listing, new_files, self.archive_path)


def _timed_op(rig: PowerCutRig, kind: str) -> float:
    """How long a host operation takes uncut (the window a cut is aimed at)."""
    t, box, expect = rig._start_activity(kind)
    t.join(60)
    if "error" in box or "crash" in box:
        raise RuntimeError("%s failed without a cut: %s" % (kind, box.get("error") or box.get("crash")))
    rig.wait_app(rig.boot(), 30)
    for p, v in expect.items():
        if not isinstance(v, set):
            rig.state.allowed.setdefault(p, set()).add(v)
    rig.verify()
    return box["done"] - box["opened"]


def power_cut_worker(work: Path, idx: int, n_cuts: int, seed: int, mix=None) -> CutState:
    rng = random.Random(seed)
    rig = PowerCutRig(work, "rel-cut-%d" % idx, seed=seed % 1000 + 1, rng=rng)
    try:
        rig.setup()
        kinds = [k for k, w in (mix or MIX) for _ in range(w)]
        est = {k: _timed_op(rig, k) for k in ("upload", "calibration", "pull", "deploy") if k in kinds}
        errors = 0
        while rig.state.cuts < n_cuts and errors < 10:
            kind = rng.choice(kinds)
            try:
                rig.cycle(kind, est.get(kind, 1.0) * 1.1)
            except Exception as e:  # noqa: BLE001 - counted and reported; the run goes on
                errors += 1
                rig.state.worker_errors += 1
                rig.state.notes.append("cycle during %s: %s" % (kind, one_line(e)))
                rig.revive()
    except Exception as e:  # noqa: BLE001 - the set-up failed: a note, not an abort of the whole run
        rig.state.worker_errors += 1
        rig.state.notes.append("worker %d: %s" % (idx, one_line(e)))
    finally:
        rig.stop()
    rig.state.link_retries = rig.link_retries
    return rig.state


def scenario_power_cuts(work: Path, n_cuts: int = 500, parallel: int = 2, seed: int = 1, mix=None) -> dict:
    """mix: [(kind, weight)] of what the device is doing when the power goes (default MIX: all kinds)."""
    per = (n_cuts + parallel - 1) // parallel
    states = run_parallel(power_cut_worker, [(work, i, per, seed * 100 + i, mix) for i in range(parallel)])
    total = CutState()
    for s in states:
        total.cuts += s.cuts
        total.losses += s.losses
        total.damaged += s.damaged
        total.marked_cut_short += s.marked_cut_short
        total.boot_failures += s.boot_failures
        total.config_torn += s.config_torn
        total.tmp_left += s.tmp_left
        total.checks += s.checks
        total.open_at_check += s.open_at_check
        total.worker_errors += s.worker_errors
        for k, v in s.kinds.items():
            total.kinds[k] = total.kinds.get(k, 0) + v
        total.notes += s.notes
    fig = total.figures()
    fig["rel_power_cut_tmp_left"] = total.tmp_left
    fig["rel_power_cut_link_retries"] = sum(s.link_retries for s in states)
    errs = [n for n in total.notes if n.startswith(("cycle during", "worker", "revive"))]
    fig["_notes_power"] = (errs + sorted(set(total.notes) - set(errs)))[:30]
    return fig
