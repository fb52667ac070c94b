# sim trace's summary for a person (host_tools/sim/story.py), from trace records as the launcher writes them.
from host_tools.sim import story


def rec(boot, t, kind, name=None, value=None, **kw):
    r = {"boot": boot, "t_ms": t, "kind": kind}
    if name is not None:
        r["name"] = name
    if value is not None:
        r["value"] = value
    r.update(kw)
    return r


TRACE = [
    rec(1, 0, "boot", mode="normal"),
    rec(1, 0, "note", "state", -1), rec(1, 0, "note", "cue", 0),
    rec(1, 0, "level", "led_hz", 1000),
    rec(1, 0, "note", "state", 0),
    rec(1, 500, "input", "button", "short"),
    rec(1, 520, "note", "button_input", 2),
    rec(1, 1300, "note", "cue", 1), rec(1, 1300, "level", "motor", 65535), rec(1, 1325, "level", "motor", 0),
    rec(1, 2000, "input", "profile", 2, buttons=["long"], ms=61000),
    rec(1, 2010, "note", "profile", 2), rec(1, 2010, "note", "button_input", 2),
    rec(1, 2500, "note", "state", 1), rec(1, 3005, "note", "state", 2), rec(1, 3005, "level", "rgb", 0x00ff00),
    rec(1, 30000, "note", "state", 3), rec(1, 31000, "note", "state", 2),
    rec(1, 62000, "note", "cue", 4),
    rec(1, 62100, "input", "profile", 1, buttons=[], ms=100),
    rec(1, 63000, "power_cut"),
    rec(2, 0, "boot", mode="normal"),
    rec(2, 0, "note", "state", 0),
    rec(2, 4000, "unplug", value=2000),
    rec(3, 0, "boot", mode="raw"),
]


def test_one_boot_told_as_states_cues_and_the_hand():
    lines = story.summarize([r for r in TRACE if r["boot"] == 1])
    assert lines == [
        "boot 1 (times: virtual seconds since it started)",
        "     0.000 s  band  no_contact",
        "     0.520 s  hand  button short",
        "     1.300 s  cue   start",
        "     2.010 s  hand  press profile (2 force segments over 61.0 s, button long)",
        "     2.500 s  band  under → in 3.005 → over 30.000 → in 31.000",
        "    62.000 s  cue   done",
        "    62.100 s  input press profile (1 force segment over 0.1 s) (sent; the board did not take it)",
        "    63.000 s  power cut",
        "                    4 output level changes (led_hz, motor, rgb): sim trace --raw lists them",
    ]


def test_every_boot_with_power_cuts_cable_pulls_and_raw_repl_resets():
    text = "\n".join(story.summarize(TRACE))
    assert "\n\nboot 2 (times: virtual seconds since it started)\n     0.000 s  band  no_contact\n" in text
    assert "     4.000 s  cable pulled for 2000 ms" in text
    assert text.endswith("boot 3, reset into the raw REPL: main.py not run (times: virtual seconds since it started)")


def test_since_leaves_out_what_came_before_but_still_names_the_hand():
    lines = story.summarize([r for r in TRACE if r["boot"] == 1], since_ms=2010)
    assert lines[1] == "     2.010 s  hand  press profile (2 force segments over 61.0 s, button long)"
    assert "cue   start" not in "\n".join(lines) and "output level" not in "\n".join(lines)


def test_a_long_run_of_states_wraps_and_names_stay_readable():
    recs = [rec(1, 0, "boot", mode="normal")] + [rec(1, 1000 * i, "note", "state", 1 + i % 2) for i in range(40)]
    lines = story.summarize(recs)
    assert all(len(ln) <= story.WIDTH for ln in lines)
    assert lines[1].startswith("     0.000 s  band  under → in 1.000 → under 2.000")
    assert all(ln.startswith(" " * 20 + "→ ") for ln in lines[2:]) and len(lines) > 3
    assert story.state_name(-1) == "none" and story.cue_name(0) == "none" and story.cue_name(11) == "rest"


def test_deep_sleep_and_its_wake_are_told():
    trace = [
        rec(4, 0, "boot", mode="normal"), rec(4, 0, "note", "state", 0),
        rec(4, 300000, "deep_sleep", ms=0, ext0=0, ext1=0),
        rec(4, 300000, "input", "button", "short", asleep=True),
        rec(4, 300000, "wake", reason="ext0", slept_ms=3600500),
        rec(5, 0, "boot", mode="normal"),
        rec(5, 1000, "deep_sleep", ms=2000, ext0=-1, ext1=0),
        rec(5, 1000, "battery_empty"),
    ]
    text = "\n".join(story.summarize(trace))
    assert "   300.000 s  power deep sleep (wakes on GPIO0)" in text
    assert "   300.000 s  power woken by ext0 after 3600.5 s asleep" in text
    assert "     1.000 s  power deep sleep (wakes on timer 2.0 s)" in text
    assert "battery flat: off until charged" in text
