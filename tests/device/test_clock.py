# The wall clock's rules (acu.wallclock, acu.hw): which times can be set, when a board's RTC is trusted
# after a reset, and the random id every boot gets (acu.appcfg).
from acu import appcfg, hw, wallclock
from mpcompat import raises


class _Time:
    def __init__(self, now):
        self.now = now

    def time(self):
        return self.now


class _Rtc:
    def __init__(self):
        self.dt = None

    def datetime(self, dt=None):
        self.dt = dt


def test_only_current_times_can_be_set():
    # 1970 and 2100 were accepted, and 2**32 s wrapped to 1971 in the log's u32
    for bad in (0, 86400, wallclock.WALL_MIN_S - 1, wallclock.WALL_MAX_S, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 100):
        raises(ValueError, wallclock.check, bad)
        assert not wallclock.plausible(bad)
    assert wallclock.check(1800000000) == 1800000000 and wallclock.plausible(wallclock.WALL_MIN_S)
    assert not wallclock.plausible(None)
    c = hw.RealClock(None)
    raises(ValueError, c.set_wall_s, 2 ** 32 + 5)
    assert c.wall_s() is None


def test_a_set_rtc_is_trusted_across_a_soft_reset_and_not_after_a_power_cut():
    real = hw.time
    try:
        # a soft reset: the RTC kept counting from the last sync
        hw.time = _Time(1800000000)
        assert hw.RealClock(_Rtc())._wall_set
        # a power cut: an ESP32's RTC starts again at 2000-01-01
        hw.time = _Time(946684800)
        c = hw.RealClock(_Rtc())
        assert not c._wall_set
        # no RTC at all: never trusted
        hw.time = _Time(1800000000)
        assert not hw.RealClock(None)._wall_set
    finally:
        hw.time = real
    rtc = _Rtc()
    c = hw.RealClock(rtc)
    c.set_wall_s(1800000000)
    assert rtc.dt is not None and rtc.dt[0] == 2027 and c._wall_set


def test_every_boot_gets_a_new_nonzero_id_even_when_the_counter_is_reset():
    ids = set(appcfg.new_boot_id() for _ in range(50))
    assert 0 not in ids and len(ids) > 45
    assert all(0 < i <= 0xFFFFFFFF for i in ids)
