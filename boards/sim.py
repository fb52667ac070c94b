# The simulated board: an ESP32-DevKitC-like trainer with every feedback part fitted, built from the
# simulator's `machine` (host_tools/sim/rom). The simulator's world supplies the clock (virtual time,
# --speed) and records semantic notes (band state, cues) beside the raw output levels.
from machine import ADC, I2C, PWM, Pin, unique_id
import neopixel
import simhw
from acu import calib, hx711, outputs, rgbled, sensors
from acu.hw import Hardware

NAME = "sim"
PARTS = {
    "sensor": {"kind": "from the simulator (--sensor): fsr402, fsr406, a201 or loadcell",
               "adc_pin": 34, "r_m_ohm": 470, "hx711_dout": 16, "hx711_sck": 17},
    "led": {"pin": 2},
    "rgb": {"neopixel_pin": 27, "count": 1},
    "motor": {"pwm_pin": 25, "freq_hz": 200},
    "buzzer": {"pwm_pin": 26},
    "haptic": {"drv2605_i2c": {"scl": 22, "sda": 21}, "when": "--haptic drv2605"},
    "button": {"pin": 0, "active": "low"},
    "battery": {"adc_pin": 35, "divider": 2},
}  # type: dict


class _World:
    """The board clock and trace notes, both from the simulated world."""

    def __init__(self, world):
        self.w = world
        self._ids = {}

    def ticks_ms(self):
        return self.w.ticks_ms()  # outside the app's loop the world's time catches up with real time

    def sleep_ms(self, ms):
        self.w.sleep_ms(ms)

    def wall_s(self):
        return self.w.wall_s()

    def set_wall_s(self, s):
        self.w.set_wall_s(s)

    def annotate(self, name, value):
        i = self._ids.get(name)
        if i is None:
            i = self.w.name_id(name)
            self._ids[name] = i
        self.w.note(i, value)


class _Button:
    def __init__(self, pin):
        self.pin = pin

    def pressed(self):
        return self.pin.value() == 0


class _Battery:
    def __init__(self, adc):
        self.adc = adc

    def read_mv(self):
        return (self.adc.read_uv() // 1000) * 2


def sensor_kind():
    import os
    return os.getenv("ACU_SENSOR") or "fsr402"


def build(settings=None):
    world = _World(simhw.world)
    kind = sensor_kind()
    if kind == "loadcell":
        c = PARTS["sensor"]
        sensor = hx711.Hx711(Pin(c["hx711_dout"], Pin.IN), Pin(c["hx711_sck"], Pin.OUT, value=0),
                               clock=world)  # type: object  # or an FsrAdc: the sensor interface is duck-typed
    else:
        sensor = sensors.FsrAdc(ADC(Pin(PARTS["sensor"]["adc_pin"]), atten=ADC.ATTN_11DB), kind=kind,
                                oversample=4, clock=world)
    haptic = None
    i2c = I2C(0, scl=Pin(22), sda=Pin(21))
    if 0x5A in i2c.scan():
        haptic = outputs.Drv2605(i2c)
    # the first annotate registers the note names (allocation at build time, not in the loop)
    world.annotate("state", -1)
    world.annotate("cue", 0)
    return Hardware(
        name=NAME,
        clock=world,
        sensor=sensor,
        nominal_calib=calib.nominal(kind),
        unique_id=unique_id(),
        led=outputs.PwmLed(PWM(Pin(PARTS["led"]["pin"]), freq=1000, duty_u16=0)),
        rgb=rgbled.NeoPixelLed(neopixel.NeoPixel(Pin(PARTS["rgb"]["neopixel_pin"], Pin.OUT), 1)),
        motor=outputs.ErmMotor(PWM(Pin(PARTS["motor"]["pwm_pin"]), freq=200, duty_u16=0), world),
        haptic=haptic,
        buzzer=outputs.Buzzer(PWM(Pin(PARTS["buzzer"]["pwm_pin"]), freq=2000, duty_u16=0)),
        button=_Button(Pin(PARTS["button"]["pin"], Pin.IN, Pin.PULL_UP)),
        battery=_Battery(ADC(Pin(PARTS["battery"]["adc_pin"]), atten=ADC.ATTN_11DB)),
        annotate=world.annotate,
    )
