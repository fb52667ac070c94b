# The one builder of a board's Hardware (acu.hw) from the board's PARTS dict. A board module is data (NAME,
# PARTS) and one call: build(NAME, PARTS, settings, machine). Every pin and electrical fact a driver gets
# comes from PARTS (docs/hardware.md). This module never imports `machine`: the board passes its own (the
# ESP32's, the simulator's or a test's fake). acu.appcfg drops this module after the build. acu.rgbled,
# acu.hx711 and `neopixel` are imported only for a board that wires them.
#
# PARTS maps a role (a Hardware attribute: sensor, led, rgb, motor, haptic, buzzer, button, battery) to its
# part. A board leaves out the roles it does not have. Text fields ("part", "supply") are for people (the
# docs, tools/wiring.py). An entry with "fitted" is optional: settings[role] (a bool) overrides it.
#   sensor   kind; a divider (fsr402, fsr406, a201): adc_pin, atten, oversample, r_m_ohm, r_bleed_ohm,
#            power_pin (pulse power, optional; pulse_power: True where it is the only supply);
#            a load cell: dout_pin, sck_pin, gain, not_ready_ms.
#            "alternatives": {kind: the fields that change} for the other sensors the board takes by
#            settings 'sensor' (the A201 needs other resistors).
#   led      pin, pwm_hz                       rgb      pin, max_level (a NeoPixel)
#   motor    pin, pwm_hz, kick_ms, min_level   haptic   bus, sda, scl, i2c_hz, addr (a DRV2605L, probed)
#   buzzer   pin, pwm_hz                       button   pin, active_low, pull_up, wake (optional: an RTC pin
#                                                       wired to wake the board from deep sleep: acu.power)
#   battery  adc_pin, atten, ratio (the divider: the cell's voltage / the pin's)
# Settings a board reads: sensor, oversample, pulse_power, motor_kick_ms, pixel_pin, pixel_max, and the
# optional parts' roles (haptic, buzzer, battery, motor where it is optional).
from acu import calib, outputs, sensors

_ROLES = ("led", "rgb", "motor", "haptic", "buzzer", "button", "battery")


def build(name, parts, settings, machine, clock=None):
    """The board's acu.hw.Hardware. settings: the app's settings dict (or None); machine: the board's
    `machine` module; clock: the board clock, by default an acu.hw.RealClock on machine.RTC()."""
    from acu.hw import Hardware, RealClock  # looked up at build time: tools/heap_probe.py swaps RealClock
    s = settings or {}
    if clock is None:
        clock = RealClock(machine.RTC())
    sensor = _sensor(name, parts["sensor"], s, machine, clock)
    hw = Hardware(name, clock, sensor, calib.nominal(sensor.kind), unique_id=machine.unique_id())
    for role in _ROLES:
        p = parts.get(role)
        if p is not None and ("fitted" not in p or s.get(role, p["fitted"])):
            setattr(hw, role, _part(role, p, s, machine, clock))
    return hw


def _sensor(name, p, s, machine, clock):
    kind = s.get("sensor", p["kind"])
    if kind != p["kind"]:
        alt = p.get("alternatives", {})
        if kind not in alt:
            raise ValueError("%s: sensor must be %s" % (name, " or ".join([p["kind"]] + sorted(alt))))
        p = dict(p)
        p.update(alt[kind])
    Pin = machine.Pin
    if kind == "loadcell":
        from acu import hx711
        return hx711.Hx711(Pin(p["dout_pin"], Pin.IN, Pin.PULL_UP), Pin(p["sck_pin"], Pin.OUT, value=0),
                           p["gain"], clock, p["not_ready_ms"])
    power = None
    if s.get("pulse_power", p.get("pulse_power", False)):  # a board whose divider sits on a GPIO says so
        if "power_pin" not in p:
            raise ValueError("%s: no power_pin for pulse_power" % name)
        power = Pin(p["power_pin"], Pin.OUT, value=0)
    return sensors.FsrAdc(_adc(machine, p), kind, s.get("oversample", p["oversample"]), power, clock,
                          r_m_ohm=p["r_m_ohm"], r_bleed_ohm=p["r_bleed_ohm"])


def _part(role, p, s, machine, clock):
    Pin = machine.Pin
    if role == "led":
        return outputs.PwmLed(_pwm(machine, p))
    if role == "rgb":
        import neopixel
        from acu import rgbled
        np = neopixel.NeoPixel(Pin(s.get("pixel_pin", p["pin"]), Pin.OUT), 1)
        return rgbled.NeoPixelLed(np, 0, s.get("pixel_max", p["max_level"]))
    if role == "motor":
        return outputs.ErmMotor(_pwm(machine, p), clock, s.get("motor_kick_ms", p["kick_ms"]), p["min_level"])
    if role == "haptic":  # the DRV2605L when it answers on I2C, else None
        i2c = machine.I2C(p["bus"], scl=Pin(p["scl"]), sda=Pin(p["sda"]), freq=p["i2c_hz"])
        return outputs.Drv2605(i2c, p["addr"]) if p["addr"] in i2c.scan() else None
    if role == "buzzer":
        return outputs.Buzzer(_pwm(machine, p))
    if role == "button":  # pins without internal pull-ups (GPIO34-39) rely on the board's external one
        pin = Pin(p["pin"], Pin.IN, Pin.PULL_UP) if p["pull_up"] else Pin(p["pin"], Pin.IN)
        b = sensors.PinButton(pin, p["active_low"])
        if p.get("wake"):
            # only a wake source's button carries `wake` (acu.power reads it with getattr): one more attribute on
            # every button tips the start-up heap from ROM (tests/host/test_romfs.py) over its limit
            setattr(b, "wake", True)  # noqa: B010 (mypy: PinButton declares no `wake`)
        return b
    return sensors.BatteryAdc(_adc(machine, p), p["ratio"], 1)  # battery


def _adc(machine, p):
    # "11dB" -> machine.ADC.ATTN_11DB, "2.5dB" -> ATTN_2_5DB
    atten = getattr(machine.ADC, "ATTN_" + p["atten"].upper().replace(".", "_"))
    return machine.ADC(machine.Pin(p["adc_pin"]), atten=atten)


def _pwm(machine, p):
    return machine.PWM(machine.Pin(p["pin"]), freq=p["pwm_hz"], duty_u16=0)
