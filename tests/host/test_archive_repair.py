# A damaged archive: check names it, commands answer in one line, pull --delete deletes nothing, rebuild makes
# it again from the session bytes it keeps; output folders and files are checked and written whole.
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import test_pull as fx
from acu import logread
from host_tools import archive_repair, outfiles
from host_tools.archive import Archive
from host_tools.errors import AcuError, InputError
from host_tools.pull import pull

BIN = Path(sys.executable).parent


def filled(tmp_path, n=6) -> Path:
    log = tmp_path / "log"
    os.makedirs(log, exist_ok=True)
    path = tmp_path / "a.sqlite"
    with Archive(path) as a:
        for i in range(1, n + 1):
            p, _ = fx.record_session(log, i, wall=1700000000 + 86400 * i, steps=3)
            raw = Path(p).read_bytes()
            a.store(logread.decode_session(raw), raw, Path(p).name, device_id="240ac401")
    return path


def damage(path: Path):
    """A bad sector: one whole page in the middle of the file overwritten (a table page, whatever it held)
    and a few bytes inside one session's raw log bytes (found by the log's magic)."""
    import random
    rnd = random.Random(7)
    data = bytearray(path.read_bytes())
    page = 4096
    mid = (len(data) // page // 2) * page
    data[mid:mid + page] = bytes(rnd.randrange(256) for _ in range(page))
    at = data.find(logread.MAGIC, page)
    data[at + 40:at + 48] = b"\xff" * 8
    path.write_bytes(bytes(data))


def cli(*args, env=None):
    return subprocess.run([str(BIN / "acutrainer"), *args], capture_output=True, text=True, env=env, timeout=120)


def test_a_sound_archive_checks_clean(tmp_path):
    r = archive_repair.check(filled(tmp_path))
    assert r.ok and r.sessions == 6


def test_damage_is_found_commands_answer_in_one_line_and_rebuild_recovers(tmp_path):
    path = filled(tmp_path, 12)
    damage(path)
    assert not archive_repair.check(path).ok
    for cmd in (["sessions"], ["report", "--out", str(tmp_path / "rep")], ["export", "--out", str(tmp_path / "ex")],
                ["archive", "check"]):
        r = cli(*cmd, "--archive", str(path))
        assert "Traceback" not in r.stderr + r.stdout, (cmd, r.stderr)
        if r.returncode:
            assert len(r.stderr.strip().splitlines()) <= 1 or cmd == ["archive", "check"], (cmd, r.stderr)
    out = tmp_path / "rebuilt.sqlite"
    res = archive_repair.rebuild(path, out)
    assert res.sessions + len(res.lost) >= 1
    assert archive_repair.check(out).ok
    with Archive(out) as a:
        assert a.count() == res.sessions and all(len(a.steps(s["id"])) == 3 for s in a.sessions())
    with pytest.raises(AcuError, match="already exists"):
        archive_repair.rebuild(path, out)
    keep = archive_repair.replace_with(path, out)
    assert keep.exists() and path.exists() and not out.exists()   # nothing deleted: the damaged file is kept


def test_pull_delete_deletes_nothing_into_a_damaged_archive(tmp_path, monkeypatch):
    dev = fx.FakeSession(tmp_path / "dev")
    fx.record_session(dev.log, 1)
    with Archive(tmp_path / "a.sqlite") as arc:
        monkeypatch.setattr(Archive, "integrity_problems", lambda self: ["*** in database main *** page 7"])
        res = pull(dev, arc, delete=True)
    assert res.new and not res.deleted
    assert any("integrity check" in m and "nothing deleted" in m for m in res.messages)
    assert os.path.exists(os.path.join(dev.log, "000001.acl"))


def test_a_locked_archive_is_named_as_such(tmp_path):
    path = filled(tmp_path, 1)
    holder = sqlite3.connect(str(path))
    holder.execute("BEGIN EXCLUSIVE")
    try:
        import host_tools.archive as A
        old = A.LOCK_WAIT_S
        A.LOCK_WAIT_S = 0.2
        try:
            with pytest.raises(AcuError, match="in use by another program"):
                Archive(path)
        finally:
            A.LOCK_WAIT_S = old
    finally:
        holder.rollback()
        holder.close()


def test_output_folders_are_checked(tmp_path):
    with pytest.raises(InputError, match="empty"):
        outfiles.out_dir("")
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(InputError, match="is a file"):
        outfiles.out_dir(f)
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if os.access(ro, os.W_OK):   # root ignores permissions: nothing to test here
            return
        with pytest.raises(AcuError, match="not writable"):
            outfiles.out_dir(ro)
    finally:
        ro.chmod(0o700)


def test_a_failed_write_leaves_no_partial_file(tmp_path, monkeypatch):
    target = tmp_path / "steps.csv"
    target.write_bytes(b"the previous export\n")

    def full_disk(fd):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(AcuError, match="No space left on device"):
        outfiles.write_atomic(target, b"new,rows\n" * 1000)
    assert target.read_bytes() == b"the previous export\n"
    assert [p.name for p in tmp_path.iterdir()] == ["steps.csv"]   # no temporary file left behind


def test_device_text_is_plain_in_plots_and_escaped_on_the_terminal(tmp_path):
    from host_tools import plots
    from host_tools.termsafe import shown
    png = plots.session_trace_png([(0, 1000), (900, 4000)], [
        {"idx": 0, "kind": "press", "point": r"$\nosuchcmd{x}$", "side": "", "t_begin_ms": 0, "t_end_ms": 900,
         "band_lo_g": 3000, "band_hi_g": 5000}], title=r"routine $\nosuchcmd{x}$")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert shown("bed\ntime\x1b]0;pwned\x07") == "bed\\ntime\\x1b]0;pwned\\x07"
    assert shown("Yìn Táng") == "Yìn Táng"


def test_implausible_session_times_are_left_undated_and_out_of_the_report(tmp_path):
    from host_tools.report import build_report
    log = tmp_path / "log"
    os.makedirs(log)
    with Archive(tmp_path / "a.sqlite") as a:
        for no, wall in ((1, 1700000000), (2, 86400), (3, 4102444800 + 86400 * 40)):   # right, 1970, 2100
            p, _ = fx.record_session(log, no, wall=wall)
            raw = Path(p).read_bytes()
            a.store(logread.decode_session(raw), raw, Path(p).name)
        by = {s["session_no"]: s for s in a.sessions()}
        assert by[1]["wall_source"] == "device" and by[1]["wall_start_s"] == 1700000000
        for no in (2, 3):
            assert by[no]["wall_source"] == "implausible" and by[no]["wall_start_s"] is None
            assert any("implausible start time" in p for p in by[no]["problems"])
        rep = build_report(a)
        assert rep["undated"] == 2 and len(rep["weeks"]) == 1   # not 6,790 weeks
