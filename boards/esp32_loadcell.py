# ESP32-DevKitC + bar load cell through an HX711: the accurate variant. Wiring: docs/hardware.md.
# This file is the one place that knows this board's pins and parts.
import machine

from acu import calib, parts
from acu.hw import Hardware, RealClock

NAME = "esp32_loadcell"

PARTS = {
    "sensor": {"part": "10 kg bar load cell + HX711 module (RATE pin high = 80 SPS)", "kind": "loadcell",
               "dout_pin": 16, "sck_pin": 17, "gain": 128, "rate_sps": 80},
    "led": {"part": "3 mm LED + 330 ohm to GND", "pin": 23, "pwm_hz": 1000},
    "motor": {"part": "10 mm ERM coin motor, AO3400 low-side MOSFET, 1N4148 flyback", "pin": 26,
              "pwm_hz": 20000},
    "haptic": {"part": "DRV2605L breakout (optional, detected on I2C)", "sda": 21, "scl": 22, "addr": 0x5A},
    "buzzer": {"part": "passive piezo buzzer (optional)", "pin": 27},
    "button": {"part": "BOOT button (on the board)", "pin": 0, "active_low": True},
    "battery": {"part": "LiPo via 100k/100k divider", "adc_pin": 35, "ratio": 2},
}  # type: dict


def build(settings=None):
    s = settings or {}
    clock = RealClock(machine.RTC())
    p = PARTS
    return Hardware(NAME, clock, parts.hx711(p["sensor"], clock), calib.nominal("loadcell"),
                    unique_id=machine.unique_id(), led=parts.pwm_led(p["led"]),
                    motor=parts.erm_motor(p["motor"], s, clock), haptic=parts.drv2605(p["haptic"], s),
                    buzzer=parts.buzzer(p["buzzer"], s), button=parts.button(p["button"]),
                    battery=parts.battery(p["battery"], s))
