# A battery build: an ESP32-WROOM-32 module on its own board (no USB bridge), an HT7333-A low-quiescent LDO,
# a TP4056 charger and a 500 mAh LiPo, the FSR 402 divider powered from a GPIO (off in deep sleep), the button
# on an RTC pin (the deep-sleep wake source). Wiring, bill of materials and currents: docs/hardware.md.
# This file is the one place that knows this board's pins and parts; acu.parts.build() builds them.
import machine

from acu import parts

NAME = "esp32_battery"

PARTS = {
    # pulse_power by default: the divider's top is GPIO32, so it draws nothing between samples or in deep sleep
    "sensor": {"part": "Interlink FSR 402 (FSR 406 / FlexiForce A201 by setting 'sensor')",
               "kind": "fsr402", "adc_pin": 34, "atten": "11dB", "oversample": 8, "r_m_ohm": 470,
               "r_bleed_ohm": 6800, "supply": "GPIO32 (pulse power)", "power_pin": 32, "pulse_power": True,
               "alternatives": {"fsr406": {}, "a201": {"r_m_ohm": 22000, "r_bleed_ohm": 330000}}},
    "led": {"part": "3 mm LED + 330 ohm to GND", "pin": 23, "pwm_hz": 1000},
    "motor": {"part": "10 mm ERM coin motor from the cell, AO3400 low-side MOSFET, 1N4148 flyback, 100 ohm gate, "
                      "100k gate pull-down (off in deep sleep)",
              "pin": 26, "pwm_hz": 20000, "kick_ms": 40, "min_level": 250},
    "buzzer": {"part": "passive piezo buzzer (optional)", "pin": 27, "pwm_hz": 2000, "fitted": False},
    # GPIO33 is an RTC GPIO (ext0 wake); the RTC domain keeps no digital pull-up in deep sleep: 100k external
    "button": {"part": "tactile button to GND, 100k pull-up to 3V3 (ext0 wake source)", "pin": 33,
               "active_low": True, "pull_up": False, "wake": True},
    "battery": {"part": "LiPo via 1M/1M divider + 100 nF at the pin (2.1 uA at 4.2 V)", "adc_pin": 35,
                "atten": "11dB", "ratio": 2, "fitted": True},
}  # type: dict


def build(settings=None):
    return parts.build(NAME, PARTS, settings, machine)
