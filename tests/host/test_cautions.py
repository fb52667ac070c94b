"""Cautions before a routine is put to use (docs/routines.md, "Cautions"): shown in full and confirmed
once per (routine, cautions), then one line; refused off a terminal without --yes; `acutrainer points`."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pexpect
import pytest

from host_tools import cautions, points
from host_tools import routines as RT
from host_tools.commands import points as points_cmd
from host_tools.errors import InputError
from tests.host.test_routines import FakeSession, run

BIN = Path(sys.executable).parent


@pytest.fixture
def home(tmp_path, monkeypatch):
    h = tmp_path / "home"
    monkeypatch.setenv("ACUTRAINER_HOME", str(h))
    return h


def tension():
    return RT.parse_bytes(RT.library_routine("physical-tension"), "physical-tension")


def tension_dict():
    return json.loads(RT.library_routine("physical-tension"))


def test_point_cautions_and_digest():
    pairs = cautions.point_cautions(tension())
    assert [(p.code, c) for p, c in pairs] == [("SP6", points.PREGNANCY)]   # SP6 twice, listed once
    assert cautions.point_cautions(RT.parse_bytes(RT.library_routine("bedtime"), "b")) == []
    d = tension_dict()
    d["steps"] = d["steps"][::-1][1:] + d["steps"][-1:]     # order and bands are not what is confirmed
    d["steps"][0]["band_lo_g"] = 2500
    same = RT.parse_bytes(json.dumps(d).encode(), "x")
    assert cautions.digest(cautions.point_cautions(same)) == cautions.digest(pairs)
    d["steps"].insert(0, {"type": "press", "point": "LI4", "side": "left", "duration_s": 30})
    more = RT.parse_bytes(json.dumps(d).encode(), "x")
    assert cautions.digest(cautions.point_cautions(more)) != cautions.digest(pairs)


def test_off_a_terminal_needs_yes_then_one_line(home, tmp_path, monkeypatch, capsys):
    s = FakeSession(tmp_path / "flash")
    with pytest.raises(InputError, match="not confirmed yet: .* or add --yes; nothing was changed"):
        run(["routine", "push", "physical-tension"], monkeypatch, s)
    err = capsys.readouterr().err
    assert "SP6 Sanyinjiao" in err and "Four finger-widths" in err and "pregnancy" in err
    assert "no treatment" in err               # the general notes come with the first showing
    assert s.calls == [] and not (tmp_path / "flash" / "routines" / "physical-tension.json").exists()
    assert not (home / cautions.SEEN_FILE).exists()

    assert run(["routine", "push", "physical-tension", "--yes"], monkeypatch, s) == 0
    out = capsys.readouterr()
    assert "pushed physical-tension" in out.out and "pregnancy" in out.err
    seen = json.loads((home / cautions.SEEN_FILE).read_text())
    assert [e["routine"] for e in seen["seen"]] == ["physical-tension"]

    # confirmed once: later uses remind in one line, without --yes and without asking
    assert run(["routine", "push", "physical-tension", "--select"], monkeypatch, s) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "confirmed before" in err and "acutrainer points SP6" in err
    assert RT.device_list(s)["selected"] == "physical-tension"


def test_select_asks_for_the_devices_copy(home, tmp_path, monkeypatch, capsys):
    s = FakeSession(tmp_path / "flash")
    RT.install_library(s)                     # what deploy does: every library routine, bedtime selected
    with pytest.raises(InputError, match="physical-tension: its cautions"):
        run(["routine", "select", "physical-tension"], monkeypatch, s)
    assert RT.device_list(s)["selected"] == "bedtime"
    assert "pregnancy" in capsys.readouterr().err
    assert run(["routine", "select", "bedtime"], monkeypatch, s) == 0   # no cautions: nothing asked
    assert "caution" not in capsys.readouterr().err
    assert run(["routine", "select", "physical-tension", "--yes"], monkeypatch, s) == 0
    assert RT.device_list(s)["selected"] == "physical-tension"
    with pytest.raises(InputError, match="no routine 'nothere' on the device \\(push it first\\)"):
        run(["routine", "select", "nothere"], monkeypatch, s)


def test_new_push_confirms_but_new_out_only_warns(home, tmp_path, monkeypatch, capsys):
    s = FakeSession(tmp_path / "flash")
    out_file = tmp_path / "mine.json"
    assert run(["routine", "new", "mine", "--step", "LI4:each:30", "--out", str(out_file)], monkeypatch) == 0
    assert "caution: LI4 Hegu" in capsys.readouterr().err and out_file.exists()
    with pytest.raises(InputError, match="routine mine: its cautions"):
        run(["routine", "new", "mine", "--step", "LI4:each:30", "--select"], monkeypatch, s)
    assert not s.exists("/routines/mine.json")
    assert run(["routine", "new", "mine", "--step", "LI4:each:30", "--select", "--yes"], monkeypatch, s) == 0
    assert RT.device_list(s)["selected"] == "mine"


def test_interactive_answers(home):
    lines = []
    r = tension()
    for answer in ("n", "", "maybe"):
        with pytest.raises(InputError, match="cautions not confirmed; nothing was changed"):
            cautions.confirm(r, ask=lambda q, a=answer: a, out=lines.append, interactive=True)

    def eof(q):
        raise EOFError

    with pytest.raises(InputError, match="not confirmed"):
        cautions.confirm(r, ask=eof, out=lines.append, interactive=True)
    assert not (home / cautions.SEEN_FILE).exists()
    asked = []
    cautions.confirm(r, ask=lambda q: asked.append(q) or "Y", out=lines.append, interactive=True)
    assert asked == ["Use routine physical-tension with these cautions in mind? [y/N] "]
    lines.clear()
    cautions.confirm(r, ask=lambda q: pytest.fail("asked again"), out=lines.append, interactive=True)
    assert len(lines) == 1 and "confirmed before" in lines[0]


def test_changed_cautions_are_asked_again(home, tmp_path):
    cautions.confirm(tension(), yes=True, out=lambda ln: None)
    d = tension_dict()
    d["steps"].insert(0, {"type": "press", "point": "LI4", "side": "left", "duration_s": 30})
    changed = RT.parse_bytes(json.dumps(d).encode(), "x")
    lines = []
    with pytest.raises(InputError, match="not confirmed yet"):
        cautions.confirm(changed, out=lines.append, interactive=False)
    assert any("LI4 Hegu" in ln for ln in lines)


@pytest.mark.parametrize("content", [b"{not json", b'{"format": "other", "seen": []}', b"\xff\xfe",
                                     b'{"format": "acu-cautions-seen", "seen": [1, {"routine": 2}]}'])
def test_damaged_record_is_one_warning_and_asks_again(home, content):
    home.mkdir(parents=True, exist_ok=True)
    (home / cautions.SEEN_FILE).write_bytes(content)
    lines = []
    with pytest.raises(InputError, match="not confirmed yet"):
        cautions.confirm(tension(), out=lines.append, interactive=False)
    warned = [ln for ln in lines if ln.startswith("warning:")]
    assert len(warned) <= 1 and all(cautions.SEEN_FILE in ln for ln in warned)
    cautions.confirm(tension(), yes=True, out=lines.append)    # rewritten whole and valid
    assert cautions.load_seen()[-1]["routine"] == "physical-tension"


def test_points_table_and_details(capsys):
    table = points_cmd.lines([])
    text = "\n".join(table)
    for p in points.POINTS.values():
        assert p.code in text and p.location in text
    assert text.count("CAUTION: " + points.PREGNANCY) == 2       # SP6 and LI4
    assert all(("note: " + c) in text for c in points.GENERAL_CAUTIONS)
    detail = "\n".join(points_cmd.lines(["yin tang"]))
    assert "YINTANG" in detail and points.get("YINTANG").how_to in detail and "SP6" not in detail
    with pytest.raises(InputError, match="point 'nowhere' unknown"):
        points_cmd.lines(["nowhere"])


def test_terminal_confirmation_through_a_pty(home, tmp_path):
    """The real program on a pseudo-terminal: the question, a refusal, a yes, then the one-line reminder.
    The port does not exist, so after the cautions the push stops at the link (exit 4), device untouched."""
    env = dict(os.environ, ACUTRAINER_HOME=str(home))
    argv = ["routine", "push", "physical-tension", "--port", str(tmp_path / "no-such-port")]

    def spawn():
        return pexpect.spawn(str(BIN / "acutrainer"), argv, env=env, encoding="utf-8", timeout=30)

    p = spawn()
    p.expect("Not during pregnancy")
    p.expect(r"Use routine physical-tension with these cautions in mind\? \[y/N\] ")
    p.sendline("n")
    p.expect("cautions not confirmed; nothing was changed")
    p.expect(pexpect.EOF)
    p.close()
    assert p.exitstatus == 2 and not (home / cautions.SEEN_FILE).exists()
    p = spawn()
    p.expect(r"\[y/N\] ")
    p.sendline("y")
    p.expect("cannot open")
    p.expect(pexpect.EOF)
    p.close()
    assert p.exitstatus == 4 and (home / cautions.SEEN_FILE).exists()
    p = spawn()
    i = p.expect([r"\[y/N\]", "confirmed before"])
    assert i == 1
    p.expect(pexpect.EOF)
    p.close()
    assert p.exitstatus == 4
