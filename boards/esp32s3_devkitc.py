# ESP32-S3-DevKitC-1 + FSR 402 divider, with the onboard RGB NeoPixel. Wiring: docs/hardware.md.
# This file is the one place that knows this board's pins and parts.
import machine

from acu import calib, parts
from acu.hw import Hardware, RealClock

NAME = "esp32s3_devkitc"

PARTS = {
    "sensor": {"part": "Interlink FSR 402 (FSR 406 / FlexiForce A201 by setting 'sensor')",
               "kind": "fsr402", "adc_pin": 1, "atten": "11dB", "r_m_ohm": 470, "r_bleed_ohm": 6800,
               "supply": "3V3, or GPIO2 when settings pulse_power is true", "power_pin": 2},
    "rgb": {"part": "onboard WS2812 (GPIO48 on v1.0, GPIO38 on v1.1: setting 'pixel_pin')", "pin": 48,
            "max_level": 80},
    "motor": {"part": "10 mm ERM coin motor, AO3400 low-side MOSFET, 1N4148 flyback", "pin": 4,
              "pwm_hz": 20000},
    "haptic": {"part": "DRV2605L breakout (optional, detected on I2C)", "sda": 8, "scl": 9, "addr": 0x5A},
    "buzzer": {"part": "passive piezo buzzer (optional)", "pin": 5},
    "button": {"part": "BOOT button (on the board)", "pin": 0, "active_low": True},
    "battery": {"part": "LiPo via 100k/100k divider", "adc_pin": 7, "ratio": 2},
}  # type: dict


def build(settings=None):
    s = settings or {}
    clock = RealClock(machine.RTC())
    p = PARTS
    sensor = parts.fsr(p["sensor"], s, clock, NAME)
    return Hardware(NAME, clock, sensor, calib.nominal(sensor.kind), unique_id=machine.unique_id(),
                    rgb=parts.neopixel_led(p["rgb"], s), motor=parts.erm_motor(p["motor"], s, clock),
                    haptic=parts.drv2605(p["haptic"], s), buzzer=parts.buzzer(p["buzzer"], s),
                    button=parts.button(p["button"]), battery=parts.battery(p["battery"], s))
