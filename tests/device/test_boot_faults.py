# A device that always comes up (docs/reliability.md, "Boot files"): every file the firmware reads at boot,
# damaged in each way a flash or a hand edit damages it, still gives a running app with feedback; the bad
# file is set aside (NAME.bad), named in acu.problems, the fault cue plays and the next session logs
# EV_BOOT_FAULTS. Runs under pytest and tools/mp_test_runner.py.
import json
import os

import fakeboard
from fakeboard import raw_for

import acu
from acu import appcfg, band, cfgfile, feedback, logfmt, logread
from acu import app as app_mod
from acu import routine as R

GARBAGE = b"\x00\x13garbage{{[\x7f"
NON_UTF8 = b'{"feedback": "b\xffth"}'
# (file under the flash root, kind): the boot files and how each is read
FILES = ("/cfg/settings.json", "/cfg/state.json", "/cfg/board.json", "/cfg/calib.json", "/cfg/selected",
         "/log/next")
GOOD = {"/cfg/settings.json": b'{"feedback": "led", "intensity_pct": 60}', "/cfg/state.json": b'{"boots": 41}',
        "/cfg/board.json": b'{"board": "esp32_devkitc"}', "/cfg/selected": b"bedtime", "/log/next": b"12",
        "/cfg/calib.json": b""}


def _corruptions(path):
    """(name, bytes or None for a folder) for the file at path."""
    good = GOOD[path] or b'{"format": "acu-calib", "version": 1, "id": "x", "points": [[1, 2]]}'
    cut = b"" if path == "/log/next" else good[:len(good) // 2]   # half of "12" would be a good number
    bad_text = b"1\xff2" if path == "/log/next" else b"bed\xfftime" if path == "/cfg/selected" else NON_UTF8
    out = [("garbage", GARBAGE), ("truncated", cut), ("non-UTF-8", bad_text), ("folder", None)]
    if path.endswith(".json"):
        out.append(("wrong type", b"[1, 2, 3]"))
    if path == "/cfg/state.json":
        out += [("huge number", b'{"boots": 1e999}'), ("not a number", b'{"boots": "many"}'),
                ("big number", b'{"boots": 123456789012345678901234567890}')]
    if path == "/cfg/settings.json":
        out += [("unknown value", b'{"feedback": "none"}'), ("out of range", b'{"loop_hz": 5}')]
    if path == "/cfg/board.json":
        out.append(("not a board name", b'{"board": "../x"}'))
    return out


def _write(root, path, data):
    p = root + path
    if data is None:
        os.mkdir(p)
        with open(p + "/x", "w") as f:   # a folder with something in it: never deleted
            f.write("x")
    else:
        with open(p, "wb") as f:
            f.write(data)


def _boot(root):
    """What /main.py does, on the fake board: (app, clock, sensor) started."""
    del acu.problems[:]
    appcfg.clean_tmp_files(root)
    settings = appcfg.load_settings(root)
    boots, _boot_id = appcfg.count_boot(root)
    name = appcfg.board_name(root)
    assert name  # a board is always chosen (its build on a real board: test_unknown_board_falls_back)
    clock = fakeboard.FakeClock(1000)
    sensor = fakeboard.Sensor()
    app = app_mod.App(fakeboard.board(clock, sensor, True), settings, boots, root)
    app.start()
    return app, clock, sensor


def _press(app, clock, sensor, grams, ms):
    sensor.raw = raw_for(app, grams) if grams else 0
    for _ in range(ms // 5):
        clock.advance(5)
        app.step(clock.ticks_ms())


def _named(path):
    return [p for p in acu.problems if p[0] == path]


def _exists(p):
    try:
        os.stat(p)
        return True
    except OSError:
        return False


def test_every_boot_file_damaged_every_way_still_starts_with_feedback():
    tried = 0
    for path in FILES:
        for what, data in _corruptions(path):
            root = fakeboard.flash_root()
            if path == "/cfg/selected":
                with open(root + R.ROOT + "/bedtime.json", "w") as f:
                    f.write(json.dumps(_routine()))
            _write(root, path, data)
            app, clock, sensor = _boot(root)
            where = "%s %s" % (path, what)
            named = _named(root + path) or (path == "/cfg/selected" and what == "truncated" and
                                            _named(root + R.ROOT + "/bed.json"))
            assert named, (where, acu.problems)
            assert app.boot_faults >= 1 and app.fb.cue_code == feedback.CUE_FAULT, where
            # a press gives feedback: the band state shows and the outputs move
            _press(app, clock, sensor, 0, 200)
            sets = app.hw.motor.sets + app.hw.led.sets
            _press(app, clock, sensor, 4000, 800)
            assert app.state == band.IN_BAND, where
            assert app.hw.motor.sets + app.hw.led.sets > sets, where
            p = named[0]
            if p[2] is not None:  # set aside: the bad copy is kept, the file's place is free
                assert _exists(p[2]), where
                assert not _exists(root + path) or path == "/cfg/state.json", where
            tried += 1
    assert tried >= 30


def _routine():
    return {"format": "acu-routine", "version": 1, "name": "bedtime", "title": "t",
            "steps": [{"type": "press", "point": "HT7", "side": "left", "duration_s": 30}]}


def test_one_bad_setting_is_dropped_the_others_kept():
    root = fakeboard.flash_root()
    _write(root, "/cfg/settings.json", b'{"feedback": "none", "intensity_pct": 40, "colour": "red"}')
    del acu.problems[:]
    s = appcfg.load_settings(root)
    assert s["feedback"] == "both" and s["intensity_pct"] == 40
    texts = [p[1] for p in acu.problems]
    assert len(texts) == 2 and "feedback" in texts[0] and "unknown setting" in texts[1], texts
    assert _exists(root + "/cfg/settings.json")  # the file stays: only its bad keys are dropped
    del acu.problems[:]


def test_each_documented_setting_accepts_its_range_and_refuses_outside():
    for key, spec in appcfg.SETTINGS_SPEC.items():
        if spec[0] is int:
            assert appcfg._setting_problem(key, spec[1]) is None and appcfg._setting_problem(key, spec[2]) is None
            assert appcfg._setting_problem(key, spec[1] - 1) and appcfg._setting_problem(key, spec[2] + 1), key
            assert appcfg._setting_problem(key, True) and appcfg._setting_problem(key, 1.5), key
        elif spec[0] is bool:
            assert appcfg._setting_problem(key, False) is None and appcfg._setting_problem(key, 1), key
        else:
            for v in spec[1]:
                assert appcfg._setting_problem(key, v) is None
            assert appcfg._setting_problem(key, "none") and appcfg._setting_problem(key, 3), key
    for k, v in appcfg.DEFAULT_SETTINGS.items():
        assert appcfg._setting_problem(k, v) is None, k


def test_the_feedback_names_are_the_feedback_modes():
    assert tuple(appcfg.FEEDBACK_NAMES) == tuple(feedback.MODE_NAMES[1:])
    for n in appcfg.FEEDBACK_NAMES:
        feedback.mode_from_name(n)


def test_older_bad_copies_are_kept():
    root = fakeboard.flash_root()
    path = root + "/cfg/state.json"
    del acu.problems[:]
    for i in range(cfgfile.BAD_SLOTS + 1):
        _write(root, "/cfg/state.json", ("bad %d" % i).encode())
        assert appcfg.read_boots(root) == 0
    with open(path + ".bad", "rb") as f:
        assert f.read() == b"bad 0"   # the first damage stays
    with open(path + ".bad%d" % cfgfile.BAD_SLOTS, "rb") as f:
        assert f.read() == ("bad %d" % cfgfile.BAD_SLOTS).encode()   # the newest slot took the last one
    assert "replacing" in acu.problems[-1][1]
    assert len(cfgfile.bad_files([root + "/cfg"])) == cfgfile.BAD_SLOTS
    del acu.problems[:]


def test_a_good_boot_has_no_problems_and_the_rest_cue():
    root = fakeboard.flash_root()
    for path in ("/cfg/settings.json", "/cfg/state.json", "/cfg/board.json", "/log/next"):
        _write(root, path, GOOD[path])
    app, clock, sensor = _boot(root)
    assert acu.problems == [] and app.fb.cue_code == feedback.CUE_REST
    assert app.settings["feedback"] == "led" and app.settings["intensity_pct"] == 60
    assert app.log.boot_count == 42


def test_a_folder_with_a_session_name_is_set_aside_and_the_next_session_logs_the_fault():
    root = fakeboard.flash_root()
    os.mkdir(root + "/log/000003.acl")
    app, clock, sensor = _boot(root)
    assert _exists(root + "/log/000003.acl.bad") and not _exists(root + "/log/000003.acl")
    assert app.boot_faults == 1
    _press(app, clock, sensor, 4000, 3000)   # a free press: a session
    _press(app, clock, sensor, 0, 21000)
    from acu import logadmin
    names = [e["name"] for e in logadmin.list_sessions(root + "/log")]
    assert names and all(n.endswith(".acl") for n in names)
    with open(root + "/log/" + names[-1], "rb") as f:
        s = logread.decode_session(f.read())
    evs = [e for e in s["events"] if e["code"] == logfmt.EV_BOOT_FAULTS]
    assert len(evs) == 1 and evs[0]["value"] == 1, s["events"]
    assert app.boot_faults == 0   # once, in the next session only
    del acu.problems[:]


def test_a_folder_where_a_session_file_belongs_is_skipped_by_the_listing():
    from acu import logadmin, logrecover
    root = fakeboard.flash_root()
    os.mkdir(root + "/log/000007.acl")
    assert logrecover.session_names(root + "/log") == []
    assert logadmin.list_sessions(root + "/log") == []


def test_unknown_board_falls_back():
    root = fakeboard.flash_root()
    _write(root, "/cfg/board.json", b'{"board": "esp99_nope"}')
    built = []

    def fake_build(name, settings):
        if name == "esp99_nope":
            raise ImportError("no module named boards.esp99_nope")
        built.append(name)
        return name
    real = appcfg._build
    appcfg._build = fake_build
    try:
        del acu.problems[:]
        assert appcfg.build_board({}, root) in ("sim", appcfg.DEFAULT_BOARD)
        assert "unknown board" in acu.problems[0][1] and acu.problems[0][0] == root + "/cfg/board.json"
    finally:
        appcfg._build = real
        del acu.problems[:]


def test_the_selected_routine_file_never_raises_for_the_host():
    from acu import routine_parse
    root = fakeboard.flash_root()
    _write(root, "/cfg/selected", b"bed\xfftime")
    assert routine_parse.selected(root + "/cfg/selected") is None


def test_a_damaged_boot_counter_goes_on_from_the_newest_session():
    root = fakeboard.flash_root()
    _write(root, "/cfg/state.json", b'{"boots": 40}')
    app, clock, sensor = _boot(root)   # boot 41: a free press makes a session of this boot
    _press(app, clock, sensor, 4000, 3000)
    _press(app, clock, sensor, 0, 21000)
    assert app.log.boot_count == 41
    for bad in (b"\x00garbage", b'{"boots": "many"}'):
        _write(root, "/cfg/state.json", bad)
        del acu.problems[:]
        assert appcfg.count_boot(root)[0] == 42   # not 1: boot 1's count may date older sessions on the host
        assert _named(root + "/cfg/state.json")
    del acu.problems[:]
    empty = fakeboard.flash_root()
    _write(empty, "/cfg/state.json", b"[]")
    assert appcfg.count_boot(empty)[0] == 1       # no session to go on from
    del acu.problems[:]


def test_json_nested_too_deep_is_set_aside():
    root = fakeboard.flash_root()
    _write(root, "/cfg/settings.json", b"[" * 5000 + b"]" * 5000)
    del acu.problems[:]
    assert appcfg.load_settings(root) == appcfg.DEFAULT_SETTINGS
    assert _named(root + "/cfg/settings.json") and _exists(root + "/cfg/settings.json.bad")
    del acu.problems[:]


def test_the_status_answer_names_a_few_problems_and_counts_the_rest():
    import gc
    gc.collect()  # the runner shares one heap across tests: the status answer's modules load into a collected one
    root = fakeboard.flash_root()
    _write(root, "/cfg/settings.json", json.dumps({"typo%d" % i: "x" * 300 for i in range(9)}).encode())
    app, clock, sensor = _boot(root)
    st = acu.call("status", "collect", app)
    assert len(st["boot_problems"]) == 6 and st["boot_files_more"] == 3
    assert all(len(p["problem"]) <= 140 and p["file"] == root + "/cfg/settings.json" for p in st["boot_problems"])
    assert st["set_aside"] == []
    assert len(json.dumps(st)) < 4096   # the live link's answer is one line the host reads up to 4 KB
    del acu.problems[:]
