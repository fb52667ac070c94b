"""Faults on the host: a damaged, locked, read-only, replaced or vanished archive; a full disk; an output folder
that is read-only, a file, missing or empty; device strings that are markup or terminal escapes; absurd
calibration point files; usage errors and Ctrl-C. Each case runs the `acutrainer` CLI as a subprocess (its own
data dir, its own working folder) and checks what a user would see:

- a traceback on stderr, a multi-line error, a signal death or a hang counts in `rel_host_tracebacks`;
- a file left under a final name (not a dot-named temporary) that is not complete (a CSV that does not parse,
  a PNG without its end chunk, a JSON that does not load, an SQLite file that fails its integrity check) counts
  in `rel_host_partial_files`; a file written where none was asked for (the working folder) counts there too;
- a control character from a device string reaching the terminal raw (or a device newline starting a forged
  line) counts in `rel_host_raw_device_text`;
- a case whose outcome is wrong (a read-only archive that cannot be read, a locked archive not named as in
  use, an empty rebuild put in place of an archive) counts in `rel_host_wrong_outcome`.

A full disk is RLIMIT_FSIZE in the child (SIGXFSZ ignored): a write past the limit fails with EFBIG, as a
full disk fails with ENOSPC; both are an OSError at the same write. docs/reliability.md lists the cases.
"""

from __future__ import annotations

import json
import os
import random
import re
import resource
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

from host_tools.archive import Archive
from host_tools.paths import ensure_device_importable

from .common import BIN

ensure_device_importable()
from acu import logger as dlogger  # noqa: E402
from acu import logread  # noqa: E402

# device strings a hostile or broken device could store: markup, terminal escapes, forged lines
HOSTILE = {
    "routine": ["$\\nosuchcmd{x}$", "evil\x1b]0;pwned\x07", "line\nFORGED routine"],
    "point": ["HT7\x1b[2J", "$x^{$", "P\rFORGED"],
    "device_id": "dev\x1b[31mred",
}


class _Clock:
    def __init__(self):
        self.t = 0
        self.w = 0

    def ticks_ms(self):
        return self.t

    def wall_s(self):
        return self.w


def make_archive(path: Path, sessions: int = 6, hostile: bool = True, wall0: int = 1767225600) -> int:
    """An archive of `sessions` finished sessions written by the device's own logger (CPython) and stored
    as a pull stores them; routine/point/device strings hostile when asked. Returns the session count."""
    logdir = path.parent / (path.stem + "_log")
    shutil.rmtree(logdir, ignore_errors=True)
    logdir.mkdir(parents=True)
    clk = _Clock()
    dev = HOSTILE["device_id"] if hostile else "abcd1234"
    lg = dlogger.Logger(str(logdir), clk, {"device_id": dev}, reserve_bytes=0, min_free_bytes=0)
    for i in range(sessions):
        clk.t, clk.w = 1000, wall0 + i * 86400
        routine = HOSTILE["routine"][i % 3] if hostile else "bedtime"
        point = HOSTILE["point"][i % 3] if hostile else "HT7"
        lg.begin_session(routine=routine, now_ms=1000)
        lg.step_begin(0, "press", point, "left", 3000, 5000, 20, now_ms=1000)
        g = 3200
        for k in range(1000):
            clk.t = 1000 + k * 20
            g = 3000 + ((g * 7 + k * 13) % 2400)
            lg.sample(g, clk.t)
            lg.poll(clk.t)
        lg.step_end(0, "done", None, now_ms=clk.t)
        lg.end_session("completed", clk.t)
    with Archive(path) as arc:
        for f in sorted(logdir.glob("*.acl")):
            data = f.read_bytes()
            for _s, _e, blob in logread.split_sessions(data):
                arc.store(logread.decode_session(blob), blob, f.name, device_id=dev)
            arc.store_file(dev, f.name, data)
        n = arc.count()
    shutil.rmtree(logdir, ignore_errors=True)
    return n


# ---- damage ------------------------------------------------------------------------------------------
def _pages(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    ps = int.from_bytes(data[16:18], "big") or 65536
    return ps, len(data) // ps


def garbage_page(path: Path, rng: random.Random, page: int | None = None, part: bool = False) -> int:
    """Overwrite one page (not the first: its header is what makes the file SQLite) with random bytes."""
    ps, n = _pages(path)
    page = rng.randrange(1, n) if page is None else page
    with open(path, "r+b") as f:
        off = page * ps + (rng.randrange(ps // 2) if part else 0)
        f.seek(off)
        f.write(bytes(rng.randrange(256) for _ in range(ps // 8 if part else ps)))
    return page


def _torn_by_lost_journal(path: Path) -> None:
    """A write transaction that spilled pages into the file, then died; its journal (the undo) deleted."""
    code = ("import sqlite3, os, sys\n"
            "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "db.execute('PRAGMA cache_size=2')\n"
            "db.execute('BEGIN')\n"
            "db.execute('UPDATE sessions SET raw = zeroblob(length(raw) + 5000), problems = ?', ('x' * 3000,))\n"
            "db.execute('DELETE FROM traces WHERE chunk % 2 = 0')\n"
            "os._exit(9)\n")
    subprocess.run([str(BIN / "python"), "-c", code, str(path)], timeout=60)
    j = Path(str(path) + "-journal")
    if j.exists():
        j.unlink()


class Locker:
    """Another program holding the archive's write lock (its own process: SQLite's locks are per process)."""

    CODE = ("import sqlite3, sys\n"
            "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "db.execute('BEGIN EXCLUSIVE')\n"
            "print('locked', flush=True)\n"
            "sys.stdin.read()\n"
            "db.execute('ROLLBACK')\n")

    def __init__(self, path: Path):
        self.p = subprocess.Popen([str(BIN / "python"), "-c", self.CODE, str(path)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        if self.p.stdout.readline().strip() != "locked":
            raise RuntimeError("could not lock %s" % path)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.p.stdin.close()
        self.p.wait(timeout=30)


# ---- running the CLI ---------------------------------------------------------------------------------
def _limit_fsize(nbytes: int):
    def pre():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, nbytes))
    return pre


_OK_CTRL = set("\n\t")


def raw_control(text: str) -> int:
    """Control characters that reach the terminal raw (a newline or tab is layout), and forged lines."""
    n = sum(1 for c in text if (ord(c) < 32 or 0x7f <= ord(c) < 0xa0) and c not in _OK_CTRL)
    n += sum(1 for ln in text.splitlines() if ln.startswith("FORGED"))
    return n


def _stamp(p: Path):
    try:
        st = p.stat()
        return st.st_ino, st.st_size, st.st_mtime_ns
    except OSError:
        return None


def _complete(p: Path) -> bool:
    """The file is whole for its kind."""
    try:
        data = p.read_bytes()
        if p.suffix == ".png":
            return data.startswith(b"\x89PNG") and data.endswith(b"IEND\xaeB`\x82")
        if p.suffix == ".json":
            json.loads(data)
            return True
        if p.suffix == ".csv":
            text = data.decode()
            lines = text.split("\n")
            return text.endswith("\n") and len({ln.count(",") for ln in lines[:-1] if '"' not in ln}) <= 1
        if p.suffix == ".html":
            return data.rstrip().endswith(b"</html>")
        if p.suffix == ".sqlite":
            db = sqlite3.connect("file:%s?mode=ro" % p, uri=True)
            try:
                return db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            finally:
                db.close()
    except (OSError, ValueError, sqlite3.DatabaseError):
        return False
    return True


class HostFaults:
    def __init__(self, work: Path):
        self.work = work / "hostfaults"
        shutil.rmtree(self.work, ignore_errors=True)
        self.work.mkdir(parents=True)
        self.cwd = self.work / "cwd"   # the CLI's working folder: nothing may appear here
        self.cwd.mkdir()
        self.env = dict(os.environ, ACUTRAINER_HOME=str(self.work / "home"), COLUMNS="120")
        self.env.pop("ACUTRAINER_DEBUG", None)
        self.env.pop("ACUTRAINER_PORT", None)
        self.cases = self.tracebacks = self.partial = self.raw_text = self.wrong = self.rebuild_lost = 0
        self.moved_caught = 0  # pulls stopped because their archive was removed or replaced under them
        self.notes: list[str] = []
        self.by_fault: dict[str, int] = {}
        self._n = 0
        # as root, file modes do not bind: the child drops the capabilities that override them, and meets
        # read-only files and folders as a user's acutrainer does
        self.prefix: list[str] = []
        if os.geteuid() == 0 and shutil.which("setpriv"):
            self.prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", "--"]

    def fresh(self, name: str, hostile: bool = True, sessions: int = 6) -> Path:
        p = self.work / name / "archive.sqlite"
        p.parent.mkdir(parents=True, exist_ok=True)
        make_archive(p, sessions, hostile)
        return p

    def outdir(self) -> Path:
        self._n += 1
        return self.work / "out" / str(self._n)

    def run(self, fault: str, args: list[str], expect_rc=None, must_say: str | None = None,
            outs: tuple = (), fsize: int | None = None, sigint_after_s: float | None = None,
            timeout_s: float = 120, during=None):
        """One case. expect_rc: an int, a tuple of ints, or None (any clean exit)."""
        self.cases += 1
        self.by_fault[fault] = self.by_fault.get(fault, 0) + 1
        argv = self.prefix + [str(BIN / "acutrainer")] + [str(a) for a in args]
        pre = _limit_fsize(fsize) if fsize is not None else None
        before = {f: (_stamp(f), _complete(f)) for d in outs for f in self._files(Path(d))}
        p = subprocess.Popen(argv, cwd=self.cwd, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, errors="replace", preexec_fn=pre)
        try:
            if sigint_after_s is not None:
                time.sleep(sigint_after_s)
                p.send_signal(signal.SIGINT)
            if during is not None:  # (delay s, action): something done to the files while the command runs
                time.sleep(during[0])
                during[1]()
            out, err = p.communicate(timeout=timeout_s)
            rc = p.returncode
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
            rc = -999
        what = "%s: %s" % (fault, " ".join(str(a) for a in args[:3]))
        e = err.strip()
        bad = []
        if "Traceback" in err or rc < 0 or (rc != 0 and "\n" in e):
            self.tracebacks += 1
            bad.append("traceback/multi-line (rc %s)" % rc)
        ok_rc = expect_rc is None or rc == expect_rc or (isinstance(expect_rc, tuple) and rc in expect_rc)
        if not ok_rc or (must_say and must_say.lower() not in (e + out).lower()):
            self.wrong += 1
            bad.append("outcome rc %s, wanted %s%s" % (rc, expect_rc, " saying %r" % must_say if must_say else ""))
        n_raw = raw_control(out + err)
        if n_raw:
            self.raw_text += 1
            bad.append("%d raw control char(s)/forged line(s)" % n_raw)
        # files the command made, or changed when they were whole (a damaged archive it was given, or kept
        # as .damaged-<time>, is neither)
        partial = [f for d in outs for f in self._files(Path(d))
                   if (f not in before or (before[f][0] != _stamp(f) and before[f][1]))
                   and ".damaged-" not in f.name and not _complete(f)]
        partial += list(self._files(self.cwd))
        for f in self._files(self.cwd):
            f.unlink()
        if partial:
            self.partial += 1
            bad.append("incomplete file(s) at final names: %s" % ", ".join(f.name for f in partial[:3]))
        if bad:
            self.notes.append("%s: %s: %s" % (what, "; ".join(bad), (e or out.strip())[-160:].replace("\n", " | ")))
        return rc, out, err

    @staticmethod
    def _files(d: Path):
        if not d.is_dir():
            return []
        return [f for f in d.rglob("*") if f.is_file() and not f.name.startswith(".")]

    def figures(self, seconds: float) -> dict:
        return {"rel_host_cases": self.cases, "rel_host_tracebacks": self.tracebacks,
                "rel_host_partial_files": self.partial, "rel_host_raw_device_text": self.raw_text,
                "rel_host_wrong_outcome": self.wrong, "rel_host_rebuild_sessions_lost": self.rebuild_lost,
                "rel_host_pull_archive_moved_caught": self.moved_caught,
                "rel_host_cases_by_fault": dict(sorted(self.by_fault.items())),
                "rel_host_seconds": round(seconds, 1), "_notes_host": self.notes[:30]}


READERS = (("sessions",), ("report", "--out"), ("export", "--out"), ("export", "--format", "json", "--out"))


def _readers(h: HostFaults, fault: str, arc: Path, expect_rc=None, must_say=None, fsize=None):
    for r in READERS:
        args = list(r)
        outs: tuple = ()
        if args[-1] == "--out":
            o = h.outdir()
            args.append(o)
            outs = (o,)
        h.run(fault, args + ["--archive", arc], expect_rc=expect_rc, must_say=must_say, outs=outs, fsize=fsize)


def _damaged(h: HostFaults, rng: random.Random, n_garbage: int):
    """Garbage in pages, a torn header, a truncated file, a file that is not SQLite, a lost journal: every
    reader gives one line or its output; check names the damage; rebuild recovers what it can and never
    puts an empty archive in place of one."""
    base = h.fresh("damaged_base", sessions=8)
    variants = []
    for i in range(n_garbage):
        variants.append(("garbage page", lambda p, i=i: garbage_page(p, rng, part=bool(i % 3 == 2))))
    variants += [("garbage schema page", lambda p: garbage_page(p, rng, page=0, part=True)),
                 ("truncated", lambda p: os.truncate(p, p.stat().st_size // 2)),
                 ("header zeroed", lambda p: p.write_bytes(bytes(100) + p.read_bytes()[100:])),
                 ("not sqlite", lambda p: p.write_bytes(os.urandom(9000))),
                 ("empty file", lambda p: p.write_bytes(b"")),
                 ("journal deleted", _torn_by_lost_journal)]
    for k, (fault, damage) in enumerate(variants):
        d = h.work / ("damaged_%d" % k)
        d.mkdir()
        arc = d / "archive.sqlite"
        shutil.copy(base, arc)
        damage(arc)
        _readers(h, "damaged archive (%s)" % fault, arc)
        h.run("damaged archive (%s)" % fault, ["archive", "check", "--archive", arc], expect_rc=(0, 1, 2))
        rb = d / "rebuilt.sqlite"
        rc, out, _ = h.run("damaged archive (%s)" % fault, ["archive", "rebuild", "--archive", arc, "--out", rb],
                           outs=(d,))
        m = re.search(r": (\d+) session\(s\)", out)
        got = int(m.group(1)) if rc == 0 and m else 0
        if fault not in ("empty file", "not sqlite", "truncated"):  # truncated: the rows may be in the lost half
            h.rebuild_lost += 8 - got
            if got < 8:
                h.notes.append("%s: rebuild recovered %d of 8 sessions" % (fault, got))
        before = arc.read_bytes()
        rc, out, _ = h.run("damaged archive (%s)" % fault, ["archive", "rebuild", "--archive", arc, "--replace"],
                           outs=(d,))
        if arc.exists() and arc.read_bytes() != before:
            with Archive(arc) as a:
                if a.count() == 0:
                    h.wrong += 1
                    h.notes.append("%s: rebuild --replace put an empty archive in place" % fault)
        elif not arc.exists():
            h.wrong += 1
            h.notes.append("%s: rebuild --replace left no archive" % fault)


def _locked(h: HostFaults):
    arc = h.fresh("locked", hostile=False)
    with Locker(arc):
        for r in (("sessions",), ("export", "--out", h.outdir()), ("archive", "check"),
                  ("archive", "rebuild", "--out", h.work / "locked" / "rebuilt.sqlite"),
                  ("pull", "--port", h.work / "no-such-port")):
            h.run("locked archive", list(r) + ["--archive", arc], expect_rc=1, must_say="in use")


def _read_only(h: HostFaults):
    arc = h.fresh("readonly")
    os.chmod(arc, 0o400)
    _readers(h, "read-only archive", arc, expect_rc=0)
    h.run("read-only archive", ["archive", "check", "--archive", arc], expect_rc=0)
    ro_dir = h.fresh("readonly_dir")
    os.chmod(ro_dir.parent, 0o500)
    try:
        _readers(h, "archive in a read-only folder", ro_dir, expect_rc=0)
    finally:
        os.chmod(ro_dir.parent, 0o700)
        os.chmod(arc, 0o600)


def _paths(h: HostFaults):
    d = h.work / "paths"
    d.mkdir()
    foreign = d / "other.sqlite"
    db = sqlite3.connect(str(foreign))
    db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    db.execute("INSERT INTO notes (body) VALUES ('not ours')")
    db.commit()
    db.close()
    schema_before = foreign.read_bytes()
    _readers(h, "another program's SQLite file", foreign, expect_rc=2, must_say="not an acutrainer archive")
    if foreign.read_bytes() != schema_before:
        h.wrong += 1
        h.notes.append("another program's SQLite file was changed")
    text = d / "notes.txt"
    text.write_text("just some text\n" * 50)
    _readers(h, "a text file as the archive", text, expect_rc=2)
    _readers(h, "a folder as the archive", d, expect_rc=2)
    h.run("archive in a missing folder", ["sessions", "--archive", d / "new" / "deeper" / "archive.sqlite"],
          expect_rc=0)
    h.run("archive check of a missing archive", ["archive", "rebuild", "--archive", d / "none.sqlite"], expect_rc=1)


def _outputs(h: HostFaults):
    arc = h.fresh("outputs")
    ro = h.work / "ro_out"
    ro.mkdir(mode=0o500)
    afile = h.work / "a_file"
    afile.write_text("x")
    for cmd in (["export"], ["report"], ["report", "--html"]):
        h.run("output folder read-only", cmd + ["--archive", arc, "--out", ro], expect_rc=1, outs=(ro,))
        h.run("output folder under a read-only one", cmd + ["--archive", arc, "--out", ro / "sub"], expect_rc=1)
        h.run("output folder is a file", cmd + ["--archive", arc, "--out", afile], expect_rc=2)
        h.run("output folder is empty", cmd + ["--archive", arc, "--out", ""], expect_rc=2)
        o = h.outdir() / "missing" / "deeper"
        h.run("output folder missing (created)", cmd + ["--archive", arc, "--out", o], expect_rc=0, outs=(o,))
    os.chmod(ro, 0o700)


def _disk_full(h: HostFaults, rng: random.Random, n: int):
    arc = h.fresh("diskfull", sessions=8)
    size = arc.stat().st_size
    for i in range(n):
        limit = rng.choice([0, 200, 1500, 6000, 20000, 60000, size // 2])
        for cmd in (["export"], ["export", "--format", "json"], ["report", "--html"]):
            o = h.outdir()
            h.run("disk full (%d bytes left)" % limit, cmd + ["--archive", arc, "--out", o], expect_rc=(0, 1),
                  outs=(o,), fsize=limit)
        rb = h.work / "diskfull" / ("rebuilt_%d.sqlite" % i)
        h.run("disk full (%d bytes left)" % limit, ["archive", "rebuild", "--archive", arc, "--out", rb],
              expect_rc=(0, 1), outs=(rb.parent,), fsize=limit)
        new = h.work / "diskfull" / ("new_%d" % i) / "archive.sqlite"
        h.run("disk full (%d bytes left)" % limit, ["sessions", "--archive", new], expect_rc=(0, 1), fsize=limit)


def _device_text(h: HostFaults):
    """Routine and point names that are mathtext or terminal escapes, a device id with a colour code."""
    arc = h.fresh("device_text")
    _readers(h, "device strings: markup, escapes, newlines", arc, expect_rc=0)
    o = h.outdir()
    rc, out, _ = h.run("device strings: markup, escapes, newlines", ["report", "--archive", arc, "--out", o],
                       expect_rc=0, outs=(o,))
    if rc == 0 and not any(o.glob("*.png")):
        h.wrong += 1
        h.notes.append("report with markup device strings drew no plot")
    with Archive(arc) as a:
        ids = [s["id"] for s in a.sessions()]
    for sid in ids[:3]:
        h.run("device strings: markup, escapes, newlines", ["report", "--archive", arc, "--out", h.outdir(),
                                                            "--session", sid], expect_rc=0)


def _points(h: HostFaults):
    d = h.work / "points"
    d.mkdir()
    files = {
        "deep.json": "[" * 100000 + "]" * 100000,
        "deep_obj.json": '{"points":' + "[" * 100000 + "]" * 100000 + "}",
        "light.csv": "grams,raw\n0,4400\n1,4399\n2,4398\n3,4397\n",
        "same_raw.csv": "grams,raw\n0,4400\n500,3000\n1000,3000\n2000,3000\n",
        "one_point.csv": "grams,raw\n0,4400\n1000,3000\n",
        "huge_values.csv": "grams,raw\n0,4400\n1e308,3000\n2e308,2000\n",
        "nan.csv": "grams,raw\n0,4400\nnan,3000\n1000,nan\n",
        "negative_raw.csv": "grams,raw\n0,-5\n1000,-99999999\n2000,-1\n",
        "rising.csv": "grams,raw\n0,1000\n1000,2000\n2000,1500\n3000,2500\n",
        "two_million.csv": None,
    }
    for name, text in files.items():
        p = d / name
        if text is None:
            with open(p, "w") as f:
                f.write("grams,raw\n0,4400\n")
                row = "".join("%d,%d\n" % (100 + i % 4900, 4000 - i % 3000) for i in range(10000))
                for _ in range(200):
                    f.write(row)
        else:
            p.write_text(text)
        h.run("calibration points: %s" % name, ["calibrate", "--points", p, "--dry-run", "--sensor", "fsr402"],
              expect_rc=(0, 2, 5), timeout_s=60)


def _usage_and_interrupts(h: HostFaults, rng: random.Random, n: int = 5):
    for args in (["nosuchcommand"], ["export", "--format", "xml"], ["report", "--goal", "many"],
                 ["sessions", "--no-such-option"], ["archive", "nosuch"], ["calibrate", "--points"]):
        h.run("usage error", args, expect_rc=2)
    arc = h.fresh("interrupt", sessions=20)
    # from 0.3 s on: earlier, the interpreter itself is still starting (its default handler is not ours)
    for delay in [0.3, 0.8, 1.5, 2.5][:n] + [rng.uniform(0.3, 3.0) for _ in range(n - 4)]:
        h.run("Ctrl-C", ["report", "--html", "--archive", arc, "--out", h.outdir()], expect_rc=(0, 130),
              sigint_after_s=delay)
        o = h.outdir()
        o.mkdir(parents=True)
        h.run("Ctrl-C", ["archive", "rebuild", "--archive", arc, "--out", o / "r.sqlite"], expect_rc=(0, 130),
              sigint_after_s=0.3 + delay / 4, outs=(o,))


def _data_page(arc: Path) -> int:
    """A page of the traces table (0-based), to damage without touching the sessions SQLite must read."""
    db = sqlite3.connect(str(arc))
    try:
        pages = [r[0] for r in db.execute("SELECT pageno FROM dbstat WHERE name = 'traces' AND pagetype = 'leaf'")]
    except sqlite3.DatabaseError:
        pages = []
    finally:
        db.close()
    return (pages[-1] if pages else _pages(arc)[1]) - 1


def _pull_faults(h: HostFaults, rng: random.Random, n_moved: int):
    """`pull --delete` from a simulator into a damaged, locked, read-only or full archive, and into one removed or
    replaced while it runs: one line, and no device copy deleted unless the archive that holds it is in place."""
    from host_tools.pull import list_device_sessions

    from .common import Rig, make_sessions
    rig = Rig(h.work, "rel-hostpull", seed=rng.randrange(1000), baud=115200)
    try:
        rig.start()
        rig.deploy()

        def device_files(add: int = 0) -> set:
            s = rig.session(10.0)
            try:
                if add:
                    make_sessions(s, add, 20000)
                return {(e["name"], e["sha256"]) for e in list_device_sessions(s)}
            finally:
                s.close(restart=False)

        def pull(fault, arc, must_say=None, expect_rc=1, fsize=None, move=None):
            before = device_files(add=2)
            if move is None:
                rc, out, err = h.run(fault, ["pull", "--delete", "--port", rig.port, "--archive", arc],
                                     expect_rc=expect_rc, must_say=must_say, outs=(arc.parent,), fsize=fsize)
            else:
                rc, out, err = h.run(fault, ["pull", "--delete", "--port", rig.port, "--archive", arc],
                                     expect_rc=(0, 1), outs=(arc.parent,), during=move)
                if rc == 1 and ("was removed" in err or "was replaced" in err):
                    h.moved_caught += 1
                    must_say = "nothing deleted"
                    if must_say not in err:
                        h.wrong += 1
                        h.notes.append("%s: %s" % (fault, err.strip()[-200:]))
            after = device_files()
            if rc != 0 and not before <= after:
                h.wrong += 1
                h.notes.append("%s: a failed pull deleted %d device file(s)" % (fault, len(before - after)))
            return rc

        arc = h.fresh("pull_damaged", hostile=False)
        garbage_page(arc, rng, page=_data_page(arc))
        pull("pull --delete into a damaged archive", arc, must_say="nothing deleted", expect_rc=(0, 1))
        arc = h.fresh("pull_locked", hostile=False)
        with Locker(arc):
            pull("pull --delete into a locked archive", arc, must_say="in use")
        arc = h.fresh("pull_readonly", hostile=False)
        os.chmod(arc, 0o400)
        pull("pull --delete into a read-only archive", arc, must_say="cannot be written")
        os.chmod(arc, 0o600)
        arc = h.fresh("pull_full", hostile=False)
        pull("pull --delete with the disk full", arc, fsize=arc.stat().st_size + 1024, expect_rc=(0, 1))
        for i in range(n_moved):
            arc = h.fresh("pull_moved_%d" % i, hostile=False)
            other = arc.with_name("other.sqlite")
            shutil.copy(arc, other)
            if i % 2:
                def move(arc=arc, other=other):
                    os.replace(other, arc)
            else:
                def move(arc=arc, other=other):
                    arc.unlink()
            pull("archive %s mid-pull" % ("replaced" if i % 2 else "removed"), arc,
                 move=(rng.uniform(0.5, 2.5), move))
    finally:
        rig.stop()


def scenario_host(work: Path, n_garbage: int = 12, n_full: int = 4, n_interrupts: int = 5, n_moved: int = 6,
                  sim: bool = True, seed: int = 17) -> dict:
    """Every host-side fault (the counts scale the random ones). Small counts run in tests/integration."""
    t0 = time.monotonic()
    rng = random.Random(seed)
    h = HostFaults(work)
    parts = [lambda: _damaged(h, rng, n_garbage), lambda: _locked(h), lambda: _read_only(h),
             lambda: _paths(h), lambda: _outputs(h), lambda: _disk_full(h, rng, n_full),
             lambda: _device_text(h), lambda: _points(h), lambda: _usage_and_interrupts(h, rng, n_interrupts)]
    if sim:
        parts.append(lambda: _pull_faults(h, rng, n_moved))
    for part in parts:
        part()
    shutil.rmtree(h.work, ignore_errors=True)
    return h.figures(time.monotonic() - t0)
