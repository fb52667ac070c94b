# The archive: idempotent per-session storage, filters, dates, refusing a non-archive file.
import os

import pytest

import test_pull as fx
from host_tools.archive import Archive, parse_date
from host_tools.errors import InputError
from acu import logfmt, logread


def _decoded(path):
    data = open(path, "rb").read()
    return logread.decode_session(data), data


def test_store_is_idempotent(tmp_path, archive_target):  # an SQLite file and a PostgreSQL database
    p, _ = fx.record_session(tmp_path, 1)
    dec, raw = _decoded(p)
    with Archive(archive_target) as a:
        sid, new = a.store(dec, raw, "000001.acl")
        assert new
        sid2, new2 = a.store(dec, raw, "000001.acl")
        assert sid2 == sid and not new2
        assert a.count() == 1 and len(a.steps(sid)) == 2
        assert a.has_sha(a.sessions()[0]["sha256"])
    # survives reopening
    with Archive(archive_target) as a:
        assert a.count() == 1
        assert a.store(dec, raw, "000001.acl")[1] is False


def test_filters(tmp_path, archive_target):
    log = tmp_path / "log"
    os.makedirs(log)
    fx.record_session(log, 1, wall=1700000000, routine="bedtime", point="HT7")
    fx.record_session(log, 2, wall=1700600000, routine="ht7-quick", point="HT7")
    fx.record_session(log, 3, wall=1701200000, routine="early-waking", point="GV20")
    fx.record_session(log, 4, routine="bedtime", point="GB20")  # date unknown
    with Archive(archive_target) as a:
        for n in range(1, 5):
            dec, raw = _decoded(log / ("%06d.acl" % n))
            a.store(dec, raw, "%06d.acl" % n)
        assert len(a.sessions()) == 4
        assert [s["session_no"] for s in a.sessions(routine="bedtime")] == [1, 4]
        assert [s["session_no"] for s in a.sessions(point="ht7")] == [1, 2]
        assert [s["session_no"] for s in a.sessions(since=1700500000)] == [2, 3]
        assert [s["session_no"] for s in a.sessions(since=1700500000, until=1701000000)] == [2]


def test_steps_of_many_sessions_is_steps_of_each(tmp_path, archive_target, monkeypatch):
    """The bulk read the study report uses gives what one steps() call per session gives, over several
    queries too (a small batch here), and [] for a session without steps or an unknown id."""
    log = tmp_path / "log"
    os.makedirs(log)
    for n in range(1, 6):
        fx.record_session(log, n, wall=1700000000 + n * 86400, point="HT7")
    monkeypatch.setattr(Archive, "STEPS_PER_QUERY", 2)
    with Archive(archive_target) as a:
        for n in range(1, 6):
            dec, raw = _decoded(log / ("%06d.acl" % n))
            a.store(dec, raw, "%06d.acl" % n)
        ids = [s["id"] for s in a.sessions()]
        got = a.steps_of(ids + [ids[0], 99999])
        assert set(got) == set(ids) | {99999} and got[99999] == []
        for sid in ids:
            assert got[sid] == a.steps(sid) and len(got[sid]) == 2
        assert a.steps_of([]) == {}


def test_parse_date():
    assert parse_date(None) is None
    assert parse_date("2024-05-01") < parse_date("2024-05-02")
    with pytest.raises(InputError) as ei:
        parse_date("yesterday", "--since")
    assert "--since" in str(ei.value) and "\n" not in str(ei.value)


def test_not_an_archive(tmp_path):
    bad = tmp_path / "x.sqlite"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(InputError) as ei:
        Archive(bad)
    assert str(bad) in str(ei.value)
    with pytest.raises(InputError):
        Archive(tmp_path)  # a folder


def test_session_without_header_is_kept_with_problems(archive_target):
    out = bytearray(logread.file_header())
    out += logread.record(logfmt.T_EVENT, 0, logread.event_payload(5, logfmt.EV_PAUSE, 0))
    dec = logread.decode_session(bytes(out))
    with Archive(archive_target) as a:
        sid, new = a.store(dec, bytes(out), "000042.acl", device_id="abc")
        s = a.sessions()[0]
        assert new and s["session_no"] == 42 and s["device_id"] == "abc"
        assert "no session header" in s["problems"]
        assert a.events(sid)[0]["name"] == "pause"
