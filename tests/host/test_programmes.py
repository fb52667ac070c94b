"""Host programmes (docs/programmes.md): validation with one-line errors, the shipped library, and the
`programme` commands against a fake session that runs the real device functions (acu.programme_parse,
acu.programme, acu.routine_parse) on a temporary flash directory (docfx). What routine and programme files
share (reading, decoding): test_docfiles."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from docfx import FakeSession, assert_upload_failures_raise, run_command, write

from host_tools import programmes as PR
from host_tools import routines as RT
from host_tools.commands import programme as cmd
from host_tools.commands import status as status_cmd
from host_tools.errors import InputError, LinkError

PP = PR.PP
PG = PR.PG


def sleep_dict() -> dict:
    return json.loads(PR.library_programme("sleep-4wk"))


# ---- validation ----

def test_library_programmes_validate_with_their_routines():
    assert PR.library_names() == ["sleep-4wk", "sleep-taster"]
    for name in PR.library_names():
        p, routines = PR.validate_file(PR.LIBRARY_DIR / (name + ".json"))
        assert p.name == name and routines and all(r.name in RT.library_names() for r in routines)
        assert 1 <= p.weeks <= 4


@pytest.mark.parametrize("change, want", [
    (lambda d: d["stages"][1].update(routines=["nowhere"]), "routine 'nowhere' unknown: not in the library"),
    (lambda d: d["stages"][0].update(weeks=0), "stage 1: weeks 0 out of range 1..8"),
    (lambda d: d["stages"][2].update(feedback="sometimes"), "stage 3: feedback 'sometimes' not one of"),
    (lambda d: d.update(stages=[d["stages"][0]] * 9), "stages must be a list of 1..8"),
    (lambda d: d.update(description="x" * 17000), "bytes, limit 16384"),
])
def test_bad_files_are_one_line_naming_the_file(tmp_path, change, want):
    d = sleep_dict()
    change(d)
    f = write(tmp_path, d, "mine.json")
    with pytest.raises(InputError) as e:
        PR.validate_file(f)
    msg = str(e.value)
    assert msg.startswith("programme %s" % f) and want in msg and "\n" not in msg, msg


def test_a_routine_beside_the_file_is_used(tmp_path):
    r = json.loads(RT.library_routine("ht7-quick"))
    r["name"] = "mine"
    write(tmp_path, r, "mine.json")
    d = sleep_dict()
    d["stages"][0]["routines"] = ["mine", "bedtime"]
    p, routines = PR.validate_file(write(tmp_path, d, "plan.json"))
    assert [x.name for x in routines] == ["mine", "bedtime"]


# ---- the device ----

def test_push_puts_the_routines_it_needs_and_starts_the_programme(tmp_path):
    s = FakeSession(tmp_path / "flash")
    data = PR.library_programme("sleep-taster")
    p = PR.parse_bytes(data, "taster")
    sm = PR.push(s, data, "taster", PR.routine_sources(p, "taster"))
    assert s.exists("/routines/bedtime.json") and s.exists("/routines/ht7-quick.json")
    assert s.exists("/programmes/sleep-taster.json")
    assert sm["programme"] == "sleep-taster" and sm["stage"] == 1 and sm["week"] == 1
    assert sm["sessions_week"] == 0 and sm["goal"] == 5 and sm["next"] is None and not sm["clock"]
    listed = PR.device_list(s)
    assert [i["name"] for i in listed["programmes"]] == ["sleep-taster"] and listed["place"]["programme"] == \
        "sleep-taster"


def test_a_bad_upload_keeps_the_old_programme_and_the_place(tmp_path):
    s = FakeSession(tmp_path / "flash")
    data = PR.library_programme("sleep-4wk")
    p = PR.parse_bytes(data, "sleep")
    PR.push(s, data, "sleep", PR.routine_sources(p, "sleep"))
    st = PG.read_state(str(s.root))
    st["stage"] = 2
    st["sessions_week"] = 3
    PG.write_state(st, str(s.root))
    flash = s.root / "programmes"
    before = ({f.name: f.read_bytes() for f in flash.iterdir()}, (s.root / "cfg" / "programme.json").read_bytes())
    d = sleep_dict()
    d["stages"][3]["feedback"] = "never"
    with pytest.raises(InputError, match="stage 4: feedback 'never'"):
        PR.push(s, json.dumps(d).encode(), "bad.json", {})
    good = sleep_dict()
    good["title"] = "changed"
    assert_upload_failures_raise(s, lambda: PR.push(s, json.dumps(good).encode(), "good.json", {}))
    # a routine the device lacks and the host cannot supply: refused, nothing changed
    d = sleep_dict()
    d["stages"][0]["routines"] = ["custom"]
    with pytest.raises(InputError, match="routine 'custom' is neither on the device nor in the library"):
        PR.push(s, json.dumps(d).encode(), "custom.json", {})
    after = ({f.name: f.read_bytes() for f in flash.iterdir()}, (s.root / "cfg" / "programme.json").read_bytes())
    assert before == after
    assert PR.place(s)["stage"] == 3
    # a re-push of the same programme keeps the place; --restart starts again
    assert PR.push(s, json.dumps(good).encode(), "good.json", {})["stage"] == 3
    assert PR.push(s, json.dumps(good).encode(), "good.json", {}, restart=True)["stage"] == 1


def test_the_device_refuses_a_programme_whose_routine_is_gone(tmp_path):
    s = FakeSession(tmp_path / "flash")
    data = PR.library_programme("sleep-4wk")
    (s.root / "programmes").mkdir()
    Path(s._p("/programmes/sleep-4wk.json.tmp")).write_bytes(data)
    with pytest.raises(ValueError, match="routine bedtime is not on the device"):
        PP.check_file(s._p("/programmes/sleep-4wk.json.tmp"), str(s.root / "routines"))


# ---- CLI handlers ----

def run(argv, monkeypatch, session=None):
    if session is not None:  # `programme status` reads the device's status (the live link): here, the fake's
        monkeypatch.setattr(cmd, "read_place", lambda args: PR.place(session))
    return run_command(cmd, argv, monkeypatch, session)


class _Live:
    def __init__(self, st):
        self.st = st

    def status(self):
        return self.st


class _Conn:
    """A connection whose app runs (a practice may go on): only the live link may be used."""
    port = "/dev/pts/9"
    app_running = True

    def __init__(self, st):
        self.live = _Live(st)

    def repl(self, *a, **kw):
        raise AssertionError("programme status must not take the raw REPL while the app runs")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_programme_status_is_read_over_the_live_link(monkeypatch, capsys):
    # during a practice the app answers status over the live link: `programme status` reads it there, as
    # `acutrainer status` does, so the practice goes on (before, it took the raw REPL and was refused)
    from host_tools import session as session_mod
    sm = {"programme": "sleep-taster", "error": None, "finished": False, "stage": 1, "stages": 1,
          "stage_title": "Taster week", "week": 1, "weeks": 1, "day": 1, "sessions_week": 2, "goal": 5,
          "min_sessions": 3, "feedback": "faded", "feedback_pct": 50, "check_g": 4000, "check_s": 10,
          "checks_ok": 1, "checks_counted": 2, "next": None, "unlock": "1 week with at least 3 sessions each",
          "held": 0, "move": None,
          "clock": True}
    monkeypatch.setattr(session_mod, "connect", lambda port=None: _Conn({"programme": sm, "practice": {}}))
    assert run_command(cmd, ["programme", "status"], monkeypatch) == 0
    out = capsys.readouterr().out
    assert "sleep-taster, stage 1 of 1 (Taster week), week 1 of 1, day 1" in out
    assert "sessions this week 2 of 5" in out
    assert run_command(cmd, ["programme", "status", "--json"], monkeypatch) == 0
    assert json.loads(capsys.readouterr().out) == sm
    # a firmware whose status has no programme field: one line saying what to do
    monkeypatch.setattr(session_mod, "connect", lambda port=None: _Conn({"practice": {}}))
    with pytest.raises(LinkError, match="does not report programmes: update it"):
        run_command(cmd, ["programme", "status"], monkeypatch)


def test_cli_list_show_validate(tmp_path, monkeypatch, capsys):
    assert run(["programme", "list", "--library"], monkeypatch) == 0
    out = capsys.readouterr().out
    assert "sleep-4wk" in out and "4 weeks" in out and "sleep-taster" in out
    assert run(["programme", "show", "sleep-4wk"], monkeypatch) == 0
    out = capsys.readouterr().out
    assert "2. Week 2: faded feedback: 1 week; routine bedtime" in out and "feedback faded 50 %" in out
    assert "blind check: 4.0 kg for 10 s" in out and "2 of the last 3 checks are accurate" in out
    d = sleep_dict()
    d["stages"][1]["check"] = {"target_g": 4000, "hold_s": 100}
    bad = write(tmp_path, d, "bad.json")
    good = PR.LIBRARY_DIR / "sleep-taster.json"
    assert run(["programme", "validate", str(good), str(bad)], monkeypatch) == 2
    out = capsys.readouterr()
    assert "sleep-taster.json: ok, sleep-taster, 1 stage, 1 week, routines bedtime, ht7-quick" in out.out
    assert "bad.json: stage 2: hold_s 100 out of range 3..60" in out.err and out.err.count("\n") == 1


def test_cli_push_status_list_remove(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ACUTRAINER_HOME", str(tmp_path / "home"))
    s = FakeSession(tmp_path / "flash")
    assert run(["programme", "push", "sleep-4wk"], monkeypatch, s) == 0
    out = capsys.readouterr().out
    assert "pushed routine bedtime" in out and "pushed sleep-4wk (4 stages, 4 weeks)" in out
    # a week of practice: 3 sessions counted, by the device's own functions
    st = PG.read_state(str(s.root))
    st.update(stage=1, sessions_week=2, checks=[[4000, 4100], [4000, 5600]])
    PG.write_state(st, str(s.root))
    assert run(["programme", "status"], monkeypatch, s) == 0
    out = capsys.readouterr().out
    assert "sleep-4wk, stage 2 of 4 (Week 2: faded feedback), week 1 of 1, day 1" in out
    assert "sessions this week 2 of 5 (at least 3 count the week); feedback faded 50 %" in out
    assert "blind checks in this stage: 1 of the last 2 accurate" in out
    assert "next: Week 3: feedback only when far off, when 2 of the last 3 blind checks accurate" in out
    assert "clock is not set: weeks are counted in sessions" in out
    assert run(["programme", "status", "--json"], monkeypatch, s) == 0
    assert json.loads(capsys.readouterr().out)["checks_ok"] == 1
    assert run(["programme", "list"], monkeypatch, s) == 0
    assert "* sleep-4wk" in capsys.readouterr().out
    assert run(["programme", "remove", "sleep-4wk"], monkeypatch, s) == 0
    assert "it was in use" in capsys.readouterr().out
    assert PR.place(s) is None and not s.exists("/programmes/sleep-4wk.json")
    assert s.exists("/routines/bedtime.json")   # its routines stay
    with pytest.raises(InputError, match="no programme 'sleep-4wk' on the device"):
        run(["programme", "remove", "sleep-4wk"], monkeypatch, s)
    assert run(["programme", "status"], monkeypatch, s) == 0
    assert "no programme in use" in capsys.readouterr().out


def _device_and_file(tmp_path, monkeypatch, routine, filename):
    """(an empty fake device, a sleep-4wk file whose first stage runs `routine`)."""
    monkeypatch.setenv("ACUTRAINER_HOME", str(tmp_path / "home"))
    d = sleep_dict()
    d["stages"][0]["routines"] = [routine]
    return FakeSession(tmp_path / "flash"), write(tmp_path, d, filename)


def test_cli_push_shows_cautions_once(tmp_path, monkeypatch, capsys):
    s, f = _device_and_file(tmp_path, monkeypatch, "physical-tension", "tension.json")
    with pytest.raises(InputError, match="routine physical-tension: its cautions .* not confirmed"):
        run(["programme", "push", str(f)], monkeypatch, s)
    assert not s.exists("/programmes/sleep-4wk.json") and not s.exists("/routines/physical-tension.json")
    capsys.readouterr()
    assert run(["programme", "push", str(f), "--yes"], monkeypatch, s) == 0
    assert "pregnancy" in capsys.readouterr().err
    assert run(["programme", "push", str(f)], monkeypatch, s) == 0
    err = capsys.readouterr().err
    assert "caution (confirmed before) for physical-tension" in err and err.count("\n") == 1


def test_cli_push_of_a_one_week_programme_says_so_in_the_singular(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ACUTRAINER_HOME", str(tmp_path / "home"))
    assert run(["programme", "push", "sleep-taster"], monkeypatch, FakeSession(tmp_path / "flash")) == 0
    assert "pushed sleep-taster (1 stage, 1 week)" in capsys.readouterr().out


def test_cli_push_of_an_unknown_routine_names_the_programme_file(tmp_path, monkeypatch, capsys):
    # the routine is neither beside the file, in the library nor on the device: one line naming the file
    # (before: the caution check tried to read it from the device and said only "no routine ... on the device")
    s, f = _device_and_file(tmp_path, monkeypatch, "ht8-nope", "nope.json")
    with pytest.raises(InputError, match=r"programme .*nope\.json: routine 'ht8-nope' is neither on the device nor "
                                         r"in the library \(push it first\); nothing was changed"):
        run(["programme", "push", str(f)], monkeypatch, s)
    assert not s.exists("/programmes/sleep-4wk.json") and not s.exists("/routines/bedtime.json")


def test_status_line_says_where_the_user_is():
    sm = {"programme": "sleep-4wk", "error": None, "finished": False, "stage": 3, "stages": 4,
          "stage_title": "Week 3", "week": 2, "weeks": 2, "day": 17, "sessions_week": 1, "goal": 5,
          "min_sessions": 3, "feedback": "bandwidth", "feedback_pct": 0, "check_g": 4000, "checks_ok": 0,
          "checks_counted": 1, "next": "Week 4", "unlock": "2 of the last 3 blind checks accurate", "held": 1,
          "move": "held", "clock": True}
    lines = status_cmd._programme({"programme": sm})
    assert lines == ["sleep-4wk, stage 3 of 4 (Week 3), week 2 of 2, day 17",
                     "sessions this week 1 of 5 (at least 3 count the week); feedback bandwidth",
                     "blind checks in this stage: 0 of the last 1 accurate",
                     "next: Week 4, when 2 of the last 3 blind checks accurate",
                     "held back 1 week in this stage", "last change: held"]
    assert status_cmd._programme({"programme": None})[0].startswith("no programme in use")
    assert status_cmd._programme({}) == ["unknown (an older firmware)"]
