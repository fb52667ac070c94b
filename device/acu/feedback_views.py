# Views of the feedback language's patterns (acu.feedback's tables) for docs, tests and tools: never loaded
# by the running firmware. CUE (by cue code), HAPTIC_STATE, LED_STATE, SOUND_STATE (by band state): Patterns.
from acu import feedback
from acu.feedback import C0, H0, L0, N_CUES, PATTERNS, S0, SEGMENTS
from acu.feedback_tables import add

CUE_NAMES = ("", "start", "step", "side", "done", "paused", "resumed", "abort", "low_battery",
             "fault", "flash_low", "rest")  # by cue code (acu.feedback.CUE_*)


class Pattern:
    """A view of one pattern: level(t_ms), segs, entry_ms, loop_ms, total_ms. Pattern(segs, loop_from) adds
    a new one to acu.feedback's tables (tests, tools); the firmware's own patterns are ids, not objects."""

    def __init__(self, segs, loop_from=0, pid=-1):
        if pid < 0:
            pid = add(SEGMENTS, PATTERNS, segs, loop_from)
        self.pid = pid
        d = pid * 6
        self.segs = SEGMENTS[PATTERNS[d]:PATTERNS[d + 1]]
        self.entry_ms = PATTERNS[d + 3]
        self.loop_ms = PATTERNS[d + 4]
        self.total_ms = PATTERNS[d + 5]

    def level(self, t_ms):
        return feedback.level(self.pid, t_ms)


CUE = (None,) + tuple(Pattern(None, 0, C0 + k) for k in range(N_CUES - 1))
HAPTIC_STATE = tuple(Pattern(None, 0, H0 + k) for k in range(6))
LED_STATE = tuple(Pattern(None, 0, L0 + k) for k in range(6))
SOUND_STATE = tuple(Pattern(None, 0, S0 + k) for k in range(6))
