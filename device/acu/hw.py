# The bundle of parts a board gets from acu.parts.build() (see docs/architecture.md).
# Logic receives this object; only board modules (and the builder and drivers, through them) touch `machine`.
import time

from acu import ticks

WALL_MIN_S = 1577836800  # 2020-01-01: no trainer recorded a session before this
WALL_MAX_S = 4102444800  # 2100-01-01 (excluded): the log stores times in 32 bits, which wrap in 2106


def plausible_wall(epoch_s):
    """A wall-clock time a trainer can be at: 2020 up to the end of 2099."""
    return epoch_s is not None and WALL_MIN_S <= epoch_s < WALL_MAX_S


def check_wall(epoch_s):
    """The time to set, as an int; ValueError for one the clock must refuse (1970, 2100, a wrapped u32)."""
    e = int(epoch_s)
    if not plausible_wall(e):
        raise ValueError("clock %d is not a current time (2020-2099)" % e)
    return e


class RealClock:
    """Board clock on real hardware: time.ticks_ms and an RTC-backed wall clock. The RTC keeps counting
    through a soft reset (every host command ends with one), so a plausible RTC time at boot is trusted:
    it was set (sync) and has been counting since. A power cut stops the RTC (an ESP32's restarts at
    2000-01-01): implausible, so the time is unset until the next sync."""

    def __init__(self, rtc=None):
        self.rtc = rtc
        self._wall_set = rtc is not None and plausible_wall(int(time.time()))

    def ticks_ms(self):
        # the stubs make ticks opaque (_TicksMs); on the port it is a small int, masked to ticks.PERIOD
        return time.ticks_ms() & (ticks.PERIOD - 1)  # type: ignore[operator]

    def sleep_ms(self, ms):
        if ms > 0:
            time.sleep_ms(ms)

    def wall_s(self):
        if not self._wall_set:
            return None
        return int(time.time())

    def set_wall_s(self, epoch_s):
        epoch_s = check_wall(epoch_s)
        if self.rtc is not None:
            tm = time.gmtime(epoch_s)
            self.rtc.datetime((tm[0], tm[1], tm[2], tm[6], tm[3], tm[4], tm[5], 0))
        self._wall_set = True


class Hardware:
    def __init__(self, name, clock, sensor, nominal_calib, unique_id=b"\x00",
                 led=None, rgb=None, motor=None, haptic=None, buzzer=None, button=None,
                 battery=None, annotate=None):
        self.name = name
        self.clock = clock
        self.sensor = sensor
        self.nominal_calib = nominal_calib
        self.unique_id = unique_id
        self.led = led
        self.rgb = rgb
        self.motor = motor
        self.haptic = haptic
        self.buzzer = buzzer
        self.button = button
        self.battery = battery
        self.annotate = annotate
