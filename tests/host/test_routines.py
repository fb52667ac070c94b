"""Host routines: validation with one-line errors, the library, `new` specs, device operations against a
fake session that runs the real device functions on a temporary flash directory (docfx), and the CLI
handlers. What routine and programme files share (reading, decoding): test_docfiles."""
from __future__ import annotations

import json

import pytest
from docfx import FakeSession, assert_upload_failures_raise, run_command, write
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from host_tools import points
from host_tools import routines as RT
from host_tools.commands import routine as cmd
from host_tools.errors import InputError

R = RT.R
RP = RT.RP


def bedtime_dict():
    return json.loads(RT.library_routine("bedtime"))


# ---- validation ----

def test_library_routines_are_valid_and_complete():
    names = RT.library_names()
    for want in ("bedtime", "ht7-quick", "racing-thoughts", "physical-tension", "early-waking",
                 "mat-session"):
        assert want in names
    for n in names:
        r = RT.parse_bytes(RT.library_routine(n), n)
        assert r.name == n
    quick = RT.parse_bytes(RT.library_routine("ht7-quick"), "q")
    assert quick.total_ms == 30000 and quick.steps[0].point == "HT7"
    mat = RT.parse_bytes(RT.library_routine("mat-session"), "m")
    assert mat.steps[0].kind == R.STEP_TIMED and mat.steps[0].min_ms == 600000
    assert 900000 <= mat.steps[0].duration_ms <= 2400000
    tension = RT.parse_bytes(RT.library_routine("physical-tension"), "t")
    assert {s.point for s in tension.steps if s.point} == {"SP6", "HT7"}
    assert any("pregnancy" in c for c in RT.cautions(tension))
    early = RT.parse_bytes(RT.library_routine("early-waking"), "e")
    assert early.steps[0].point == "GV20"
    bed = RT.parse_bytes(RT.library_routine("bedtime"), "b")
    assert [s.point for s in bed.steps[:4]] == ["HT7", "HT7", "YINTANG", "GB20"]
    assert any(s.count == R.COUNT_DOSE for s in bed.steps)
    with pytest.raises(InputError, match="no library routine"):
        RT.library_routine("nope")


def test_point_table():
    for code in ("HT7", "YINTANG", "GB20", "SP6", "GV20", "KD1", "ANMIAN", "LV3", "KD3", "EAR-SHENMEN",
                 "LI4"):
        p = points.get(code)
        assert p and p.location and p.how_to and p.name
    assert points.get("SP6").cautions and points.get("LI4").cautions
    assert not points.get("HT7").cautions
    assert points.find("yin tang").code == "YINTANG"
    assert points.find("Spirit Gate").code == "HT7"
    assert points.find("ear shenmen").code == "EAR-SHENMEN"
    assert points.find("xyz") is None
    assert points.get("GV20").sides == ("centre",)


@pytest.mark.parametrize("mutate, want", [
    (lambda d: d["steps"][2].update(band_hi_g=12000), "step 3: band_hi_g 12000 out of range 500..10000"),
    (lambda d: d["steps"][0].update(band_lo_g=6000), "step 1: band_lo_g 6000 must be below band_hi_g 5000"),
    (lambda d: d["steps"][0].update(duration_s=0), "step 1: duration_s 0 out of range 1..3600"),
    (lambda d: d["steps"][0].update(duration_s=10**9), "step 1: duration_s 1000000000 out of range"),
    (lambda d: d["steps"][0].update(duration_s="60"), "step 1: duration_s must be an integer"),
    (lambda d: d["steps"][0].update(point="HT8"), "step 1: point 'HT8' unknown"),
    (lambda d: d["steps"][0].update(point="shenmen"), "did you mean HT7?"),
    (lambda d: d["steps"][2].update(side="left"), "step 3: side left not possible for YINTANG (use centre)"),
    (lambda d: d["steps"][0].pop("side"), "step 1: missing field side"),
    (lambda d: d.pop("steps"), "missing field steps"),
    (lambda d: d.update(version=3), "version 3 not supported (this firmware reads versions 1..2)"),
    (lambda d: d.update(name="../../etc"), "name '../../etc' must be"),
    (lambda d: d["steps"][0].update(feedback="faded"), "step 1: unknown field 'feedback' for a press step (version 1"),
    (lambda d: d.update(version=2) or d["steps"][0].update(feedback="half"),
     "step 1: feedback 'half' not one of full|faded|bandwidth|none"),
    (lambda d: d.update(version=2) or d["steps"][0].update(feedback="bandwidth", feedback_pct=50),
     "step 1: feedback_pct is only for feedback faded"),
    (lambda d: d.update(version=2) or d["steps"].append({"type": "check", "target_g": 4000, "hold_s": 90}),
     "hold_s 90 out of range 3..60"),
    (lambda d: d.update(version=2) or d["steps"].append({"type": "check", "target_g": 4000, "hold_s": 9,
                                                          "point": "YINTANG", "side": "left"}),
     "side left not possible for YINTANG (use centre)"),
])
def test_bad_routine_one_line_error_names_file_and_field(tmp_path, mutate, want):
    d = bedtime_dict()
    mutate(d)
    p = write(tmp_path, d)
    with pytest.raises(InputError) as ei:
        RT.validate_file(p)
    msg = str(ei.value)
    assert msg.startswith("routine %s: " % p) and want in msg and "\n" not in msg


def test_a_version_2_routine_shows_each_steps_schedule_and_its_checks(tmp_path):
    d = bedtime_dict()
    d["version"] = 2
    d["steps"][0].update(feedback="faded", feedback_pct=40)
    d["steps"][1].update(feedback="bandwidth")
    d["steps"][2].update(feedback="none")
    d["steps"].insert(0, {"type": "check", "target_g": 4000, "hold_s": 10, "point": "SP6", "side": "left"})
    r = RT.validate_file(write(tmp_path, d))
    lines = RT.describe(r)
    text = "\n".join(lines)
    assert "check on SP6" in text and "press what you think is 4.0 kg for 10 s, no feedback" in text
    assert "accurate within 3.4-4.6 kg" in text
    assert "feedback faded (on the first 40 % of every 10 s)" in text
    assert "feedback bandwidth (only outside the band +-5 %)" in text
    assert "feedback none (blind; too hard still warns)" in text and "feedback full" in text
    assert any("SP6" in c for c in RT.cautions(r))  # a check on a point carries its cautions


# ---- new ----

def test_new_from_specs():
    data = RT.new_routine("evening", steps=["HT7:each:90s:dose=3m", "yin tang:1m:2-4kg", "rest:10",
                                            "breathe:38:4-7-8", "mat:20m:min=10m"], title="Evening")
    d = json.loads(data)
    assert d["name"] == "evening" and d["title"] == "Evening"
    s = d["steps"]
    assert s[0] == {"type": "press", "point": "HT7", "side": "left", "duration_s": 90, "count": "dose",
                    "max_s": 180}
    assert s[1]["side"] == "right"
    assert s[2] == {"type": "press", "point": "YINTANG", "side": "centre", "duration_s": 60,
                    "band_lo_g": 2000, "band_hi_g": 4000}
    assert s[3] == {"type": "rest", "duration_s": 10}
    assert s[5] == {"type": "timed", "duration_s": 1200, "min_s": 600, "label": "mat"}
    RT.parse_bytes(data, "evening.json")


def test_new_from_library_and_errors():
    d = json.loads(RT.new_routine("my-bed", base="bedtime", weekly_goal=4))
    assert d["name"] == "my-bed" and d["weekly_goal"] == 4 and len(d["steps"]) == 5
    d = json.loads(RT.new_routine("short-bed", base="bedtime", steps=["HT7:left:30"]))
    assert len(d["steps"]) == 1
    with pytest.raises(InputError, match="unknown point 'HTX'"):
        RT.new_routine("x", steps=["HTX:60"])
    with pytest.raises(InputError, match="unknown part 'sideways'"):
        RT.new_routine("x", steps=["HT7:sideways"])
    with pytest.raises(InputError, match="band_hi_g 12000 out of range"):
        RT.new_routine("x", steps=["HT7:left:60:3-12kg"])
    with pytest.raises(InputError, match="routine name 'Bad Name'"):
        RT.new_routine("Bad Name", steps=["HT7:60"])
    with pytest.raises(InputError, match="no steps"):
        RT.new_routine("x")
    with pytest.raises(InputError, match="side left not possible for GV20"):
        RT.new_routine("x", steps=["GV20:left:60"])


# ---- the device ----

def test_push_select_list_pull_remove(tmp_path):
    s = FakeSession(tmp_path / "flash")
    RT.install_library(s)
    info = RT.device_list(s)
    assert info["selected"] == "bedtime"
    assert {i["name"] for i in info["routines"]} == set(RT.library_names())
    assert all(i["error"] is None for i in info["routines"])
    assert ("acu.routine_parse", "check_file", ("/routines/bedtime.json.tmp",)) in s.calls
    assert json.loads(RT.pull(s, "ht7-quick"))["name"] == "ht7-quick"
    with pytest.raises(InputError, match="is selected"):
        RT.remove(s, "bedtime")
    RT.select_routine(s, "ht7-quick")
    assert RT.device_list(s)["selected"] == "ht7-quick"
    RT.remove(s, "bedtime")
    assert not s.exists("/routines/bedtime.json")
    with pytest.raises(InputError, match="no routine 'bedtime' on the device"):
        RT.select_routine(s, "bedtime")
    with pytest.raises(InputError, match="no routine"):
        RT.pull(s, "bedtime")
    with pytest.raises(InputError, match="routine name"):
        RT.pull(s, "../cfg/selected")


def test_bad_push_changes_nothing(tmp_path):
    s = FakeSession(tmp_path / "flash")
    RT.install_library(s)
    before = {p.name: p.read_bytes() for p in (tmp_path / "flash" / "routines").iterdir()}
    d = bedtime_dict()
    d["steps"][0]["band_hi_g"] = 20000
    with pytest.raises(InputError, match="band_hi_g 20000"):
        RT.push(s, json.dumps(d).encode(), "bad.json")
    # an interrupted upload and a firmware that refuses the file both leave the old routine intact
    good = bedtime_dict()
    good["title"] = "changed"
    assert_upload_failures_raise(s, lambda: RT.push(s, json.dumps(good).encode(), "good.json", select=True))
    after = {p.name: p.read_bytes() for p in (tmp_path / "flash" / "routines").iterdir()}
    assert before == after
    assert RP.selected(str(tmp_path / "flash" / "cfg" / "selected")) == "bedtime"


# ---- CLI handlers ----

def run(argv, monkeypatch, session=None):
    return run_command(cmd, argv, monkeypatch, session)


def test_cli_validate_show_new(tmp_path, monkeypatch, capsys):
    good = write(tmp_path, bedtime_dict(), "good.json")
    d = bedtime_dict()
    d["steps"][1]["side"] = "up"
    bad = write(tmp_path, d, "bad.json")
    assert run(["routine", "validate", str(good)], monkeypatch) == 0
    assert run(["routine", "validate", str(good), str(bad)], monkeypatch) == 2
    out = capsys.readouterr()
    assert "good.json: ok, bedtime, 5 steps" in out.out
    assert "bad.json: step 2: side 'up' not one of" in out.err and out.err.count("\n") == 1
    assert run(["routine", "show", "physical-tension"], monkeypatch) == 0
    out = capsys.readouterr()
    assert "SP6 Sanyinjiao" in out.out and "inner ankle" in out.out and "pregnancy" in out.err
    out_file = tmp_path / "evening.json"
    assert run(["routine", "new", "evening", "--step", "HT7:each:60", "--step", "breathe:38",
                "--out", str(out_file)], monkeypatch) == 0
    assert RT.validate_file(out_file).name == "evening"
    with pytest.raises(InputError, match="exists"):
        run(["routine", "new", "evening", "--step", "HT7:60", "--out", str(out_file)], monkeypatch)
    assert run(["routine", "list", "--library"], monkeypatch) == 0
    assert "mat-session" in capsys.readouterr().out


def test_cli_device_commands(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ACUTRAINER_HOME", str(tmp_path / "home"))   # no caution confirmed yet
    s = FakeSession(tmp_path / "flash")
    assert run(["routine", "push", "bedtime", "--select"], monkeypatch, s) == 0
    assert run(["routine", "push", "physical-tension", "--yes"], monkeypatch, s) == 0
    out = capsys.readouterr()
    assert "pushed bedtime" in out.out and "pregnancy" in out.err
    assert run(["routine", "list"], monkeypatch, s) == 0
    out = capsys.readouterr().out
    assert "* bedtime" in out and "  physical-tension" in out
    dest = tmp_path / "pulled.json"
    assert run(["routine", "pull", "bedtime", "--out", str(dest)], monkeypatch, s) == 0
    assert RT.validate_file(dest).name == "bedtime"
    with pytest.raises(InputError, match="is selected"):
        run(["routine", "remove", "bedtime"], monkeypatch, s)
    assert run(["routine", "select", "physical-tension"], monkeypatch, s) == 0
    assert run(["routine", "remove", "bedtime"], monkeypatch, s) == 0
    assert run(["routine", "show", "--device", "physical-tension"], monkeypatch, s) == 0
    d = bedtime_dict()
    d["steps"][0]["duration_s"] = -5
    bad = write(tmp_path, d, "bad.json")
    calls = len(s.calls)
    with pytest.raises(InputError, match="bad.json: step 1: duration_s -5 out of range"):
        run(["routine", "push", str(bad)], monkeypatch, s)
    assert len(s.calls) == calls   # refused before talking to the device
    assert run(["routine", "new", "quick2", "--step", "HT7:30", "--select"], monkeypatch, s) == 0
    assert RP.selected(str(tmp_path / "flash" / "cfg" / "selected")) == "quick2"


# ---- hypothesis: generated routines, valid and broken ----

point_sides = st.sampled_from(sorted(points.POINTS)).flatmap(
    lambda c: st.tuples(st.just(c), st.sampled_from(points.POINTS[c].sides)))


@st.composite
def gen_step(draw):
    kind = draw(st.sampled_from(["press", "press", "rest", "breathe", "timed"]))
    dur = draw(st.integers(1, 600))
    if kind == "press":
        code, side = draw(point_sides)
        lo = draw(st.integers(500, 9999))
        d = {"type": "press", "point": code, "side": side, "duration_s": dur, "band_lo_g": lo,
             "band_hi_g": draw(st.integers(lo + 1, 10000))}
        if draw(st.booleans()):
            d["count"] = "dose"
        return d
    if kind == "breathe":
        pattern = draw(st.sampled_from(["4-7-8", "4-4", "5-5-5-5"]))
        return {"type": "breathe", "duration_s": dur, "pattern": pattern}
    if kind == "timed":
        return {"type": "timed", "duration_s": dur, "min_s": draw(st.integers(0, dur))}
    return {"type": "rest", "duration_s": dur}


gen_routine = st.builds(
    lambda name, steps, goal: {"format": "acu-routine", "version": 1, "name": name, "title": name,
                               "weekly_goal": goal, "steps": steps},
    st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}", fullmatch=True), st.lists(gen_step(), min_size=1, max_size=10),
    st.integers(1, 21))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(gen_routine)
def test_generated_valid_routines_pass_host_and_device(d):
    data = json.dumps(d).encode()
    r = RT.parse_bytes(data, "gen.json")
    assert RP.loads(data).name == r.name == d["name"]
    assert len(r.steps) == len(d["steps"])


broken_values = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.text(max_size=8),
                          st.floats(allow_nan=False), st.lists(st.integers(), max_size=2))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(gen_routine, st.data())
def test_generated_broken_routines_fail_with_one_line(d, data):
    target = data.draw(st.sampled_from([d] + d["steps"]))
    key = data.draw(st.sampled_from(sorted(target) + ["extra"]))
    if key in target and data.draw(st.booleans()):
        del target[key]
    else:
        target[key] = data.draw(broken_values)
    raw = json.dumps(d).encode()
    try:
        RT.parse_bytes(raw, "broken.json")
    except InputError as e:
        msg = str(e)
        assert msg.startswith("routine broken.json: ") and "\n" not in msg
        return
    # the mutation happened to be valid: then the device must accept it too (one validator)
    RP.loads(raw)
