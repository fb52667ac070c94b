# The feedback language's patterns (spec: docs/feedback.md) as source, and the tables' layout. acu.feedback
# calls tables() once at import (acu.call) to build its two flat arrays, and this module is dropped: the
# loop keeps only the arrays (2 bytes a number), not these tuples (8 bytes a number, held by the module's
# constant table as long as any of its code is loaded). The views of the patterns for docs, tests and
# tools are acu.feedback_views.
#
# A pattern is segments (duration_ms, level 0..1023) back to back in P; its descriptor in D is 6 u16:
# start, end (indices into P), loop start, entry_ms, loop_ms, total_ms. Segments before the loop start
# play once (an entry, e.g. the in-band confirm), the rest repeat; a loop start at the end means: play
# once then hold the last level (cues end on a 0 segment). Pattern ids: acu.feedback's H0, L0, S0, C0.
from array import array

from micropython import const


def add(p, d, segs, loop_from=0):
    """Append a pattern to the tables p (segments) and d (descriptors); returns its id."""
    start = len(p)
    for v in segs:
        p.append(v)
    end = len(p)
    loop_i = start + loop_from * 2
    entry = 0
    total = 0
    for i in range(start, end, 2):
        if i < loop_i:
            entry += p[i]
        total += p[i]
    for v in (start, end, loop_i, entry, total - entry, total):
        d.append(v)
    return len(d) // 6 - 1


_OFF = const((1000, 0))


def tables():
    """(P, D, RGB, SOUND_STATE_HZ, CUE_HZ): the firmware's patterns in acu.feedback's id order, the RGB colours
    and the buzzer's pitches (see acu.feedback)."""
    p = array("H")
    d = array("H")
    # --- band states (pattern id = base + state: NO_CONTACT UNDER IN OVER TOO_HARD FAULT) ------------
    # Haptic (H0 = 0): each state has its own rhythm, so it can be told apart by touch alone. The first
    # level of every state (640, 1023, 820, 960, 720) appears in no other state's pattern, so a state
    # change always changes the output in the same loop iteration (the latency budget), and the rhythm
    # follows.
    for segs, loop_from in (
        (_OFF, 0),                                               # NO_CONTACT: quiet
        ((120, 640, 680, 0), 0),                                 # UNDER: slow single pulses: press more
        # IN: double-tap confirm, then quiet with a soft tick every 3 s (faded feedback)
        ((60, 1023, 80, 0, 60, 1023, 300, 0, 2940, 0, 60, 450), 4),
        ((60, 820, 60, 0, 60, 820, 320, 0), 0),                  # OVER: quick double pulses: ease off
        ((1000, 960), 0),                                        # TOO_HARD: continuous strong buzz: stop
        ((400, 720, 200, 0, 400, 720, 2000, 0), 0),              # FAULT: two long pulses every 3 s
        # Single LED (L0 = 6): the same rhythms (and first levels), but steady-on in band and a fast
        # blink for too hard.
        ((30, 150, 2970, 0), 0),                                 # NO_CONTACT: faint blip every 3 s (alive)
        ((120, 640, 680, 0), 0),                                 # UNDER: slow blink
        ((60, 1023, 80, 0, 60, 1023, 80, 0, 1000, 500), 4),      # IN: double flash then steady on
        ((60, 820, 60, 0, 60, 820, 320, 0), 0),                  # OVER: quick double blink
        ((50, 960, 50, 0), 0),                                   # TOO_HARD: fast blink (10/s)
        ((400, 720, 200, 0, 400, 720, 2000, 0), 0),              # FAULT: two long blinks every 3 s
        # Buzzer (S0 = 12): quiet for the band (a bedtime device); an alarm for too hard, a low tone
        # for a fault (pitches: acu.feedback.SOUND_STATE_HZ).
        (_OFF, 0),
        (_OFF, 0),
        (_OFF, 0),
        (_OFF, 0),
        ((100, 1023, 100, 0), 0),                                # TOO_HARD: 5 beeps/s
        ((400, 600, 2600, 0), 0),                                # FAULT: one low beep every 3 s
    ):
        add(p, d, segs, loop_from)
    # --- cues (C0 = 18; pattern id = C0 - 1 + cue code; one rhythm on every channel, each ends with a
    # 300 ms gap; pitches: acu.feedback.CUE_HZ) ------------------------------------------------------
    for cue in (
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
        add(p, d, cue, len(cue) // 2)
    rgb = bytes((
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
        180, 0, 255,     # SEQ (a check's result, the score) violet
    ))
    sound_hz = array("H", (0, 0, 0, 0, 2400, 400))       # by band state: too hard 2400, fault 400
    cue_hz = array("H", (0, 880, 1320, 660, 1760, 520, 990, 330, 440, 400, 1100, 520, 740))  # by cue code
    return p, d, rgb, sound_hz, cue_hz
