# acu.outputs drivers against machine-level fakes: duty scaling, write-on-change, ERM kick, DRV2605L
# register sequence, NeoPixel buffer, buzzer.
import fakemachine
from mpcompat import FakeClock

from acu import outputs, rgbled


def _pwm(pin=5):
    return fakemachine.PWM(fakemachine.Pin(pin), freq=1000, duty_u16=0)


def test_pwm_led_scaling_and_change_only():
    fakemachine.reset()
    p = _pwm()
    led = outputs.PwmLed(p)
    assert p.duty_u16() == 0
    led.set(1023)
    assert p.duty_u16() == 65535
    led.set(512)
    assert p.duty_u16() == 512 * 65535 // 1023
    n = p.duty_writes
    led.set(512)
    assert p.duty_writes == n  # unchanged level: no bus/PWM write
    led.set(5000)
    assert p.duty_u16() == 65535
    inv = outputs.PwmLed(_pwm(6), invert=True)
    inv.set(0)
    assert fakemachine.pwms[-1].duty_u16() == 65535


def test_rgb_pwm():
    fakemachine.reset()
    r, g, b = _pwm(1), _pwm(2), _pwm(3)
    rgb = rgbled.RgbPwm(r, g, b)
    rgb.set(255, 0, 128)
    assert r.duty_u16() == 65535 and g.duty_u16() == 0
    assert 32000 < b.duty_u16() < 33000


def test_neopixel_writes_buffer_in_grb_order_scaled():
    fakemachine.reset()
    np = fakemachine.NeoPixel(fakemachine.Pin(27), 1)
    px = rgbled.NeoPixelLed(np, 0, max_level=255)
    px.set(10, 20, 30)
    assert bytes(np.buf) == bytes([20, 10, 30])
    assert np[0] == (10, 20, 30)
    w = np.writes
    px.set(10, 20, 30)
    assert np.writes == w
    dim = rgbled.NeoPixelLed(np, 0, max_level=51)
    dim.set(255, 0, 0)
    assert np[0] == (51, 0, 0)


def test_erm_kick_then_level():
    fakemachine.reset()
    clock = FakeClock(1000)
    p = _pwm()
    m = outputs.ErmMotor(p, clock, kick_ms=40)
    m.set(512)
    assert p.duty_u16() == 65535  # overdrive from rest
    assert m.kicking()
    clock.advance(20)
    m.poll()
    assert p.duty_u16() == 65535
    clock.advance(20)
    m.poll()
    assert p.duty_u16() == 512 * 65535 // 1023
    assert not m.kicking()
    m.set(0)
    assert p.duty_u16() == 0
    m.set(100)  # below the stall level: raised to min_level
    assert m.level == 250
    clock.advance(100)
    m.poll()
    assert p.duty_u16() == 250 * 65535 // 1023
    m.set(1023)  # full: no kick needed
    assert p.duty_u16() == 65535 and not m.kicking()


def test_erm_kick_shortens_with_zero_kick():
    fakemachine.reset()
    p = _pwm()
    m = outputs.ErmMotor(p, FakeClock(), kick_ms=0)
    m.set(600)
    assert p.duty_u16() == 600 * 65535 // 1023


def test_drv2605_init_play_rtp():
    fakemachine.reset()
    regs = bytearray(256)
    fakemachine.i2c_devices[0x5A] = regs
    i2c = fakemachine.I2C(0)
    d = outputs.Drv2605(i2c)
    assert regs[0x01] == 0x00            # out of standby
    assert regs[0x03] == 1               # ERM library A
    assert regs[0x1A] & 0x80 == 0        # ERM
    assert regs[0x1D] & 0x28 == 0x28     # open loop, unsigned RTP
    d.play(47)
    assert regs[0x04] == 47 and regs[0x0C] == 1
    d.set(1023)
    assert regs[0x01] == 0x05 and regs[0x02] == 255
    n = fakemachine.stats.i2c_writes
    d.set(1023)
    assert fakemachine.stats.i2c_writes == n
    d.set(0)
    assert regs[0x02] == 0


def test_drv2605_absent_raises():
    fakemachine.reset()
    try:
        outputs.Drv2605(fakemachine.I2C(0))
    except OSError:
        return
    raise AssertionError("expected OSError")


def test_buzzer_tone_and_silence():
    fakemachine.reset()
    p = _pwm()
    bz = outputs.Buzzer(p)
    bz.tone(2000, 1023)
    assert p.freq() == 2000 and p.duty_u16() == 32767
    bz.tone(2000, 0)
    assert p.duty_u16() == 0
    assert bz.freq_hz == 0
    n = p.duty_writes
    bz.tone(0, 500)
    assert p.duty_writes == n
