# Routine files (docs/routines.md): the compiled form the device runs (Step, Routine, the codes). The one
# validator and loader (parse, loads, read, read_selected, check_file, list_routines, to_dict...) is
# acu.routine_parse, used by the device and by the host; the app loads it while it reads the selected
# routine and drops it after (acu.call), so its code never sits in the running app's heap.
from micropython import const

from acu.band import DEFAULT_HI_G, DEFAULT_LO_G

STEP_PRESS = const(0)
STEP_REST = const(1)
STEP_BREATHE = const(2)
STEP_TIMED = const(3)
STEP_CHECK = const(4)     # a blind check: press target_g for hold_s without band feedback, then the result
TYPE_NAMES = ("press", "rest", "breathe", "timed", "check")

SIDE_CENTRE = const(0)
SIDE_LEFT = const(1)
SIDE_RIGHT = const(2)
SIDE_BOTH = const(3)
SIDE_NAMES = ("centre", "left", "right", "both")

COUNT_CLOCK = const(0)   # the step lasts duration_s of clock time (once contact is first made)
COUNT_DOSE = const(1)    # the step lasts until duration_s of time held inside the band

# Feedback schedules of a press step (routine format 2, docs/feedback.md "Schedules"): when the band
# feedback speaks. The too-hard warning and the fault pattern are never silenced.
FB_FULL = const(0)        # always (format 1's behaviour)
FB_FADED = const(1)       # on for feedback_pct % of every 10 s block of the step's live time, then off
FB_BANDWIDTH = const(2)   # only while the force is outside the band widened by tolerance_pct %
FB_NONE = const(3)        # never (the step still logs everything)
FB_NAMES = ("full", "faded", "bandwidth", "none")
DEFAULT_FEEDBACK_PCT = const(50)   # faded: feedback on half the time (Winstein & Schmidt 1990)
DEFAULT_TOLERANCE_PCT = const(5)   # bandwidth: the sensor's own error at a band edge
CHECK_ACCURACY_PCT = const(15)     # a blind check within +-15 % of its target is accurate (acu.score, docs/score.md)

ROOT = "/routines"
SELECTED_PATH = "/cfg/selected"


def _unset():
    # None, from an unannotated function: type checkers read the defaults below as Any (as they read
    # attributes set in an unannotated __init__), not as always None
    return None


class Step:
    """One compiled step. Times are in ms (ints) so the runner does no conversion in its loop.
    The fields a step does not set keep these class defaults, so a step object holds only its own
    values (a press step 8 slots, not 13: about 140 B less each on a 64-bit port)."""

    point = _unset()              # point code (press steps), e.g. "HT7"
    side = SIDE_CENTRE
    duration_ms = 0               # clock time, or in-band time for dose steps
    band_lo_g = DEFAULT_LO_G
    band_hi_g = DEFAULT_HI_G
    count = COUNT_CLOCK
    max_ms = 0                    # dose steps: give up after this much step time (0: never)
    min_ms = 0                    # timed steps: ending earlier counts as skipped
    pattern_ms = _unset()         # breathe steps: tuple of phase lengths (inhale, hold, exhale...)
    feedback = FB_FULL            # press steps: the feedback schedule (FB_*); check steps are always FB_NONE
    feedback_pct = DEFAULT_FEEDBACK_PCT    # faded: the on-share of each block, %
    tolerance_pct = DEFAULT_TOLERANCE_PCT  # bandwidth: how far outside the band (% of the edge) stays silent
    target_g = 0                  # check steps: the force asked for (its band: target_g +- the accuracy window)
    label = _unset()
    note = _unset()

    def __init__(self, index, kind):
        self.index = index            # 0-based position in the routine
        self.kind = kind              # STEP_*

    def same_place(self, other):
        """True when other presses the same point (so a move between them is only a side switch)."""
        return (other is not None and self.kind == STEP_PRESS and other.kind == STEP_PRESS
                and self.point == other.point)


class Routine:
    version = 1                       # the file's format version (2: it uses schedules or checks)

    def __init__(self, name, title, description, weekly_goal, steps, digest=None):
        self.name = name
        self.title = title
        self.description = description
        self.weekly_goal = weekly_goal
        self.steps = steps            # tuple of Step
        self.digest = digest          # sha256 hex of the file it came from, or None
        total = 0
        longest = 0
        for s in steps:
            total += s.duration_ms
            longest += s.max_ms if s.max_ms else s.duration_ms
        self.total_ms = total         # planned length (a dose step may take longer than its dose)
        self.max_total_ms = longest   # dose steps at their max_s
