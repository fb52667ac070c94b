"""Study pull bench (`make bench`, --only study): 20 devices' worth of a 4-week programme (20 five-minute bedtime
sessions each, written by the device's own logger under CPython) pulled by 4 concurrent processes into one
archive: a PostgreSQL server (the tests' pgserver, on a Unix socket) and, for comparison, an SQLite file.

What is timed is the archive side of a pull (list, read, verify, decode, store, reconstruct times, raise the
device's counter) with each device's flash as a folder answered by acu.logadmin, as in tests/host/test_pull.py:
the serial link is left out (transfer figures: --only transfer). Sessions are counted after each run: every
one stored once, none lost.

Then the kills: rounds of 4 processes pulling (with --delete) 4 devices each into a new PostgreSQL database,
every process killed (SIGKILL) at a random moment, until at least KILLS processes were killed mid-pull; after
each round one more pull completes the archive, and `study_duplicates` / `study_lost` count the sessions stored
twice or missing from both the archive and the device.

Last, the coordinator's report: 300 participants, each with a device of their own enrolled for a 4-week programme
(5 bedtime sessions a week; every sixth participant falls to 2 a week in weeks 3-4), the sessions written by the
device's logger and pulled into a new PostgreSQL database by 4 processes; `study_report_s` is the wall time of
`acutrainer study report` (a new process, as a coordinator runs it: load from the server, build, the three CSV
files and the HTML page with its plots), the median of REPORT_RUNS runs, as of 2026-01-28 (day 27: week 4 running,
week 3 the last complete one, whose laggards it flags).

run(work) -> {"study_pull_sessions_per_s", "study_pull_sessions_per_s_sqlite", "study_pull_sessions",
              "study_pull_duplicates", "study_pull_lost", "study_kills", "study_duplicates", "study_lost",
              "study_report_s", "study_report_sessions", "study_report_participants"}
"""
from __future__ import annotations

import hashlib
import multiprocessing
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from host_tools.paths import ensure_device_importable  # noqa: E402

ensure_device_importable()
from acu import logadmin, logger, logread, logrecover  # noqa: E402

DEVICES = 20
SESSIONS = 20            # a 4-week programme: 5 sessions a week
PROCESSES = 4
LOOP_MS = 5
STEPS = [("HT7", "left", 60), ("HT7", "right", 60), ("Yin Tang", "centre", 60), ("GB20", "both", 120)]
T0 = 1767225600          # 2026-01-01
CTX = multiprocessing.get_context("fork")


class _Clock:
    def __init__(self, wall0: int):
        self.now = 0
        self.wall0 = wall0

    def ticks_ms(self):
        return self.now & ((1 << 30) - 1)

    def wall_s(self):
        return self.wall0 + self.now // 1000

    def set_wall_s(self, s):
        pass


def _session(log_dir: str, uid: int, no: int, rng: random.Random, loop_ms: int = LOOP_MS,
             week_day: tuple[int, int] | None = None) -> None:
    """One five-minute bedtime session on device uid's flash (holds at ~4 kg, 3 % noise, repositioning).
    week_day: when in the programme (default: the no-th of 5 a week)."""
    week, day = week_day or divmod(no - 1, 5)
    clock = _Clock(T0 + (week * 7 + day) * 86400 + 21 * 3600 + rng.randrange(3600))
    lg = logger.Logger(log_dir, clock, {"unique_id": uid.to_bytes(6, "big"), "firmware": "0.1.0",
                                        "board": "esp32_devkitc", "boot_count": no, "calib_id": "c-study"},
                       free_bytes_fn=lambda: 1 << 22)
    lg.begin_session("bedtime", "9f2c1ab0", 3000, 5000, now_ms=0, session_no=no)
    for idx, (point, side, secs) in enumerate(STEPS):
        lg.step_begin(idx, "press", point, side, 3000, 5000, secs, clock.now)
        st = logger.StepStats()
        target = rng.uniform(3400, 4600)
        for i in range(secs * 1000 // loop_ms):
            f = max(0, int(target * min(1.0, i * loop_ms / 300.0) + rng.gauss(0, 0.03 * target)))
            lg.sample(f, clock.now)
            st.update(2 if 3000 <= f <= 5000 else 1, f, loop_ms)
            lg.poll(clock.now)
            clock.now += loop_ms
        lg.step_end(idx, "done", st, clock.now)
    lg.end_session("completed", clock.now)
    logger._current = None


def _make_device(args) -> None:
    root, uid = args
    log_dir = os.path.join(root, "log")
    os.makedirs(log_dir, exist_ok=True)
    rng = random.Random(uid)
    for no in range(1, SESSIONS + 1):
        _session(log_dir, uid, no, rng)


class DirDevice:
    """A device whose flash is a folder: acu.logadmin's host functions answer (the firmware's own code)."""

    def __init__(self, root: str, uid: int):
        self.log = os.path.join(root, "log")
        self.device_id = "%012x" % uid

    def call(self, module, func, *args):
        if func == "list_sessions":
            return logadmin.list_sessions(self.log, args[1], args[2])
        if func == "info":
            d = logadmin.info(self.log)
            d.update(device_id=self.device_id, boot_count=SESSIONS + 1, ticks_ms=1000, boot_id=None)
            return d
        if func == "raise_next":
            return logadmin.raise_next(args[0], self.log)
        if func == "delete_session":
            return logadmin.delete_session(args[0], args[1], self.log)
        raise ValueError(func)

    def read_file(self, path, have=b""):
        with open(os.path.join(self.log, path[5:]), "rb") as f:
            return f.read()


def _puller(target, devices, barrier, delete=False):
    from host_tools.archive import Archive
    from host_tools.pull import pull
    with Archive(target) as arc:
        barrier.wait(timeout=120)
        for root, uid in devices:
            pull(DirDevice(root, uid), arc, delete=delete)


def _expected(devices) -> set:
    keys = set()
    for root, uid in devices:
        log = os.path.join(root, "log")
        for name in logrecover.session_names(log):  # a file holds one or more sessions
            data = open(os.path.join(log, name), "rb").read()
            for _s, _e, blob in logread.split_sessions(data):
                no = logread.decode_session(blob)["session"]["session_no"]
                keys.add(("%012x" % uid, no, hashlib.sha256(blob).hexdigest()))
    return keys


def pull_rate(target, devices) -> tuple[float, int, int, int]:
    """(sessions per second, stored, duplicates, lost) for PROCESSES processes pulling `devices` into target."""
    from host_tools.archive import Archive
    Archive(target).close()  # the schema first: its making is not what is timed
    barrier = CTX.Barrier(PROCESSES + 1)
    share = [devices[i::PROCESSES] for i in range(PROCESSES)]
    procs = [CTX.Process(target=_puller, args=(target, s, barrier)) for s in share]
    for p in procs:
        p.start()
    barrier.wait(timeout=120)
    t = time.perf_counter()
    for p in procs:
        p.join()
    dt = time.perf_counter() - t
    if any(p.exitcode for p in procs):
        raise RuntimeError("a pull process failed (exit codes %s)" % [p.exitcode for p in procs])
    with Archive(target) as arc:
        keys = arc.session_keys()
    want = _expected(devices)
    return len(keys) / dt, len(keys), len(keys) - len(set(keys)), len(want - set(keys))


KILLS = 50


def kill_rounds(srv, devices, work: Path, seed: int = 21) -> tuple[int, int, int]:
    """(processes killed mid-pull, duplicates, lost) over rounds of killed pulls, each completed by one more."""
    from host_tools.archive import Archive
    rng = random.Random(seed)
    kills = dups = lost = rnd = 0
    while kills < KILLS:
        rnd += 1
        picked = rng.sample(devices, PROCESSES * 4)
        copies = []
        for root, uid in picked:  # a fresh copy of the device's flash: --delete empties it
            dst = work / ("kill%d-%x" % (rnd, uid))
            shutil.copytree(root, dst)
            copies.append((str(dst), uid))
        want = _expected(copies)
        url = srv.new_database()
        Archive(url).close()
        barrier = CTX.Barrier(PROCESSES + 1)
        procs = [CTX.Process(target=_puller, args=(url, copies[i::PROCESSES], barrier, True))
                 for i in range(PROCESSES)]
        for p in procs:
            p.start()
        barrier.wait(timeout=120)
        for p in sorted(procs, key=lambda _: rng.random()):
            time.sleep(rng.uniform(0.0, 0.15))  # a random moment of the pull (a kill, not a synchronisation)
            if p.exitcode is None:
                os.kill(p.pid, signal.SIGKILL)
        for p in procs:
            p.join()
            kills += p.exitcode == -signal.SIGKILL
        with Archive(url) as arc:  # the laptop that pulls again
            for root, uid in copies:
                from host_tools.pull import pull
                pull(DirDevice(root, uid), arc, delete=True)
            keys = arc.session_keys()
        left = _expected(copies)  # still on the devices (nothing should be: the last pull deleted them)
        dups += len(keys) - len(set(keys))
        lost += len(want - set(keys) - left)
        srv.drop_database(url)
    return kills, dups, lost


PARTICIPANTS = 300
REPORT_LOOP_MS = 20      # the generator's loop for the report's data: the trace is 100 ms means either way
REPORT_RUNS = 3
ARMS = ("feedback", "no_feedback", "sham_band")


def participant_plan(i: int) -> list[tuple[int, int]]:
    """(week, day) of participant i's sessions: 5 a week, or 2 a week in weeks 3-4 for every sixth (behind)."""
    return [(w, d) for w in range(4) for d in range(5) if not (i % 6 == 0 and w >= 2 and d >= 2)]


def _make_participant(args) -> None:
    root, uid, i = args
    log_dir = os.path.join(root, "log")
    os.makedirs(log_dir, exist_ok=True)
    rng = random.Random(uid)
    for no, wd in enumerate(participant_plan(i), 1):
        _session(log_dir, uid, no, rng, REPORT_LOOP_MS, wd)


def report_time(srv, work: Path) -> tuple[float, int, int]:
    """(median seconds of `acutrainer study report`, sessions in the archive, participants) for the study above."""
    from host_tools.archive import Archive
    devices = [(str(work / ("p%03d" % i)), 0x246F28100000 + i, i) for i in range(PARTICIPANTS)]
    with CTX.Pool(2) as pool:
        pool.map(_make_participant, devices)
    url = srv.new_database()
    with Archive(url) as arc:
        arc.set_study("bench-300", 5, 4, T0)
        for _root, uid, i in devices:
            arc.enrol("P%03d" % (i + 1), ARMS[i % 3], "%012x" % uid, T0)
    rate, stored, dups, lost = pull_rate(url, [(root, uid) for root, uid, _i in devices])
    want = sum(len(participant_plan(i)) for i in range(PARTICIPANTS))
    if (stored, dups, lost) != (want, 0, 0):
        raise RuntimeError("the report's archive holds %d sessions (%d duplicates, %d lost), not %d"
                           % (stored, dups, lost, want))
    env = dict(os.environ, ACUTRAINER_ARCHIVE=url)
    exe = str(Path(sys.executable).parent / "acutrainer")
    times = []
    for n in range(REPORT_RUNS):
        out = work / ("report%d" % n)
        t = time.perf_counter()
        r = subprocess.run([exe, "study", "report", "--as-of", "2026-01-28", "--out", str(out)], env=env,
                           capture_output=True, text=True, timeout=600)
        times.append(time.perf_counter() - t)
        if r.returncode != 0:
            raise RuntimeError("study report failed: %s" % r.stderr.strip()[-200:])
        rows = (out / "study_participants.csv").read_text().count("\n") - 1
        # as of day 27 the last complete week is week 3: who practised less than 5 times in it is behind
        behind = sum(1 for i in range(PARTICIPANTS) if sum(w == 2 for w, _d in participant_plan(i)) < 5)
        if rows != PARTICIPANTS or "%d participants, %d behind" % (PARTICIPANTS, behind) not in r.stdout:
            raise RuntimeError("study report: %d participants listed, not %d (%s)"
                               % (rows, PARTICIPANTS, r.stdout.splitlines()[0][:120]))
    srv.drop_database(url)
    return statistics.median(times), stored, PARTICIPANTS


def run(work: Path) -> dict:
    work = Path(work) / "study"
    devices = [(str(work / ("dev%02d" % i)), 0x246F28000000 + i) for i in range(DEVICES)]
    with CTX.Pool(2) as pool:  # the flash images, written by the device's logger (not timed)
        pool.map(_make_device, devices)
    from tests.pg_server import PgServer
    srv = PgServer()
    try:
        pg_rate, n, dup, lost = pull_rate(srv.new_database(), devices)
        kills, kdups, klost = kill_rounds(srv, devices, work)
        rep_s, rep_n, rep_p = report_time(srv, work)
    finally:
        srv.stop()
    sq_rate, n2, dup2, lost2 = pull_rate(str(work / "archive.sqlite"), devices)
    return {"study_pull_sessions_per_s": round(pg_rate, 1), "study_pull_sessions_per_s_sqlite": round(sq_rate, 1),
            "study_pull_sessions": n, "study_pull_duplicates": dup + dup2, "study_pull_lost": lost + lost2,
            "study_kills": kills, "study_duplicates": kdups, "study_lost": klost,
            "study_report_s": round(rep_s, 2), "study_report_sessions": rep_n, "study_report_participants": rep_p}
