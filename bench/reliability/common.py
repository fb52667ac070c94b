"""What the reliability scenarios share: a simulator rig in the suite's data dir, waiting, threads, and
sessions made quickly on the device."""

from __future__ import annotations

import hashlib
import json
import random
import sys
import threading
import time
from pathlib import Path

from host_tools import deploy as hdeploy
from host_tools import routines as hroutines
from host_tools.archive import Archive
from host_tools.session import open_session
from host_tools.sim import control

REPO = Path(__file__).resolve().parents[2]
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


def one_line(e: BaseException) -> str:
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
            f = {"_notes_" + fn.__name__: ["%s aborted: %s" % (fn.__name__, one_line(e))]}
        f["rel_%s_seconds" % fn.__name__.replace("scenario_", "")] = round(time.monotonic() - t0, 1)
        return f
    return run_parallel(guarded, jobs)


# ---- sessions made quickly on the device: its own logger driven in the raw REPL with a synthetic clock
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
print('FREE', _lg.free_bytes())
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
            r[p[0].lower()] = None if p[1] == "None" else int(p[1])  # None: the flash's count overflowed
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
