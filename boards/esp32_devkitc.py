# ESP32-DevKitC (WROOM-32) + FSR 402 divider: the default, cheapest build. Wiring: docs/hardware.md.
# This file is the one place that knows this board's pins and parts; acu.parts.build() builds them.
import machine

from acu import parts

NAME = "esp32_devkitc"

PARTS = {
    "sensor": {"part": "Interlink FSR 402 (FSR 406 / FlexiForce A201 by setting 'sensor')",
               "kind": "fsr402", "adc_pin": 34, "atten": "11dB", "oversample": 8, "r_m_ohm": 470,
               "r_bleed_ohm": 6800, "supply": "3V3, or GPIO25 when settings pulse_power is true", "power_pin": 25,
               "alternatives": {"fsr406": {}, "a201": {"r_m_ohm": 22000, "r_bleed_ohm": 330000}}},
    "led": {"part": "3 mm LED + 330 ohm to GND", "pin": 23, "pwm_hz": 1000},
    "motor": {"part": "10 mm ERM coin motor, AO3400 low-side MOSFET, 1N4148 flyback, 100 ohm gate",
              "pin": 26, "pwm_hz": 20000, "kick_ms": 40, "min_level": 250},
    "haptic": {"part": "DRV2605L breakout (optional, detected on I2C)", "bus": 0, "sda": 21, "scl": 22,
               "i2c_hz": 400000, "addr": 0x5A, "fitted": True},
    "buzzer": {"part": "passive piezo buzzer (optional)", "pin": 27, "pwm_hz": 2000, "fitted": False},
    "button": {"part": "BOOT button (on the board)", "pin": 0, "active_low": True, "pull_up": True},
    "battery": {"part": "LiPo via 100k/100k divider", "adc_pin": 35, "atten": "11dB", "ratio": 2, "fitted": True},
}  # type: dict


def build(settings=None):
    return parts.build(NAME, PARTS, settings, machine)
