# Pulls into one shared archive at once (docs/study.md, "Concurrent pulls"): processes pulling the same device and
# different devices into PostgreSQL store every session exactly once; a pull whose server connection drops, or
# whose process is killed, mid-transaction leaves whole sessions only and the device's files in place.
import multiprocessing
import os
import signal

import pytest
import sqlalchemy as sa

import test_pull as fx
from host_tools.archive import Archive
from host_tools.errors import AcuError
from host_tools.pull import pull
from acu import logrecover

CTX = multiprocessing.get_context("fork")


def _device(root, uid: int, sessions: int):
    """A fake device (test_pull.FakeSession) with its own id and `sessions` closed sessions on its flash."""
    dev = fx.FakeSession(root, device_id="%08x" % uid)
    for n in range(1, sessions + 1):
        fx.record_session(dev.log, n, start_ms=1000 * n, wall=1700000000 + 86400 * n, seconds=1,
                          unique_id=uid.to_bytes(4, "big"))
    return dev


def _expected(devices) -> set:
    """(device id, session number, sha256) of every session on the devices' flash."""
    import hashlib
    keys = set()
    for dev in devices:
        for name in logrecover.session_names(dev.log):
            data = open(os.path.join(dev.log, name), "rb").read()
            keys.add((dev.device_id, int(name[:6]), hashlib.sha256(data).hexdigest()))
    return keys


def _pull_worker(url, root, device_id, delete, barrier):
    dev = fx.FakeSession(root, device_id=device_id)
    with Archive(url) as arc:
        barrier.wait(timeout=60)  # every process starts its pull together
        pull(dev, arc, delete=delete)


def _run(procs):
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0] * len(procs)


def _consistent(arc) -> None:
    """No duplicate key, every step/event/trace row belongs to a stored session, every session decodes whole."""
    keys = arc.session_keys()
    assert len(keys) == len(set(keys))
    with arc.engine.connect() as c:
        for table in ("steps", "events", "traces"):
            orphans = c.execute(sa.text("SELECT COUNT(*) FROM %s WHERE session_id NOT IN (SELECT id FROM sessions)"
                                        % table)).scalar()
            assert orphans == 0, table
    for s in arc.sessions():
        assert len(arc.steps(s["id"])) == 2 and arc.trace(s["id"])


def test_four_processes_pull_one_device_at_once_and_store_each_session_once(tmp_path, pg_url):
    dev = _device(tmp_path / "dev", 0xA1, 6)
    want = _expected([dev])
    Archive(pg_url).close()  # the schema, made before the race (a race on it is the next test's)
    barrier = CTX.Barrier(4)
    _run([CTX.Process(target=_pull_worker, args=(pg_url, dev.root, dev.device_id, False, barrier))
          for _ in range(4)])
    with Archive(pg_url) as arc:
        assert set(arc.session_keys()) == want and arc.count() == len(want)
        _consistent(arc)


def test_four_processes_pull_four_devices_into_a_new_server_and_lose_nothing(tmp_path, pg_url):
    devs = [_device(tmp_path / ("dev%d" % i), 0xB0 + i, 4) for i in range(4)]
    want = _expected(devs)
    barrier = CTX.Barrier(4)  # the four also open the empty database at once: one of them makes the schema
    procs = [CTX.Process(target=_pull_worker, args=(pg_url, d.root, d.device_id, True, barrier)) for d in devs]
    for p in procs:  # (the barrier is after the open: the schema race is at Archive())
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0] * 4
    with Archive(pg_url) as arc:
        assert set(arc.session_keys()) == want and arc.count() == 16
        _consistent(arc)
    assert all(logrecover.session_names(d.log) == [] for d in devs)  # deleted only once committed


def test_a_pull_whose_server_connection_drops_mid_session_keeps_whole_sessions_and_the_device(tmp_path, pg_url,
                                                                                              monkeypatch):
    dev = _device(tmp_path / "dev", 0xC1, 5)
    want = _expected([dev])
    arc = Archive(pg_url)
    real = Archive._store_rows
    calls = []

    def store_then_drop(self, c, *a):
        calls.append(1)
        out = real(self, c, *a)
        if len(calls) == 3:  # the network goes, after the session's rows were sent and before the commit
            pid = c.execute(sa.text("SELECT pg_backend_pid()")).scalar()
            with sa.create_engine(arc.url).connect() as other:
                other.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        return out
    monkeypatch.setattr(Archive, "_store_rows", store_then_drop)
    with pytest.raises(AcuError) as ei:
        pull(dev, arc, delete=True)
    msg = str(ei.value)
    assert "2 session(s) were stored" in msg and "run pull again" in msg and "\n" not in msg
    assert logrecover.session_names(dev.log) == ["%06d.acl" % n for n in range(1, 6)]  # the device untouched
    arc.close()
    monkeypatch.setattr(Archive, "_store_rows", real)
    with Archive(pg_url) as arc:
        assert arc.count() == 2
        _consistent(arc)
        res = pull(dev, arc, delete=True)  # the re-pull completes it
        assert len(res.new) == 3 and set(arc.session_keys()) == want
        _consistent(arc)
    assert logrecover.session_names(dev.log) == []


def _killed_worker(url, root, device_id, ready):
    """Pull until the third session's rows are sent, then stop there (uncommitted) to be killed."""
    dev = fx.FakeSession(root, device_id=device_id)
    real = Archive._store_rows
    calls = []

    def store_and_hang(self, c, *a):
        calls.append(1)
        out = real(self, c, *a)
        if len(calls) == 3:
            ready.set()
            signal.pause()  # killed here, mid-transaction
        return out
    Archive._store_rows = store_and_hang
    with Archive(url) as arc:
        pull(dev, arc, delete=True)


def test_a_pull_process_killed_mid_transaction_leaves_the_archive_consistent(tmp_path, archive_target):
    dev = _device(tmp_path / "dev", 0xD1, 5)
    want = _expected([dev])
    Archive(archive_target).close()
    ready = CTX.Event()
    p = CTX.Process(target=_killed_worker, args=(str(archive_target), dev.root, dev.device_id, ready))
    p.start()
    assert ready.wait(timeout=60)
    os.kill(p.pid, signal.SIGKILL)
    p.join(timeout=30)
    assert p.exitcode == -signal.SIGKILL
    assert logrecover.session_names(dev.log) == ["%06d.acl" % n for n in range(1, 6)]  # nothing deleted
    with Archive(archive_target) as arc:
        assert arc.count() == 2  # the third session's rows died with its transaction
        _consistent(arc)
        pull(dev, arc, delete=True)
        assert set(arc.session_keys()) == want
        _consistent(arc)
    assert logrecover.session_names(dev.log) == []
