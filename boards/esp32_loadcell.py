# ESP32-DevKitC + bar load cell through an HX711: the accurate variant. Wiring: docs/hardware.md.
# This file is the one place that knows this board's pins and parts; acu.parts.build() builds them.
import machine

from acu import parts

NAME = "esp32_loadcell"

PARTS = {
    "sensor": {"part": "10 kg bar load cell + HX711 module (RATE pin high = 80 SPS)", "kind": "loadcell",
               "dout_pin": 16, "sck_pin": 17, "gain": 128, "rate_sps": 80, "not_ready_ms": 250},
    "led": {"part": "3 mm LED + 330 ohm to GND", "pin": 23, "pwm_hz": 1000},
    "motor": {"part": "10 mm ERM coin motor, AO3400 low-side MOSFET, 1N4148 flyback", "pin": 26,
              "pwm_hz": 20000, "kick_ms": 40, "min_level": 250},
    "haptic": {"part": "DRV2605L breakout (optional, detected on I2C)", "bus": 0, "sda": 21, "scl": 22,
               "i2c_hz": 400000, "addr": 0x5A, "fitted": True},
    "buzzer": {"part": "passive piezo buzzer (optional)", "pin": 27, "pwm_hz": 2000, "fitted": False},
    "button": {"part": "BOOT button (on the board)", "pin": 0, "active_low": True, "pull_up": True},
    "battery": {"part": "LiPo via 100k/100k divider", "adc_pin": 35, "atten": "11dB", "ratio": 2, "fitted": True},
}  # type: dict


def build(settings=None):
    return parts.build(NAME, PARTS, settings, machine)
