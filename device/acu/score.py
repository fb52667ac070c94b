# Blind checks and the session score (docs/score.md): the one implementation, for the device and the host
# (as the log codec is). Integer maths only. The device loads it per call (acu.call) at a check's end and at
# a session's end: never in the running app's heap.
from micropython import const

from acu.routine import CHECK_ACCURACY_PCT, FB_BANDWIDTH

_GRADE1_PCT = const(30)     # the result's "how far": 1 up to 30 % off, 2 up to 50 %, 3 beyond
_GRADE2_PCT = const(50)
_ZERO_POINTS_PCT = const(45)  # a check's points fall linearly from 100 (within accuracy) to 0 at 45 % off
W_BAND = const(50)          # the score's parts (docs/score.md): time in band with feedback on,
W_CHECKS = const(30)        # blind-check accuracy,
W_DONE = const(20)          # completion

# the result and score patterns (docs/feedback.md, "Results and the score"): (ms, level) pairs
_HUM = (800, 380, 400, 0)                   # every result begins with a soft hum: "your result"
_KR_IN = (500, 1023, 300, 0)                # one firm long pulse: right
_KR_UNDER = (120, 640, 480, 0)              # per grade, slow single pulses (as the band's "press more")
_KR_OVER = (60, 820, 60, 0, 60, 820, 420, 0)  # per grade, quick double pulses (as the band's "ease off")
_SCORE_GAP = (400, 0)                       # after the done cue
_SCORE_TEN = (400, 900, 300, 0)             # one long pulse per ten points
_SCORE_FIVE = (100, 900, 300, 0)            # one short pulse for 5..9 more
_SCORE_ZERO = (40, 400, 300, 0)             # under 5: one faint tick


def check_error_pct(target_g, measured_g):
    """The blind press's error in % of the target, signed (under < 0), rounded to the nearest percent."""
    d = (measured_g - target_g) * 100
    a = (abs(d) + target_g // 2) // target_g
    return a if d >= 0 else -a


def check_accurate(target_g, measured_g):
    """Within +-CHECK_ACCURACY_PCT (15) % of the target (exactly, not the rounded error)."""
    return abs(measured_g - target_g) * 100 <= CHECK_ACCURACY_PCT * target_g


def kr_grade(target_g, measured_g):
    """The knowledge of results: 0 accurate; -1..-3 under, +1..+3 over by how far (1: up to 30 %, 2: up to
    50 %, 3: beyond)."""
    if check_accurate(target_g, measured_g):
        return 0
    a = abs(measured_g - target_g) * 100
    n = 1 if a <= _GRADE1_PCT * target_g else (2 if a <= _GRADE2_PCT * target_g else 3)
    return n if measured_g > target_g else -n


def check_points(target_g, measured_g):
    """A check's accuracy 0..100: 100 within the accuracy window, 0 from 45 % off, linear between."""
    a = abs(measured_g - target_g) * 100
    if a <= CHECK_ACCURACY_PCT * target_g:
        return 100
    if a >= _ZERO_POINTS_PCT * target_g:
        return 0
    return (_ZERO_POINTS_PCT * target_g - a) * 100 // ((_ZERO_POINTS_PCT - CHECK_ACCURACY_PCT) * target_g)


def feedback_parts(fb_code, contact_ms, in_ms, silent_ms, silent_in_ms):
    """A press step's (contact ms, in-band ms) while feedback was on: its contact and in-band time less the
    part its schedule kept silent, except bandwidth, whose silence is the message (within tolerance)."""
    if fb_code == FB_BANDWIDTH:
        return contact_ms, in_ms
    return contact_ms - silent_ms, in_ms - silent_in_ms


def session_score(fb_contact_ms, fb_in_ms, checks, steps_done, steps_total):
    """0..100 from the parts in docs/score.md: W_BAND x in-band share of the contact time with feedback on,
    W_CHECKS x the mean check_points of checks ((target_g, measured_g) pairs), W_DONE x steps done / steps.
    A part the session lacks (no contact with feedback on, no check, no step) is left out and the rest weigh
    in proportion; none at all: 0."""
    total = 0
    w = 0
    if fb_contact_ms > 0:
        total += W_BAND * (min(fb_in_ms, fb_contact_ms) * 100 // fb_contact_ms)
        w += W_BAND
    if checks:
        pts = 0
        for t, m in checks:
            pts += check_points(t, m)
        total += W_CHECKS * (pts // len(checks))
        w += W_CHECKS
    if steps_total > 0:
        total += W_DONE * (min(steps_done, steps_total) * 100 // steps_total)
        w += W_DONE
    if not w:
        return 0
    return (total + w // 2) // w


def kr_segments(grade):
    """The result pattern of a grade (kr_grade): the hum, then one long pulse (accurate), or |grade| slow
    single pulses (under) or quick double pulses (over)."""
    if grade == 0:
        return _HUM + _KR_IN
    return _HUM + (_KR_UNDER if grade < 0 else _KR_OVER) * abs(grade)


def score_segments(score):
    """The score as pulses to count: a pause, then one long pulse per ten points and one short one for
    5..9 more (73 -> 7 long + 0 short, 75 -> 7 long + 1 short); under 5, one faint tick."""
    tens = score // 10
    five = score % 10 >= 5
    if not tens and not five:
        return _SCORE_GAP + _SCORE_ZERO
    return _SCORE_GAP + _SCORE_TEN * tens + (_SCORE_FIVE if five else ())


# ---- the device's side (acu.app calls these through acu.call: never resident) ----

def _begin(fb, now_ms, after):
    """Start acu.feedback.Feedback fb's run-time sequence (CUE_SEQ): at once, or (after) behind the cue or
    sequence playing now, which goes on from where it is (a table cue becomes the sequence's start)."""
    from acu.feedback import C0, CUE_SEQ, PATTERNS, SEG_CAP_U16, SEGMENTS
    from acu import ticks
    if fb._seq is None:  # made at the first result or score, then kept: not part of the app's start-up heap
        from array import array
        fb._seq = array("H", bytes(2 * SEG_CAP_U16))
    code = fb.cue_code
    left = 0
    if code:
        left = (fb._seq_ms if code == CUE_SEQ else PATTERNS[(C0 - 1 + code) * 6 + 5]) - ticks.diff(now_ms, fb._cue_t0)
    if not (after and left > 0) or code != CUE_SEQ:
        fb._seq_n = 0
        fb._seq_ms = 0
        if after and left > 0:
            i = (C0 - 1 + code) * 6
            fb.seq_put(SEGMENTS, PATTERNS[i], PATTERNS[i + 1])
        else:
            fb._cue_t0 = now_ms


def _put(fb, pat, n=1):
    for _ in range(n):
        fb.seq_put(pat, 0, len(pat))


def _end(fb, now_ms, note, value):
    from acu.feedback import CUE_SEQ
    from acu import ticks
    fb.cue_code = CUE_SEQ
    if fb.annotate is not None and note is not None:
        fb.annotate(note, value)
    return fb._seq_ms - ticks.diff(now_ms, fb._cue_t0)


def play(fb, segs, now_ms, after=False, note=None, value=0):
    """Play segs, (ms, level) pairs, on Feedback fb as its run-time sequence: at once, or (after) behind
    what plays now. Returns the ms until all has played. note, value: the simulator's annotation."""
    _begin(fb, now_ms, after)
    fb.seq_put(segs, 0, len(segs))
    return _end(fb, now_ms, note, value)


def device_check_end(app, step, measured_g, now_ms):
    """A check step ended done: its result into the step's figures (the summary logs it) and played at
    once (kr_segments, put piece by piece: no tuple built); returns how long it plays."""
    grade = kr_grade(step.target_g, measured_g)
    s = app.stats
    s.check_target_g = step.target_g
    s.check_measured_g = measured_g
    s.check_grade = grade
    fb = app.fb
    _begin(fb, now_ms, False)
    _put(fb, _HUM)
    if grade == 0:
        _put(fb, _KR_IN)
    else:
        _put(fb, _KR_UNDER if grade < 0 else _KR_OVER, abs(grade))
    return _end(fb, now_ms, "kr", grade)


def device_session_end(app, status, now_ms):
    """A routine session ends: its score logged (the parts' inputs are the app's sums), and played after
    the done cue (score_segments, piece by piece) when the session was completed."""
    from acu import logfmt
    r = app.runner
    n = len(r.routine.steps)
    sc = session_score(app._fb_contact_ms, app._fb_in_ms, r.check_results, app._done_steps, n)
    app.last_score = sc
    app.log.event(logfmt.EV_STEPS_PLANNED, n, now_ms)
    app.log.event(logfmt.EV_SCORE, sc, now_ms)
    if status == "completed":
        fb = app.fb
        _begin(fb, now_ms, True)
        _put(fb, _SCORE_GAP)
        if sc < 5:
            _put(fb, _SCORE_ZERO)
        else:
            _put(fb, _SCORE_TEN, sc // 10)
            _put(fb, _SCORE_FIVE, 1 if sc % 10 >= 5 else 0)
        _end(fb, now_ms, "score", sc)
