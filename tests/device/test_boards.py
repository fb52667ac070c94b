# Each board module imports and builds its parts with `machine`/`neopixel` faked at the machine level,
# on both interpreters; plus the heap_lock proof that the hot path (sensor read -> grams -> filter ->
# classify -> feedback.show) does not allocate, on the unix port with a real board's drivers.
import sys

import fakemachine

from acu import band, feedback, sensors
from acu.calib import Calibration
from acu.hw import Hardware, RealClock
from acu.outputs import ErmMotor, PwmLed
from acu.rgbled import NeoPixelLed
from acu.signal import ForceFilter

_BOARDS = ("esp32_devkitc", "esp32s3_devkitc", "m5stack_atom", "esp32_loadcell")


def _load(name):
    """Import boards.<name> against the fakes; returns (module, restore)."""
    saved = (sys.modules.get("machine"), sys.modules.get("neopixel"))
    fakemachine.install()
    for key in ("boards." + name, "boards"):
        if key in sys.modules:
            del sys.modules[key]
    mod = __import__("boards." + name, None, None, [name])
    if not hasattr(mod, "build"):  # MicroPython's __import__ may return the package
        mod = getattr(mod, name)

    def restore():
        # drop the board module again (the MicroPython test heap is shared by every test file)
        for key in ("boards." + name, "boards"):
            if key in sys.modules:
                del sys.modules[key]
        for key, old in (("machine", saved[0]), ("neopixel", saved[1])):
            if old is None:
                if key in sys.modules:
                    del sys.modules[key]
            else:
                sys.modules[key] = old
    return mod, restore


def test_every_board_builds_its_parts():
    for name in _BOARDS:
        mod, restore = _load(name)
        try:
            assert mod.NAME == name
            assert isinstance(mod.PARTS, dict) and "sensor" in mod.PARTS and "button" in mod.PARTS
            hw = mod.build()
            assert isinstance(hw, Hardware) and hw.name == name
            assert isinstance(hw.clock, RealClock)
            assert hw.unique_id == fakemachine.unique_id()
            fakemachine.pins[mod.PARTS["button"]["pin"]].level = 1  # released (pull-up)
            assert hw.button is not None and not hw.button.pressed()
            assert hw.led is not None or hw.rgb is not None
            assert hw.motor is not None and isinstance(hw.motor, ErmMotor)
            assert hw.annotate is None
            cal = Calibration.from_dict(hw.nominal_calib)
            assert cal.grams(0) <= 0 or cal.grams(0) < cal.grams(40000)
            assert hw.sensor.kind in ("fsr402", "fsr406", "a201", "loadcell")
            assert hw.sensor.fault() == sensors.FAULT_NONE
        finally:
            restore()


def test_devkitc_sensor_reads_gpio34_and_outputs_drive_pins():
    mod, restore = _load("esp32_devkitc")
    try:
        hw = mod.build({"buzzer": True})
        fakemachine.adc_values[34] = 30000
        assert hw.sensor.read_raw() == 30000
        assert isinstance(hw.led, PwmLed)
        hw.led.set(1023)
        led_pwm = [p for p in fakemachine.pwms if p.pin.id == 23][0]
        assert led_pwm.duty_u16() == 65535
        hw.buzzer.tone(1000, 1023)
        assert [p for p in fakemachine.pwms if p.pin.id == 27][0].freq() == 1000
        assert hw.haptic is None  # no DRV2605L on the bus
        assert hw.battery is not None
        fakemachine.pins[0].level = 0
        assert hw.button.pressed()
    finally:
        restore()


def test_devkitc_detects_drv2605_and_pulse_power_and_a201():
    mod, restore = _load("esp32_devkitc")
    try:
        fakemachine.i2c_devices[0x5A] = bytearray(256)
        hw = mod.build({"pulse_power": True, "sensor": "a201"})
        assert hw.haptic is not None
        assert hw.sensor.kind == "a201" and hw.sensor.r_m_ohm == 22000
        assert fakemachine.pins[25].level == 0  # divider unpowered between samples
        try:
            mod.build({"sensor": "strain"})
        except ValueError:
            pass
        else:
            raise AssertionError("bad sensor accepted")
    finally:
        restore()


def test_neopixel_boards_drive_the_pixel():
    for name, pin in (("esp32s3_devkitc", 48), ("m5stack_atom", 27)):
        mod, restore = _load(name)
        try:
            hw = mod.build({"pixel_max": 255})
            assert isinstance(hw.rgb, NeoPixelLed)
            hw.rgb.set(0, 255, 0)
            np = hw.rgb._np
            assert np.pin.id == pin and np[0] == (0, 255, 0) and np.writes >= 1
        finally:
            restore()


def test_loadcell_board_reads_hx711():
    mod, restore = _load("esp32_loadcell")
    try:
        dev = fakemachine.attach_hx711(16, 17, -1234)
        hw = mod.build()
        assert hw.sensor.read_raw() == -1234
        assert dev.pulses == 25
    finally:
        restore()


def _hot_hw(clock):
    # every driver kind on machine-level fakes, with a virtual clock (5 ms per iteration)
    from acu.outputs import Buzzer, Drv2605
    fakemachine.reset()
    fakemachine.i2c_devices[0x5A] = bytearray(256)
    P = fakemachine.Pin
    sensor = sensors.FsrAdc(fakemachine.ADC(P(34)), "fsr402", 8, P(25, P.OUT), clock)
    np = fakemachine.NeoPixel(P(48), 1)
    return Hardware("hot", clock, sensor, {}, led=PwmLed(fakemachine.PWM(P(23))),
                    rgb=NeoPixelLed(np), motor=ErmMotor(fakemachine.PWM(P(26)), clock),
                    haptic=Drv2605(fakemachine.I2C(0)), buzzer=Buzzer(fakemachine.PWM(P(27))))


def _loop(hw, cal, flt, cls, fb, n, levels, seen):
    sensor = hw.sensor
    clock = hw.clock
    for i in range(n):
        fakemachine.adc_values[34] = levels[(i >> 6) & 7]
        clock.advance(5)
        now = clock.ticks_ms()
        raw = sensor.read_raw()
        f = flt.update(cal.grams(raw), now)
        s = cls.update(f, now, sensor.fault())
        fb.show(s, now)
        if (i & 255) == 100:
            fb.cue(feedback.CUE_STEP, now)
        seen[s] = 1


def test_hot_path_does_not_allocate():
    from array import array
    from mpcompat import FakeClock
    from acu.calib import nominal
    clock = FakeClock(0)
    hw = _hot_hw(clock)
    cal = Calibration.from_dict(nominal("fsr402"))
    flt = ForceFilter()
    cls = band.BandClassifier()
    fb = feedback.Feedback(hw, feedback.ALL, 80)
    # raw levels spanning the states: unloaded, light, the band, over, too hard, unplugged (fault)
    levels = array("l", [4237] * 8)
    for i, g in enumerate((0, 1500, 4000, 6000, 9000)):
        lo = 0
        hi = 65535
        while lo < hi:  # invert the calibration: the raw giving g grams
            mid = (lo + hi) // 2
            if cal.grams(mid) < g:
                lo = mid + 1
            else:
                hi = mid
        levels[i] = lo
    levels[5] = 0
    levels[6] = levels[2]
    seen = bytearray(6)
    _loop(hw, cal, flt, cls, fb, 600, levels, seen)  # warm up
    try:
        import micropython
        if not hasattr(micropython, "heap_lock"):
            micropython = None
    except ImportError:
        micropython = None  # CPython: run the same loop, check the states only
    for i in range(6):
        seen[i] = 0
    if micropython is not None:
        micropython.heap_lock()
        try:
            _loop(hw, cal, flt, cls, fb, 4096, levels, seen)
        finally:
            micropython.heap_unlock()
    else:
        _loop(hw, cal, flt, cls, fb, 4096, levels, seen)
    assert bytes(seen) == b"\x01" * 6, bytes(seen)  # every state was visited under heap_lock
