# A minimal fake `machine` for tools/heap_probe.py: just what boards/esp32_devkitc.build() and the acu
# drivers touch, so the probe's own heap share stays small (tests/device/fakemachine.py is the full one
# for tests). adc_values[pin_id] = read_u16 level; pins[pin_id] = the Pin built for that id (.level).
adc_values = {}
pins = {}
i2c_devices = {}   # address -> bytearray(256) register file


class Pin:
    IN = 1
    OUT = 3
    PULL_UP = 1

    def __init__(self, pin_id, mode=-1, pull=-1, value=None):
        self.id = pin_id
        self.level = 1 if pull == 1 else (1 if value else 0)
        pins[pin_id] = self

    def value(self, v=None):
        if v is None:
            return self.level
        self.level = 1 if v else 0


class ADC:
    ATTN_11DB = 3

    def __init__(self, pin, atten=None):
        self.pin_id = pin.id

    def read_u16(self):
        return adc_values.get(self.pin_id, 0)

    def read_uv(self):
        # kept under 2**30 on the way: a 32-bit port makes a big int (a heap object) of anything larger
        return adc_values.get(self.pin_id, 0) * 3300 // 65535 * 1000


class PWM:
    def __init__(self, pin, freq=0, duty_u16=0):
        self.f = freq
        self.d = duty_u16

    def freq(self, f=None):
        if f is None:
            return self.f
        self.f = f

    def duty_u16(self, d=None):
        if d is None:
            return self.d
        self.d = d


class I2C:
    def __init__(self, bus_id=0, scl=None, sda=None, freq=400000):
        pass

    def scan(self):
        return sorted(i2c_devices)

    def writeto_mem(self, addr, reg, buf):
        i2c_devices[addr][reg:reg + len(buf)] = buf

    def readfrom_mem_into(self, addr, reg, buf):
        buf[:] = i2c_devices[addr][reg:reg + len(buf)]


class RTC:
    def datetime(self, dt=None):
        return (2000, 1, 1, 5, 0, 0, 0, 0)


def unique_id():
    return b"\xde\xad\xbe\xef\x00\x01"
