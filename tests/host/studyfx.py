"""A study archive for the study tests: real sessions written by the device logger (acu.logger, as the
firmware writes them), pulled into a real archive, plus the study, participants and enrolments that the
study-mode archive adds (StudyArchive: the real Archive with those three read methods)."""
import os

from host_tools.archive import Archive
from host_tools.pull import pull
from acu import logger
from acu.band import IN_BAND, NO_CONTACT, OVER, UNDER
from mpcompat import FakeClock

import test_pull as fx

DAY = 86400
START = 1767225600  # 2026-01-01 00:00 UTC, the study's start
DIGEST = "ab" * 32


class StudyArchive(Archive):
    def __init__(self, path, study=None, participants=(), enrolments=()):
        super().__init__(path)
        self._study, self._participants, self._enrolments = study, list(participants), list(enrolments)

    def study_info(self):
        return self._study

    def participants(self):
        return [dict(p) for p in self._participants]

    def enrolments(self):
        return [dict(e) for e in self._enrolments]


def _state(force_g, lo, hi):
    if force_g < 300:
        return NO_CONTACT
    return UNDER if force_g < lo else IN_BAND if force_g <= hi else OVER


def record(log_dir, uid: bytes, no: int, wall: int | None, steps, end="completed", routine="bedtime",
           stall_ms=0, calib_id=""):
    """One session in a file of its own. steps: [(kind, point, [(force_g, seconds), ...])]; a rest has no
    band. stall_ms: the loop stalls this long after the first step (the trace starts a new chunk)."""
    clock = FakeClock(1000)
    clock.wall = wall
    info = {"unique_id": uid, "firmware": "0.1.0", "board": "sim", "boot_count": 1, "calib_id": calib_id}
    lg = logger.Logger(str(log_dir), clock, info, free_bytes_fn=lambda: 1 << 20, volume_bytes=0)
    lg.begin_session(routine, DIGEST, 3000, 5000, now_ms=clock.now, session_no=no)
    for i, (kind, point, holds) in enumerate(steps):
        lo, hi = (0, 0) if kind == "rest" else (3000, 5000)
        st = logger.StepStats()
        lg.step_begin(i, kind, point, "left", lo, hi, sum(s for _, s in holds), clock.now)
        for force_g, seconds in holds:
            for _ in range(seconds * 200):
                lg.sample(force_g, clock.now)
                st.update(_state(force_g, lo or 3000, hi or 5000), force_g, 5)
                lg.poll(clock.now)
                clock.advance(5)
        lg.step_end(i, "done", st, clock.now)
        if i == 0 and stall_ms:
            clock.advance(stall_ms)
    lg.end_session(end, clock.now)
    return lg.path


def pull_device(tmp_path, arc, uid: bytes, sessions):
    """Record sessions [(no, wall, steps, end)] on a device and pull them into arc."""
    dev = fx.FakeSession(tmp_path / ("dev-" + uid.hex()), device_id=uid.hex())
    for no, wall, steps, end in sessions:
        record(dev.log, uid, no, wall, steps, end=end)
    res = pull(dev, arc)
    assert len(res.new) == len(sessions), res
    return dev


def files_under(root) -> list[str]:
    return sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)


# the study the report and export tests share (expected figures are worked out in test_study_report.py)
STUDY = {"name": "Sleep trial", "weekly_goal": 3, "weeks": 4, "start_s": START}
A, B, C, D = b"\xaa\x00\x00\x01", b"\xbb\x00\x00\x02", b"\xcc\x00\x00\x03", b"\xdd\x00\x00\x04"
P02_START = START + 2 * DAY
NOW = START + 15 * DAY
S1 = [("press", "HT7", [(4000, 10)]), ("press", "PC6", [(2000, 5)])]   # HT7 10 s in band, PC6 5 s under
S2 = [("press", "HT7", [(4000, 5)])]
S2_FIRST = [("press", "HT7", [(4000, 5)]), ("rest", "", [(0, 3)]), ("check", "HT7", [(4000, 2), (6000, 2)])]
PARTICIPANTS = [
    {"participant": "P01", "arm": "feedback", "added_s": START - DAY},
    {"participant": "P02", "arm": "no_feedback", "added_s": START - DAY},
    {"participant": "P03", "arm": "sham_band", "added_s": START - DAY},
    {"participant": "P04", "arm": "feedback", "added_s": START - DAY},  # never enrolled
]
ENROLMENTS = [
    {"participant": "P01", "device_id": A.hex(), "arm": "feedback", "start_s": START, "end_s": None},
    {"participant": "P02", "device_id": B.hex(), "arm": "no_feedback", "start_s": P02_START, "end_s": None},
    {"participant": "P03", "device_id": C.hex(), "arm": "sham_band", "start_s": START, "end_s": None},
]


def study_archive(root) -> StudyArchive:
    arc = StudyArchive(root / "archive.sqlite", STUDY, PARTICIPANTS, ENROLMENTS)
    h = 3600
    pull_device(root, arc, A, [(1, START + h, S1, "completed"), (2, START + 2 * DAY + h, S1, "completed"),
                               (3, START + 4 * DAY + h, S1, "completed"), (4, START + 8 * DAY + h, S1, "completed"),
                               (5, START + 10 * DAY + h, [("press", "HT7", [(6000, 5)])], "aborted")])
    pull_device(root, arc, B, [(k + 1, P02_START + d * DAY + h, S2_FIRST if k == 0 else S2, "completed")
                               for k, d in enumerate((1, 3, 5, 8, 9, 10))])
    # device D is in no enrolment: its session belongs to nobody (exported under the device, not reported)
    pull_device(root, arc, D, [(1, START + DAY, S2, "completed")])
    return arc
