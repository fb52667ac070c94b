# Property tests (CPython + hypothesis) over generated routines: valid ones compile and round-trip,
# broken ones fail with one ValueError line, and the runner always reaches DONE or ABORTED cleanly.
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from acu import button
from acu import routine as R, routine_parse as RP
from acu import runner as RN

names = st.from_regex(r"[a-z0-9][a-z0-9-]{0,31}", fullmatch=True)


@st.composite
def press_steps(draw):
    lo = draw(st.integers(RP.BAND_MIN_G, RP.BAND_MAX_G - 1))
    hi = draw(st.integers(lo + 1, RP.BAND_MAX_G))
    d = {"type": "press", "point": draw(st.sampled_from(["HT7", "GB20", "SP6", "YINTANG"])),
         "side": draw(st.sampled_from(R.SIDE_NAMES)), "duration_s": draw(st.integers(1, 300)),
         "band_lo_g": lo, "band_hi_g": hi}
    if draw(st.booleans()):
        d["count"] = "dose"
        if draw(st.booleans()):
            d["max_s"] = draw(st.integers(d["duration_s"], 600))
    return d


other_steps = st.one_of(
    st.builds(lambda s: {"type": "rest", "duration_s": s}, st.integers(1, 120)),
    st.builds(lambda s, p: {"type": "breathe", "duration_s": s, "pattern": "-".join(map(str, p))},
              st.integers(1, 120), st.lists(st.integers(1, 20), min_size=2, max_size=4)),
    st.integers(1, 600).flatmap(lambda s: st.builds(
        lambda m: {"type": "timed", "duration_s": s, "min_s": m, "label": "mat"}, st.integers(0, s))),
)


@st.composite
def routines(draw):
    return {"format": "acu-routine", "version": 1, "name": draw(names),
            "title": draw(st.text(max_size=40)), "weekly_goal": draw(st.integers(1, 21)),
            "steps": draw(st.lists(st.one_of(press_steps(), other_steps), min_size=1, max_size=12))}


@settings(max_examples=200, deadline=None)
@given(routines())
def test_valid_routines_compile_and_round_trip(d):
    r = RP.loads(json.dumps(d))
    assert len(r.steps) == len(d["steps"])
    n = RP.to_dict(r)
    assert RP.to_dict(RP.parse(n)) == n
    for s, src in zip(r.steps, d["steps"], strict=True):
        assert s.duration_ms == src["duration_s"] * 1000
        if s.kind == R.STEP_PRESS:
            assert RP.BAND_MIN_G <= s.band_lo_g < s.band_hi_g <= RP.BAND_MAX_G


junk = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True),
                 st.text(max_size=20), st.lists(st.integers(), max_size=3),
                 st.dictionaries(st.text(max_size=5), st.integers(), max_size=3))


@settings(max_examples=300, deadline=None)
@given(routines(), st.data())
def test_broken_routines_fail_with_one_line(d, data):
    # break one field somewhere (top level or a step) with junk, or delete it
    if data.draw(st.booleans()):
        target = d
    else:
        target = data.draw(st.sampled_from(d["steps"]))
    key = data.draw(st.sampled_from(sorted(target.keys()) + ["bogus"]))
    if data.draw(st.booleans()) and key in target:
        del target[key]
    else:
        target[key] = data.draw(junk)
    try:
        RP.parse(d)
    except ValueError as e:
        msg = str(e)
        assert msg.startswith("routine ") and "\n" not in msg and len(msg) < 200
    # a mutation may still be valid (e.g. an optional field replaced by a legal value): fine


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_crash(data):
    try:
        RP.loads(data, "x")
    except ValueError as e:
        assert str(e).startswith("routine x: ")


class Counts:
    def __init__(self):
        self.begun = 0
        self.ended = 0
        self.sessions = []

    def cue(self, code, now_ms):
        pass

    def session_begin(self, routine, now_ms):
        pass

    def step_begin(self, index, step, now_ms):
        self.begun += 1

    def step_end(self, index, step, status, now_ms):
        self.ended += 1

    def event(self, code, value, now_ms):
        pass

    def session_end(self, status, now_ms):
        self.sessions.append(status)


@settings(max_examples=60, deadline=None)
@given(routines(), st.lists(st.tuples(st.integers(0, 5), st.integers(10, 5000),
                                      st.sampled_from([0, 0, 0, 0, 1, 2, 3])), max_size=60))
def test_runner_always_finishes_cleanly(d, script):
    sink = Counts()
    r = RN.Runner(sink, transition_ms=1000, idle_timeout_ms=120000)
    r.load(RP.parse(d))
    t = 0
    r.start(t)
    for band, ms, gesture in script:
        if gesture:
            r.button(gesture, t)
        end = t + ms
        while t < end:
            t += 50
            r.tick(t, band, 0)
        if r.state in (RN.DONE, RN.ABORTED):
            break
    # then hold in band until it ends (pressing SHORT if it was left paused)
    if r.state == RN.PAUSED:
        r.button(button.SHORT, t)
    guard = 0
    while r.active() and guard < 10**6:
        t += 50
        r.tick(t, 2, 4000)
        guard += 1
    assert r.state in (RN.DONE, RN.ABORTED)
    assert len(sink.sessions) == 1
    # every begun step ended exactly once
    assert sink.begun == sink.ended
