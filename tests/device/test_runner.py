# The routine runner state machine: cues, step timing by clock and by in-band time, pauses, skips,
# lost contact, timeouts, ticks wrap, and allocation-free ticks.
from routine_samples import bedtime, mixed
from mpcompat import heap_lock, heap_unlock, needs_heap_lock

from acu import button, feedback, logfmt, status
from acu import routine_parse as RP
from acu import runner as RN
from acu import ticks
from acu.band import IN_BAND, OVER, UNDER
from acu.band import NO_CONTACT as NO


class Rec:
    """Records every sink call as a tuple."""

    def __init__(self):
        self.log = []

    def cue(self, code, now_ms):
        self.log.append(("cue", code, now_ms))

    def session_begin(self, routine, now_ms):
        self.log.append(("begin", routine.name, now_ms))

    def step_begin(self, index, step, now_ms):
        self.log.append(("step", index, now_ms))

    def step_end(self, index, step, status, now_ms):
        self.log.append(("end", index, status, now_ms))

    def event(self, code, value, now_ms):
        self.log.append(("ev", code, value, now_ms))

    def session_end(self, status, now_ms):
        self.log.append(("done", status, now_ms))

    def kinds(self, kind):
        return [e for e in self.log if e[0] == kind]

    def cues(self):
        return [e[1] for e in self.log if e[0] == "cue"]


class Sim:
    def __init__(self, d, t0=0, **kw):
        self.sink = Rec()
        self.r = RN.Runner(self.sink, **kw)
        self.r.load(RP.parse(d))
        self.t = t0

    def now(self):
        return self.t & (ticks.PERIOD - 1)

    def run(self, ms, band=IN_BAND, dt=20):
        end = self.t + ms
        while self.t < end:
            self.t += dt
            self.r.tick(self.now(), band, 4000 if band == IN_BAND else 0)

    def until(self, pred, band=IN_BAND, dt=20, limit_ms=3600000):
        end = self.t + limit_ms
        while not pred(self.r) and self.t < end:
            self.t += dt
            self.r.tick(self.now(), band, 4000)
        assert pred(self.r), "condition not reached"

    def press(self, gesture):
        self.r.button(gesture, self.now())


def test_full_bedtime_in_band_cues_and_times():
    s = Sim(bedtime(), transition_ms=4000)
    assert s.r.state == RN.IDLE and not s.r.target
    s.press(button.SHORT)
    assert s.r.state == RN.RUNNING and s.r.index == 0 and s.r.target
    s.until(lambda r: r.state == RN.DONE)
    log = s.sink
    assert log.log[0] == ("begin", "bedtime", 0)
    assert log.cues() == [feedback.CUE_START, feedback.CUE_SIDE, feedback.CUE_STEP, feedback.CUE_STEP,
                          feedback.CUE_REST, feedback.CUE_REST,
                          feedback.CUE_DONE]  # one breathing-cycle cue inside the 38 s breathe step
    ends = log.kinds("end")
    assert [e[2] for e in ends] == ["done"] * 5
    begins = log.kinds("step")
    # step 1 60 s; each later step starts 4 s after the previous ended
    assert ends[0][3] == 60000 and begins[1][2] == 64000 and ends[1][3] == 124000
    assert ends[3][3] - begins[3][2] == 120000      # dose step held in band the whole time
    assert ends[4][3] - begins[4][2] == 38000
    assert log.log[-1] == ("done", "completed", ends[4][3])
    assert not s.r.target


def test_band_follows_step_and_target_only_on_pressure_steps():
    s = Sim(bedtime(), transition_ms=1000)
    s.press(button.SHORT)
    assert (s.r.band_lo_g, s.r.band_hi_g) == (3000, 5000)
    s.until(lambda r: r.index == 2 and r.state == RN.RUNNING)
    assert (s.r.band_lo_g, s.r.band_hi_g) == (2000, 3500) and s.r.target
    s.until(lambda r: r.index == 4 and r.state == RN.RUNNING)
    assert not s.r.target


def test_dose_step_counts_only_in_band_time():
    d = mixed()
    s = Sim(d, transition_ms=2000)
    s.press(button.SHORT)
    s.run(4000, band=IN_BAND)
    s.run(6000, band=UNDER)   # contact but under the band: the dose does not grow
    s.run(3000, band=OVER)
    assert s.r.state == RN.RUNNING and s.r.index == 0
    assert s.r.in_band_ms == 4000 and s.r.step_ms == 4000
    s.run(6000, band=IN_BAND)
    ends = s.sink.kinds("end")
    assert ends[0][1] == 0 and ends[0][2] == "done" and ends[0][3] == 4000 + 6000 + 3000 + 6000
    assert s.r.state == RN.TRANSITION


def test_dose_max_ends_step():
    d = bedtime()
    d["steps"] = [{"type": "press", "point": "GB20", "side": "both", "duration_s": 60, "count": "dose",
                   "max_s": 90}]
    s = Sim(d)
    s.press(button.SHORT)
    s.run(100000, band=UNDER)
    ev = [e for e in s.sink.kinds("ev") if e[1] == logfmt.EV_DOSE_MAX]
    assert len(ev) == 1 and ev[0][2] == 0
    assert s.sink.kinds("end")[0][3] == 90000 and s.r.state == RN.DONE


def test_clock_waits_for_first_contact_then_pauses_on_lost_contact():
    s = Sim(bedtime(), contact_pause_ms=3000)
    s.press(button.SHORT)
    s.run(10000, band=NO)          # finding the point: no clock, no cue
    assert s.r.step_ms == 0 and s.sink.cues() == [feedback.CUE_START]
    s.run(20000, band=IN_BAND)
    assert s.r.step_ms == 20000
    s.run(2000, band=NO)           # a short lift keeps counting
    assert s.r.step_ms == 22000 and not s.r.contact_held
    s.run(8000, band=NO)           # a long one stops the clock after 3 s and says so
    assert s.r.contact_held and 22900 <= s.r.step_ms <= 23000
    assert s.sink.cues()[-1] == feedback.CUE_PAUSED
    s.run(1000, band=UNDER)        # contact again: resumes with a cue
    assert not s.r.contact_held and s.sink.cues()[-1] == feedback.CUE_RESUMED
    evs = [e[1] for e in s.sink.kinds("ev")]
    assert evs == [logfmt.EV_CONTACT_LOST, logfmt.EV_CONTACT_BACK]
    assert s.r.state == RN.RUNNING


def test_fault_counts_as_no_contact():
    s = Sim(bedtime(), contact_pause_ms=3000)
    s.press(button.SHORT)
    s.run(1000, band=IN_BAND)
    s.run(4000, band=5)
    assert s.r.contact_held


def test_pause_resume_skip_abort_by_button():
    s = Sim(bedtime(), transition_ms=3000)
    s.press(button.SHORT)
    s.run(10000)
    s.press(button.SHORT)
    assert s.r.state == RN.PAUSED and not s.r.target
    s.run(60000)                   # paused: the clock stands still
    assert s.r.step_ms == 10000
    s.press(button.SHORT)
    assert s.r.state == RN.RUNNING and s.r.target
    s.run(5000)
    assert s.r.step_ms == 15000
    s.press(button.DOUBLE)         # skip step 1
    assert s.r.state == RN.TRANSITION and s.r.index == 1
    s.press(button.DOUBLE)         # skip the upcoming step 2 during the transition
    assert s.r.state == RN.TRANSITION and s.r.index == 2
    ends = s.sink.kinds("end")
    assert [(e[1], e[2]) for e in ends] == [(0, "skipped"), (1, "skipped")]
    s.run(3000)
    assert s.r.state == RN.RUNNING and s.r.index == 2
    s.press(button.LONG)
    assert s.r.state == RN.ABORTED
    assert s.sink.kinds("end")[-1][1:3] == (2, "aborted")
    assert s.sink.log[-1][0:2] == ("done", "aborted")
    c = s.sink.cues()
    assert c[:3] == [feedback.CUE_START, feedback.CUE_PAUSED, feedback.CUE_RESUMED] and c[-1] == feedback.CUE_ABORT
    evs = [e[1] for e in s.sink.kinds("ev")]
    assert evs == [logfmt.EV_PAUSE, logfmt.EV_RESUME, logfmt.EV_SKIP, logfmt.EV_SKIP, logfmt.EV_ABORT]
    # after an abort a SHORT starts a new session
    s.press(button.SHORT)
    assert s.r.state == RN.RUNNING and s.r.index == 0
    assert len(s.sink.kinds("begin")) == 2


def test_abort_between_steps_has_no_step_end():
    s = Sim(bedtime(), transition_ms=3000)
    s.r.start(s.now())
    s.run(60000)
    assert s.r.state == RN.TRANSITION
    n = len(s.sink.kinds("end"))
    assert s.r.abort(s.now())
    assert len(s.sink.kinds("end")) == n
    assert [e for e in s.sink.kinds("ev") if e[1] == logfmt.EV_ABORT][0][2] == -1
    assert not s.r.abort(s.now())       # nothing to abort any more


def test_pause_timeout_aborts():
    s = Sim(bedtime(), idle_timeout_ms=60000)
    s.press(button.SHORT)
    s.run(5000)
    s.press(button.SHORT)
    s.run(61000)
    assert s.r.state == RN.ABORTED
    evs = [e for e in s.sink.kinds("ev") if e[1] == logfmt.EV_TIMEOUT]
    assert evs and evs[0][2] == RN.PAUSED


def test_no_contact_timeout_aborts():
    s = Sim(bedtime(), idle_timeout_ms=60000)
    s.press(button.SHORT)
    s.run(61000, band=NO)
    assert s.r.state == RN.ABORTED


def test_timed_step_min_and_early_end():
    s = Sim(mixed(), transition_ms=1000)
    s.press(button.SHORT)
    s.until(lambda r: r.index == 2 and r.state == RN.RUNNING, band=IN_BAND)
    s.run(10000, band=NO)          # no pressure target: the clock runs without contact
    assert s.r.step_ms == 10000 and not s.r.target
    s.press(button.DOUBLE)         # before min_s: skipped
    assert s.sink.kinds("end")[-1][2] == "skipped"
    s2 = Sim(mixed(), transition_ms=1000)
    s2.press(button.SHORT)
    s2.until(lambda r: r.index == 2 and r.state == RN.RUNNING, band=IN_BAND)
    s2.run(21000, band=NO)
    assert [e for e in s2.sink.kinds("ev") if e[1] == logfmt.EV_MIN_REACHED]
    s2.press(button.DOUBLE)        # past min_s: ending early still counts as done
    assert s2.sink.kinds("end")[-1][1:3] == (2, "done")


def test_rest_and_side_cues():
    s = Sim(mixed(), transition_ms=1000)
    s.press(button.SHORT)
    s.until(lambda r: r.state == RN.DONE, band=IN_BAND)
    # HT7 dose -> rest (REST cue) -> timed (STEP) -> SP6 left (STEP) -> SP6 right (SIDE)
    assert s.sink.cues() == [feedback.CUE_START, feedback.CUE_REST, feedback.CUE_STEP, feedback.CUE_STEP,
                             feedback.CUE_SIDE, feedback.CUE_DONE]


def test_runs_across_ticks_wrap_and_host_start():
    s = Sim(bedtime(), t0=ticks.PERIOD - 30000)
    assert s.r.start(s.now())
    assert not s.r.start(s.now())   # already running
    s.run(61000)
    e = s.sink.kinds("end")[0]
    assert e[2] == "done" and ticks.diff(e[3], ticks.PERIOD - 30000) == 60000


def test_stalled_loop_is_clamped():
    s = Sim(bedtime())
    s.press(button.SHORT)
    s.run(1000)
    s.t += 50000                    # a 50 s stall (e.g. a debugger) advances at most 1 s
    s.r.tick(s.now(), IN_BAND, 4000)
    assert s.r.step_ms == 2000


def test_idle_state_and_busy_load():
    sink = Rec()
    r = RN.Runner(sink)
    r.button(button.SHORT, 0)       # nothing loaded: nothing happens
    assert r.state == RN.IDLE and sink.log == []
    r.load(RP.parse(bedtime()))
    r.tick(100, NO, 0)
    base = r.idle_ms
    r.tick(300, NO, 0)
    assert r.idle_ms - base == 200
    r.start(300)
    try:
        r.load(RP.parse(mixed()))
        raise AssertionError("load while running")
    except ValueError:
        pass
    st = status.runner(r)
    assert st["state"] == "running" and st["routine"] == "bedtime" and st["steps"] == 5
    RN.NullSink().cue(1, 0)


class CountSink:
    """A sink that does not allocate (counts only), for the heap_lock proof."""

    def __init__(self):
        self.n = 0

    def cue(self, code, now_ms):
        self.n += 1

    def session_begin(self, routine, now_ms):
        self.n += 1

    def step_begin(self, index, step, now_ms):
        self.n += 1

    def step_end(self, index, step, status, now_ms):
        self.n += 1

    def event(self, code, value, now_ms):
        self.n += 1

    def session_end(self, status, now_ms):
        self.n += 1


def test_tick_does_not_allocate():
    needs_heap_lock()
    sink = CountSink()
    r = RN.Runner(sink, transition_ms=500, contact_pause_ms=300)
    r.load(RP.parse(mixed()))
    r.start(0)
    tick = r.tick
    bands = bytearray(b"\x02\x02\x02\x01\x00\x00\x02\x03")
    t = 0
    heap_lock()
    try:
        # the whole routine: steady ticks, step changes, lost contact, rest, timed, side switch
        for i in range(20000):
            t += 5
            if i % 400 < 40:
                b = 0
            else:
                b = bands[i & 7] if i % 400 < 300 else 2
            tick(t, b, 4000)
            if r.state == RN.DONE:
                break
    finally:
        heap_unlock()
    assert r.state == RN.DONE
    assert sink.n > 12

