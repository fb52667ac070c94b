# The feedback language (spec: docs/feedback.md): one continuous pattern per band state plus one-shot
# cues that override it for a moment. Patterns are preallocated tables of (duration_ms, level) segments
# on a haptic channel (ERM motor and/or DRV2605L), a LED channel (single LED; an RGB LED/NeoPixel shows
# the same rhythm in the state's colour) and a sound channel (buzzer). show() runs every loop iteration:
# integer maths only, no allocation, outputs touched only when a level changes.
import acu
from acu import ticks
from acu.band import TOO_HARD

from micropython import const

# Channels (mode is a bit set)
LED = const(1)      # single LED and/or RGB/NeoPixel
HAPTIC = const(2)   # vibration motor and/or DRV2605L
SOUND = const(4)    # buzzer (cues, too-hard alarm, fault)
BOTH = const(3)     # LED | HAPTIC, the default: silent at night, eyes-free by touch
ALL = const(7)
MODE_NAMES = ("", "led", "haptic", "both", "sound", "led+sound", "haptic+sound", "all")  # by mode (the bits)

CUE_START = const(1)
CUE_STEP = const(2)
CUE_SIDE = const(3)
CUE_DONE = const(4)
CUE_PAUSED = const(5)
CUE_RESUMED = const(6)
CUE_ABORT = const(7)
CUE_LOW_BATTERY = const(8)
CUE_FAULT = const(9)
CUE_FLASH_LOW = const(10)
CUE_REST = const(11)
CUE_SEQ = const(12)   # a sequence built at run time (a check's result, the session score): Feedback.play()
# The patterns: two flat u16 arrays built once from their source in acu.feedback_tables (loaded for that
# call only), which also defines their layout: a pattern is segments (duration_ms, level 0..1023) back to
# back in SEGMENTS; its descriptor in PATTERNS is 6 u16 at 6 * id: start, end (indices into SEGMENTS),
# loop start, entry_ms, loop_ms, total_ms. Pattern ids: band state patterns are base + state (NO_CONTACT
# UNDER IN OVER TOO_HARD FAULT) per channel, cue patterns C0 - 1 + cue code. acu.feedback_views shows them.
H0 = const(0)       # haptic (ERM motor, DRV2605L)
L0 = const(6)       # LED (the RGB LED follows its rhythm in the state's colour)
S0 = const(12)      # buzzer
C0 = const(18)      # cues: one rhythm on every channel
N_CUES = const(12)  # table cue codes 1..11; CUE_SEQ (12) has no table pattern: its segments are in Feedback._seq
SEG_CAP_U16 = const(84)  # a sequence's u16: a check's result (<= 28), the done cue (12) and the score (<= 42)

# the arrays the loop reads: segments, descriptors, RGB colours (0..255, scaled by the LED rhythm level:
# 3 bytes per band state at 3 * state, then per cue at 15 + 3 * code), buzzer pitch per band state and per
# cue code (Hz)
SEGMENTS, PATTERNS, _RGB, SOUND_STATE_HZ, CUE_HZ = acu.call("feedback_tables", "tables")
_RGB_CUE = const(15)


def level(pid, t_ms):
    """The level of pattern pid t_ms after it began. Allocation-free (the loop's path)."""
    p = SEGMENTS
    d = PATTERNS
    i = pid * 6
    n2 = d[i + 1]
    if t_ms < d[i + 3]:
        j = d[i]
    elif d[i + 4] == 0:
        return p[n2 - 1]
    else:
        t_ms = (t_ms - d[i + 3]) % d[i + 4]
        j = d[i + 2]
    while j < n2:
        seg = p[j]
        if t_ms < seg:
            return p[j + 1]
        t_ms -= seg
        j += 2
    return p[n2 - 1]


def mode_from_name(name):
    """The mode (channel bits) of a settings name: one of MODE_NAMES (docs/feedback.md)."""
    for m in range(LED, ALL + 1):
        if MODE_NAMES[m] == name:
            return m
    raise ValueError("feedback mode: " + str(name))


class Feedback:
    """Drive the board's outputs from the band state and cues.

    hw: acu.hw.Hardware (uses led, rgb, motor, haptic, buzzer, annotate; any may be None).
    mode: bit set of LED, HAPTIC, SOUND (BOTH = LED | HAPTIC). intensity_pct: 0..100 scales every level.
    show(state, now_ms): every loop iteration. cue(code, now_ms): a one-shot overlay; the state pattern
    restarts when it ends. TOO_HARD cancels a running cue (a safety warning is never hidden).
    """

    def __init__(self, hw, mode=BOTH, intensity_pct=100):
        self.hw = hw
        self.motor = hw.motor
        self.haptic = hw.haptic
        self.led = hw.led
        self.rgb = hw.rgb
        self.buzzer = hw.buzzer
        self.annotate = hw.annotate
        self._motor_poll = hw.motor is not None and hasattr(hw.motor, "poll")
        self.mode = mode
        self.intensity_pct = 100
        self.set_intensity(intensity_pct)
        self.state = -1
        self._state_t0 = 0
        self.cue_code = 0
        self._cue_t0 = 0
        # last values written, so outputs are touched only on change
        self._h = -1
        self._l = -1
        self._r = -1
        self._g = -1
        self._b = -1
        self._f = -1
        self._s = -1
        self._seq = None  # a run-time sequence: (duration_ms, level) pairs, SEG_CAP_U16 u16 (acu.score makes it)
        self._seq_n = 0
        self._seq_ms = 0

    def set_mode(self, mode):
        self.mode = mode & ALL

    def set_intensity(self, pct):
        if pct < 0:
            pct = 0
        elif pct > 100:
            pct = 100
        self.intensity_pct = pct

    def cue(self, code, now_ms):
        if code < 1 or code >= N_CUES:
            raise ValueError("unknown cue")
        self.cue_code = code
        self._cue_t0 = now_ms
        if self.annotate is not None:
            self.annotate("cue", code)

    def cue_after(self, code, now_ms):
        """cue(code), or behind the run-time sequence that is playing (a check's result is not cut)."""
        if self.cue_code == CUE_SEQ and ticks.diff(now_ms, self._cue_t0) < self._seq_ms:
            i = (C0 - 1 + code) * 6
            self.seq_put(SEGMENTS, PATTERNS[i], PATTERNS[i + 1])
            if self.annotate is not None:
                self.annotate("cue", code)
        else:
            self.cue(code, now_ms)

    def seq_put(self, src, i, end):
        """Append the (duration_ms, level) pairs src[i:end] to the run-time sequence (CUE_SEQ; acu.score's
        play() starts one). Allocation-free."""
        q = self._seq  # an array("H") whenever a sequence plays (None before the first: never read then)
        n = self._seq_n
        while i + 1 < end and n + 1 < SEG_CAP_U16:
            q[n] = src[i]  # type: ignore[index]
            q[n + 1] = src[i + 1]  # type: ignore[index]
            self._seq_ms += src[i]
            n += 2
            i += 2
        self._seq_n = n

    def _seq_level(self, t_ms):
        q = self._seq
        j = 0
        n = self._seq_n
        while j < n:
            if t_ms < q[j]:  # type: ignore[index]
                return q[j + 1]  # type: ignore[index]
            t_ms -= q[j]  # type: ignore[index]
            j += 2
        return 0

    def show(self, state, now_ms):
        if state != self.state:
            self.state = state
            self._state_t0 = now_ms
            if state == TOO_HARD:
                self.cue_code = 0
            if self.annotate is not None:
                self.annotate("state", state)
        code = self.cue_code
        if code:
            t = ticks.diff(now_ms, self._cue_t0)
            pid = C0 - 1 + code
            if code == CUE_SEQ:
                lv = self._seq_level(t) if t < self._seq_ms else -1
            else:
                lv = level(pid, t) if t < PATTERNS[pid * 6 + 5] else -1
            if lv >= 0:
                self._out(lv, lv, _RGB_CUE + 3 * code, lv, CUE_HZ[code])
                return
            self.cue_code = 0
            self._state_t0 = now_ms  # the state pattern starts again after the cue
        t = ticks.diff(now_ms, self._state_t0)
        self._out(level(H0 + state, t), level(L0 + state, t), 3 * state,
                  level(S0 + state, t), SOUND_STATE_HZ[state])

    def _out(self, hap, led, rgb_at, snd, hz):
        mode = self.mode
        k = self.intensity_pct
        hap = hap * k // 100 if mode & HAPTIC else 0
        led = led * k // 100 if mode & LED else 0
        snd = snd * k // 100 if mode & SOUND else 0
        if hap != self._h:
            self._h = hap
            if self.motor is not None:
                self.motor.set(hap)
            if self.haptic is not None:
                self.haptic.set(hap)
        if self._motor_poll:
            self.motor.poll()
        if led != self._l:
            self._l = led
            if self.led is not None:
                self.led.set(led)
        if self.rgb is not None:
            r = _RGB[rgb_at] * led >> 10
            g = _RGB[rgb_at + 1] * led >> 10
            b = _RGB[rgb_at + 2] * led >> 10
            if r != self._r or g != self._g or b != self._b:
                self._r = r
                self._g = g
                self._b = b
                self.rgb.set(r, g, b)
        if snd != self._s or (snd and hz != self._f):
            self._s = snd
            self._f = hz
            if self.buzzer is not None:
                self.buzzer.tone(hz if snd else 0, snd)

    def off(self):
        """All outputs off (sleep, app exit). Not for the loop."""
        self._out(0, 0, 0, 0, 0)
        self.state = -1
        self.cue_code = 0
