# A `machine` module for the simulated board: the ESP32 port's classes (Pin, ADC, PWM, I2C, RTC...)
# wired to the simulated world (simhw) instead of silicon. simboot installs it as sys.modules["machine"]
# so board modules and drivers run unchanged. Wiring of the simulated board (boards/sim.py uses it):
#   GPIO34 ADC  <- force sensor divider (FSR/FlexiForce) ; GPIO35 ADC <- battery divider (1:2)
#   GPIO16 in   <- HX711 DOUT, GPIO17 out -> HX711 SCK (load-cell variant)
#   GPIO0  in   <- button (active low, pull-up)
#   GPIO2 LED, GPIO25 vibration motor (PWM), GPIO26 buzzer (PWM), GPIO27 NeoPixel, I2C 21/22 DRV2605L
import os
import time


_OUT_NAMES = {2: "led", 25: "motor", 26: "buzzer", 27: "rgb", 32: "sensor_power"}
SENSOR_ADC_PIN = 34
BATTERY_ADC_PIN = 35
BUTTON_PIN = 0
HX_DOUT_PIN = 16
HX_SCK_PIN = 17

_FLOAT_BELOW_G = 60   # without a bleed resistor an FSR under less than this leaves the ADC input floating

_world = None
_part = None


def _setup(world, part):
    global _world, _part
    _world = world
    _part = part
    if hasattr(part, "attach_force"):
        part.attach_force(world.force_g)  # the load cell converts on its own clock: it asks for the force


def _pin_id(p):
    return p._id if isinstance(p, Pin) else int(p)


class Pin:
    IN = 1
    OUT = 3
    OPEN_DRAIN = 7
    PULL_UP = 2
    PULL_DOWN = 1
    IRQ_FALLING = 2
    IRQ_RISING = 1

    def __init__(self, id, mode=-1, pull=-1, value=None, **kw):
        self._id = int(id)
        self._mode = mode
        self._val = 0
        self._tid = 0
        name = _OUT_NAMES.get(self._id)
        if mode == Pin.OUT and name is not None:
            self._tid = _world.name_id(name)
        if value is not None:
            self.value(value)

    def init(self, mode=-1, pull=-1, value=None, **kw):
        if mode != -1:
            self._mode = mode
        if value is not None:
            self.value(value)

    def value(self, v=None):
        pid = self._id
        if v is None:
            if pid == BUTTON_PIN:
                return 1 - _world.button_level()
            if pid == HX_DOUT_PIN:
                f = _world.sensor_fault
                if f == 1:
                    return 1  # unplugged: the module's pull-up holds DOUT high, no conversion is ever ready
                _part.set_fault(f)  # shorted: the bridge saturates
                return _part.hx711.dout(_world.ticks_ms())
            return self._val
        v = 1 if v else 0
        if pid == HX_SCK_PIN:
            _part.hx711.sck(v, _world.ticks_ms())
        if v != self._val:
            self._val = v
            if self._tid:
                _world.level(self._tid, v)
        return None

    def __call__(self, v=None):
        return self.value(v)

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)

    def irq(self, handler=None, trigger=3, **kw):
        return None


class Signal:
    def __init__(self, pin, invert=False):
        self._pin = pin
        self._inv = invert

    def value(self, v=None):
        if v is None:
            return self._pin.value() ^ self._inv
        self._pin.value((1 if v else 0) ^ self._inv)

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)


class ADC:
    ATTN_0DB = 0
    ATTN_2_5DB = 1
    ATTN_6DB = 2
    ATTN_11DB = 3
    WIDTH_9BIT = 0
    WIDTH_10BIT = 1
    WIDTH_11BIT = 2
    WIDTH_12BIT = 3

    def __init__(self, pin, atten=None, **kw):
        self._id = _pin_id(pin)

    def atten(self, a):
        pass

    def width(self, w):
        pass

    def read_u16(self):
        pid = self._id
        if pid == SENSOR_ADC_PIN:
            f = _world.sensor_fault
            if f == 1:
                return 0
            if f == 2:
                return 65535
            force_g = _world.force_g()
            if _world.no_bleed and force_g < _FLOAT_BELOW_G:
                # no bleed resistor: an FSR barely touched is megohms, and the ADC input floats (mid-scale,
                # noisy: the pin's leakage and the wires' pick-up decide)
                return 24000 + _world.rng.sym(14000)
            return _part.adc_u16(force_g, _world.v)
        if pid == BATTERY_ADC_PIN:
            return 38700  # ~1950 mV at the pin: a 3.9 V cell through a 1:2 divider
        return 0

    def read(self):
        return self.read_u16() >> 4

    def read_uv(self):
        return (self.read_u16() * 3300000) >> 16


class PWM:
    def __init__(self, pin, freq=1000, duty_u16=None, duty=None, **kw):
        self._id = _pin_id(pin)
        name = _OUT_NAMES.get(self._id, "gpio%d" % self._id)
        self._tid = _world.name_id(name)
        self._fid = _world.name_id(name + "_hz")
        # the motor's pin drives it; what the hand feels is recorded apart (a dead motor: driven, not felt)
        self._felt = _world.name_id("motor_felt") if name == "motor" else 0
        self._duty = 0
        self._freq = 0
        self.freq(freq)
        if duty_u16 is not None:
            self.duty_u16(duty_u16)
        elif duty is not None:
            self.duty(duty)

    def init(self, freq=None, duty_u16=None, duty=None, **kw):
        if freq is not None:
            self.freq(freq)
        if duty_u16 is not None:
            self.duty_u16(duty_u16)

    def freq(self, f=None):
        if f is None:
            return self._freq
        if f != self._freq:
            self._freq = f
            _world.level(self._fid, f)

    def duty_u16(self, d=None):
        if d is None:
            return self._duty
        if d < 0:
            d = 0
        elif d > 65535:
            d = 65535
        if d != self._duty:
            self._duty = d
            _world.level(self._tid, d)
            if self._felt:
                _world.level(self._felt, 0 if _world.motor_dead else d)

    def duty(self, d=None):
        if d is None:
            return self._duty >> 6
        self.duty_u16(d << 6)

    def deinit(self):
        self.duty_u16(0)


class _Drv2605:
    """Registers of a DRV2605L that matter for the trace: RTP level, waveform, GO."""

    def __init__(self):
        self.regs = bytearray(256)
        self.rtp_id = _world.name_id("haptic_rtp")
        self.effect_id = _world.name_id("haptic_effect")

    def write(self, reg, data):
        for i in range(len(data)):
            r = (reg + i) & 0xFF
            self.regs[r] = data[i]
            if r == 0x02:
                _world.level(self.rtp_id, data[i])
            elif r == 0x0C and data[i] & 1:
                _world.level(self.effect_id, self.regs[0x04])


_drv = None


class I2C:
    def __init__(self, id=0, scl=None, sda=None, freq=400000, **kw):
        global _drv
        if _drv is None and os.getenv("ACU_HAPTIC") == "drv2605":
            _drv = _Drv2605()

    def scan(self):
        return [0x5A] if _drv is not None else []

    def _dev(self, addr):
        if addr != 0x5A or _drv is None:
            raise OSError(19)  # ENODEV, as the ESP32 port reports a missing device
        return _drv

    def writeto_mem(self, addr, reg, buf, **kw):
        self._dev(addr).write(reg, buf)

    def readfrom_mem(self, addr, reg, n, **kw):
        d = self._dev(addr)
        return bytes(d.regs[reg:reg + n])

    def readfrom_mem_into(self, addr, reg, buf, **kw):
        d = self._dev(addr)
        for i in range(len(buf)):
            buf[i] = d.regs[(reg + i) & 0xFF]

    def writeto(self, addr, buf, stop=True):
        d = self._dev(addr)
        if len(buf) > 1:
            d.write(buf[0], buf[1:])
        return len(buf)


SoftI2C = I2C


class RTC:
    def datetime(self, dt=None):
        if dt is None:
            w = _world.wall_s()
            tm = time.gmtime(w or 0)
            return (tm[0], tm[1], tm[2], tm[6], tm[3], tm[4], tm[5], 0)
        _world.set_wall_s(time.mktime((dt[0], dt[1], dt[2], dt[4], dt[5], dt[6], 0, 0)))


def unique_id():
    seed = int(os.getenv("ACU_SEED") or "1")
    return bytes([0x24, 0x6F, 0x28, (seed >> 16) & 0xFF, (seed >> 8) & 0xFF, seed & 0xFF])


def freq(f=None):
    return 240000000


def idle():
    pass


def lightsleep(ms=0):
    _world.sleep_ms(ms)


def disable_irq():
    return 0


def enable_irq(state=0):
    pass


def reset_cause():
    return 1  # PWRON_RESET


def soft_reset():
    # The launcher ends this process and boots the firmware again (raw REPL mode is kept, as on a board).
    _world.reset(0)


def reset():
    # a hard reset boots normally even from the raw REPL
    _world.reset(3)


def deepsleep(ms=0):
    reset()


def time_pulse_us(pin, level, timeout_us=1000000):
    return -1


PWRON_RESET = 1
SOFT_RESET = 5
