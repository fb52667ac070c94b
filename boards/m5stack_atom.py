# M5Stack ATOM Lite (ESP32-PICO-D4): onboard SK6812 pixel and button; FSR divider on the header,
# an optional M5Stack Vibration Motor Unit on the Grove port. Wiring: docs/hardware.md.
# This file is the one place that knows this board's pins and parts.
import machine

from acu import calib, parts
from acu.hw import Hardware, RealClock

NAME = "m5stack_atom"

PARTS = {
    "sensor": {"part": "Interlink FSR 402 (FSR 406 / FlexiForce A201 by setting 'sensor')",
               "kind": "fsr402", "adc_pin": 33, "atten": "11dB", "r_m_ohm": 470, "r_bleed_ohm": 6800,
               "supply": "header 3V3, or G23 when settings pulse_power is true", "power_pin": 23},
    "rgb": {"part": "onboard SK6812 under the button", "pin": 27, "max_level": 60},
    "motor": {"part": "M5Stack Vibration Motor Unit on the Grove port (signal G26, 5 V)", "pin": 26,
              "pwm_hz": 10000},
    "button": {"part": "onboard button (the screen)", "pin": 39, "active_low": True,
               "pull_up": False},  # GPIO39 is input-only without internal pull-ups: the ATOM has a 10k one
}  # type: dict


def build(settings=None):
    s = settings or {}
    clock = RealClock(machine.RTC())
    p = PARTS
    sensor = parts.fsr(p["sensor"], s, clock, NAME)
    motor = parts.erm_motor(p["motor"], s, clock) if s.get("motor", True) else None
    return Hardware(NAME, clock, sensor, calib.nominal(sensor.kind), unique_id=machine.unique_id(),
                    rgb=parts.neopixel_led(p["rgb"], s), motor=motor, button=parts.button(p["button"]))
