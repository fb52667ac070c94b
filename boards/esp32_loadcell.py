# ESP32-DevKitC + bar load cell through an HX711: the accurate variant. Wiring: docs/hardware.md.
# This file is the one place that knows this board's pins and parts.
import machine

from acu import calib
from acu.hw import Hardware, RealClock
from acu.outputs import Buzzer, Drv2605, ErmMotor, PwmLed
from acu.sensors import BatteryAdc, Hx711, PinButton

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
    dout = machine.Pin(p["sensor"]["dout_pin"], machine.Pin.IN, machine.Pin.PULL_UP)
    sck = machine.Pin(p["sensor"]["sck_pin"], machine.Pin.OUT, value=0)
    sensor = Hx711(dout, sck, gain=p["sensor"]["gain"], clock=clock)
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
    return Hardware(NAME, clock, sensor, calib.nominal("loadcell"), unique_id=machine.unique_id(), led=led,
                    motor=motor, haptic=haptic, buzzer=buzzer, button=button, battery=battery)
