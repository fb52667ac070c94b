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


class Pattern:
    """Segments (duration_ms, level 0..1023) flattened in an array. Segments before loop_from play once
    (an entry, e.g. the in-band confirm), the rest repeat. loop_from == number of segments: play once
    then hold the last level (cues end on a 0 segment)."""

    def __init__(self, segs, loop_from=0):
        self.segs = array("H", segs)
        self.n2 = len(segs)
        self.loop_i = loop_from * 2
        entry = 0
        for i in range(0, self.loop_i, 2):
            entry += segs[i]
        total = entry
        for i in range(self.loop_i, self.n2, 2):
            total += segs[i]
        self.entry_ms = entry
        self.loop_ms = total - entry
        self.total_ms = total

    def level(self, t_ms):
        segs = self.segs
        if t_ms < self.entry_ms:
            i = 0
        elif self.loop_ms == 0:
            return segs[self.n2 - 1]
        else:
            t_ms = (t_ms - self.entry_ms) % self.loop_ms
            i = self.loop_i
        n2 = self.n2
        while i < n2:
            d = segs[i]
            if t_ms < d:
                return segs[i + 1]
            t_ms -= d
            i += 2
        return segs[n2 - 1]


_OFF = Pattern((1000, 0))

# --- band states (index = state: NO_CONTACT UNDER IN OVER TOO_HARD FAULT) ----------------------------
# Haptic: each state has its own rhythm, so it can be told apart by touch alone. The first level of
# every state (640, 1023, 820, 960, 720) appears in no other state's pattern, so a state change always
# changes the output in the same loop iteration (the latency budget), and the rhythm follows.
HAPTIC_STATE = (
    _OFF,                                                        # NO_CONTACT: quiet
    Pattern((120, 640, 680, 0)),                                 # UNDER: slow single pulses: press more
    # IN: double-tap confirm, then quiet with a soft tick every 3 s (faded feedback)
    Pattern((60, 1023, 80, 0, 60, 1023, 300, 0, 2940, 0, 60, 450), 4),
    Pattern((60, 820, 60, 0, 60, 820, 320, 0)),                  # OVER: quick double pulses: ease off
    Pattern((1000, 960)),                                        # TOO_HARD: continuous strong buzz: stop
    Pattern((400, 720, 200, 0, 400, 720, 2000, 0)),              # FAULT: two long pulses every 3 s
)
# Single LED: the same rhythms (and first levels), but steady-on in band and a fast blink for too hard.
LED_STATE = (
    Pattern((30, 150, 2970, 0)),                                 # NO_CONTACT: faint blip every 3 s (alive)
    Pattern((120, 640, 680, 0)),                                 # UNDER: slow blink
    Pattern((60, 1023, 80, 0, 60, 1023, 80, 0, 1000, 500), 4),   # IN: double flash then steady on
    Pattern((60, 820, 60, 0, 60, 820, 320, 0)),                  # OVER: quick double blink
    Pattern((50, 960, 50, 0)),                                   # TOO_HARD: fast blink (10/s)
    Pattern((400, 720, 200, 0, 400, 720, 2000, 0)),              # FAULT: two long blinks every 3 s
)
# Buzzer: quiet for the band (a bedtime device); an alarm for too hard, a low tone for a fault.
SOUND_STATE = (
    _OFF, _OFF, _OFF, _OFF,
    Pattern((100, 1023, 100, 0)),                                # TOO_HARD: 5 beeps/s
    Pattern((400, 600, 2600, 0)),                                # FAULT: one low beep every 3 s
)
SOUND_STATE_HZ = array("H", (0, 0, 0, 0, 2400, 400))
# RGB colour per state (0..255), scaled by the LED rhythm level.
RGB_STATE = (
    array("B", (60, 60, 60)),     # NO_CONTACT: white blip
    array("B", (0, 60, 255)),     # UNDER: blue
    array("B", (0, 255, 0)),      # IN: green
    array("B", (255, 140, 0)),    # OVER: amber
    array("B", (255, 0, 0)),      # TOO_HARD: red
    array("B", (200, 0, 255)),    # FAULT: magenta
)

# --- cues (index = cue code; one rhythm on every channel, each ends with a 300 ms gap) --------------
_CUE_SEGS = (
    None,
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
)
CUE = tuple(None if s is None else Pattern(s, len(s) // 2) for s in _CUE_SEGS)
CUE_HZ = array("H", (0, 880, 1320, 660, 1760, 520, 990, 330, 440, 400, 1100, 520))
CUE_RGB = (
    None,
    array("B", (255, 255, 255)),  # START white
    array("B", (0, 255, 255)),    # STEP cyan
    array("B", (0, 255, 255)),    # SIDE cyan
    array("B", (0, 255, 0)),      # DONE green
    array("B", (255, 200, 0)),    # PAUSED yellow
    array("B", (255, 255, 255)),  # RESUMED white
    array("B", (255, 0, 0)),      # ABORT red
    array("B", (255, 60, 0)),     # LOW_BATTERY orange
    array("B", (200, 0, 255)),    # FAULT magenta
    array("B", (255, 200, 0)),    # FLASH_LOW yellow
    array("B", (0, 60, 255)),     # REST blue
)


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
        if code < 1 or code >= len(CUE):
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
            pat = CUE[code]
            if t < pat.total_ms:
                lv = pat.level(t)
                self._out(lv, lv, CUE_RGB[code], lv, CUE_HZ[code])
                return
            self.cue_code = 0
            self._state_t0 = now_ms  # the state pattern starts again after the cue
        t = ticks.diff(now_ms, self._state_t0)
        lv = LED_STATE[state].level(t)
        self._out(HAPTIC_STATE[state].level(t), lv, RGB_STATE[state],
                  SOUND_STATE[state].level(t), SOUND_STATE_HZ[state])

    def _out(self, hap, led, rgb, snd, hz):
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
            r = rgb[0] * led >> 10
            g = rgb[1] * led >> 10
            b = rgb[2] * led >> 10
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
        self._out(0, 0, RGB_STATE[0], 0, 0)
        self.state = -1
        self.cue_code = 0

    def state_level(self, state, t_ms):
        """The haptic level of a state's pattern t_ms after it began (docs, tests, the simulator)."""
        return HAPTIC_STATE[state].level(t_ms)


def mode_from_name(name):
    """'led' | 'haptic' | 'both' | 'sound' | 'all' | 'haptic+sound' | 'led+sound' -> mode bits."""
    m = MODE_NAMES.get(name)
    if m is None:
        raise ValueError("feedback mode: " + str(name))
    return m
