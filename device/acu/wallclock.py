# The wall clock's rule: which times a trainer's clock may be set to, and trusted at after a reset. Loaded
# for one call (acu.call) by the clocks (acu.hw.RealClock, the simulator's) and the host's set paths
# (acu.api.set_clock, the live link's `clock`): none of it sits in the loop's heap.

WALL_MIN_S = 1577836800  # 2020-01-01: no trainer recorded a session before this
WALL_MAX_S = 4102444800  # 2100-01-01 (excluded): the log stores times in 32 bits, which wrap in 2106


def plausible(epoch_s):
    """A wall-clock time a trainer can be at: 2020 up to the end of 2099."""
    return epoch_s is not None and WALL_MIN_S <= epoch_s < WALL_MAX_S


def check(epoch_s):
    """The time to set, as an int; ValueError for one the clock must refuse (1970, 2100, a wrapped u32)."""
    e = int(epoch_s)
    if not plausible(e):
        raise ValueError("clock %d is not a current time (2020-2099)" % e)
    return e
