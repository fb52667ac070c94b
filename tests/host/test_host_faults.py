# Host faults (issue 17): each fix the host-fault scenario found, then the scenario itself with small counts.
import os
import random
import shutil
import sqlite3
import stat
import warnings

import pytest
from test_pull import FakeSession, record_session

from bench.reliability import host_faults as hf
from host_tools import archive_carve, archive_repair, cli, plots
from host_tools.archive import Archive, _private_file
from host_tools.errors import AcuError, InputError
from host_tools.pull import pull
from acu import logrecover


@pytest.fixture
def hostile(tmp_path):
    p = tmp_path / "archive.sqlite"
    assert hf.make_archive(p, sessions=8) == 8
    return p


def test_rebuild_carves_sessions_below_a_garbage_interior_page(hostile, tmp_path):
    db = sqlite3.connect(str(hostile))
    interior = [r[0] for r in db.execute("SELECT pageno FROM dbstat WHERE name = 'sessions' AND pagetype = "
                                         "'internal'")] if _has_dbstat(db) else []
    db.close()
    rng = random.Random(5)
    for page in interior or [1]:
        hf.garbage_page(hostile, rng, page=page - 1 if interior else page)
    r = archive_repair.rebuild(hostile, tmp_path / "rebuilt.sqlite")
    assert r.sessions == 8
    with Archive(tmp_path / "rebuilt.sqlite") as a:
        assert a.count() == 8 and a.integrity_problems() == []


def _has_dbstat(db) -> bool:
    try:
        db.execute("SELECT 1 FROM dbstat LIMIT 1")
        return True
    except sqlite3.DatabaseError:
        return False


def test_carve_reads_rows_without_sqlite(hostile):
    found = archive_carve.carve(hostile.read_bytes())
    assert len(found["sessions"]) == 8 and len(found["files"]) == 1
    assert archive_carve.carve(os.urandom(20000)) == {"sessions": [], "files": []}


def test_a_rebuild_that_recovers_nothing_is_refused_and_writes_nothing(tmp_path):
    junk = tmp_path / "archive.sqlite"
    junk.write_bytes(os.urandom(9000))
    with pytest.raises(AcuError, match="no session could be recovered"):
        archive_repair.rebuild(junk, tmp_path / "rebuilt.sqlite")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archive.sqlite"]


def test_rebuild_after_a_lost_journal_recovers_from_the_device_files(hostile, tmp_path):
    hf._torn_by_lost_journal(hostile)
    r = archive_repair.rebuild(hostile, tmp_path / "rebuilt.sqlite")
    assert r.sessions == 8


def test_another_programs_sqlite_file_is_refused_and_left_unchanged(tmp_path):
    p = tmp_path / "notes.sqlite"
    db = sqlite3.connect(str(p))
    db.execute("CREATE TABLE notes (body TEXT)")
    db.commit()
    db.close()
    before = p.read_bytes()
    with pytest.raises(InputError, match="not an acutrainer archive"):
        Archive(p)
    assert p.read_bytes() == before


def test_a_read_only_archive_stays_read_only(tmp_path):
    p = tmp_path / "archive.sqlite"
    Archive(p).close()
    os.chmod(p, 0o400)
    _private_file(p)
    assert stat.S_IMODE(p.stat().st_mode) == 0o400
    os.chmod(p, 0o644)
    _private_file(p)
    assert stat.S_IMODE(p.stat().st_mode) == 0o600


def test_an_archive_replaced_mid_pull_deletes_nothing(tmp_path):
    dev = FakeSession(tmp_path / "device")
    record_session(dev.log, 1)
    record_session(dev.log, 2)
    arc_path = tmp_path / "home" / "archive.sqlite"
    arc = Archive(arc_path)
    real_read = dev.read_file

    def read_then_replace(path, have=b""):
        data = real_read(path, have)
        if not (tmp_path / "replaced").exists():
            (tmp_path / "replaced").write_text("")
            shutil.copy(arc_path, tmp_path / "other.sqlite")
            os.replace(tmp_path / "other.sqlite", arc_path)
        return data
    dev.read_file = read_then_replace
    with pytest.raises(AcuError, match="replaced by another file.*nothing deleted"):
        pull(dev, arc, delete=True)
    arc.close()
    assert logrecover.session_names(dev.log) == ["000001.acl", "000002.acl"]


def test_an_archive_removed_mid_pull_deletes_nothing(tmp_path):
    dev = FakeSession(tmp_path / "device")
    record_session(dev.log, 1)
    arc_path = tmp_path / "home" / "archive.sqlite"
    arc = Archive(arc_path)
    real_read = dev.read_file

    def read_then_remove(path, have=b""):
        data = real_read(path, have)
        arc_path.unlink()
        return data
    dev.read_file = read_then_remove
    with pytest.raises(AcuError, match="was removed.*nothing deleted"):
        pull(dev, arc, delete=True)
    arc.close()
    assert logrecover.session_names(dev.log) == ["000001.acl"]


def test_usage_errors_are_one_line(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["export", "--format", "xml"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "invalid choice: 'xml'" in err and "acutrainer export --help" in err


def test_an_archive_locked_mid_command_is_named_as_in_use(tmp_path, capsys, monkeypatch):
    from host_tools.commands import sessions

    def locked(*a, **k):
        raise sqlite3.OperationalError("database is locked")
    monkeypatch.setattr(sessions, "session_lines", locked)
    assert cli.main(["sessions", "--archive", str(tmp_path / "a.sqlite")]) == 1
    err = capsys.readouterr().err
    assert "in use by another program" in err and err.count("\n") == 1


def test_plots_draw_device_markup_and_escapes_as_text_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        png = plots.session_trace_png([(0, 3000), (100, 4000)],
                                      [{"idx": 0, "point": "HT7\x1b[2J$x^{$", "side": "left\r", "kind": "press",
                                        "t_begin_ms": 0, "t_end_ms": 100, "band_lo_g": 3000, "band_hi_g": 5000}],
                                      "session 1: $\\nosuchcmd{x}$ evil\x1b]0;t\x07")
    assert png.startswith(b"\x89PNG")



@pytest.mark.parametrize("new_session", [True, False])
def test_pull_delete_into_an_archive_failing_its_integrity_check_deletes_nothing(tmp_path, new_session):
    dev = FakeSession(tmp_path / "device")
    record_session(dev.log, 1)
    arc_path = tmp_path / "home" / "archive.sqlite"
    with Archive(arc_path) as arc:
        pull(dev, arc)
    db = sqlite3.connect(str(arc_path))
    trace_pages = [r[0] for r in db.execute("SELECT pageno FROM dbstat WHERE name = 'traces' AND pagetype = 'leaf'")] \
        if _has_dbstat(db) else []
    db.close()
    if not trace_pages:
        pytest.skip("this SQLite has no dbstat table to find a data page")
    hf.garbage_page(arc_path, random.Random(3), page=trace_pages[-1] - 1)
    if new_session:  # storing it meets the damage
        record_session(dev.log, 2)
    with Archive(arc_path) as arc:
        assert arc.integrity_problems()
        if new_session:
            with pytest.raises(AcuError, match="damaged.*nothing deleted from the device"):
                pull(dev, arc, delete=True)
        else:  # nothing to store: the integrity check before the delete stops it
            res = pull(dev, arc, delete=True)
            assert res.deleted == [] and any("integrity check" in m for m in res.messages)
    assert logrecover.session_names(dev.log) == ["000001.acl", "000002.acl"][:1 + new_session]


def test_doctor_shows_device_text_escaped_and_not_as_markup():
    import io

    from rich.console import Console

    from host_tools import doctor
    from host_tools.commands import doctor as doctor_cmd
    buf = io.StringIO()
    chk = doctor.Check("routine [/]", doctor.FAIL, "routine 'x[/]\x1b[2J\nFORGED'", fix="deploy [bold]")
    doctor_cmd.render([chk], Console(file=buf, width=200))
    out = buf.getvalue()
    assert hf.raw_control(out) == 0 and "[/]" in out and "\\x1b[2J" in out


def test_a_read_only_archive_from_before_the_added_columns_is_readable(hostile, monkeypatch):
    db = sqlite3.connect(str(hostile))
    db.execute("ALTER TABLE sessions DROP COLUMN routine_hash_truncated")  # as an older acutrainer made it
    db.commit()
    db.close()
    before = hostile.read_bytes()
    from host_tools import archive as archive_mod
    monkeypatch.setattr(archive_mod.os, "access", lambda p, mode: False)  # read-only (root ignores modes)
    with Archive(hostile) as a:
        assert a.read_only and len(a.sessions()) == 8
    assert hostile.read_bytes() == before
