# The routine runner: a state machine driven by one button, by the host and by the app's loop.
#   IDLE --start--> RUNNING(step 0) --step ends--> TRANSITION --after transition_ms--> RUNNING(step 1) ...
#   ... --last step ends--> DONE;  SHORT: pause/resume;  DOUBLE: skip step;  LONG (or host): ABORTED.
# tick() runs every loop iteration and is allocation-free in steady state: it keeps ms counters as
# small ints, accumulates clamped deltas (so a ticks wrap or a stalled loop cannot jump the clock) and
# calls sink methods with positional ints and constant strings only.
from micropython import const

from acu import button
from acu import ticks
from acu.band import DEFAULT_HI_G, DEFAULT_LO_G, FAULT, IN_BAND
from acu.feedback import CUE_ABORT, CUE_DONE, CUE_PAUSED, CUE_REST, CUE_RESUMED, CUE_SIDE, CUE_START, CUE_STEP
from acu.logfmt import (EV_ABORT, EV_CONTACT_BACK, EV_CONTACT_LOST, EV_DOSE_MAX, EV_MIN_REACHED, EV_PAUSE,
                        EV_RESUME, EV_SKIP, EV_TIMEOUT)
from acu.routine import (COUNT_DOSE, FB_FADED, FB_FULL, FB_NONE, STEP_BREATHE, STEP_CHECK, STEP_PRESS, STEP_REST,
                         STEP_TIMED)

IDLE = const(0)
RUNNING = const(1)
PAUSED = const(2)
TRANSITION = const(3)
DONE = const(4)
ABORTED = const(5)
NAMES = ("idle", "running", "paused", "transition", "done", "aborted")  # by state

# The sink's calls: cue(code) with acu.feedback's CUE_* codes, event(code, value) with the log's EV_* codes
# (acu.logfmt; value is the step index unless noted there).
_STATUS_DONE = const("done")
_STATUS_SKIPPED = const("skipped")
_STATUS_ABORTED = const("aborted")
_SESSION_COMPLETED = const("completed")
_SESSION_ABORTED = const("aborted")

_MAX_DT_MS = const(1000)     # a stalled loop never advances a step by more than this per tick
_SETTLE_MS = const(1000)     # a check measures from 1 s after its first contact: the approach is not the hold
_CHECK_MAX_G = const(16383)  # a check's force integral (<= 60 s x this) stays a small int on the ESP32


def _ignore(*args):
    pass


class NullSink:
    """A sink that ignores everything (for tools and tests that only watch the runner's state). One
    function for every sink call: cue(code, now_ms), session_begin(routine, now_ms), step_begin(index,
    step, now_ms), step_end(index, step, status, now_ms), event(code, value, now_ms), session_end(status,
    now_ms), check_end(index, step, measured_g, now_ms) (a check step ended done: the sink gives the result,
    and returns how long that takes in ms, which the next transition waits on top; None: 0)."""

    cue = session_begin = step_begin = step_end = event = session_end = check_end = _ignore


class Runner:
    """Runs one routine at a time.

    transition_ms: the pause between steps (the cue plays, the user moves to the next point/side).
    contact_pause_ms: no contact for this long stops a pressure step's clock (cue PAUSED), and the
      first contact after it restarts it (cue RESUMED). A pressure step's clock starts at first contact.
    idle_timeout_ms: a session PAUSED, or a pressure step without contact, for this long is aborted.
    Attributes the app reads every loop: state, target (a pressure step is live: give the classifier
    band_lo_g/band_hi_g and show band feedback), band_lo_g, band_hi_g, index, step, step_ms
    (the step's counted time: clock or in-band), in_band_ms, idle_ms (time spent not in a session),
    fb_code, fb_pct (the live step's feedback schedule, acu.routine.FB_*, and its parameter: the faded
    on-share or the bandwidth tolerance, %; a check step is FB_NONE), wall_ms (the schedule's clock).
    check_results: (target_g, measured_g) of each check step done in the session (docs/feedback.md).
    """

    def __init__(self, sink, transition_ms=4000, contact_pause_ms=3000, idle_timeout_ms=300000):
        self.sink = sink
        self.transition_ms = transition_ms
        self.contact_pause_ms = contact_pause_ms
        self.idle_timeout_ms = idle_timeout_ms
        self.routine = None
        self.state = IDLE
        self._last_ms = 0
        self.idle_ms = 0
        self._fbo = -1             # set_feedback_override's schedule (-1: none) and %
        self._fbo_pct = 0
        self.check_results = []
        self._reset_step(None, -1)

    # ---- set-up (allocation is fine here) ----

    def load(self, routine):
        """Take a compiled acu.routine.Routine; refused while a session is live."""
        if self.active():
            raise ValueError("runner busy: abort the session first")
        self.routine = routine
        self.state = IDLE
        self._reset_step(None, -1)

    def active(self):
        s = self.state
        return s == RUNNING or s == PAUSED or s == TRANSITION

    def _reset_step(self, step, index):
        self.index = index
        self.step = step
        self.target = False
        self.band_lo_g = DEFAULT_LO_G if step is None else step.band_lo_g
        self.band_hi_g = DEFAULT_HI_G if step is None else step.band_hi_g
        self.step_ms = 0          # counted time of the step (what ends a clock or dose step)
        self.wall_ms = 0          # time the step has been live (excludes pauses and lost contact)
        self.in_band_ms = 0
        self.no_contact_ms = 0
        self.contact_seen = False
        self.contact_held = False  # clock stopped for lost contact
        self.min_reached = False
        self._wait_ms = 0          # time in TRANSITION / PAUSED / waiting for first contact
        self._phase = 0
        self._phase_ms = 0
        self._paused_from = IDLE
        self._check_gms = 0        # a check: force x time over its steady part (g.ms), and that time
        self._check_ms = 0
        self._apply_feedback()

    def set_feedback_override(self, code, pct=0):
        """Every press step runs with schedule code (acu.routine.FB_*) instead of its own until cleared
        (a programme stage). pct: the faded on-share or bandwidth tolerance, %; 0: the step's own when it
        has that schedule, else the default. Check steps stay blind. Takes effect at once."""
        if not FB_FULL <= code <= FB_NONE:
            raise ValueError("feedback schedule: " + str(code))
        self._fbo = code
        self._fbo_pct = int(pct)
        self._apply_feedback()

    def clear_feedback_override(self):
        self._fbo = -1
        self._apply_feedback()

    def _apply_feedback(self):
        s = self.step
        if s is None:
            self.fb_code = self.fb_pct = 0
            return
        code = s.feedback if self._fbo < 0 else self._fbo
        if s.kind == STEP_CHECK:
            code = FB_NONE
        self.fb_code = code
        # a step holds its own % or the class default (the parser allows each only with its schedule)
        self.fb_pct = (self._fbo_pct if self._fbo >= 0 else 0) or (
            s.feedback_pct if code == FB_FADED else s.tolerance_pct)

    # ---- inputs ----

    def button(self, gesture, now_ms):
        """A gesture from acu.button (SHORT/DOUBLE/LONG); NONE is ignored."""
        if gesture == button.NONE:
            return
        self.idle_ms = 0
        st = self.state
        if gesture == button.SHORT:
            if st == RUNNING or st == TRANSITION:
                self.pause(now_ms)
            elif st == PAUSED:
                self.resume(now_ms)
            else:
                self.start(now_ms)
        elif gesture == button.DOUBLE:
            self.skip(now_ms)
        elif gesture == button.LONG:
            self.abort(now_ms)

    def start(self, now_ms):
        """Begin the loaded routine from step 1 (from IDLE, DONE or ABORTED). False if it cannot."""
        if self.routine is None or self.active():
            return False
        self._last_ms = now_ms
        self.idle_ms = 0
        self.check_results = []
        self.sink.session_begin(self.routine, now_ms)
        self.sink.cue(CUE_START, now_ms)
        self._begin_step(0, now_ms)
        return True

    def pause(self, now_ms):
        st = self.state
        if st != RUNNING and st != TRANSITION:
            return False
        self._paused_from = st
        self.state = PAUSED
        self.target = False
        self._wait_ms = 0
        self.sink.cue(CUE_PAUSED, now_ms)
        self.sink.event(EV_PAUSE, self.index, now_ms)
        return True

    def resume(self, now_ms):
        if self.state != PAUSED:
            return False
        self.state = self._paused_from
        self._last_ms = now_ms
        self._wait_ms = 0
        if self.state == RUNNING:
            k = self.step.kind
            self.target = k == STEP_PRESS or k == STEP_CHECK
            # the finger was probably lifted while paused: wait for contact again, no lost-contact cue
            self.contact_seen = False
            self.contact_held = False
            self.no_contact_ms = 0
        self.sink.cue(CUE_RESUMED, now_ms)
        self.sink.event(EV_RESUME, self.index, now_ms)
        return True

    def skip(self, now_ms):
        """End the current step as skipped (a timed step past its min_s counts as done); between
        steps, skip the upcoming one; while paused, skip and resume."""
        st = self.state
        if st == PAUSED:
            st = self._paused_from
            self.state = st
            self._last_ms = now_ms
        if st == RUNNING:
            self.sink.event(EV_SKIP, self.index, now_ms)
            s = self.step
            ok = s.kind == STEP_TIMED and s.min_ms and self.wall_ms >= s.min_ms
            self._finish(_STATUS_DONE if ok else _STATUS_SKIPPED, now_ms)
            return True
        if st == TRANSITION:
            self.sink.event(EV_SKIP, self.index, now_ms)
            self.sink.step_begin(self.index, self.step, now_ms)
            self._finish(_STATUS_SKIPPED, now_ms)
            return True
        return False

    def abort(self, now_ms):
        """Host or LONG press: end the session as aborted."""
        st = self.state
        if not self.active():
            return False
        live = st == RUNNING or (st == PAUSED and self._paused_from == RUNNING)
        self.sink.event(EV_ABORT, self.index if live else -1, now_ms)
        if live:
            self.sink.step_end(self.index, self.step, _STATUS_ABORTED, now_ms)
        self.sink.cue(CUE_ABORT, now_ms)
        self.state = ABORTED
        self.target = False
        self.idle_ms = 0
        self.sink.session_end(_SESSION_ABORTED, now_ms)
        return True

    # ---- the loop ----

    def tick(self, now_ms, band_state, force_g):
        """Every loop iteration: band_state from acu.band, force_g filtered grams (a check measures it)."""
        dt = ticks.diff(now_ms, self._last_ms)
        self._last_ms = now_ms
        if dt < 0:
            dt = 0
        elif dt > _MAX_DT_MS:
            dt = _MAX_DT_MS
        st = self.state
        if st == RUNNING:
            k = self.step.kind
            if k == STEP_PRESS or k == STEP_CHECK:
                self._run_press(dt, now_ms, band_state, force_g)
            else:
                self._run_clock(dt, now_ms)
        elif st == TRANSITION:
            self._wait_ms += dt
            if self._wait_ms >= self.transition_ms:
                self._begin_step(self.index, now_ms)
        elif st == PAUSED:
            self._wait_ms += dt
            if self._wait_ms >= self.idle_timeout_ms:
                self._timeout(now_ms)
        elif self.idle_ms < 0x3FFFFFFF - _MAX_DT_MS:
            self.idle_ms += dt

    def _run_press(self, dt, now_ms, band_state, force_g=0):
        s = self.step
        if 0 < band_state < FAULT:          # UNDER, IN, OVER, TOO_HARD: a finger is on the sensor
            if self.contact_held:
                self.contact_held = False
                self.sink.cue(CUE_RESUMED, now_ms)
                self.sink.event(EV_CONTACT_BACK, self.index, now_ms)
            self.contact_seen = True
            self.no_contact_ms = 0
        elif self.contact_seen:
            self.no_contact_ms += dt
            if not self.contact_held and self.no_contact_ms >= self.contact_pause_ms:
                self.contact_held = True
                self.sink.cue(CUE_PAUSED, now_ms)
                self.sink.event(EV_CONTACT_LOST, self.index, now_ms)
            if self.no_contact_ms >= self.idle_timeout_ms:
                self._timeout(now_ms)
                return
        else:
            self._wait_ms += dt
            if self._wait_ms >= self.idle_timeout_ms:
                self._timeout(now_ms)
            return
        if self.contact_held:
            return
        if s.kind == STEP_CHECK and self.wall_ms >= _SETTLE_MS and 0 < band_state < FAULT:
            f = force_g if force_g < _CHECK_MAX_G else _CHECK_MAX_G
            self._check_gms += (f if f > 0 else 0) * dt
            self._check_ms += dt
        self.wall_ms += dt
        if band_state == IN_BAND:
            self.in_band_ms += dt
        if s.count == COUNT_DOSE:
            self.step_ms = self.in_band_ms
            if self.in_band_ms >= s.duration_ms:
                self._finish(_STATUS_DONE, now_ms)
            elif s.max_ms and self.wall_ms >= s.max_ms:
                self.sink.event(EV_DOSE_MAX, self.in_band_ms // 1000, now_ms)
                self._finish(_STATUS_DONE, now_ms)
        else:
            self.step_ms = self.wall_ms
            if self.wall_ms >= s.duration_ms:
                self._finish(_STATUS_DONE, now_ms)

    def check_measured_g(self):
        """What the running check step measured: the mean force over the hold's steady part (from
        _SETTLE_MS of live time on, in contact); 0 without any."""
        return self._check_gms // self._check_ms if self._check_ms else 0

    def _run_clock(self, dt, now_ms):
        s = self.step
        self.wall_ms += dt
        self.step_ms = self.wall_ms
        if s.kind == STEP_BREATHE:
            # one gentle cue at the start of each breathing cycle paces the breath eyes-free
            self._phase_ms += dt
            pat = s.pattern_ms
            if self._phase_ms >= pat[self._phase]:
                self._phase_ms -= pat[self._phase]
                self._phase += 1
                if self._phase >= len(pat):
                    self._phase = 0
                    if self.wall_ms < s.duration_ms:
                        self.sink.cue(CUE_REST, now_ms)
        elif s.kind == STEP_TIMED and s.min_ms and not self.min_reached and self.wall_ms >= s.min_ms:
            self.min_reached = True
            self.sink.event(EV_MIN_REACHED, self.index, now_ms)
        if self.wall_ms >= s.duration_ms:
            self._finish(_STATUS_DONE, now_ms)

    # ---- step changes ----

    def _begin_step(self, index, now_ms):
        assert self.routine is not None  # steps run only in a session, which start() began with a routine
        step = self.routine.steps[index]
        self._reset_step(step, index)
        self.state = RUNNING
        self.target = step.kind == STEP_PRESS or step.kind == STEP_CHECK
        self.sink.step_begin(index, step, now_ms)

    def _finish(self, status, now_ms):
        """End the current step; go to the next one's transition, or to DONE."""
        cur = self.step
        extra_ms = 0
        if cur.kind == STEP_CHECK and status == _STATUS_DONE:
            g = self.check_measured_g()
            self.check_results.append((cur.target_g, g))
            extra_ms = self.sink.check_end(self.index, cur, g, now_ms) or 0
        self.sink.step_end(self.index, cur, status, now_ms)
        nxt_i = self.index + 1
        assert self.routine is not None  # a step was running: start() had a routine
        steps = self.routine.steps
        if nxt_i >= len(steps):
            self.state = DONE
            self.target = False
            self.idle_ms = 0
            self.sink.cue(CUE_DONE, now_ms)
            self.sink.session_end(_SESSION_COMPLETED, now_ms)
            return
        nxt = steps[nxt_i]
        if cur.same_place(nxt) and cur.side != nxt.side:
            cue = CUE_SIDE
        elif nxt.kind == STEP_REST or nxt.kind == STEP_BREATHE:
            cue = CUE_REST
        else:
            cue = CUE_STEP
        self._reset_step(nxt, nxt_i)
        self.state = TRANSITION
        self._wait_ms = -extra_ms  # a check's result plays first: the move to the next point starts after it
        self.sink.cue(cue, now_ms)

    def _timeout(self, now_ms):
        st = self.state
        self.sink.event(EV_TIMEOUT, st, now_ms)
        self.abort(now_ms)
