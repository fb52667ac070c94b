# M5Stack ATOM Lite (ESP32-PICO-D4): onboard SK6812 pixel and button; FSR divider on the header,
# an optional M5Stack Vibration Motor Unit on the Grove port. Wiring: docs/hardware.md.
# This file is the one place that knows this board's pins and parts; acu.parts.build() builds them.
import machine

from acu import parts

NAME = "m5stack_atom"

PARTS = {
    "sensor": {"part": "Interlink FSR 402 (FSR 406 / FlexiForce A201 by setting 'sensor')",
               "kind": "fsr402", "adc_pin": 33, "atten": "11dB", "oversample": 8, "r_m_ohm": 470,
               "r_bleed_ohm": 6800, "supply": "header 3V3, or G23 when settings pulse_power is true", "power_pin": 23,
               "alternatives": {"fsr406": {}, "a201": {"r_m_ohm": 22000, "r_bleed_ohm": 330000}}},
    "rgb": {"part": "onboard SK6812 under the button", "pin": 27, "max_level": 60},
    "motor": {"part": "M5Stack Vibration Motor Unit on the Grove port (signal G26, 5 V)", "pin": 26,
              "pwm_hz": 10000, "kick_ms": 40, "min_level": 250, "fitted": True},
    # GPIO39 is input-only without internal pull-ups: the ATOM has a 10k one
    "button": {"part": "onboard button (the screen)", "pin": 39, "active_low": True, "pull_up": False},
}  # type: dict


def build(settings=None):
    return parts.build(NAME, PARTS, settings, machine)
