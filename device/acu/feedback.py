# The feedback language (spec: docs/feedback.md): one continuous pattern per band state plus one-shot
# cues that override it for a moment. Patterns are preallocated tables of (duration_ms, level) segments
# on a haptic channel (ERM motor and/or DRV2605L), a LED channel (single LED; an RGB LED/NeoPixel shows
# the same rhythm in the state's colour) and a sound channel (buzzer). show() runs every loop iteration:
# integer maths only, no allocation, outputs touched only when a level changes.
from array import array

from acu import ticks
from acu.band import TOO_HARD

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

# Channels (mode is a bit set)
LED = const(1)      # single LED and/or RGB/NeoPixel
HAPTIC = const(2)   # vibration motor and/or DRV2605L
SOUND = const(4)    # buzzer (cues, too-hard alarm, fault)
BOTH = const(3)     # LED | HAPTIC, the default: silent at night, eyes-free by touch
ALL = const(7)

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
CUE_NAMES = ("", "start", "step", "side", "done", "paused", "resumed", "abort", "low_battery",
             "fault", "flash_low", "rest")

MODE_NAMES = {"led": LED, "haptic": HAPTIC, "both": BOTH, "sound": SOUND, "all": ALL,
              "haptic+sound": HAPTIC | SOUND, "led+sound": LED | SOUND}

# Every pattern lives in two flat arrays (a few objects instead of one object + array per pattern: the
# heap is small). A pattern is segments (duration_ms, level 0..1023) back to back in _P; its descriptor
# in _D is 6 u16: start, end (indices into _P), loop start, entry_ms, loop_ms, total_ms. Segments before
# the loop start play once (an entry, e.g. the in-band confirm), the rest repeat; a loop start at the
# end means: play once then hold the last level (cues end on a 0 segment).
_P = array("H")
_D = array("H")


def _add(segs, loop_from=0):
    """Append a pattern to the tables (import time); returns its id."""
    start = len(_P)
    for v in segs:
        _P.append(v)
    end = len(_P)
    loop_i = start + loop_from * 2
    entry = 0
    total = 0
    for i in range(start, end, 2):
        if i < loop_i:
            entry += _P[i]
        total += _P[i]
    for v in (start, end, loop_i, entry, total - entry, total):
        _D.append(v)
    return len(_D) // 6 - 1


def _level(pid, t_ms):
    """The level of pattern pid t_ms after it began. Allocation-free (the loop's path)."""
    d = pid * 6
    n2 = _D[d + 1]
    if t_ms < _D[d + 3]:
        i = _D[d]
    elif _D[d + 4] == 0:
        return _P[n2 - 1]
    else:
        t_ms = (t_ms - _D[d + 3]) % _D[d + 4]
        i = _D[d + 2]
    while i < n2:
        seg = _P[i]
        if t_ms < seg:
            return _P[i + 1]
        t_ms -= seg
        i += 2
    return _P[n2 - 1]


class Pattern:
    """A view of one pattern: level(t_ms), segs, entry_ms, loop_ms, total_ms. Pattern(segs, loop_from) adds
    a new one to the tables (tests, tools); the firmware's own patterns are ids, not objects."""

    def __init__(self, segs, loop_from=0, pid=-1):
        self.pid = _add(segs, loop_from) if pid < 0 else pid
        d = self.pid * 6
        self.segs = _P[_D[d]:_D[d + 1]]
        self.entry_ms = _D[d + 3]
        self.loop_ms = _D[d + 4]
        self.total_ms = _D[d + 5]

    def level(self, t_ms):
        return _level(self.pid, t_ms)


_OFF = (1000, 0)

# --- band states (pattern id = base + state: NO_CONTACT UNDER IN OVER TOO_HARD FAULT) ----------------
# Haptic: each state has its own rhythm, so it can be told apart by touch alone. The first level of
# every state (640, 1023, 820, 960, 720) appears in no other state's pattern, so a state change always
# changes the output in the same loop iteration (the latency budget), and the rhythm follows.
_H0 = _add(_OFF)                                                 # NO_CONTACT: quiet
_add((120, 640, 680, 0))                                         # UNDER: slow single pulses: press more
# IN: double-tap confirm, then quiet with a soft tick every 3 s (faded feedback)
_add((60, 1023, 80, 0, 60, 1023, 300, 0, 2940, 0, 60, 450), 4)
_add((60, 820, 60, 0, 60, 820, 320, 0))                          # OVER: quick double pulses: ease off
_add((1000, 960))                                                # TOO_HARD: continuous strong buzz: stop
_add((400, 720, 200, 0, 400, 720, 2000, 0))                      # FAULT: two long pulses every 3 s
# Single LED: the same rhythms (and first levels), but steady-on in band and a fast blink for too hard.
_L0 = _add((30, 150, 2970, 0))                                   # NO_CONTACT: faint blip every 3 s (alive)
_add((120, 640, 680, 0))                                         # UNDER: slow blink
_add((60, 1023, 80, 0, 60, 1023, 80, 0, 1000, 500), 4)           # IN: double flash then steady on
_add((60, 820, 60, 0, 60, 820, 320, 0))                          # OVER: quick double blink
_add((50, 960, 50, 0))                                           # TOO_HARD: fast blink (10/s)
_add((400, 720, 200, 0, 400, 720, 2000, 0))                      # FAULT: two long blinks every 3 s
# Buzzer: quiet for the band (a bedtime device); an alarm for too hard, a low tone for a fault.
_S0 = _add(_OFF)
_add(_OFF)
_add(_OFF)
_add(_OFF)
_add((100, 1023, 100, 0))                                        # TOO_HARD: 5 beeps/s
_add((400, 600, 2600, 0))                                        # FAULT: one low beep every 3 s
SOUND_STATE_HZ = array("H", (0, 0, 0, 0, 2400, 400))

# --- cues (pattern id = _C0 - 1 + cue code; one rhythm on every channel, each ends with a 300 ms gap) --
_C0 = len(_D) // 6
for _s in (
    (300, 1023, 150, 0, 80, 1023, 300, 0),                           # START: long-short
    (80, 1023, 80, 0, 80, 1023, 80, 0, 80, 1023, 300, 0),            # STEP: three short taps
    (250, 1023, 150, 0, 250, 1023, 300, 0),                          # SIDE: two long
    (150, 500, 100, 0, 150, 750, 100, 0, 600, 1023, 300, 0),         # DONE: three rising, the last long
    (500, 600, 300, 0),                                              # PAUSED: one long soft
    (80, 1023, 150, 0, 300, 1023, 300, 0),                           # RESUMED: short-long
    (1000, 1023, 300, 0),                                            # ABORT: one very long
    (40, 500, 120, 0, 40, 500, 120, 0, 40, 500, 120, 0, 40, 500, 300, 0),  # LOW_BATTERY: four weak ticks
    (400, 800, 200, 0, 400, 800, 300, 0),                            # FAULT: two long (the fault rhythm)
    (80, 1023, 80, 0, 80, 1023, 80, 0, 400, 1023, 300, 0),           # FLASH_LOW: short-short-long
    (200, 300, 200, 500, 200, 300, 400, 0),                          # REST: a soft swell: lift off
):
    _add(_s, len(_s) // 2)
del _s
_N_CUES = const(12)  # cue codes 1..11
CUE_HZ = array("H", (0, 880, 1320, 660, 1760, 520, 990, 330, 440, 400, 1100, 520))

# RGB colours (0..255), scaled by the LED rhythm level: 3 bytes per band state (offset 3 * state),
# then per cue (offset 15 + 3 * code).
_RGB = bytes((
    60, 60, 60,      # NO_CONTACT: white blip
    0, 60, 255,      # UNDER: blue
    0, 255, 0,       # IN: green
    255, 140, 0,     # OVER: amber
    255, 0, 0,       # TOO_HARD: red
    200, 0, 255,     # FAULT: magenta
    255, 255, 255,   # cue START white
    0, 255, 255,     # STEP cyan
    0, 255, 255,     # SIDE cyan
    0, 255, 0,       # DONE green
    255, 200, 0,     # PAUSED yellow
    255, 255, 255,   # RESUMED white
    255, 0, 0,       # ABORT red
    255, 60, 0,      # LOW_BATTERY orange
    200, 0, 255,     # FAULT magenta
    255, 200, 0,     # FLASH_LOW yellow
    0, 60, 255,      # REST blue
))
_RGB_CUE = const(15)


def __getattr__(name):
    # pattern views by state / cue code, as tuples (docs, tests, tools; the loop uses ids)
    if name == "CUE":
        return (None,) + tuple(Pattern(None, 0, _C0 + k) for k in range(_N_CUES - 1))
    for n, base in (("HAPTIC_STATE", _H0), ("LED_STATE", _L0), ("SOUND_STATE", _S0)):
        if name == n:
            return tuple(Pattern(None, 0, base + k) for k in range(6))
    raise AttributeError(name)


class Feedback:
    """Drive the board's outputs from the band state and cues.

    hw: acu.hw.Hardware (uses led, rgb, motor, haptic, buzzer, annotate; any may be None).
    mode: bit set of LED, HAPTIC, SOUND (BOTH = LED | HAPTIC). intensity_pct: 0..100 scales every level.
    show(state, now_ms): every loop iteration. cue(code, now_ms): a one-shot overlay; the state pattern
    restarts when it ends. TOO_HARD cancels a running cue (a safety warning is never hidden).
    """

    def __init__(self, hw, mode=BOTH, intensity_pct=100):
        self._hw = hw
        self._motor = hw.motor
        self._haptic = hw.haptic
        self._led = hw.led
        self._rgb = hw.rgb
        self._buzzer = hw.buzzer
        self._annotate = hw.annotate
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

    def set_mode(self, mode):
        self.mode = mode & ALL

    def set_intensity(self, pct):
        if pct < 0:
            pct = 0
        elif pct > 100:
            pct = 100
        self.intensity_pct = pct

    def cue(self, code, now_ms):
        if code < 1 or code >= _N_CUES:
            raise ValueError("unknown cue")
        self.cue_code = code
        self._cue_t0 = now_ms
        if self._annotate is not None:
            self._annotate("cue", code)

    def show(self, state, now_ms):
        if state != self.state:
            self.state = state
            self._state_t0 = now_ms
            if state == TOO_HARD:
                self.cue_code = 0
            if self._annotate is not None:
                self._annotate("state", state)
        code = self.cue_code
        if code:
            t = ticks.diff(now_ms, self._cue_t0)
            pid = _C0 - 1 + code
            if t < _D[pid * 6 + 5]:
                lv = _level(pid, t)
                self._out(lv, lv, _RGB_CUE + 3 * code, lv, CUE_HZ[code])
                return
            self.cue_code = 0
            self._state_t0 = now_ms  # the state pattern starts again after the cue
        t = ticks.diff(now_ms, self._state_t0)
        self._out(_level(_H0 + state, t), _level(_L0 + state, t), 3 * state,
                  _level(_S0 + state, t), SOUND_STATE_HZ[state])

    def _out(self, hap, led, rgb_at, snd, hz):
        mode = self.mode
        k = self.intensity_pct
        hap = hap * k // 100 if mode & HAPTIC else 0
        led = led * k // 100 if mode & LED else 0
        snd = snd * k // 100 if mode & SOUND else 0
        if hap != self._h:
            self._h = hap
            if self._motor is not None:
                self._motor.set(hap)
            if self._haptic is not None:
                self._haptic.set(hap)
        if self._motor_poll:
            self._motor.poll()
        if led != self._l:
            self._l = led
            if self._led is not None:
                self._led.set(led)
        if self._rgb is not None:
            r = _RGB[rgb_at] * led >> 10
            g = _RGB[rgb_at + 1] * led >> 10
            b = _RGB[rgb_at + 2] * led >> 10
            if r != self._r or g != self._g or b != self._b:
                self._r = r
                self._g = g
                self._b = b
                self._rgb.set(r, g, b)
        if snd != self._s or (snd and hz != self._f):
            self._s = snd
            self._f = hz
            if self._buzzer is not None:
                self._buzzer.tone(hz if snd else 0, snd)

    def off(self):
        """All outputs off (sleep, app exit). Not for the loop."""
        self._out(0, 0, 0, 0, 0)
        self.state = -1
        self.cue_code = 0

    def state_level(self, state, t_ms):
        """The haptic level of a state's pattern t_ms after it began (docs, tests, the simulator)."""
        return _level(_H0 + state, t_ms)


def mode_from_name(name):
    """'led' | 'haptic' | 'both' | 'sound' | 'all' | 'haptic+sound' | 'led+sound' -> mode bits."""
    m = MODE_NAMES.get(name)
    if m is None:
        raise ValueError("feedback mode: " + str(name))
    return m
