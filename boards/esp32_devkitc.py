# ESP32-DevKitC (WROOM-32) + FSR 402 divider: the default, cheapest build. Wiring: docs/hardware.md.
# This file is the one place that knows this board's pins and parts.
import machine

from acu import calib
from acu.hw import Hardware, RealClock
from acu.outputs import Buzzer, Drv2605, ErmMotor, PwmLed
from acu.sensors import BatteryAdc, FsrAdc, PinButton

NAME = "esp32_devkitc"

PARTS = {
    "sensor": {"part": "Interlink FSR 402 (FSR 406 / FlexiForce A201 by setting 'sensor')",
               "kind": "fsr402", "adc_pin": 34, "atten": "11dB", "r_m_ohm": 470, "r_bleed_ohm": 6800,
               "supply": "3V3, or GPIO25 when settings pulse_power is true", "power_pin": 25},
    "led": {"part": "3 mm LED + 330 ohm to GND", "pin": 23, "pwm_hz": 1000},
    "motor": {"part": "10 mm ERM coin motor, AO3400 low-side MOSFET, 1N4148 flyback, 100 ohm gate",
              "pin": 26, "pwm_hz": 20000},
    "haptic": {"part": "DRV2605L breakout (optional, detected on I2C)", "sda": 21, "scl": 22,
               "addr": 0x5A},
    "buzzer": {"part": "passive piezo buzzer (optional)", "pin": 27},
    "button": {"part": "BOOT button (on the board)", "pin": 0, "active_low": True},
    "battery": {"part": "LiPo via 100k/100k divider", "adc_pin": 35, "ratio": 2},
}  # type: dict

_SENSOR_RM = {"fsr402": 470, "fsr406": 470, "a201": 22000}


def build(settings=None):
    s = settings or {}
    clock = RealClock(machine.RTC())
    p = PARTS
    kind = s.get("sensor", p["sensor"]["kind"])
    if kind not in _SENSOR_RM:
        raise ValueError("esp32_devkitc: sensor must be fsr402, fsr406 or a201")
    power = None
    if s.get("pulse_power", False):
        power = machine.Pin(p["sensor"]["power_pin"], machine.Pin.OUT, value=0)
    adc = machine.ADC(machine.Pin(p["sensor"]["adc_pin"]), atten=machine.ADC.ATTN_11DB)
    sensor = FsrAdc(adc, kind=kind, oversample=s.get("oversample", 8), power_pin=power, clock=clock,
                    r_m_ohm=_SENSOR_RM[kind])
    led = PwmLed(machine.PWM(machine.Pin(p["led"]["pin"]), freq=p["led"]["pwm_hz"], duty_u16=0))
    motor = ErmMotor(machine.PWM(machine.Pin(p["motor"]["pin"]), freq=p["motor"]["pwm_hz"], duty_u16=0),
                     clock, kick_ms=s.get("motor_kick_ms", 40))
    haptic = None
    if s.get("haptic", True):
        i2c = machine.I2C(0, scl=machine.Pin(p["haptic"]["scl"]), sda=machine.Pin(p["haptic"]["sda"]),
                          freq=400000)
        if p["haptic"]["addr"] in i2c.scan():
            haptic = Drv2605(i2c, p["haptic"]["addr"])
    buzzer = None
    if s.get("buzzer", False):
        buzzer = Buzzer(machine.PWM(machine.Pin(p["buzzer"]["pin"]), freq=2000, duty_u16=0))
    button = PinButton(machine.Pin(p["button"]["pin"], machine.Pin.IN, machine.Pin.PULL_UP))
    battery = None
    if s.get("battery", True):
        battery = BatteryAdc(machine.ADC(machine.Pin(p["battery"]["adc_pin"]), atten=machine.ADC.ATTN_11DB),
                             p["battery"]["ratio"], 1)
    return Hardware(NAME, clock, sensor, calib.nominal(kind), unique_id=machine.unique_id(), led=led,
                    motor=motor, haptic=haptic, buzzer=buzzer, button=button, battery=battery)
