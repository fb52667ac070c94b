# Fakes of MicroPython's `machine` and `neopixel` modules for board/driver tests, at the machine level.
# Works under CPython and the unix port: `fakemachine.install()` puts this module in sys.modules as
# `machine` and a NeoPixel holder as `neopixel`, so board modules import them unchanged.
# Test controls: adc_values[pin_id] = u16 level, pins[pin_id] (Pin objects by id, their .level),
# pwms (list of PWM objects), i2c_devices[addr] = bytearray(256) register file, stats.i2c_writes,
# attach_hx711(...). The fakes' hot methods do not allocate, so drivers can run under heap_lock.
import sys

adc_values = {}     # pin id -> value read_u16() returns
pins = {}           # pin id -> the last Pin constructed for that id
pwms = []           # every PWM constructed, in order
i2c_devices = {}    # address -> bytearray(256): the device's registers


class _Stats:
    def __init__(self):
        self.i2c_writes = 0  # register writes (a counter: the fakes must not allocate under heap_lock)


stats = _Stats()
_hooks = {}         # pin id -> object with read(pin_id) / write(pin_id, level)
_uid = b"\xde\xad\xbe\xef\x00\x01"


def reset():
    adc_values.clear()
    pins.clear()
    del pwms[:]
    i2c_devices.clear()
    stats.i2c_writes = 0
    _hooks.clear()


class Pin:
    IN = 1
    OUT = 3
    OPEN_DRAIN = 7
    PULL_UP = 1
    PULL_DOWN = 2
    IRQ_FALLING = 2
    IRQ_RISING = 1

    def __init__(self, pin_id, mode=-1, pull=-1, value=None):
        self.id = pin_id
        self.mode = mode
        self.pull = pull
        # an input with a pull-up idles high; a fresh output starts low
        self.level = 1 if pull == Pin.PULL_UP else 0
        if value is not None:
            self.level = 1 if value else 0
        pins[pin_id] = self

    def init(self, mode=-1, pull=-1, value=None):
        if mode != -1:
            self.mode = mode
        if pull != -1:
            self.pull = pull
        if value is not None:
            self.level = 1 if value else 0

    def value(self, v=None):
        hook = _hooks.get(self.id)
        if v is None:
            if hook is not None:
                return hook.read(self.id)
            return self.level
        self.level = 1 if v else 0
        if hook is not None:
            hook.write(self.id, self.level)
        return None

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)

    def __call__(self, v=None):
        return self.value(v)


class ADC:
    ATTN_0DB = 0
    ATTN_2_5DB = 1
    ATTN_6DB = 2
    ATTN_11DB = 3
    WIDTH_12BIT = 3

    def __init__(self, pin, atten=None):
        self.pin = pin
        self.pin_id = pin.id if isinstance(pin, Pin) else pin
        self.atten_level = atten
        self.reads = 0

    def atten(self, a):
        self.atten_level = a

    def read_u16(self):
        self.reads += 1
        return adc_values.get(self.pin_id, 0)

    def read_uv(self):
        return adc_values.get(self.pin_id, 0) * 3300000 // 65535


class PWM:
    def __init__(self, pin, freq=0, duty_u16=0):
        self.pin = pin
        self._freq = freq
        self._duty = duty_u16
        self.duty_writes = 0
        self.freq_writes = 0
        pwms.append(self)

    def freq(self, f=None):
        if f is None:
            return self._freq
        self._freq = f
        self.freq_writes += 1
        return None

    def duty_u16(self, d=None):
        if d is None:
            return self._duty
        if d < 0 or d > 65535:
            raise ValueError("duty out of range")
        self._duty = d
        self.duty_writes += 1
        return None

    def deinit(self):
        self._duty = 0


class I2C:
    def __init__(self, bus_id=0, scl=None, sda=None, freq=400000):
        self.bus_id = bus_id
        self.scl = scl
        self.sda = sda
        self.freq = freq

    def scan(self):
        return sorted(i2c_devices)

    def _dev(self, addr):
        dev = i2c_devices.get(addr)
        if dev is None:
            raise OSError(19)  # ENODEV, as on the ESP32 port
        return dev

    def writeto_mem(self, addr, reg, buf):
        dev = self._dev(addr)
        for i in range(len(buf)):
            dev[reg + i] = buf[i]
        stats.i2c_writes += 1

    def readfrom_mem(self, addr, reg, n):
        dev = self._dev(addr)
        return bytes(dev[reg:reg + n])

    def readfrom_mem_into(self, addr, reg, buf):
        dev = self._dev(addr)
        for i in range(len(buf)):
            buf[i] = dev[reg + i]


class RTC:
    def __init__(self):
        self.dt = (2000, 1, 1, 5, 0, 0, 0, 0)

    def datetime(self, dt=None):
        if dt is None:
            return self.dt
        self.dt = tuple(dt)
        return None


def unique_id():
    return _uid


def freq(hz=None):
    return 240000000


class NeoPixel:
    ORDER = (1, 0, 2, 3)  # GRB like MicroPython's neopixel.py

    def __init__(self, pin, n, bpp=3, timing=1):
        self.pin = pin
        self.n = n
        self.bpp = bpp
        self.buf = bytearray(n * bpp)
        self.writes = 0

    def __setitem__(self, i, v):
        off = i * self.bpp
        for k in range(self.bpp):
            self.buf[off + self.ORDER[k]] = v[k]

    def __getitem__(self, i):
        off = i * self.bpp
        return tuple(self.buf[off + self.ORDER[k]] for k in range(self.bpp))

    def __len__(self):
        return self.n

    def fill(self, v):
        for i in range(self.n):
            self[i] = v

    def write(self):
        self.writes += 1


class _NeopixelModule:
    NeoPixel = NeoPixel


class FakeHx711:
    """An HX711 on two fake pins: DOUT low when a conversion is ready; 24 bits MSB first, then
    1-3 extra pulses. Tests set .ready and .counts."""

    def __init__(self, dout_id, sck_id, counts=0):
        self.dout_id = dout_id
        self.sck_id = sck_id
        self.counts = counts
        self.ready = True
        self.pulses = 0
        self.sck_level = 0
        self._word = 0
        self._bit = -1
        _hooks[dout_id] = self
        _hooks[sck_id] = self

    def read(self, pin_id):
        if pin_id != self.dout_id:
            return self.sck_level
        if self._bit < 0:
            return 0 if self.ready else 1
        return (self._word >> self._bit) & 1

    def write(self, pin_id, level):
        if pin_id != self.sck_id:
            return
        if level and not self.sck_level:  # rising edge: the next bit is valid while SCK is high
            if self._bit < 0:
                if self.ready:
                    self._word = self.counts & 0xFFFFFF
                    self._bit = 23
                    self.pulses = 1
                else:
                    self.pulses += 1  # gain-select pulses after the data
            elif self._bit > 0:
                self._bit -= 1
                self.pulses += 1
            else:
                self._bit = -1  # 25th pulse: DOUT goes high until the next conversion
                self.ready = False
                self.pulses += 1
        self.sck_level = level


def attach_hx711(dout_id, sck_id, counts=0):
    return FakeHx711(dout_id, sck_id, counts)


def _patch_time():
    # CPython has no time.ticks_ms/sleep_ms (acu.hw.RealClock uses them): add MicroPython-like ones.
    import time
    if not hasattr(time, "ticks_ms"):
        time.ticks_ms = lambda: int(time.monotonic() * 1000) & ((1 << 30) - 1)
        time.sleep_ms = lambda ms: time.sleep(ms / 1000)


def install():
    """Make `import machine` / `import neopixel` resolve to these fakes; returns this module."""
    _patch_time()
    me = sys.modules[__name__]
    sys.modules["machine"] = me
    sys.modules["neopixel"] = _NeopixelModule
    reset()
    return me
