# What an export tells a researcher about a step's figures (issue 18): partial and reconstructed steps are
# marked, steps without a pressure target have no band figures, a hash cut by an old log is marked, and an
# archive made before these columns existed is opened (and exports them as unknown).
import csv
import json
import sqlite3

from host_tools import archive as archive_mod
from host_tools.archive import Archive
from host_tools.export import export
from host_tools.paths import ensure_device_importable

ensure_device_importable()

from acu import logfmt, logger, logread  # noqa: E402

DIGEST = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


class _Clock:
    def __init__(self):
        self.now = 0

    def ticks_ms(self):
        return self.now

    def wall_s(self):
        return 1700000000 + self.now // 1000


def _hold(lg, clock, ms, force_g, state):
    for _ in range(ms // 5):
        lg.stats.update(state, force_g, 5)
        lg.sample(force_g, clock.now)
        lg.poll(clock.now)
        clock.now += 5


def _cut_session(root):
    """A press step, a rest pressed through, then a press step the power cut: recovered at the next boot."""
    clock = _Clock()
    lg = logger.Logger(str(root), clock, {"device_id": "ab12", "boot_id": 77})
    lg.stats = logger.StepStats()
    lg.begin_session("bedtime", DIGEST, now_ms=0)
    lg.step_begin(0, "press", "HT7", "left", 3000, 5000, 10, clock.now)
    _hold(lg, clock, 10000, 4000, 2)
    lg.step_end(0, "done", lg.stats, clock.now)
    lg.stats.reset()
    lg.step_begin(1, "rest", "", "centre", 0, 0, 5, clock.now)
    _hold(lg, clock, 5000, 4000, 2)
    lg.step_end(1, "done", lg.stats, clock.now)
    lg.stats.reset()
    lg.step_begin(2, "press", "HT7", "right", 3000, 5000, 10, clock.now)
    _hold(lg, clock, 6000, 4000, 2)
    lg.flush(clock.now)
    logger.Logger(str(root), clock, {}).recover()
    with open(lg.path, "rb") as f:
        return f.read()


def _v2_session():
    out = bytearray(logread.file_header(2))
    recs = [(logfmt.T_SESSION, logread.session_payload_v2(9, 1, 0, 1700000000, 3000, 5000, 100, 20, "ab12", "",
                                                          "", "r", DIGEST, "")),
            (logfmt.T_SESSION_END, logread.end_payload(10, logfmt.END_COMPLETED, 0, 0, 0))]
    for seq, (rtype, payload) in enumerate(recs):
        out += logread.record(rtype, seq, payload)
    return bytes(out)


def _archive(tmp_path):
    """An archive holding the cut session (1) and the version 2 one (9)."""
    a = Archive(tmp_path / "a.sqlite")
    for raw, name in ((_cut_session(tmp_path / "log"), "000001.acl"), (_v2_session(), "000009.acl")):
        a.store(logread.decode_session(raw), raw, name, device_id="ab12")
    return a


def test_export_marks_partial_reconstructed_and_no_band_steps(tmp_path):
    a = _archive(tmp_path)
    export(a, tmp_path / "c", "csv")
    rows = list(csv.DictReader(open(tmp_path / "c" / "steps.csv")))
    press, rest, cut = rows[0], rows[1], rows[2]
    assert press["partial"] == "False" and press["reconstructed"] == "False" and float(press["in_s"]) == 10.0
    assert rest["kind"] == "rest" and rest["in_s"] == "" and rest["pct_in_band"] == "" and rest["under_s"] == ""
    assert cut["partial"] == "True" and cut["reconstructed"] == "True" and cut["step_status"] == "cut_short"
    assert 5.8 <= float(cut["in_s"]) <= 6.1 and cut["pct_in_band"] == "100.0" and cut["dose_kg_s"] != ""
    export(a, tmp_path / "j", "json")
    doc = json.load(open(tmp_path / "j" / "steps.json"))
    s1, s9 = doc["sessions"]
    assert s1["routine_hash"] == DIGEST and s1["routine_hash_truncated"] is False
    assert s9["routine_hash"] == DIGEST[:63] and s9["routine_hash_truncated"] is True
    steps = s1["steps"]
    assert steps[1]["in_s"] is None and steps[1]["pct_in_band"] is None
    assert steps[2]["partial"] is True and steps[2]["reconstructed"] is True
    a.close()


def test_an_archive_from_before_the_flags_is_opened_and_its_rests_lose_their_band(tmp_path):
    path = tmp_path / "old.sqlite"
    old = archive_mod.SCHEMA
    for line in ("    routine_hash_truncated INTEGER, -- 1: a log before format 3 kept only 63 of the hash's "
                 "64 hex digits\n",
                 "    partial INTEGER,               -- 1: the step did not run to its end (figures up to the "
                 "stop)\n",
                 "    reconstructed INTEGER,         -- 1: rebuilt from the trace by the reader (the device's "
                 "summary missing)\n",
                 "    no_band INTEGER,               -- 1: no pressure target (rest, breathe, timed): band "
                 "figures NULL\n"):
        assert line in old
        old = old.replace(line, "")
    db = sqlite3.connect(str(path))
    db.executescript(old)
    db.execute("INSERT INTO sessions (id, device_id, session_no, sha256, file_name, size, problems, pulled_at,"
               " raw, wall_start_s, routine_hash) VALUES (1, 'ab', 1, 'x', '000001.acl', 0, '[]', 0, x'', "
               "1700000000, 'abc')")
    # a rest archived by an older acutrainer, with the band time the old firmware counted
    db.execute("INSERT INTO steps (session_id, idx, kind, under_ms, in_ms, over_ms, status)"
               " VALUES (1, 0, 'rest', 1000, 29000, 0, 'done')")
    db.commit()
    db.close()
    a = Archive(path)
    export(a, tmp_path / "j", "json")
    doc = json.load(open(tmp_path / "j" / "steps.json"))
    st = doc["sessions"][0]["steps"][0]
    assert st["in_s"] is None and st["pct_in_band"] is None and st["partial"] is None
    assert doc["sessions"][0]["routine_hash_truncated"] is None
    a.close()


def test_sessions_names_a_session_with_partial_steps(tmp_path):
    from host_tools.commands.sessions import session_lines
    a = _archive(tmp_path)
    lines = session_lines(a)
    assert "1 partial step, rebuilt from the trace" in lines[1]
    assert "partial" not in lines[2]
    a.close()
