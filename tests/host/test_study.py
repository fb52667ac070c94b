# Study mode on both kinds of archive (docs/study.md): the study, pseudonymous participants, enrolments of reused
# devices, sessions attributed by device and start time, the arm a device ran checked against its enrolment;
# archive URLs (never a password in an error), the schema's migrations.
import os
import sqlite3

import pytest
import sqlalchemy as sa

import test_pull as fx
from host_tools import archive_db, study
from host_tools.archive import SCHEMA, Archive
from host_tools.cli import main
from host_tools.errors import InputError
from acu import logfmt, logread

DAY = 86400
T0 = 1700000000


def _store(arc, tmp_path, uid: int, no: int, wall: int, arm: int = 0) -> int:
    """A real session of device `uid` starting at `wall`, with an arm event when arm != 0. Its id."""
    d = tmp_path / ("dev%x-%d" % (uid, no))
    os.makedirs(d)
    path, _ = fx.record_session(d, no, wall=wall, seconds=1, steps=1, unique_id=uid.to_bytes(4, "big"))
    raw = open(path, "rb").read()
    if arm:  # the event the firmware writes at a session's start in arm 1 or 2 (acu.app, acu.arms)
        raw += logread.record(logfmt.T_EVENT, 0, logread.event_payload(10, logfmt.EV_ARM, arm))
    sid, new = arc.store(logread.decode_session(raw), raw, path.rsplit("/", 1)[1])
    assert new
    return sid


def test_pseudonymous_ids_only():
    for ok in ("P001", "s2-017", "A.7", "12"):
        assert study.check_participant(ok) == ok
    for bad, why in (("jane@example.org", "e-mail"), ("Jane Doe", "spaces"), ("Alice", "at least one digit"),
                     ("", "at least one digit"), ("-P1", "at least one digit"), ("P" * 40 + "1", "1-32")):
        with pytest.raises(InputError) as ei:
            study.check_participant(bad)
        assert why in str(ei.value) and "\n" not in str(ei.value), bad


def test_sessions_are_attributed_by_device_and_time_on_both_archives(tmp_path, archive_target):
    with Archive(archive_target) as arc:
        assert arc.study_info() is None and arc.participants() == [] and arc.enrolments() == []
        arc.set_study("pilot", 5, 4, T0)
        assert arc.study_info() == {"name": "pilot", "weekly_goal": 5, "weeks": 4, "start_s": T0}
        # device A: P001 from T0 to T0+10 days, then P002 (a reused device); device B: P003 from T0
        arc.enrol("P001", "no_feedback", "000000a1", T0)
        assert arc.enrol("P002", "sham_band", "000000a1", T0 + 10 * DAY)[0]["participant"] == "P001"
        arc.enrol("P003", "feedback", "000000b1", T0)
        before = _store(arc, tmp_path, 0xA1, 1, T0 - DAY)             # before any enrolment
        p1 = _store(arc, tmp_path, 0xA1, 2, T0 + DAY, arm=1)
        edge = _store(arc, tmp_path, 0xA1, 3, T0 + 10 * DAY, arm=2)   # the second enrolment's first second
        p3 = _store(arc, tmp_path, 0xB1, 1, T0 + 2 * DAY)
        got = {s["id"]: s["participant"] for s in arc.sessions()}
        assert got == {before: None, p1: "P001", edge: "P002", p3: "P003"}
        assert arc.session(p1)["participant"] == "P001"
        assert [p["participant"] for p in arc.participants()] == ["P001", "P003", "P002"]  # in order added
        assert [(e["participant"], e["end_s"]) for e in arc.enrolments()] == [
            ("P001", T0 + 10 * DAY), ("P003", None), ("P002", None)]
        with pytest.raises(InputError) as ei:  # a participant's arm is the randomisation's: it never changes
            arc.enrol("P001", "feedback", "000000c1", T0 + 20 * DAY)
        assert "arm no_feedback" in str(ei.value)
        assert arc.unenrol("000000b1", T0 + 30 * DAY)[0]["participant"] == "P003"
        assert arc.unenrol("000000b1", T0 + 31 * DAY) == []
        late = _store(arc, tmp_path, 0xB1, 2, T0 + 30 * DAY)  # after the enrolment ended
        assert arc.session(late)["participant"] is None
        assert arc.device_arms() == {p1: 1, edge: 2}


def test_status_counts_sessions_and_flags_a_device_that_ran_another_arm(tmp_path, archive_target):
    with Archive(archive_target) as arc:
        arc.set_study("pilot", 5, 4, T0)
        arc.enrol("P001", "no_feedback", "000000a1", T0)
        arc.enrol("P002", "feedback", "000000b1", T0)
        _store(arc, tmp_path, 0xA1, 1, T0 + DAY, arm=1)
        changed = _store(arc, tmp_path, 0xA1, 2, T0 + 2 * DAY)        # its arm setting was removed by hand
        _store(arc, tmp_path, 0xB1, 1, T0 + 3 * DAY)
        _store(arc, tmp_path, 0xC1, 1, T0 + 3 * DAY)                   # a device nobody is enrolled with
        st = study.status(arc)
    by = {p["participant"]: p for p in st["participants"]}
    assert by["P001"]["sessions"] == 2 and by["P001"]["last_s"] == T0 + 2 * DAY
    assert by["P001"]["wrong_arm"] == [(changed, "000000a1", "feedback")]
    assert by["P002"]["sessions"] == 1 and by["P002"]["wrong_arm"] == [] and by["P002"]["open_device"] == "000000b1"
    assert st["unattributed"] == 1
    from host_tools.commands.study import status_lines
    text = "\n".join(status_lines(st))
    assert "! session %d from device 000000a1 ran arm feedback, not no_feedback" % changed in text


def test_study_init_and_status_through_the_cli_with_a_url(pg_url, capsys):
    assert main(["--archive", pg_url, "study", "init", "--name", "pilot", "--weekly-goal", "5", "--weeks", "4",
                 "--start", "2026-01-05"]) == 0
    assert main(["--archive", pg_url, "study", "status"]) == 0
    out = capsys.readouterr().out
    assert "study pilot: 5 session(s) a week for 4 week(s) from 2026-01-0" in out
    with Archive(pg_url) as arc:
        assert arc.study_info()["weeks"] == 4


def test_a_password_in_an_archive_url_is_never_shown(capsys, monkeypatch):
    for argv in (["--archive", "postgresql://nurse:Sup3rSecret@127.0.0.1:1/trial", "sessions"],
                 ["--archive", "postgresql://nurse:Sup3rSecret@127.0.0.1:1/trial", "archive", "rebuild"],
                 ["--archive", "mysql://nurse:Sup3rSecret@localhost/trial", "sessions"],
                 ["sessions", "--archive", "postgresql://nurse:Sup3rSecret@[bad/trial"]):
        assert main(argv) != 0
        out = capsys.readouterr()
        assert "Sup3rSecret" not in out.err + out.out and out.err.count("\n") == 1, argv
        assert "nurse" in out.err  # the URL is still named, without its password
    monkeypatch.setenv("ACUTRAINER_ARCHIVE", "postgresql://nurse:Sup3rSecret@127.0.0.1:1/trial")
    assert main(["sessions"]) != 0
    out = capsys.readouterr()
    assert "Sup3rSecret" not in out.err and "cannot be reached" in out.err


def test_archive_targets():
    assert archive_db.parse("sqlite:////tmp/a.sqlite") == ("sqlite", __import__("pathlib").Path("/tmp/a.sqlite"))
    assert archive_db.parse("/tmp/a.sqlite")[0] == "sqlite"
    kind, url = archive_db.parse("postgres://u:p@h:5/db")
    assert kind == "postgresql" and url.startswith("postgresql+psycopg://u:p@h:5/db")
    assert archive_db.redact("postgresql://u:p4ss@h/db") == "postgresql://u:***@h/db"


def test_the_global_option_and_the_setting_choose_the_archive(tmp_path, monkeypatch, capsys):
    a, b = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    assert main(["--archive", "sqlite:///%s" % a, "study", "init", "--name", "A", "--weekly-goal", "3",
                 "--weeks", "2"]) == 0
    monkeypatch.setenv("ACUTRAINER_ARCHIVE", str(b))
    assert main(["study", "init", "--name", "B", "--weekly-goal", "3", "--weeks", "2"]) == 0
    with Archive(a) as x, Archive(b) as y:
        assert x.study_info()["name"] == "A" and y.study_info()["name"] == "B"


def test_an_archive_from_before_migrations_is_brought_up_to_date(tmp_path, pg_url):
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(str(path))
    db.executescript(SCHEMA)  # as acutrainer made it before schema_version (sessions.boot_id was added on open)
    db.commit()
    db.close()
    with Archive(path) as arc:
        assert arc.participants() == [] and arc.count() == 0
        assert arc.db.execute("SELECT version FROM schema_version").fetchone()[0] == archive_db.VERSION
    for target in (path, pg_url):
        with Archive(target) as arc:  # a newer acutrainer's archive is refused, left as it is
            with arc.engine.begin() as c:
                c.execute(sa.text("UPDATE schema_version SET version = 99"))
        with pytest.raises(InputError) as ei:
            Archive(target)
        assert "newer acutrainer" in str(ei.value)


def test_a_database_holding_another_programs_sessions_table_is_refused(pg_url):
    eng = sa.create_engine(archive_db.parse(pg_url)[1])
    with eng.begin() as c:
        c.execute(sa.text("CREATE TABLE sessions (user_id INTEGER, token TEXT)"))
    eng.dispose()
    with pytest.raises(InputError) as ei:
        Archive(pg_url)
    assert "not an acutrainer archive" in str(ei.value)
    eng = sa.create_engine(archive_db.parse(pg_url)[1])
    with eng.connect() as c:
        assert not sa.inspect(c).has_table("steps")  # nothing added to it
    eng.dispose()
