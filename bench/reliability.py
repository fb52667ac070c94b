"""The reliability suite (issue 8): power cuts, cable pulls, bad input, a year of use, security basics.

Runs against simulators (host_tools/sim) in a private data dir and merges its figures into build/bench.json:
    python bench/reliability.py --out build/bench.json [--quick] [--only power,cable,bad,year,security]
The scenario functions are also called with small counts by tests/integration/test_reliability.py.
docs/reliability.md says what each figure means and what the trainer promises.
"""

from __future__ import annotations

import argparse  # noqa: F401
import contextlib  # noqa: F401
import hashlib
import io  # noqa: F401
import json
import os
import random
import re  # noqa: F401
import shutil
import subprocess  # noqa: F401
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from host_tools.calibration import device as caldev  # noqa: E402
from host_tools import deploy as hdeploy  # noqa: E402
from host_tools import routines as hroutines  # noqa: E402
from host_tools.archive import Archive  # noqa: E402
from host_tools.errors import AcuError, InputError, LinkError  # noqa: E402,F401
from host_tools.paths import ensure_device_importable  # noqa: E402
from host_tools.pull import list_device_sessions, pull  # noqa: E402
from host_tools.session import open_session  # noqa: E402
from host_tools.sim import control  # noqa: E402

ensure_device_importable()
from acu import logfmt  # noqa: E402

BIN = Path(sys.executable).parent
SPEED = 50.0          # virtual time runs 50x: a 25 s free press session takes half a second
OP_TIMEOUT_S = 1.5    # host timeout for operations that a power cut or cable pull interrupts

SHORT_ROUTINE = {
    "format": "acu-routine", "version": 1, "name": "rel-short", "title": "reliability", "weekly_goal": 7,
    "steps": [{"type": "press", "point": "HT7", "side": "left", "duration_s": 4},
              {"type": "rest", "duration_s": 1},
              {"type": "press", "point": "HT7", "side": "right", "duration_s": 4}],
}

# one exec: the sha256 of every config file and firmware file, and any *.tmp left behind
_FS_CODE = """\
import os, hashlib, binascii, gc
gc.collect()
def _h(p):
    h = hashlib.sha256()
    b = bytearray(512)
    with open(p, 'rb') as f:
        while True:
            n = f.readinto(b)
            if not n:
                break
            h.update(memoryview(b)[:n])
    return binascii.hexlify(h.digest()).decode()
for _d in _DIRS:
    try:
        _ns = os.listdir(_d)
    except OSError:
        continue
    for _n in _ns:
        _p = _d + '/' + _n
        if _n.endswith('.tmp'):
            print('T', _p)
        elif _d != '/log':
            print('H', _p, _h(_p))
print('END')
"""


def log(msg: str) -> None:
    print(msg, flush=True)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def wait_for(pred, timeout_s: float = 20.0, what: str = "condition", every_s: float = 0.03):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(every_s)
    raise RuntimeError("timed out waiting for " + what)


class Rig:
    """One simulator (its own flash image and archive) in the suite's data dir."""

    def __init__(self, work: Path, name: str, speed: float = SPEED, seed: int = 1, baud: int = 0,
                 flash_blocks: int = 512):
        self.work = work / name
        self.work.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.speed, self.seed, self.baud, self.flash_blocks = speed, seed, baud, flash_blocks
        self.archive_path = self.work / "archive.sqlite"
        self.sim: control.SimControl | None = None
        self.link_retries = 0

    def start(self):
        st = control.start(self.name, flash=str(self.work / "flash.img"), speed=self.speed, baud=self.baud,
                           seed=self.seed, flash_blocks=self.flash_blocks)
        self.sim = control.SimControl(st)
        wait_for(lambda: self.sim.status()["fw_ready"], what="simulator ROM")
        return self

    def stop(self):
        control.stop(self.name)

    @property
    def port(self) -> str:
        return self.sim.port

    def boot(self) -> int:
        return self.sim.status()["boot"]

    def session(self, timeout_s: float = 5.0):
        return open_session(self.port, timeout_s=timeout_s)

    def app_up(self, boot: int) -> bool:
        """The app has run recover() and started its loop on boot `boot` (its first cue is in the trace)."""
        for r in self.sim.trace(boot):
            if r.get("kind") == "note" and r.get("name") == "cue":
                return True
        return False

    def wait_app(self, boot: int, timeout_s: float = 30.0):
        wait_for(lambda: self.app_up(boot), timeout_s, "the app on boot %d (%s)" % (boot, self.name))

    def restart_and_wait(self, s, tries: int = 3):
        """Close a session with a soft reset and wait until the app runs again (the reset is retried
        when the link dropped a byte under load: that is the host's link, not the device's storage)."""
        for i in range(tries):
            b = self.boot()
            self.sim.clear_trace()
            s.close(restart=True)
            try:
                wait_for(lambda b=b: self.boot() > b, 6, "soft reset")
                self.wait_app(self.boot(), 20)
                return
            except RuntimeError:
                if i == tries - 1:
                    raise
                self.link_retries += 1
                s = self.session(10.0)

    def deploy(self):
        s = self.session(10.0)
        try:
            hdeploy.deploy(s, "sim", progress=lambda *_: None)
            hroutines.push(s, json.dumps(SHORT_ROUTINE).encode(), "rel-short.json")
        except BaseException:
            s.close(restart=False)
            raise
        self.restart_and_wait(s)

    def fs_state(self, s, lib: bool = True) -> dict:
        dirs = ("/cfg", "/routines", "/log") + (("/lib/acu", "/lib/boards") if lib else ())
        out = s.exec("_DIRS = %r\n" % (dirs,) + _FS_CODE)
        if "END" not in out:
            raise RuntimeError("file check incomplete: %r" % out[-200:])
        r = {"sha": {}, "tmp": []}
        for ln in out.splitlines():
            p = ln.split()
            if len(p) == 3 and p[0] == "H":
                r["sha"][p[1]] = p[2]
            elif len(p) == 2 and p[0] == "T":
                r["tmp"].append(p[1])
        return r

    # ---- practice ------------------------------------------------------------------------------
    def free_sessions(self, rng: random.Random, n: int, hold_s=(2.5, 8.0)) -> int:
        """A hand profile of n free presses, each a session (2 s of contact starts one, 20 s without
        ends it). Returns its virtual length in ms."""
        segs = []
        total = 0
        for _ in range(n):
            g = rng.randint(3300, 4700)
            hold = int(rng.uniform(*hold_s) * 1000)
            rest = rng.randint(20600, 22000)
            segs += [(150, -1, g, 0), (hold, g, g, rng.choice((0, 40, 150))), (150, -1, 0, 0), (rest, 0, 0, 0)]
            total += 300 + hold + rest
        self.sim.segments(segs)
        return total

    def routine_run(self, rng: random.Random):
        """Start the selected routine with the button and press through it (with wobbles)."""
        self.sim.button("short")
        g = rng.randint(3400, 4600)
        self.sim.segments([(300, -1, g, 0), (rng.randint(2000, 9000), g, g, 120), (400, -1, 0, 0),
                           (1500, 0, 0, 0), (300, -1, g + 300, 0), (20000, g + 300, g + 300, 80)])


# ------------------------------------------------------------------------------------------------
# Power cuts
# ------------------------------------------------------------------------------------------------
class CutState:
    """What the device must still hold: finished sessions by name -> sha256, config file versions."""

    def __init__(self):
        self.sessions: dict[str, str] = {}   # log file -> sha256 of its finished sessions' bytes
        self.finished: dict[str, bytes] = {}  # log file -> those bytes (the device only appends after them)
        self.allowed: dict[str, set[str]] = {}   # path -> the shas it may have after the next cut
        self.cuts = 0
        self.losses = 0
        self.damaged = 0
        self.marked_cut_short = 0
        self.boot_failures = 0
        self.config_torn = 0
        self.tmp_left = 0
        self.checks = 0
        self.open_at_check = 0
        self.kinds: dict[str, int] = {}
        self.notes: list[str] = []
        self.worker_errors = 0
        self.link_retries = 0
        self.open_seen: dict[tuple[str, int], int] = {}  # (log file, session start) -> checks in a row found open

    def figures(self, prefix="rel_") -> dict:
        return {prefix + "power_cuts": self.cuts, prefix + "power_cut_losses": self.losses + self.damaged,
                prefix + "power_cut_boot_failures": self.boot_failures,
                prefix + "power_cut_config_torn": self.config_torn,
                prefix + "power_cut_sessions_marked_cut_short": self.marked_cut_short,
                prefix + "power_cut_checks": self.checks,
                prefix + "power_cut_open_at_check": self.open_at_check,
                prefix + "power_cut_worker_errors": self.worker_errors,
                prefix + "power_cut_by_activity": dict(self.kinds)}


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
    extra_cuts = (1, 2, 3, 4, 5, 6)  # cuts after the first one in a cycle: several per (costly) check
    def setup(self, rng: random.Random):
        self.start()
        self.deploy()
        self.rng = rng
        self.state = CutState()
        self.version = 0
        self.source_deploy = False
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
            self.fw_variant = 2 if getattr(self, "fw_variant", 0) == 1 else 1

            def op(s, n=self.fw_variant):
                _variant.n = n
                hdeploy.deploy(s, "sim", progress=lambda *_: None, install_library=False)
            t, box = _worker(lambda box: self._op(box, op))
            return t, box, {"deploy": set()}
        raise ValueError(kind)

    def _op(self, box, fn):
        s = self.session(5.0)
        s.timeout_s = OP_TIMEOUT_S  # once in: a cut is noticed within this
        s.t.serial.timeout = OP_TIMEOUT_S
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
            self.state.notes.append("revive: %s" % _one_line(e))

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
        if fs["tmp"]:
            st.tmp_left += 1
            st.notes.append("tmp files left after boot: %s" % fs["tmp"])
        shas = fs["sha"]
        # config: every tracked file is one of its allowed versions; then its current one is the base
        for p, allowed in list(st.allowed.items()):
            if p == "deploy" or not allowed:
                continue
            cur = shas.get(p)
            if cur not in allowed:
                st.config_torn += 1
                st.notes.append("%s is neither the old nor the new version" % p)
        fw_shas = firmware_shas()
        for p, h in shas.items():
            if (p.startswith("/lib/acu/") or p.startswith("/lib/boards/")) and h not in fw_shas:
                st.config_torn += 1
                st.notes.append("%s is a torn firmware file" % p)
        st.allowed = {p: {shas[p]} for p in ("/routines/rel-up.json", "/cfg/calib.json", "/cfg/calib.prev.json",
                                                "/cfg/selected", "/routines/rel-short.json") if p in shas}
        # sessions: a log file holds whole sessions back to back; the device only ever appends to it
        on_dev = {e["name"]: e["sha256"] for e in listing}
        for n, old in list(st.finished.items()):
            if n in on_dev:
                if on_dev[n] != st.sessions[n] and not new_files.get(n, b"").startswith(old):
                    st.losses += 1
                    st.notes.append("finished sessions of %s lost or changed" % n)
                continue
            with Archive(self.archive_path) as arc:  # deleted: only after it was archived
                kept = [bytes(r[0]) for r in arc.db.execute("SELECT data FROM files WHERE name = ?", (n,))]
                if not arc.has_sha(st.sessions[n]) and not any(k.startswith(old) for k in kept):
                    st.losses += 1
                    st.notes.append("finished sessions of %s lost or changed" % n)
            del st.finished[n]
            del st.sessions[n]
        for n, data in new_files.items():
            if sha(data) != on_dev[n]:
                st.damaged += 1
                st.notes.append("%s changed while checking" % n)
                continue
            try:
                parts = logfmt.split_sessions(data)
            except logfmt.LogFormatError as e:
                if len(data) <= len(logfmt.file_header()):
                    # created, cut before its file header was written: the next boot removes it
                    parts = []
                else:
                    st.damaged += 1
                    st.notes.append("%s: %s" % (n, e))
                    continue
            closed_to = logfmt.FILE_HEADER_LEN  # the end of the file's finished sessions
            still_open = not parts
            open_key = (n, logfmt.FILE_HEADER_LEN)  # which session is open: its file and where it starts
            for i, (start, end, blob) in enumerate(parts):
                dec = logfmt.decode_session(blob)
                open_only = all(p.startswith(("no session end record", "no session header")) for p in dec["problems"])
                if dec["end"] is None and open_only and i == len(parts) - 1:
                    # not closed yet: the host's Ctrl-C stopped the app while it recorded (or while it
                    # started, before recover() had closed this one; see docs/reliability.md). The next boot
                    # closes it as cut short (or drops it, with no header): checked again then, not counted
                    # as finished. Still open at three checks in a row is damage.
                    still_open = True
                    open_key = (n, start)
                    break
                if dec["end"] is None or dec["problems"] or dec["session"] is None:
                    st.damaged += 1
                    st.notes.append("%s: a session not closed or damaged: %s" % (n, dec["problems"][:2]))
                    break
                closed_to = end
                if dec["end"]["status"] == "cut_short" and end > len(st.finished.get(n, b"")):  # new this check
                    st.marked_cut_short += 1
            # the same session (not a later one appended to the same file) still open three checks in a row
            for key in [k for k in st.open_seen if k[0] == n and k != open_key]:
                del st.open_seen[key]
            if still_open:
                k = st.open_seen.get(open_key, 0) + 1
                st.open_seen[open_key] = k
                st.open_at_check += 1
                if k >= 3:
                    st.damaged += 1
                    st.notes.append("%s: the session at byte %d still not closed after %d boots" % (n, open_key[1], k))
            else:
                st.open_seen.pop(open_key, None)
            if closed_to > logfmt.FILE_HEADER_LEN and closed_to >= len(st.finished.get(n, b"")):
                st.finished[n] = bytes(data[:closed_to])
                st.sessions[n] = sha(st.finished[n]) if closed_to < len(data) else on_dev[n]


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


_VARIANT_MODULES = ("runner", "feedback", "band", "routine", "button")
_variant = threading.local()
_real_plan = hdeploy.plan
_variant_cache: dict[int, dict[str, bytes]] = {}
_variant_lock = threading.Lock()


def variant_plan(n: int) -> dict[str, bytes]:
    """The firmware with a few modules rebuilt byte-different (same behaviour): a deploy that has real
    work to do, like an upgrade, without depending on two firmware versions being compatible."""
    with _variant_lock:
        if n not in _variant_cache:  # built once per run: the firmware of this tree now
            files = dict(_real_plan("sim", False))
            if n:
                tmp = Path(tempfile.mkdtemp(prefix="relfw_"))
                mods = ["acu." + m for m in _VARIANT_MODULES]
                srcs = hdeploy.firmware_sources("sim", {m: hdeploy.source_path(m).read_text()
                                                        + "\n_rel_build = %d\n" % n for m in mods})
                for m in mods:
                    files[hdeploy.module_path(m) + ".mpy"] = hdeploy.compile_source(m, srcs[m], tmp / "cache",
                                                                                   hdeploy.source_path(m))
                shutil.rmtree(tmp, ignore_errors=True)
            _variant_cache[n] = files
        return _variant_cache[n]


def _plan_for_thread(board, source):
    n = getattr(_variant, "n", None)
    return variant_plan(n) if n is not None and board == "sim" and not source else _real_plan(board, source)


hdeploy.plan = _plan_for_thread


_fw_shas: set[str] = set()


def firmware_shas() -> set[str]:
    """Every known build's file digests, computed once per run (the tree does not change meanwhile)."""
    with _variant_lock:
        if _fw_shas:
            return _fw_shas
    shas = {sha(d) for n in (0, 1, 2) for d in variant_plan(n).values()}
    with _variant_lock:
        _fw_shas.update(shas)
    return _fw_shas


MIX = [("logging", 60), ("upload", 10), ("calibration", 10), ("pull", 10), ("deploy", 10)]


def power_cut_worker(work: Path, idx: int, n_cuts: int, seed: int, mix=None) -> CutState:
    rng = random.Random(seed)
    rig = PowerCutRig(work, "rel-cut-%d" % idx, seed=seed % 1000 + 1)
    rig.state = CutState()
    try:
        rig.setup(rng)
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
                rig.state.notes.append("cycle during %s: %s" % (kind, _one_line(e)))
                rig.revive()
    except Exception as e:  # noqa: BLE001 - the set-up failed: a note, not an abort of the whole run
        rig.state.worker_errors += 1
        rig.state.notes.append("worker %d: %s" % (idx, _one_line(e)))
    finally:
        rig.stop()
    rig.state.link_retries = rig.link_retries
    return rig.state


def _one_line(e: BaseException) -> str:
    return ("%s: %s" % (type(e).__name__, e)).splitlines()[0][:200] if str(e) else type(e).__name__


def run_parallel(fn, args_list):
    out = [None] * len(args_list)
    errs = []

    def run(i, a):
        try:
            out[i] = fn(*a)
        except Exception as e:  # noqa: BLE001
            errs.append(e)
    ts = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(args_list)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errs:
        raise errs[0]
    return out


def run_scenarios(jobs) -> list[dict]:
    """Run scenario functions in threads; one that raises gives a note, not an abort of the others."""
    def guarded(fn, a):
        t0 = time.monotonic()
        try:
            f = fn(*a)
        except Exception as e:  # noqa: BLE001
            f = {"_notes_" + fn.__name__: ["%s aborted: %s" % (fn.__name__, _one_line(e))]}
        f["rel_%s_seconds" % fn.__name__.replace("scenario_", "")] = round(time.monotonic() - t0, 1)
        return f
    return run_parallel(guarded, jobs)


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
    fig["rel_power_cut_link_retries"] = sum(getattr(s, "link_retries", 0) for s in states)
    errs = [n for n in total.notes if n.startswith(("cycle during", "worker", "revive"))]
    fig["_notes_power"] = (errs + sorted(set(total.notes) - set(errs)))[:30]
    return fig


# ------------------------------------------------------------------------------------------------
# Sessions made quickly on the device: its own logger driven in the raw REPL with a synthetic clock
# ------------------------------------------------------------------------------------------------
_MAKE_CODE = """\
from acu import logger as _L
import gc
gc.collect()
class _Clk:
    t = 0
    w = 0
    def ticks_ms(self):
        return self.t
    def wall_s(self):
        return self.w
_c = _L._current
_clk = _Clk()
_lg = _L.Logger('/log', _clk, {'device_id': (_c.device_id if _c is not None else '') or 'relsim',
                               'boot_count': _c.boot_count if _c is not None else 0})
for _i in range(_N):
    _clk.t = 1000
    _clk.w = _W0 + _i * _DW
    if _lg.begin_session(routine='rel-short', now_ms=1000) < 0:
        print('FULL')
        break
    _lg.step_begin(0, 'press', 'HT7', 'left', 3000, 5000, _MS // 1000, now_ms=1000)
    _g = 3200
    for _k in range(_MS // 20):
        _clk.t = 1000 + _k * 20
        _g = 3000 + ((_g * 7 + _k * 13) % 2400)
        _lg.sample(_g, _clk.t)
        _lg.poll(_clk.t)
    _lg.step_end(0, 'done', None, now_ms=_clk.t)
    _lg.end_session('completed', _clk.t)
print('NEXT', _lg.next_session_no())
print('FREE', _L._free_bytes_statvfs('/log'))
_L._current = _c
del _lg, _clk, _c
gc.collect()
"""


def make_sessions(s, n: int, length_ms: int = 20000, wall0: int = 1735714800, dwall_s: int = 86400) -> dict:
    """n finished sessions on the device (its own logger, a synthetic clock): {"next", "free", "full"}."""
    out = s.exec("_N = %d\n_MS = %d\n_W0 = %d\n_DW = %d\n" % (n, length_ms, wall0, dwall_s) + _MAKE_CODE,
                 timeout=60)
    r = {"full": "FULL" in out}
    for ln in out.splitlines():
        p = ln.split()
        if len(p) == 2 and p[0] in ("NEXT", "FREE"):
            r[p[0].lower()] = int(p[1])
    if "next" not in r:
        raise RuntimeError("making sessions failed: %r" % out[-200:])
    return r


def archive_numbers(arc: Archive) -> list[int]:
    return [r[0] for r in arc.db.execute("SELECT session_no FROM sessions ORDER BY session_no")]


def check_archive(arc: Archive, device_listing: list, next_no: int) -> tuple[int, int]:
    """(duplicates, gaps): every session number 1..next-1 is in the archive or still on the device, once."""
    nos = archive_numbers(arc)
    dups = len(nos) - len(set(nos))
    have = set(nos) | {int(e["name"][:6]) for e in device_listing}
    gaps = sum(1 for n in range(1, next_no) if n not in have)
    return dups, gaps


# ------------------------------------------------------------------------------------------------
# Cable pulls
# ------------------------------------------------------------------------------------------------
class CableState:
    def __init__(self):
        self.pulls = self.link_errors = self.multiline = self.other_errors = 0
        self.reruns = self.dups = self.gaps = self.deleted_unverified = self.pushes = self.push_torn = 0
        self.completed_uncut = 0
        self.notes: list[str] = []


class CableRig(Rig):
    def setup(self):
        self.start()
        self.deploy()
        self.next_no = 1

    def _op_thread(self, fn):
        box: dict = {}

        def run():
            try:
                s = self.session(5.0)
                s.timeout_s = 1.0  # once in: a pulled cable is noticed within this
                s.t.serial.timeout = 1.0
                box["opened"] = time.monotonic()
                try:
                    fn(s)
                finally:
                    s.close(restart=False)
                box["done"] = time.monotonic()
            except LinkError as e:
                box["link"] = e
            except Exception as e:  # noqa: BLE001 - counted
                box["other"] = e
        t = threading.Thread(target=run, daemon=True)
        t.start()
        return t, box

    def revive(self):
        """After a failed cycle: restart the simulator on the same flash (the archive stays)."""
        try:
            self.stop()
            self.start()
            self.wait_app(self.boot(), 30)
        except Exception as e:  # noqa: BLE001 - the next cycle reports again if it stays broken
            self.st.notes.append("cable revive: %s" % _one_line(e))

    def _rerun(self, fn, what: str):
        """After the cable is back: the same command again completes (a few tries: the first may meet the
        board still answering the cut command)."""
        for i in range(4):
            try:
                s = self.session(10.0)
                try:
                    return fn(s)
                finally:
                    s.close(restart=False)
            except LinkError as e:
                self.st.reruns += 1
                if i == 3:
                    raise RuntimeError("%s re-run failed 4 times: %s" % (what, _one_line(e))) from None
                time.sleep(0.3)

    def cycle(self, rng: random.Random, est_s: float):
        st = self.st
        push = rng.random() < 0.15
        delete = rng.random() < 0.6
        if push:
            data = json.dumps(dict(SHORT_ROUTINE, name="rel-cable",
                                   description="y" * rng.randint(0, 500))).encode()

            def fn(s):
                hroutines.push(s, data, "rel-cable.json")
        else:
            n, ms = rng.randint(1, 4), rng.randint(20000, 90000)
            mk, before = self._rerun(lambda s: (make_sessions(s, n, ms), list_device_sessions(s)), "make")
            self.next_no = mk["next"]

            def fn(s):
                with Archive(self.archive_path) as arc:
                    pull(s, arc, delete=delete)
        t, box = self._op_thread(fn)
        wait_for(lambda: "opened" in box or not t.is_alive(), 15, "the host operation to start")
        time.sleep(rng.uniform(0.0, est_s * 0.8))
        off_ms = rng.randint(200, 1000)
        self.sim.unplug(off_ms)
        st.pulls += 1
        t.join(30)
        if "link" in box:
            st.link_errors += 1
            if "\n" in str(box["link"]).strip():
                st.multiline += 1
        elif "other" in box:
            st.other_errors += 1
            st.notes.append("cable pull: %s" % _one_line(box["other"]))
        else:
            st.completed_uncut += 1
        time.sleep(off_ms / 1000.0 + 0.1)
        self._rerun(fn, "the command")
        if push:
            st.pushes += 1
            got = self._rerun(lambda s: s.sha256("/routines/rel-cable.json"), "hash")
            if got != sha(data):
                st.push_torn += 1
                st.notes.append("routine push re-run left %s" % got)
            return
        after = self._rerun(list_device_sessions, "listing")
        on_dev = {e["name"] for e in after}
        with Archive(self.archive_path) as arc:
            for e in before:
                if e["name"] not in on_dev and arc.raw_sha(e["sha256"]) != e["sha256"]:
                    st.deleted_unverified += 1
                    st.notes.append("%s deleted without a verified archive copy" % e["name"])
            d, g = check_archive(arc, after, self.next_no)
        if d > st.dups or g > st.gaps:
            st.notes.append("after pull %d: %d duplicate(s), %d gap(s)" % (st.pulls, d, g))
        st.dups, st.gaps = max(st.dups, d), max(st.gaps, g)
        if len(after) > 8:
            # keep the device's log short, as a user pulling with --delete does: every listing hashes
            # each file on the device, so a growing log would make each cycle slower than the last
            def clean(s):
                with Archive(self.archive_path) as arc:
                    pull(s, arc, delete=True)
            self._rerun(clean, "clean-up pull")


def cable_worker(work: Path, idx: int, n_pulls: int, seed: int) -> CableState:
    rng = random.Random(seed)
    # a real USB-serial pace (115200 baud): a transfer takes long enough for a pull to land inside it
    rig = CableRig(work, "rel-cable-%d" % idx, seed=seed % 1000 + 1, baud=115200)
    rig.st = CableState()
    try:
        try:
            rig.setup()
        except Exception as e:  # noqa: BLE001 - one more try on a fresh flash before giving up
            rig.st.notes.append("cable set-up %d, retried: %s" % (idx, _one_line(e)))
            rig.stop()
            (rig.work / "flash.img").unlink(missing_ok=True)
            rig.setup()
        # how long an uncut pull of a few sessions takes: the window the pulls are aimed at
        rig._rerun(lambda s: make_sessions(s, 3, 60000), "make")

        def timed(s):
            t0 = time.monotonic()
            with Archive(rig.archive_path) as arc:
                pull(s, arc)
            return time.monotonic() - t0
        est = max(0.05, rig._rerun(timed, "pull"))
        log("cable %d: an uncut pull of 3 sessions takes %.2f s" % (idx, est))
        errors = 0
        while rig.st.pulls < n_pulls and errors < 10:
            try:
                rig.cycle(rng, est)
            except Exception as e:  # noqa: BLE001 - counted and reported; the run goes on
                errors += 1
                rig.st.other_errors += 1
                rig.st.notes.append("cable cycle: %s" % _one_line(e))
                rig.revive()
    except Exception as e:  # noqa: BLE001
        rig.st.other_errors += 1
        rig.st.notes.append("cable worker %d: %s" % (idx, _one_line(e)))
    finally:
        rig.stop()
    return rig.st


def scenario_cable_pulls(work: Path, n_pulls: int = 200, parallel: int = 2, seed: int = 7) -> dict:
    per = (n_pulls + parallel - 1) // parallel
    sts = run_parallel(cable_worker, [(work, i, per, seed * 100 + i) for i in range(parallel)])
    f = {"rel_cable_pulls": sum(s.pulls for s in sts),
         "rel_cable_link_errors_reported": sum(s.link_errors for s in sts),
         "rel_cable_multiline_errors": sum(s.multiline for s in sts),
         "rel_cable_other_errors": sum(s.other_errors for s in sts),
         "rel_cable_completed_before_cut": sum(s.completed_uncut for s in sts),
         "rel_cable_reruns_needed": sum(s.reruns for s in sts),
         "rel_cable_routine_pushes": sum(s.pushes for s in sts),
         "rel_cable_routine_torn": sum(s.push_torn for s in sts),
         "rel_pull_duplicates": sum(s.dups for s in sts),
         "rel_pull_gaps": sum(s.gaps for s in sts),
         "rel_pull_deleted_unverified": sum(s.deleted_unverified for s in sts)}
    f["_notes_cable"] = sorted(set(n for s in sts for n in s.notes))[:20]
    return f


# ------------------------------------------------------------------------------------------------
# A year of use
# ------------------------------------------------------------------------------------------------
def scenario_year(work: Path, days: int = 365, seed: int = 11, session_ms: int = 300000) -> dict:
    """One session a day for `days` days, made by the device's own logger with a synthetic clock (see
    docs/reliability.md), and `pull --delete` every 2-6 days; at the end the archive holds every session
    number the device handed out, once, and `acutrainer report` on it is timed."""
    rng = random.Random(seed)
    rig = Rig(work, "rel-year", seed=seed)
    f: dict = {}
    try:
        rig.start()
        rig.deploy()
        day, pulls, max_used, free0 = 0, 0, 0, None
        next_no = 1
        while day < days:
            n = min(rng.randint(2, 6), days - day)
            s = rig.session(10.0)
            try:
                mk = make_sessions(s, n, session_ms, 1735714800 + day * 86400)
                next_no = mk["next"]
                free0 = mk["free"] if free0 is None else max(free0, mk["free"])
                max_used = max(max_used, free0 - mk["free"])
                with Archive(rig.archive_path) as arc:
                    pull(s, arc, delete=True)
            finally:
                s.close(restart=False)
            day += n
            pulls += 1
        s = rig.session(10.0)
        try:
            listing = list_device_sessions(s)
            free_end = s.call("acu.logadmin", "info", "/log")["free_bytes"]
        finally:
            s.close(restart=True)
        with Archive(rig.archive_path) as arc:
            dups, gaps = check_archive(arc, listing, next_no)
            archived = len(set(archive_numbers(arc)))
        out = work / "year-report"
        t0 = time.monotonic()
        r = subprocess.run([str(BIN / "acutrainer"), "report", "--archive", str(rig.archive_path), "--out", str(out)],
                           capture_output=True, text=True, timeout=120)
        f["rel_year_report_s"] = round(time.monotonic() - t0, 2)
        f["rel_year_report_rc"] = r.returncode
        f["rel_year_days"] = days
        f["rel_year_pulls"] = pulls
        f["rel_year_sessions_archived"] = archived
        f["rel_year_sessions_lost"] = gaps + (days - (next_no - 1) if next_no - 1 < days else 0)
        f["rel_year_duplicates"] = dups
        f["rel_year_flash_max_used_bytes"] = max_used
        f["rel_year_flash_free_end_bytes"] = free_end
        f["rel_year_flash_bounded"] = int(free_end is not None and free0 is not None and free_end >= free0 - 4096)
        if r.returncode != 0:
            f["_notes_year"] = ["report: " + (r.stderr.strip().splitlines() or ["?"])[-1]]
    except Exception as e:  # noqa: BLE001 - a note, not an abort of the whole run
        f.setdefault("rel_year_sessions_lost", -1)
        f["_notes_year"] = ["year: " + _one_line(e)]
    finally:
        rig.stop()
    return f


# ------------------------------------------------------------------------------------------------
# Bad input that comes from a device: not our firmware, a second host, a full flash, corrupt logs
# ------------------------------------------------------------------------------------------------
def _cli_sub(args: list[str], timeout_s: float = 60) -> tuple[int, str, str]:
    try:
        r = subprocess.run([str(BIN / "acutrainer")] + args, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return -9, "", "timed out"
    return r.returncode, r.stdout, r.stderr


class _Tally:
    def __init__(self):
        self.tried = self.crashed = 0
        self.notes: list[str] = []

    def run(self, what: str, args: list[str], expect_ok: bool | None = None, must_say: str | None = None):
        rc, out, err = _cli_sub(args)
        self.tried += 1
        e = err.strip()
        # `doctor` is a report: its findings on stdout and exit 1 are its answer to a board with a problem
        one_line_error = args[0] == "doctor" or (e and "\n" not in e)
        bad = "Traceback" in err or rc < 0 or (rc != 0 and not one_line_error)
        if expect_ok is True and rc != 0 or expect_ok is False and rc == 0:
            bad = True
        if must_say and must_say not in (e + out).lower():
            bad = True
        if bad:
            self.crashed += 1
            self.notes.append("%s: rc %s: %s" % (what, rc, (e or out.strip())[-200:].replace("\n", " | ")))
        return rc, out, err


def scenario_device_bad_inputs(work: Path, seed: int = 13, blank_only: bool = False) -> dict:
    rng = random.Random(seed)
    t = _Tally()
    routine_file = work / "devbad-routine.json"
    routine_file.write_text(json.dumps(SHORT_ROUTINE))
    # 1. a blank board: bare MicroPython, not our firmware: every command says so in one line
    blank = Rig(work, "rel-blank", seed=seed)
    try:
        blank.start()
        p = blank.port
        blank_arc = str(work / "blank.sqlite")
        for args in (["status", "--port", p], ["pull", "--port", p, "--archive", blank_arc],
                     ["routine", "push", str(routine_file), "--port", p], ["routine", "list", "--port", p],
                     ["check", "--weight", "4", "--port", p], ["sync", "--port", p],
                     ["doctor", "--port", p], ["sessions", "--archive", blank_arc]):
            dev = args[0] not in ("sessions", "doctor")  # doctor lists its findings; sessions is host-only
            t.run("blank board: " + args[0], args, expect_ok=False if args[0] != "sessions" else None,
                  must_say="not our firmware" if dev else None)
    except Exception as e:  # noqa: BLE001
        t.notes.append("blank board: " + _one_line(e))
    finally:
        blank.stop()
    if blank_only:
        return {"rel_device_bad_inputs_tried": t.tried, "rel_device_bad_inputs_crashed": t.crashed,
                "_notes_devbad": t.notes[:20]}
    # 2. a second host while one holds the port; 3. corrupt log files; 4. a full flash
    rig = Rig(work, "rel-full", seed=seed + 1, flash_blocks=64)
    try:
        rig.start()
        rig.deploy()
        p = rig.port
        holder = rig.session(10.0)
        try:
            for args in (["status", "--port", p], ["pull", "--port", p, "--archive", str(rig.archive_path)]):
                t.run("second host: " + args[0], args, expect_ok=False)
        finally:
            holder.close(restart=False)
        s = rig.session(10.0)
        try:
            mk = make_sessions(s, 2, 20000)
            # a good log file to corrupt: the newest (sessions share a file up to 32 KB: docs/log-format.md)
            good = s.read_file("/log/" + max(e["name"] for e in list_device_sessions(s)))
            corrupt = set(range(mk["next"], mk["next"] + 6))
            for i in range(6):
                b = bytearray(good)
                if i == 0:
                    b = bytearray(os.urandom(200))
                elif i == 1:
                    b = b[:rng.randrange(1, 20)]
                else:
                    for _ in range(rng.randint(1, 6)):
                        b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
                s.write_file_atomic("/log/%06d.acl" % (mk["next"] + i), bytes(b))
            s.exec("from acu import logger as _L\n_L.write_counter('/log', %d)\n" % (mk["next"] + 6))
        finally:
            s.close(restart=False)
        t.run("corrupt logs: pull", ["pull", "--port", p, "--archive", str(rig.archive_path)], expect_ok=True)
        t.run("corrupt logs: sessions", ["sessions", "--archive", str(rig.archive_path)], expect_ok=True)
        t.run("corrupt logs: export", ["export", "--archive", str(rig.archive_path), "--out", str(work / "devbad-exp")])
        # fill the flash with sessions: the logger stops starting new ones, nothing is deleted
        s = rig.session(10.0)
        try:
            before = {e["name"]: (e["sha256"], e["size"]) for e in list_device_sessions(s)}
            made = 0
            for _ in range(200):
                mk = make_sessions(s, 4, 120000)
                if mk["full"]:
                    break
            made = mk["next"]
            after = {e["name"]: e["sha256"] for e in list_device_sessions(s)}
            # the newest file takes the next sessions (one file holds sessions up to 32 KB): a file that
            # changed must still begin with all it held
            lost = [n for n, (h, size) in before.items() if after.get(n) != h and (
                n not in after or hashlib.sha256(s.read_file("/log/" + n)[:size]).hexdigest() != h)]
        finally:
            s.close(restart=True)
        t.tried += 1
        if lost or not mk["full"]:
            t.crashed += 1
            t.notes.append("full flash: full=%s, changed/lost %s" % (mk["full"], lost[:3]))
        rig.wait_app(rig.boot(), 30)
        rc, out, err = t.run("full flash: status", ["status", "--port", p, "--json"], expect_ok=True)
        rc, pull_out, _ = t.run("full flash: pull --delete",
                                ["pull", "--port", p, "--archive", str(rig.archive_path), "--delete"], expect_ok=True)
        with Archive(rig.archive_path) as arc:
            nos = set(archive_numbers(arc))
        t.tried += 1
        missing = [n for n in range(1, made) if n not in nos and n not in corrupt]
        if missing:
            t.crashed += 1
            said = [ln for ln in pull_out.splitlines() if "%06d" % missing[0] in ln]
            t.notes.append("full flash: %d session(s) not pulled, e.g. %s (pull said: %s)"
                           % (len(missing), missing[:3], " | ".join(said)[:200] or "nothing"))
        t.run("after full flash: pull", ["pull", "--port", p, "--archive", str(rig.archive_path)], expect_ok=True)
    except Exception as e:  # noqa: BLE001
        t.notes.append("device bad inputs: " + _one_line(e))
    finally:
        rig.stop()
    return {"rel_device_bad_inputs_tried": t.tried, "rel_device_bad_inputs_crashed": t.crashed,
            "_notes_devbad": t.notes[:20]}


# ------------------------------------------------------------------------------------------------
# Bad input (host side, in-process through the CLI's own entry point) and security basics
# ------------------------------------------------------------------------------------------------
def _cli(argv: list[str]) -> tuple[int, str, bool]:
    """Run the CLI in-process: (exit code, stderr, crashed?). A crash is any exception escaping main()."""
    from host_tools import cli
    err = io.StringIO()
    out = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            rc = cli.main(argv)
    except SystemExit as e:  # argparse usage errors
        rc = e.code if isinstance(e.code, int) else 2
    except Exception:  # noqa: BLE001 - that is the crash being counted
        return -1, err.getvalue(), True
    return rc, err.getvalue(), False


def _mutations(rng: random.Random, good: bytes, n: int):
    yield b""
    yield b"\xff\xfe\x00garbage"
    yield good[: len(good) // 2]
    yield b"[]"
    yield b"null"
    yield b"{" * 5000
    for _ in range(n):
        b = bytearray(good)
        for _ in range(rng.randint(1, 6)):
            op = rng.random()
            i = rng.randrange(len(b)) if b else 0
            if op < 0.4 and b:
                b[i] = rng.randrange(256)
            elif op < 0.7 and b:
                del b[i:i + rng.randint(1, 8)]
            else:
                b[i:i] = rng.choice([b"9999999", b"-1", b'"x"', b"null", b"1e309", b",", b"\\u0000"])
        yield bytes(b)


def scenario_bad_inputs(work: Path, n_per_kind: int = 60, seed: int = 3) -> dict:
    """Routine, calibration point and press-profile files, log files from a device: mutated and fed to the
    same code the CLI runs. Each must give a one-line error (or be accepted), never a traceback."""
    rng = random.Random(seed)
    d = work / "bad"
    d.mkdir(parents=True, exist_ok=True)
    tried = crashed = multiline = 0
    notes = []
    good_routine = json.dumps(SHORT_ROUTINE).encode()
    good_points = b"grams,raw\n0,4400\n1000,3000\n2000,2500\n3000,2200\n4000,2000\n5000,1850\n"
    good_profile = b"press 4kg for 10s\nrelease\nhold 0 for 2s\n"
    kinds = [("routine", good_routine, ".json", lambda f: ["routine", "validate", f]),
             ("points", good_points, ".csv", lambda f: ["calibrate", "--points", f, "--dry-run", "--sensor", "fsr402"]),
             ("profile", good_profile, ".txt", None)]
    from host_tools.sim import profile as prof
    for kind, good, ext, argv in kinds:
        for i, data in enumerate(_mutations(rng, good, n_per_kind)):
            f = d / ("%s_%d%s" % (kind, i, ext))
            f.write_bytes(data)
            tried += 1
            if argv is None:
                try:
                    prof.parse(data.decode("utf-8", "replace"), str(f))
                except InputError as e:
                    if "\n" in str(e):
                        multiline += 1
                except Exception as e:  # noqa: BLE001
                    crashed += 1
                    notes.append("%s: %r" % (f.name, e))
                continue
            rc, err, crash = _cli(argv(str(f)))
            if crash or (rc != 0 and (err.strip().count("\n") or "Traceback" in err)):
                crashed += 1
                notes.append("%s: rc %s %s" % (f.name, rc, err.strip()[:200]))
    # log files read from a device: truncated, bit-flipped, unknown record types
    from acu import logger as dlogger
    lg_dir = d / "log"
    lg_dir.mkdir(exist_ok=True)
    lg = dlogger.Logger(str(lg_dir), None, {"device_id": "abcd"})
    lg.begin_session("r", now_ms=0)
    for i in range(50):
        lg.sample(4000 + i, i * 5)
        lg.poll(i * 5)
    lg.end_session("completed", 300)
    good_log = (lg_dir / "000001.acl").read_bytes()
    for i in range(n_per_kind * 3):
        b = bytearray(good_log)
        r = rng.random()
        if r < 0.3:
            b = b[: rng.randrange(len(b))]
        elif r < 0.7:
            for _ in range(rng.randint(1, 4)):
                b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        else:
            b += logfmt.record(rng.randint(7, 250), rng.randrange(65536), os.urandom(rng.randint(0, 40)))
            b += good_log[8:]
        tried += 1
        try:
            dec = logfmt.decode_session(bytes(b))
            assert isinstance(dec["problems"], list)
        except logfmt.LogFormatError:
            pass
        except Exception as e:  # noqa: BLE001
            crashed += 1
            notes.append("log mutation %d: %r" % (i, e))
    return {"rel_bad_inputs_tried": tried, "rel_bad_inputs_crashed": crashed,
            "rel_bad_inputs_multiline_errors": multiline, "_notes_bad": notes[:10]}


_EVAL_RE = re.compile(r"(?<![.\w])(?<!def )(eval|exec)\(|\bpickle\b|\bmarshal\b|\bshelve\b|yaml\.load\(|literal_eval")


def host_eval_sites() -> list[str]:
    """Places in host_tools that could evaluate data (eval/exec/pickle...): must be none."""
    out = []
    for f in sorted((REPO / "host_tools").rglob("*.py")):
        if "/sim/rom/" in str(f):
            continue  # the simulated board's own firmware side, not host code
        for i, line in enumerate(f.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if _EVAL_RE.search(code):
                out.append("%s:%d" % (f.relative_to(REPO), i))
    return out


def scenario_security(work: Path) -> dict:
    """Device strings never make paths; archive and exports are private; nothing is evaluated."""
    from host_tools import export as hexport
    d = work / "sec"
    d.mkdir(parents=True, exist_ok=True)
    arc_path = d / "data" / "archive.sqlite"
    hostile = "../../../../tmp/acu_escape"
    from acu import logger as dlogger
    lg_dir = d / "log"
    lg_dir.mkdir(exist_ok=True)
    lg = dlogger.Logger(str(lg_dir), None, {"device_id": hostile, "firmware": "../x", "board": "/etc/passwd"})
    lg.begin_session(hostile, routine_hash="../../h", now_ms=0)
    lg.step_begin(0, "press", "../../p", "/s", 3000, 5000, 5, now_ms=0)
    lg.step_end(0, "done", None, now_ms=10)
    lg.end_session("completed", 20)
    raw = (lg_dir / "000001.acl").read_bytes()
    escapes = 0
    with Archive(arc_path) as arc:
        arc.store(logfmt.decode_session(raw), raw, "000001.acl", device_id=hostile)
        out = d / "export"
        for fmt in ("csv", "json"):
            hexport.export(arc, out, fmt=fmt)
    for p in out.rglob("*"):
        if not str(p.resolve()).startswith(str(out.resolve())):
            escapes += 1
    if Path("/tmp/acu_escape").exists():
        escapes += 1
    bad_perm = 0
    for p in [arc_path, out] + list(out.rglob("*")):
        mode = p.stat().st_mode & 0o777
        if mode & 0o077:
            bad_perm += 1
    # a listing entry with a path in its name is refused by pull before any download
    from host_tools.pull import _valid_entry
    refused = sum(1 for n in ("../000001.acl", "/etc/passwd", "000001.acl/../../x", "..", "000001.acl\x00")
                  if _valid_entry({"name": n, "size": 1, "sha256": "0" * 64}))
    return {"rel_security_path_escapes": escapes, "rel_security_non_private_files": bad_perm,
            "rel_security_bad_names_refused": refused, "rel_security_eval_sites": len(host_eval_sites())}


# ------------------------------------------------------------------------------------------------
# main: run, merge into build/bench.json, print a table
# ------------------------------------------------------------------------------------------------
TARGETS = {"rel_power_cut_losses": 0, "rel_pull_duplicates": 0, "rel_pull_gaps": 0,
           "rel_pull_deleted_unverified": 0, "rel_year_sessions_lost": 0, "rel_cable_routine_torn": 0,
           "rel_cable_multiline_errors": 0, "rel_power_cut_boot_failures": 0, "rel_power_cut_config_torn": 0,
           "rel_bad_inputs_crashed": 0, "rel_security_path_escapes": 0, "rel_security_non_private_files": 0,
           "rel_security_eval_sites": 0}


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
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(REPO / "build" / "bench.json"))
    ap.add_argument("--cuts", type=int, default=500)
    ap.add_argument("--pulls", type=int, default=200)
    ap.add_argument("--parallel", type=int, default=3, help="simulators per scenario (power cuts, cable pulls)")
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--only", default="power,cable,year,devbad,bad,security")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    home = Path(tempfile.mkdtemp(prefix="acu_rel_"))
    os.environ["ACUTRAINER_HOME"] = str(home)
    os.environ.pop("ACUTRAINER_PORT", None)
    only = set(args.only.split(","))
    figures: dict = {}
    t0 = time.monotonic()
    try:
        if "security" in only:
            figures.update(scenario_security(home))
        if "bad" in only:
            figures.update(scenario_bad_inputs(home))
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
    figures["rel_suite_seconds"] = round(time.monotonic() - t0, 1)
    merge_into(Path(args.out), figures)
    print_table(figures)
    for k in sorted(k for k in figures if k.startswith("_notes")):
        for n in figures.get(k, []):
            log("  note: " + n)
    shutil.rmtree(home, ignore_errors=True)
    missed = [k for k, v in TARGETS.items() if k in figures and figures[k] != v]
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
