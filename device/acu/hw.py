# The bundle of parts a board gets from acu.parts.build() (see docs/architecture.md).
# Logic receives this object; only board modules (and the builder and drivers, through them) touch `machine`.
import time

import acu
from acu import ticks

class RealClock:
    """Board clock on real hardware: time.ticks_ms and an RTC-backed wall clock. The RTC keeps counting
    through a soft reset (every host command ends with one), so a plausible RTC time at boot is trusted:
    it was set (sync) and has been counting since. A power cut stops the RTC (an ESP32's restarts at
    2000-01-01): implausible, so the time is unset until the next sync (the rule: acu.wallclock)."""

    def __init__(self, rtc=None):
        self.rtc = rtc
        self._wall_set = rtc is not None and acu.call("wallclock", "plausible", int(time.time()))

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
        epoch_s = acu.call("wallclock", "check", epoch_s)
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
