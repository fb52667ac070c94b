# ESP32-S3-DevKitC-1 + FSR 402 divider, with the onboard RGB NeoPixel. Wiring: docs/hardware.md.
# This file is the one place that knows this board's pins and parts; acu.parts.build() builds them.
import machine

from acu import parts

NAME = "esp32s3_devkitc"

PARTS = {
    "sensor": {"part": "Interlink FSR 402 (FSR 406 / FlexiForce A201 by setting 'sensor')",
               "kind": "fsr402", "adc_pin": 1, "atten": "11dB", "oversample": 8, "r_m_ohm": 470,
               "r_bleed_ohm": 6800, "supply": "3V3, or GPIO2 when settings pulse_power is true", "power_pin": 2,
               "alternatives": {"fsr406": {}, "a201": {"r_m_ohm": 22000, "r_bleed_ohm": 330000}}},
    "rgb": {"part": "onboard WS2812 (GPIO48 on v1.0, GPIO38 on v1.1: setting 'pixel_pin')", "pin": 48,
            "max_level": 80},
    "motor": {"part": "10 mm ERM coin motor, AO3400 low-side MOSFET, 1N4148 flyback", "pin": 4,
              "pwm_hz": 20000, "kick_ms": 40, "min_level": 250},
    "haptic": {"part": "DRV2605L breakout (optional, detected on I2C)", "bus": 0, "sda": 8, "scl": 9,
               "i2c_hz": 400000, "addr": 0x5A, "fitted": True},
    "buzzer": {"part": "passive piezo buzzer (optional)", "pin": 5, "pwm_hz": 2000, "fitted": False},
    "button": {"part": "BOOT button (on the board)", "pin": 0, "active_low": True, "pull_up": True},
    "battery": {"part": "LiPo via 100k/100k divider", "adc_pin": 7, "atten": "11dB", "ratio": 2, "fitted": True},
}  # type: dict


def build(settings=None):
    return parts.build(NAME, PARTS, settings, machine)
