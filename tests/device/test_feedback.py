# acu.feedback: the feedback language (docs/feedback.md) on recorded outputs.
from mpcompat import FakeClock, raises

from acu import feedback, feedback_views
from acu.band import NO_CONTACT, UNDER, IN_BAND, OVER, TOO_HARD, FAULT
from acu.feedback import Feedback
from acu.feedback_views import Pattern
from acu.hw import Hardware


class _Out:
    def __init__(self):
        self.calls = 0
        self.level = 0
        self.rgb = (0, 0, 0)
        self.hz = 0

    def set(self, *a):
        self.calls += 1
        if len(a) == 1:
            self.level = a[0]
        else:
            self.rgb = a

    def tone(self, hz, level):
        self.calls += 1
        self.hz = hz
        self.level = level


def _hw(notes=None):
    ann = None
    if notes is not None:
        def ann(code, value):
            notes.append((code, value))
    return Hardware("t", FakeClock(), None, {}, led=_Out(), rgb=_Out(), motor=_Out(), buzzer=_Out(),
                    annotate=ann)


def _rhythm(state, ms=3000):
    # on/off edges of the haptic pattern over `ms`, as (t_on, t_off) pairs
    hw = _hw()
    fb = Feedback(hw, feedback.BOTH)
    edges = []
    on = False
    for t in range(0, ms, 5):
        fb.show(state, t)
        now_on = hw.motor.level > 0
        if now_on != on:
            edges.append(t)
            on = now_on
    return tuple(edges)


def test_pattern_entry_loop_and_hold():
    p = Pattern((10, 100, 20, 0, 30, 50), 1)
    assert p.entry_ms == 10 and p.loop_ms == 50
    assert p.level(0) == 100 and p.level(9) == 100
    assert p.level(10) == 0 and p.level(40) == 50 and p.level(60) == 0
    once = Pattern((10, 5, 10, 0), 2)
    assert once.total_ms == 20 and once.level(500) == 0


def test_states_are_distinct_by_touch():
    rhythms = [_rhythm(s) for s in (NO_CONTACT, UNDER, IN_BAND, OVER, TOO_HARD, FAULT)]
    for i in range(len(rhythms)):
        for j in range(i + 1, len(rhythms)):
            assert rhythms[i] != rhythms[j], (i, j)
    assert rhythms[NO_CONTACT] == ()
    assert rhythms[TOO_HARD] == (0,)           # continuous
    assert len(rhythms[UNDER]) > len(rhythms[IN_BAND])  # in band is mostly quiet


def test_state_change_changes_output_in_the_same_iteration():
    for a in (NO_CONTACT, UNDER, IN_BAND, OVER, TOO_HARD, FAULT):
        for b in (UNDER, IN_BAND, OVER, TOO_HARD, FAULT):
            if a == b:
                continue
            for phase in (0, 100, 400, 900):
                hw = _hw()
                fb = Feedback(hw)
                fb.show(a, 0)
                fb.show(a, phase)
                before = hw.motor.level
                fb.show(b, phase + 5)
                assert hw.motor.level != before, (a, b, phase)


def test_outputs_touched_only_on_change():
    hw = _hw()
    fb = Feedback(hw)
    for t in range(0, 5000, 5):
        fb.show(TOO_HARD, t)  # continuous motor: one write
    assert hw.motor.calls == 1
    assert hw.led.calls < 120  # fast blink at 10/s: ~2 writes per blink


def test_annotations_on_state_change_and_cue():
    notes = []
    hw = _hw(notes)
    fb = Feedback(hw)
    fb.show(UNDER, 0)
    fb.show(UNDER, 5)
    fb.show(IN_BAND, 10)
    fb.cue(feedback.CUE_STEP, 15)
    assert notes == [("state", UNDER), ("state", IN_BAND), ("cue", feedback.CUE_STEP)]


def test_cue_overrides_then_state_resumes():
    hw = _hw()
    fb = Feedback(hw)
    fb.show(TOO_HARD, 0)
    fb.show(IN_BAND, 5)
    fb.cue(feedback.CUE_DONE, 100)
    fb.show(IN_BAND, 100)
    assert hw.motor.level == 500              # DONE starts with a half-strength pulse
    assert hw.rgb.rgb == (0, 124, 0)
    total = feedback_views.CUE[feedback.CUE_DONE].total_ms
    fb.show(IN_BAND, 100 + total - 5)
    assert fb.cue_code == feedback.CUE_DONE
    fb.show(IN_BAND, 100 + total)
    assert fb.cue_code == 0
    assert hw.motor.level == 1023             # the in-band pattern starts again with its confirm


def test_too_hard_cancels_cue():
    hw = _hw()
    fb = Feedback(hw)
    fb.show(IN_BAND, 0)
    fb.cue(feedback.CUE_SIDE, 10)
    fb.show(IN_BAND, 10)
    fb.show(TOO_HARD, 20)
    assert fb.cue_code == 0 and hw.motor.level == 960


def test_cue_codes_and_unknown():
    codes = (feedback.CUE_START, feedback.CUE_STEP, feedback.CUE_SIDE, feedback.CUE_DONE,
             feedback.CUE_PAUSED, feedback.CUE_RESUMED, feedback.CUE_ABORT, feedback.CUE_LOW_BATTERY,
             feedback.CUE_FAULT, feedback.CUE_FLASH_LOW, feedback.CUE_REST)
    assert len(set(codes)) == 11
    seen = []
    for c in codes:
        p = feedback_views.CUE[c]
        sig = tuple(p.segs)
        assert sig not in seen, c
        seen.append(sig)
        assert p.level(p.total_ms) == 0  # cues end quiet
    fb = Feedback(_hw())
    raises(ValueError, fb.cue, 0, 0)
    raises(ValueError, fb.cue, 99, 0)


def test_modes_and_intensity():
    hw = _hw()
    fb = Feedback(hw, feedback.LED)
    fb.show(UNDER, 0)
    assert hw.motor.level == 0 and hw.led.level == 640
    hw = _hw()
    fb = Feedback(hw, feedback.HAPTIC, 50)
    fb.show(UNDER, 0)
    assert hw.motor.level == 320 and hw.led.level == 0 and hw.rgb.rgb == (0, 0, 0)
    fb.set_mode(feedback.ALL)
    fb.show(TOO_HARD, 5)
    assert hw.buzzer.hz == 2400 and hw.buzzer.level == 511
    fb.set_intensity(150)
    assert fb.intensity_pct == 100
    assert feedback.mode_from_name("haptic") == feedback.HAPTIC
    raises(ValueError, feedback.mode_from_name, "loud")


def test_sound_quiet_for_band_states():
    hw = _hw()
    fb = Feedback(hw, feedback.ALL)
    for s in (NO_CONTACT, UNDER, IN_BAND, OVER):
        for t in range(0, 3000, 50):
            fb.show(s, s * 10000 + t)
            assert hw.buzzer.level == 0


def test_off():
    hw = _hw()
    fb = Feedback(hw)
    fb.show(TOO_HARD, 0)
    fb.off()
    assert hw.motor.level == 0 and hw.led.level == 0 and hw.rgb.rgb == (0, 0, 0)


def test_no_outputs_at_all_is_fine():
    hw = Hardware("bare", FakeClock(), None, {})
    fb = Feedback(hw)
    for t in range(0, 500, 5):
        fb.show(OVER, t)
    fb.cue(feedback.CUE_START, 500)
    fb.show(OVER, 505)
    assert fb.cue_code == feedback.CUE_START


def test_pattern_tables_match_the_ids_feedback_uses():
    # acu.feedback names the ids (H0 0, L0 6, S0 12, C0 18); the tables module builds them in that order
    assert (feedback.H0, feedback.L0, feedback.S0, feedback.C0, feedback.N_CUES) == (0, 6, 12, 18, 12)
    assert len(feedback.PATTERNS) >= (feedback.C0 + feedback.N_CUES - 1) * 6
    assert list(feedback_views.LED_STATE[0].segs) == [30, 150, 2970, 0]
    assert list(feedback_views.SOUND_STATE[4].segs) == [100, 1023, 100, 0]
    assert list(feedback_views.CUE[feedback.CUE_REST].segs) == [200, 300, 200, 500, 200, 300, 400, 0]
    assert feedback_views.CUE_NAMES[feedback.CUE_FLASH_LOW] == "flash_low"
    assert len(feedback_views.CUE_NAMES) == feedback.N_CUES


def test_mode_names_are_the_channel_bits():
    assert feedback.mode_from_name("haptic+sound") == feedback.HAPTIC | feedback.SOUND
    assert feedback.mode_from_name("both") == feedback.BOTH == feedback.LED | feedback.HAPTIC
    assert feedback.mode_from_name("all") == feedback.ALL
    assert feedback.mode_from_name("led+sound") == feedback.LED | feedback.SOUND
    assert feedback.MODE_NAMES[feedback.LED] == "led" and feedback.MODE_NAMES[feedback.SOUND] == "sound"
