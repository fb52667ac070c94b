# The simulated board: an ESP32-DevKitC-like trainer with every feedback part fitted, on the simulator's
# `machine` (host_tools/sim/rom/simmachine.py: its pins are the simulated parts'). Built by acu.parts like
# every board; the simulator's world supplies the clock (virtual time, --speed) and records semantic notes
# (band state, cues) beside the raw output levels.
import machine
import simhw
import acu
from acu import parts

NAME = "sim"
PARTS = {
    "sensor": {"part": "the simulator's part (acutrainer sim start --sensor): fsr402, fsr406, a201 or loadcell",
               "kind": "fsr402", "adc_pin": 34, "atten": "11dB", "oversample": 4, "r_m_ohm": 470,
               "r_bleed_ohm": 6800, "power_pin": 32, "dout_pin": 16, "sck_pin": 17, "gain": 128,
               "not_ready_ms": 250,
               "alternatives": {"fsr406": {}, "a201": {"r_m_ohm": 22000, "r_bleed_ohm": 330000}, "loadcell": {}}},
    "led": {"pin": 2, "pwm_hz": 1000},
    "rgb": {"pin": 27, "max_level": 80},
    "motor": {"pin": 25, "pwm_hz": 200, "kick_ms": 40, "min_level": 250},
    "haptic": {"part": "DRV2605L (acutrainer sim start --haptic drv2605)", "bus": 0, "sda": 21, "scl": 22,
               "i2c_hz": 400000, "addr": 0x5A, "fitted": True},
    "buzzer": {"pin": 26, "pwm_hz": 2000, "fitted": True},
    "button": {"pin": 0, "active_low": True, "pull_up": True},
    "battery": {"adc_pin": 35, "atten": "11dB", "ratio": 2, "fitted": True},
}  # type: dict


class _World:
    """The board clock and trace notes, both from the simulated world."""

    def __init__(self, world):
        self.w = world
        self._ids = {}
        # the clock is made afresh at every boot, as acu.hw.RealClock is on a board: the simulated RTC runs
        # on through a soft reset and stops at a power cut (the launcher), and a plausible time is trusted
        self._wall_set = acu.call("wallclock", "plausible", world.wall_s())

    def ticks_ms(self):
        return self.w.ticks_ms()  # outside the app's loop the world's time catches up with real time

    def sleep_ms(self, ms):
        self.w.sleep_ms(ms)

    def wall_s(self):
        return self.w.wall_s() if self._wall_set else None

    def set_wall_s(self, s):
        self.w.set_wall_s(acu.call("wallclock", "check", s))
        self._wall_set = True

    def annotate(self, name, value):
        i = self._ids.get(name)
        if i is None:
            i = self.w.name_id(name)
            self._ids[name] = i
        self.w.note(i, value)


def build(settings=None):
    import os
    world = _World(simhw.world)
    s = dict(settings or {})
    s["sensor"] = os.getenv("ACU_SENSOR") or "fsr402"  # the simulated part decides, as simboot's does
    hw = parts.build(NAME, PARTS, s, machine, world)
    # the first annotate registers the note names (allocation at build time, not in the loop)
    world.annotate("state", -1)
    world.annotate("cue", 0)
    for name in ("band_fb", "kr", "score"):  # the teaching notes (docs/feedback.md): named now, noted when they happen
        world._ids[name] = world.w.name_id(name)
    hw.annotate = world.annotate
    return hw
