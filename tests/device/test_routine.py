# The routine validator/loader: compile, defaults, one-line errors, files on the device.
import json
import os

from mpcompat import raises
from routine_samples import bedtime, mixed

from acu import routine as R, routine_parse as RP


def test_parse_bedtime_compiles_steps():
    r = RP.parse(bedtime())
    assert r.name == "bedtime" and r.weekly_goal == 5
    assert len(r.steps) == 5
    s0, s1, s2, s3, s4 = r.steps
    assert s0.kind == R.STEP_PRESS and s0.point == "HT7" and s0.side == R.SIDE_LEFT
    assert s0.duration_ms == 60000 and s0.band_lo_g == 3000 and s0.band_hi_g == 5000
    assert s0.count == R.COUNT_CLOCK
    assert s2.band_lo_g == 2000 and s2.band_hi_g == 3500 and s2.side == R.SIDE_CENTRE
    assert s3.count == R.COUNT_DOSE and s3.max_ms == 240000 and s3.side == R.SIDE_BOTH
    assert s4.kind == R.STEP_BREATHE and s4.pattern_ms == (4000, 7000, 8000)
    assert s0.same_place(s1) and not s1.same_place(s2)
    # planned length; the limit applies to dose steps at their max_s
    assert r.total_ms == (60 + 60 + 60 + 120 + 38) * 1000
    assert r.max_total_ms == (60 + 60 + 60 + 240 + 38) * 1000


def test_defaults_and_round_trip():
    d = mixed()
    r = RP.parse(d)
    assert r.title == "mixed" and r.weekly_goal == RP.DEFAULT_WEEKLY
    n = RP.to_dict(r)
    assert n["steps"][0]["band_lo_g"] == 3000 and n["steps"][0]["count"] == "dose"
    assert n["steps"][2] == {"type": "timed", "duration_s": 30, "min_s": 20, "label": "mat"}
    r2 = RP.parse(n)
    assert RP.to_dict(r2) == n


def err(d):
    return str(raises(ValueError, RP.parse, d))


def test_error_names_routine_step_and_field():
    d = bedtime()
    d["steps"][2]["band_hi_g"] = 12000
    assert err(d) == "routine bedtime: step 3: band_hi_g 12000 out of range 500..10000"


def test_bad_values_are_refused():
    cases = [
        (("steps", 0, "band_lo_g", 400), "step 1: band_lo_g 400 out of range"),
        (("steps", 0, "band_lo_g", 5000), "band_lo_g 5000 must be below band_hi_g 5000"),
        (("steps", 1, "duration_s", 0), "step 2: duration_s 0 out of range 1..3600"),
        (("steps", 1, "duration_s", 99999), "step 2: duration_s 99999 out of range"),
        (("steps", 1, "duration_s", 60.5), "step 2: duration_s must be an integer"),
        (("steps", 1, "duration_s", "60"), "step 2: duration_s must be an integer"),
        (("steps", 1, "duration_s", True), "step 2: duration_s must be an integer"),
        (("steps", 0, "side", "up"), "step 1: side 'up' not one of centre|left|right|both"),
        (("steps", 0, "count", "reps"), "step 1: count 'reps' not one of clock|dose"),
        (("steps", 0, "max_s", 100), "step 1: max_s is only for count dose"),
        (("steps", 3, "max_s", 60), "step 4: max_s 60 out of range 120..3600"),
        (("steps", 0, "type", "jump"), "step 1: type 'jump' not one of press|rest|breathe|timed"),
        (("steps", 0, "duraton_s", 5), "step 1: unknown field 'duraton_s' for a press step"),
        (("steps", 4, "pattern", "4-x-8"), "step 5: pattern '4-x-8': each phase 1..20 s"),
        (("steps", 4, "pattern", "4"), "step 5: pattern '4' must be 2 to 4 phases"),
        (("steps", 0, "point", ""), "step 1: point is empty"),
        (("steps", 0, "point", 7), "step 1: point must be a string"),
    ]
    for (top, i, key, val), want in cases:
        d = bedtime()
        d[top][i][key] = val
        msg = err(d)
        assert want in msg, (want, msg)
        assert msg.startswith("routine bedtime: ")


def test_missing_fields_and_top_level():
    d = bedtime()
    del d["steps"][0]["side"]
    assert "step 1: missing field side" in err(d)
    d = bedtime()
    del d["steps"][1]["duration_s"]
    assert "step 2: missing field duration_s" in err(d)
    d = bedtime()
    d["version"] = 3
    assert err(d) == "routine bedtime: version 3 not supported (this firmware reads versions 1..2)"
    d = bedtime()
    d["format"] = "other"
    assert "format must be acu-routine" in err(d)
    d = bedtime()
    d["name"] = "Bad Name"
    assert "name 'Bad Name' must be" in err(d)
    d = bedtime()
    d["steps"] = []
    assert "steps: 0 steps, allowed 1..40" in err(d)
    d = bedtime()
    d["steps"] = {"a": 1}
    assert "steps must be a list" in err(d)
    d = bedtime()
    d["steps"][0] = "press"
    assert "step 1: must be an object" in err(d)
    d = bedtime()
    d["extra"] = 1
    assert "unknown field 'extra'" in err(d)
    d = bedtime()
    d["weekly_goal"] = 0
    assert "weekly_goal 0 out of range 1..21" in err(d)
    assert "must be a JSON object" in str(raises(ValueError, RP.parse, [1, 2]))


def test_total_limit():
    d = bedtime()
    d["steps"] = [{"type": "rest", "duration_s": 3600}] * 3
    assert "total 10800 s over the limit of 7200 s" in err(d)
    d["steps"] = [{"type": "press", "point": "HT7", "side": "left", "duration_s": 60, "count": "dose",
                   "max_s": 3600}] * 3
    assert "total 10800 s over the limit" in err(d)


def test_loads_size_and_json_errors():
    big = b'{"x": "' + b"a" * (RP.MAX_FILE_BYTES + 10) + b'"}'
    assert "file is" in str(raises(ValueError, RP.loads, big, "big"))
    assert str(raises(ValueError, RP.loads, b"{not json", "x")) == "routine x: not valid JSON"
    assert "not valid JSON" in str(raises(ValueError, RP.loads, b"[" * 5000, "deep"))
    r = RP.loads(json.dumps(bedtime()))
    assert r.name == "bedtime"
    if r.digest is not None:
        assert len(r.digest) == 64


def test_valid_name():
    assert RP.valid_name("bedtime") and RP.valid_name("ht7-quick") and RP.valid_name("a1")
    for bad in ("", "-x", "Bed", "a/b", "../x", "a.json", "x" * 33, None, 5):
        assert not RP.valid_name(bad), bad


# ---- files ----

def _tmpdir(tag):
    base = "/tmp/acu_routine_test_" + tag
    _rmtree(base)
    os.mkdir(base)
    os.mkdir(base + "/routines")
    os.mkdir(base + "/cfg")
    return base


def _rmtree(p):
    try:
        names = os.listdir(p)
    except OSError:
        return
    for n in names:
        q = p + "/" + n
        try:
            os.remove(q)
        except OSError:
            _rmtree(q)
    os.rmdir(p)


def _write(path, data):
    with open(path, "w") as f:
        f.write(data)


def test_files_read_list_select_check():
    base = _tmpdir("files")
    root = base + "/routines"
    sel = base + "/cfg/selected"
    try:
        _write(root + "/bedtime.json", json.dumps(bedtime()))
        _write(root + "/mixed.json", json.dumps(mixed()))
        bad = bedtime()
        bad["name"] = "broken"
        bad["steps"][0]["band_lo_g"] = 1
        _write(root + "/broken.json", json.dumps(bad))
        _write(root + "/notes.txt", "ignored")
        items = RP.list_routines(root)
        assert [i["name"] for i in items] == ["bedtime", "broken", "mixed"]
        assert items[0]["error"] is None and items[0]["steps"] == 5 and items[0]["size"] > 100
        assert "band_lo_g 1 out of range" in items[1]["error"]
        assert RP.read("mixed", root).steps[1].kind == R.STEP_REST
        got = RP.load("bedtime", root)
        assert got["routine"]["name"] == "bedtime" and got["total_s"] == 338
        json.dumps(got)  # JSON-able for the host
        assert "no file" in str(raises(ValueError, RP.read, "nothere", root))
        assert "must be" in str(raises(ValueError, RP.path_for, "../etc"))

        assert RP.selected(sel) is None
        assert RP.read_selected(root, sel).name == "bedtime"   # default when nothing is selected
        # the app's copy: what the runner and the log use, without the texts for people
        full = RP.read("bedtime", root)
        app_copy = RP.read_selected(root, sel, False)
        assert full.description
        assert app_copy.title is None and app_copy.description is None
        assert all(s.note is None and s.label is None for s in app_copy.steps)
        assert app_copy.digest == full.digest and app_copy.total_ms == full.total_ms
        # read() streams the file (hash in chunks, then json.load): the same routine and digest as loads()
        with open(root + "/bedtime.json", "rb") as f:
            data = f.read()
        assert RP.loads(data).digest == full.digest and len(full.digest) == 64
        assert RP.to_dict(RP.loads(data)) == RP.to_dict(full)
        _write(root + "/nojson.json", data[:-7].decode())
        assert "not valid JSON" in str(raises(ValueError, RP.read, "nojson", root))
        os.remove(root + "/nojson.json")
        assert [(s.kind, s.point, s.side, s.band_lo_g, s.band_hi_g, s.duration_ms, s.max_ms) for s in app_copy.steps] \
            == [(s.kind, s.point, s.side, s.band_lo_g, s.band_hi_g, s.duration_ms, s.max_ms) for s in full.steps]
        _write(sel, "mixed\n")
        assert RP.selected(sel) == "mixed"
        assert RP.read_selected(root, sel).name == "mixed"
        _write(sel, "broken")
        assert RP.read_selected(root, sel).name == "bedtime"   # a bad selection falls back
        os.remove(root + "/bedtime.json")
        assert RP.read_selected(root, sel).name == "mixed"
        _write(sel, "../../x")
        assert RP.selected(sel) is None

        # check_file on an upload's temporary file: the name must match the target
        _write(root + "/mixed.json.tmp", json.dumps(mixed()))
        info = RP.check_file(root + "/mixed.json.tmp")
        assert info["name"] == "mixed" and info["steps"] == 5 and info["total_s"] == 55
        _write(root + "/other.json.tmp", json.dumps(mixed()))
        e = raises(ValueError, RP.check_file, root + "/other.json.tmp")
        assert "does not match the file name other.json" in str(e)
        bad = mixed()
        bad["version"] = 9
        _write(root + "/mixed.json.tmp", json.dumps(bad))
        assert "version 9 not supported" in str(raises(ValueError, RP.check_file, root + "/mixed.json.tmp"))
        _write(root + "/mixed.json.tmp", "x" * (RP.MAX_FILE_BYTES + 1))
        assert "limit" in str(raises(ValueError, RP.check_file, root + "/mixed.json.tmp"))
    finally:
        _rmtree(base)


def test_read_selected_with_nothing():
    base = _tmpdir("empty")
    try:
        assert RP.read_selected(base + "/routines", base + "/cfg/selected") is None
        assert RP.list_routines(base + "/nope") == []
    finally:
        _rmtree(base)


def test_steps_hold_only_their_own_fields():
    # the unset fields are class defaults (a smaller object per step); texts=False leaves the texts out
    d = bedtime()
    d["steps"][0]["note"] = "Slow breathing."
    full = RP.parse(d)
    bare = RP.parse(d, None, None, False)
    assert full.steps[0].note == "Slow breathing." and full.title
    assert bare.title is None and bare.description is None
    for s in bare.steps:
        own = s.__dict__
        assert "note" not in own and "label" not in own and "min_ms" not in own, own
        assert s.note is None and s.label is None and s.min_ms == 0
    s0, s3 = bare.steps[0].__dict__, bare.steps[3].__dict__
    # a clock press step at the default band: no band or count of its own; a dose step keeps its count
    assert "band_lo_g" not in s0 and "count" not in s0 and "pattern_ms" not in s0, s0
    assert s3["count"] == R.COUNT_DOSE and s3["max_ms"] == 240000
    assert bare.steps[0].band_lo_g == R.DEFAULT_LO_G and bare.steps[2].band_lo_g == 2000
    assert [(s.kind, s.point, s.side, s.band_lo_g, s.band_hi_g, s.count, s.duration_ms, s.max_ms, s.pattern_ms)
            for s in bare.steps] == [(s.kind, s.point, s.side, s.band_lo_g, s.band_hi_g, s.count, s.duration_ms,
                                      s.max_ms, s.pattern_ms) for s in full.steps]
