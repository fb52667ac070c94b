# An `esp32` module for the simulated board (simboot installs it as sys.modules["esp32"]): the deep-sleep wake
# sources, as the ESP32 port has them. Only RTC-capable pins can wake the chip (ESP32 datasheet: RTC GPIOs
# 0, 2, 4, 12-15, 25-27, 32-39); machine.deepsleep() hands the launcher what is set here.
RTC_PINS = (0, 2, 4, 12, 13, 14, 15, 25, 26, 27, 32, 33, 34, 35, 36, 37, 38, 39)
WAKEUP_ALL_LOW = False
WAKEUP_ANY_HIGH = True

_ext0_pin = -1
_ext0_level = 0
_ext1_mask = 0
_ext1_level = 0


def _pin_no(p):
    n = p._id if hasattr(p, "_id") else int(p)
    if n not in RTC_PINS:
        raise ValueError("invalid pin")  # the port's words for a pin that cannot wake the chip
    return n


def wake_on_ext0(pin, level):
    global _ext0_pin, _ext0_level
    if pin is None:
        _ext0_pin = -1
        return
    _ext0_pin = _pin_no(pin)
    _ext0_level = 1 if level else 0


def wake_on_ext1(pins, level):
    global _ext1_mask, _ext1_level
    m = 0
    for p in pins or ():
        m |= 1 << _pin_no(p)
    _ext1_mask = m
    _ext1_level = 1 if level else 0


def wake_on_touch(wake):
    pass
