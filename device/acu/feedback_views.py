# Views of the feedback language's patterns (acu.feedback's tables) for docs, tests and tools: never loaded
# by the running firmware. Reachable from acu.feedback too (feedback.CUE, feedback.Pattern,
# feedback.CUE_NAMES...): its __getattr__ forwards them.
from acu.feedback import C0, H0, L0, N_CUES, S0

CUE_NAMES = ("", "start", "step", "side", "done", "paused", "resumed", "abort", "low_battery",
             "fault", "flash_low", "rest")


class Pattern:
    """A view of one pattern: level(t_ms), segs, entry_ms, loop_ms, total_ms. Pattern(segs, loop_from) adds
    a new one to acu.feedback's tables (tests, tools); the firmware's own patterns are ids, not objects."""

    def __init__(self, segs, loop_from=0, pid=-1):
        from acu import feedback as fb
        if pid < 0:
            from acu.feedback_tables import add
            pid = add(fb._P, fb._D, segs, loop_from)
        self.pid = pid
        d = self.pid * 6
        self.segs = fb._P[fb._D[d]:fb._D[d + 1]]
        self.entry_ms = fb._D[d + 3]
        self.loop_ms = fb._D[d + 4]
        self.total_ms = fb._D[d + 5]

    def level(self, t_ms):
        from acu import feedback as fb
        return fb._level(self.pid, t_ms)


def views(name):
    """feedback.CUE (by cue code, [0] None), HAPTIC_STATE / LED_STATE / SOUND_STATE (by band state)."""
    if name == "CUE":
        return (None,) + tuple(Pattern(None, 0, C0 + k) for k in range(N_CUES - 1))
    for n, base in (("HAPTIC_STATE", H0), ("LED_STATE", L0), ("SOUND_STATE", S0)):
        if name == n:
            return tuple(Pattern(None, 0, base + k) for k in range(6))
    raise AttributeError(name)
