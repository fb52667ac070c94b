# Every board module is data (NAME, PARTS) built by the one builder, acu.parts.build(), with `machine`
# and `neopixel` faked at the machine level, on both interpreters: the real boards and the simulated one
# (its world faked), the facts the drivers get flowing from PARTS (change one in a copy, the driver follows),
# acu.parts using the `machine` it is given. Plus the heap_lock proof that the hot path (sensor read ->
# grams -> filter -> classify -> feedback.show) does not allocate, on the unix port with drivers the
# builder made.
import os
import sys

import fakemachine
from mpcompat import FakeClock, raises

from acu import band, feedback, parts, sensors
from acu.calib import Calibration
from acu.hw import Hardware, RealClock
from acu.outputs import Buzzer, Drv2605, ErmMotor, PwmLed
from acu.rgbled import NeoPixelLed
from acu.forcefilter import ForceFilter

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


class _SimWorld:
    # what boards/sim.py asks of the simulator's world (host_tools/sim/rom/simhw.py)
    def __init__(self):
        self.names = {}
        self.notes = []

    def ticks_ms(self):
        return 1234

    def sleep_ms(self, ms):
        pass

    def wall_s(self):
        return None

    def set_wall_s(self, s):
        pass

    def name_id(self, name):
        return self.names.setdefault(name, len(self.names) + 1)

    def note(self, i, value):
        self.notes.append((i, value))


class _SimHw:
    world = None


def _setenv(key, value):
    if hasattr(os, "environ"):  # CPython: os.getenv reads os.environ
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    elif value is None:
        os.unsetenv(key)
    else:
        os.putenv(key, value)


def _load_sim():
    """boards.sim against the fakes and a fake simhw; returns (module, world, restore)."""
    saved = sys.modules.get("simhw")
    world = _SimWorld()
    _SimHw.world = world
    sys.modules["simhw"] = _SimHw
    mod, restore_board = _load("sim")

    def restore():
        restore_board()
        _setenv("ACU_SENSOR", None)
        if saved is None:
            del sys.modules["simhw"]
        else:
            sys.modules["simhw"] = saved
    return mod, world, restore


def _copy(d):
    # PARTS are dicts of dicts (and the alternatives' dicts): a copy a test may change
    return {k: (_copy(v) if isinstance(v, dict) else v) for k, v in d.items()}


def _pwm_on(pin):
    return [p for p in fakemachine.pwms if p.pin.id == pin][-1]


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
            assert hw.sensor.kind == mod.PARTS["sensor"]["kind"]
            assert hw.sensor.fault() == sensors.FAULT_NONE
            # the board's build() is the one builder: the same drivers from parts.build()
            hw2 = parts.build(mod.NAME, mod.PARTS, None, fakemachine)
            for role in ("sensor", "led", "rgb", "motor", "haptic", "buzzer", "button", "battery"):
                assert type(getattr(hw, role)) is type(getattr(hw2, role)), (name, role)
        finally:
            restore()


def test_builder_uses_the_machine_it_is_given():
    mod, restore = _load("esp32s3_devkitc")
    try:
        del sys.modules["machine"]  # no `machine` to import: acu.parts must not import one
        hw = parts.build(mod.NAME, mod.PARTS, {"buzzer": True}, fakemachine)
        assert hw.buzzer is not None and hw.rgb is not None and hw.battery is not None
        assert "machine" not in sys.modules
    finally:
        restore()


def test_the_sim_board_uses_the_builder():
    mod, world, restore = _load_sim()
    try:
        fakemachine.i2c_devices[0x5A] = bytearray(256)  # --haptic drv2605
        hw = mod.build({"loop_hz": 200})
        assert hw.name == "sim" and hw.clock.ticks_ms() == 1234
        assert isinstance(hw.sensor, sensors.FsrAdc) and hw.sensor.kind == "fsr402"
        assert hw.sensor.r_m_ohm == mod.PARTS["sensor"]["r_m_ohm"]
        fakemachine.adc_values[34] = 12345
        assert hw.sensor.read_raw() == 12345 and fakemachine.ADC is type(hw.sensor.adc)
        assert hw.sensor.adc.reads == mod.PARTS["sensor"]["oversample"]
        assert isinstance(hw.led, PwmLed) and isinstance(hw.rgb, NeoPixelLed)
        assert isinstance(hw.motor, ErmMotor) and _pwm_on(25).freq() == 200
        assert isinstance(hw.haptic, Drv2605) and isinstance(hw.buzzer, Buzzer)
        assert hw.battery is not None and hw.button is not None
        # the world's notes: registered at build, then annotate() records without registering again
        assert world.notes == [(world.names["state"], -1), (world.names["cue"], 0)]
        hw.annotate("state", 2)
        # (the teaching notes are named at build too, without a note: docs/feedback.md)
        assert world.notes[-1] == (world.names["state"], 2) and len(world.names) == 5
        assert set(world.names) == {"state", "cue", "band_fb", "kr", "score"}
    finally:
        restore()
    mod, world, restore = _load_sim()
    try:
        _setenv("ACU_SENSOR", "loadcell")  # acutrainer sim start --sensor loadcell
        dev = fakemachine.attach_hx711(16, 17, 4321)
        hw = mod.build({"sensor": "fsr402"})  # the simulated part decides, not the setting
        assert hw.sensor.kind == "loadcell" and hw.sensor.read_raw() == 4321 and dev.pulses == 25
        assert hw.nominal_calib["sensor"] == "loadcell"
    finally:
        restore()


def test_the_drivers_take_their_facts_from_parts():
    mod, restore = _load("esp32_devkitc")
    try:
        p = _copy(mod.PARTS)
        p["sensor"].update({"r_m_ohm": 1000, "r_bleed_ohm": 10000, "oversample": 3, "atten": "6dB",
                            "adc_pin": 36})
        p["led"]["pwm_hz"] = 500
        p["motor"].update({"pin": 32, "pwm_hz": 15000, "kick_ms": 60, "min_level": 300})
        p["haptic"].update({"addr": 0x5B, "i2c_hz": 100000})
        p["buzzer"].update({"pwm_hz": 3000, "fitted": True})
        p["button"]["active_low"] = False
        p["battery"]["ratio"] = 3
        fakemachine.i2c_devices[0x5B] = bytearray(256)
        fakemachine.adc_values[35] = 32768
        hw = parts.build("copy", p, None, fakemachine, FakeClock())
        s = hw.sensor
        assert s.r_m_ohm == 1000 and s.r_bleed_ohm == 10000
        assert s.adc.pin_id == 36 and s.adc.atten_level == fakemachine.ADC.ATTN_6DB
        fakemachine.adc_values[36] = 20000
        assert s.read_raw() == 20000 and s.adc.reads == 3
        assert _pwm_on(23).freq() == 500
        assert _pwm_on(32).freq() == 15000 and hw.motor.kick_ms == 60 and hw.motor.min_level == 300
        assert hw.haptic.addr == 0x5B and hw.haptic.i2c.freq == 100000
        assert hw.buzzer is not None and _pwm_on(27).freq() == 3000
        fakemachine.pins[0].level = 1
        assert hw.button.pressed()  # active high now
        assert hw.battery.read_mv() == 32768 * 3300 // 65535 * 3
        # the original PARTS is untouched and still gives the fitted values
        hw = parts.build(mod.NAME, mod.PARTS, None, fakemachine, FakeClock())
        assert hw.sensor.r_m_ohm == 470 and hw.sensor.r_bleed_ohm == 6800 and hw.buzzer is None
        # an alternative sensor takes its own resistors from PARTS
        p["sensor"]["alternatives"]["a201"]["r_m_ohm"] = 33000
        hw = parts.build("copy", p, {"sensor": "a201"}, fakemachine, FakeClock())
        assert hw.sensor.kind == "a201" and hw.sensor.r_m_ohm == 33000
        assert hw.sensor.r_bleed_ohm == mod.PARTS["sensor"]["alternatives"]["a201"]["r_bleed_ohm"]
        assert hw.nominal_calib["sensor"] == "a201"
    finally:
        restore()


def test_loadcell_facts_from_parts():
    mod, restore = _load("esp32_loadcell")
    try:
        p = _copy(mod.PARTS)
        p["sensor"].update({"gain": 64, "dout_pin": 18, "sck_pin": 19, "not_ready_ms": 500})
        dev = fakemachine.attach_hx711(18, 19, 777)
        clock = FakeClock(0)
        hw = parts.build("copy", p, None, fakemachine, clock)
        assert hw.sensor.read_raw() == 777 and dev.pulses == 27  # gain 64: 27 pulses
        clock.advance(400)
        assert hw.sensor.fault() == sensors.FAULT_NONE  # not_ready_ms 500, not the default 250
        clock.advance(200)
        assert hw.sensor.fault() == sensors.FAULT_NOT_READY
    finally:
        restore()


def test_optional_parts_follow_settings():
    mod, restore = _load("m5stack_atom")
    try:
        assert mod.build().motor is not None
        assert mod.build({"motor": False}).motor is None
        hw = mod.build({"pixel_pin": 21, "pixel_max": 10})
        assert hw.rgb._np.pin.id == 21 and hw.rgb._max == 10
        raises(ValueError, mod.build, {"sensor": "loadcell"})  # not what this board's circuit takes
    finally:
        restore()
    mod, restore = _load("esp32_devkitc")
    try:
        fakemachine.i2c_devices[0x5A] = bytearray(256)
        hw = mod.build({"haptic": False, "battery": False, "motor_kick_ms": 10, "oversample": 2})
        assert hw.haptic is None and hw.battery is None and hw.buzzer is None
        assert hw.motor.kick_ms == 10 and hw.sensor._n == 2
        assert mod.build({"motor": False}).motor is not None  # not optional on this board
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
    # every driver kind, built by acu.parts from the devkitc's PARTS plus a NeoPixel, on machine-level
    # fakes, with a virtual clock (5 ms per iteration)
    mod, restore = _load("esp32_devkitc")
    try:
        p = _copy(mod.PARTS)
        p["rgb"] = {"pin": 48, "max_level": 80}
        fakemachine.i2c_devices[0x5A] = bytearray(256)
        return parts.build("hot", p, {"buzzer": True, "pulse_power": True}, fakemachine, clock)
    finally:
        restore()


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
    from acu.calib import nominal
    clock = FakeClock(0)
    hw = _hot_hw(clock)
    assert hw.haptic is not None and hw.buzzer is not None and hw.rgb is not None and hw.battery is not None
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
