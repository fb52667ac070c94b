# M5Stack ATOM Lite (ESP32-PICO-D4): onboard SK6812 pixel and button; FSR divider on the header,
# an optional M5Stack Vibration Motor Unit on the Grove port. Wiring: docs/hardware.md.
# This file is the one place that knows this board's pins and parts.
import machine
import neopixel

from acu import calib
from acu.hw import Hardware, RealClock
from acu.outputs import ErmMotor, NeoPixelLed
from acu.sensors import FsrAdc, PinButton

NAME = "m5stack_atom"

PARTS = {
    "sensor": {"part": "Interlink FSR 402 (FSR 406 / FlexiForce A201 by setting 'sensor')",
               "kind": "fsr402", "adc_pin": 33, "atten": "11dB", "r_m_ohm": 470, "r_bleed_ohm": 6800,
               "supply": "header 3V3, or G23 when settings pulse_power is true", "power_pin": 23},
    "rgb": {"part": "onboard SK6812 under the button", "pin": 27, "max_level": 60},
    "motor": {"part": "M5Stack Vibration Motor Unit on the Grove port (signal G26, 5 V)", "pin": 26,
              "pwm_hz": 10000},
    "button": {"part": "onboard button (the screen)", "pin": 39, "active_low": True},
}  # type: dict

_SENSOR_RM = {"fsr402": 470, "fsr406": 470, "a201": 22000}


def build(settings=None):
    s = settings or {}
    clock = RealClock(machine.RTC())
    p = PARTS
    kind = s.get("sensor", p["sensor"]["kind"])
    if kind not in _SENSOR_RM:
        raise ValueError("m5stack_atom: sensor must be fsr402, fsr406 or a201")
    power = None
    if s.get("pulse_power", False):
        power = machine.Pin(p["sensor"]["power_pin"], machine.Pin.OUT, value=0)
    adc = machine.ADC(machine.Pin(p["sensor"]["adc_pin"]), atten=machine.ADC.ATTN_11DB)
    sensor = FsrAdc(adc, kind=kind, oversample=s.get("oversample", 8), power_pin=power, clock=clock,
                    r_m_ohm=_SENSOR_RM[kind])
    np = neopixel.NeoPixel(machine.Pin(p["rgb"]["pin"], machine.Pin.OUT), 1)
    rgb = NeoPixelLed(np, 0, s.get("pixel_max", p["rgb"]["max_level"]))
    motor = None
    if s.get("motor", True):
        motor = ErmMotor(machine.PWM(machine.Pin(p["motor"]["pin"]), freq=p["motor"]["pwm_hz"], duty_u16=0),
                         clock, kick_ms=s.get("motor_kick_ms", 40))
    # GPIO39 is input-only without internal pull-ups; the ATOM has an external 10k pull-up.
    button = PinButton(machine.Pin(p["button"]["pin"], machine.Pin.IN))
    return Hardware(NAME, clock, sensor, calib.nominal(kind), unique_id=machine.unique_id(), rgb=rgb,
                    motor=motor, button=button)
