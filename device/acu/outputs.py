# Output drivers for feedback. acu.parts builds them from a board's machine.PWM / I2C objects (its PARTS).
# The RGB drivers (NeoPixelLed, RgbPwm) are in acu.rgbled, which only boards with an RGB LED load.
# Levels are 0..1023 everywhere (RGB components 0..255). set()/tone()/poll() run in the loop: integer
# maths only, no allocation, and the hardware is written only when a value changes.
from acu import ticks

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

_LEVEL_MAX = const(1023)


def _duty(level):
    # 0..1023 -> 0..65535 (duty_u16), clamped
    if level <= 0:
        return 0
    if level >= _LEVEL_MAX:
        return 65535
    return level * 65535 // _LEVEL_MAX


class PwmLed:
    """A single LED on a PWM pin. invert=True for an LED wired to 3V3 (active low)."""

    def __init__(self, pwm, invert=False):
        self.pwm = pwm
        self.invert = invert
        self.level = -1
        self.set(0)

    def set(self, level):
        if level == self.level:
            return
        self.level = level
        d = _duty(level)
        self.pwm.duty_u16(65535 - d if self.invert else d)


class ErmMotor:
    """An eccentric-rotating-mass vibration motor on a PWM pin (through a transistor, with a flyback
    diode). An ERM takes up to ~180 ms to spin up (FIELD_NOTES), so starting from rest (or from a lower
    level) the driver overdrives at full duty for a kick (from rest kick_ms/2 .. kick_ms growing with the
    level; from a lower level proportional to the step), then settles to the asked level.
    poll() ends the kick: Feedback calls it every loop iteration.
    min_level: below this an ERM stalls, so non-zero levels are raised to it."""

    def __init__(self, pwm, clock, kick_ms=40, min_level=250):
        self.pwm = pwm
        self._clock = clock
        self.kick_ms = kick_ms
        self.min_level = min_level
        self.level = 0          # the level asked for
        self._duty = -1         # what the PWM holds now
        self._kicking = False
        self._kick_end = 0
        self._write(0)

    def _write(self, duty):
        if duty != self._duty:
            self._duty = duty
            self.pwm.duty_u16(duty)

    def set(self, level):
        if level < 0:
            level = 0
        elif level > _LEVEL_MAX:
            level = _LEVEL_MAX
        if level and level < self.min_level:
            level = self.min_level
        if level == self.level:
            return
        prev = self.level
        self.level = level
        if level > prev and self.kick_ms > 0 and level < _LEVEL_MAX:
            if prev == 0:  # from rest: static friction and inertia, at least half the kick
                k = (self.kick_ms >> 1) + (self.kick_ms >> 1) * level // _LEVEL_MAX
            else:
                k = self.kick_ms * (level - prev) // _LEVEL_MAX
            if k > 0:
                self._kicking = True
                self._kick_end = ticks.add(self._clock.ticks_ms(), k)
                self._write(65535)
                return
        self._kicking = False
        self._write(_duty(level))

    def poll(self):
        if self._kicking and ticks.diff(self._clock.ticks_ms(), self._kick_end) >= 0:
            self._kicking = False
            self._write(_duty(self.level))

    def kicking(self):
        return self._kicking


# DRV2605L registers (TI datasheet SLOS854)
_REG_STATUS = const(0x00)
_REG_MODE = const(0x01)
_REG_RTP = const(0x02)
_REG_LIBRARY = const(0x03)
_REG_WAVESEQ1 = const(0x04)
_REG_WAVESEQ2 = const(0x05)
_REG_GO = const(0x0C)
_REG_FEEDBACK = const(0x1A)
_REG_CONTROL3 = const(0x1D)
_MODE_INTTRIG = const(0x00)
_MODE_RTP = const(0x05)
_MODE_STANDBY = const(0x40)


class Drv2605:
    """TI DRV2605L haptic driver on I2C (address 0x5A), driving an ERM in open loop.
    play(effect) fires a built-in library effect (1..123, e.g. 1 strong click, 47 buzz); set(level)
    drives the motor through real-time playback (RTP), where the chip's drive already overdrives.
    The constructor raises OSError when the chip does not answer (boards check with i2c.scan())."""

    def __init__(self, i2c, addr=0x5A, library=1, erm=True):
        self.i2c = i2c
        self.addr = addr
        self._b = bytearray(1)
        self._mode = -1
        self.level = 0
        self._read(_REG_STATUS)                 # raises OSError if absent
        self._write(_REG_MODE, 0x00)            # out of standby, internal trigger
        self._write(_REG_RTP, 0x00)
        self._write(_REG_LIBRARY, library)      # 1..5 = ERM libraries A..E, 6 = LRA
        self._write(_REG_WAVESEQ1, 1)
        self._write(_REG_WAVESEQ2, 0)
        fb = self._read(_REG_FEEDBACK)
        c3 = self._read(_REG_CONTROL3)
        if erm:
            self._write(_REG_FEEDBACK, fb & 0x7F)          # N_ERM_LRA = 0: ERM
            self._write(_REG_CONTROL3, c3 | 0x20 | 0x08)   # ERM open loop, RTP data unsigned
        else:
            self._write(_REG_FEEDBACK, fb | 0x80)
            self._write(_REG_CONTROL3, c3 | 0x08)
        self._mode = _MODE_INTTRIG

    def _write(self, reg, value):
        self._b[0] = value
        self.i2c.writeto_mem(self.addr, reg, self._b)

    def _read(self, reg):
        self.i2c.readfrom_mem_into(self.addr, reg, self._b)
        return self._b[0]

    def _set_mode(self, mode):
        if mode != self._mode:
            self._mode = mode
            self._write(_REG_MODE, mode)

    def play(self, effect):
        self.level = 0
        self._write(_REG_RTP, 0)
        self._set_mode(_MODE_INTTRIG)
        self._write(_REG_WAVESEQ1, effect)
        self._write(_REG_WAVESEQ2, 0)
        self._write(_REG_GO, 1)

    def set(self, level):
        if level < 0:
            level = 0
        elif level > _LEVEL_MAX:
            level = _LEVEL_MAX
        if level == self.level:
            return
        self.level = level
        self._set_mode(_MODE_RTP)
        self._write(_REG_RTP, level >> 2)   # unsigned 0..255

    def standby(self):
        self.set(0)
        self._set_mode(_MODE_STANDBY)


class Buzzer:
    """A passive piezo buzzer on a PWM pin. tone(freq_hz, level): freq 0 or level 0 is silence;
    level 1023 = 50 % duty (loudest for a square wave)."""

    def __init__(self, pwm):
        self.pwm = pwm
        self.freq_hz = 0
        self.level = 0
        pwm.duty_u16(0)

    def tone(self, freq_hz, level):
        if freq_hz <= 0 or level <= 0:
            freq_hz = 0
            level = 0
        if freq_hz == self.freq_hz and level == self.level:
            return
        if freq_hz and freq_hz != self.freq_hz:
            self.pwm.freq(freq_hz)
        self.freq_hz = freq_hz
        self.level = level
        self.pwm.duty_u16(_duty(level) >> 1)

