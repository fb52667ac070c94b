# Routine files (docs/routines.md): the compiled form the device runs (Step, Routine, the codes) and
# read_selected() for the app at boot. The one validator and loader (parse, loads, read, check_file,
# list_routines, to_dict...) is acu.routine_parse, used by the device and by the host: it is loaded only
# while a routine is read and dropped after (its code never sits in the running app's heap). Its names
# are reachable here too (routine.parse, routine.BAND_MAX_G...): __getattr__ at the end forwards them.
# parse() refuses anything the device cannot run with a one-line ValueError naming the routine, step and
# field: ValueError("routine bedtime: step 3: band_hi_g 12000 out of range 500..10000").
from micropython import const

STEP_PRESS = const(0)
STEP_REST = const(1)
STEP_BREATHE = const(2)
STEP_TIMED = const(3)
TYPE_NAMES = ("press", "rest", "breathe", "timed")

SIDE_CENTRE = const(0)
SIDE_LEFT = const(1)
SIDE_RIGHT = const(2)
SIDE_BOTH = const(3)
SIDE_NAMES = ("centre", "left", "right", "both")

COUNT_CLOCK = const(0)   # the step lasts duration_s of clock time (once contact is first made)
COUNT_DOSE = const(1)    # the step lasts until duration_s of time held inside the band

DEFAULT_LO_G = const(3000)
DEFAULT_HI_G = const(5000)

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


def read_selected(root=ROOT, path=SELECTED_PATH):
    """For the app at boot: the selected routine; if it is missing or bad, bedtime, else the first
    routine that loads, else None. Never raises for a bad file (the app must still start).
    The parser is loaded for this call only, unless something else already holds it. Without the
    title, description, labels and notes (None)."""
    import sys
    had = "acu.routine_parse" in sys.modules
    from acu import routine_parse
    try:
        # the app's copy keeps what the runner and the log use: the texts for people (shown by the host
        # from its own copy of the file) would sit in the loop's heap for nothing
        return routine_parse.read_selected(root, path, False)
    finally:
        if not had:
            import acu
            acu.forget("routine_parse")


def __getattr__(name):
    # the validator/loader and its limits (host calls, tests): acu.routine_parse on demand
    from acu import routine_parse
    try:
        return getattr(routine_parse, name)
    except AttributeError:
        raise AttributeError(name) from None
