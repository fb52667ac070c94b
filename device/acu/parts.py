# Drivers built from a board's PARTS entries: the wiring code every board module shares. Each board keeps
# its pins and parts in its own PARTS dict (the one place that knows them) and calls these to build them.
# Like the drivers, this module talks to `machine`; logic modules never do. `machine` is imported when a
# board is built (not at import), so the module follows whatever `machine` is installed then (tests fake it).
# acu.rgbled and acu.hx711 are imported only when a board builds one: a board loads only the drivers it wires.
from acu import outputs, sensors

# the measuring resistor fitted for each divider sensor (docs/hardware.md)
FSR_R_M_OHM = {"fsr402": 470, "fsr406": 470, "a201": 22000}


def fsr(p, s, clock, board):
    """FSR 402/406 or FlexiForce A201 divider on an ADC1 pin; settings may choose the sensor kind,
    pulse power and oversampling."""
    import machine
    kind = s.get("sensor", p["kind"])
    if kind not in FSR_R_M_OHM:
        raise ValueError("%s: sensor must be fsr402, fsr406 or a201" % board)
    power = None
    if s.get("pulse_power", False):
        power = machine.Pin(p["power_pin"], machine.Pin.OUT, value=0)
    adc = machine.ADC(machine.Pin(p["adc_pin"]), atten=machine.ADC.ATTN_11DB)
    return sensors.FsrAdc(adc, kind=kind, oversample=s.get("oversample", 8), power_pin=power, clock=clock,
                  r_m_ohm=FSR_R_M_OHM[kind])


def hx711(p, clock):
    import machine
    from acu import hx711
    dout = machine.Pin(p["dout_pin"], machine.Pin.IN, machine.Pin.PULL_UP)
    sck = machine.Pin(p["sck_pin"], machine.Pin.OUT, value=0)
    return hx711.Hx711(dout, sck, gain=p["gain"], clock=clock)


def pwm_led(p):
    import machine
    return outputs.PwmLed(machine.PWM(machine.Pin(p["pin"]), freq=p["pwm_hz"], duty_u16=0))


def neopixel_led(p, s):
    import machine
    import neopixel
    from acu import rgbled
    np = neopixel.NeoPixel(machine.Pin(s.get("pixel_pin", p["pin"]), machine.Pin.OUT), 1)
    return rgbled.NeoPixelLed(np, 0, s.get("pixel_max", p["max_level"]))


def erm_motor(p, s, clock):
    import machine
    pwm = machine.PWM(machine.Pin(p["pin"]), freq=p["pwm_hz"], duty_u16=0)
    return outputs.ErmMotor(pwm, clock, kick_ms=s.get("motor_kick_ms", 40))


def drv2605(p, s):
    """The DRV2605L when settings allow it and it answers on I2C, else None."""
    import machine
    if not s.get("haptic", True):
        return None
    i2c = machine.I2C(0, scl=machine.Pin(p["scl"]), sda=machine.Pin(p["sda"]), freq=400000)
    if p["addr"] in i2c.scan():
        return outputs.Drv2605(i2c, p["addr"])
    return None


def buzzer(p, s):
    import machine
    if not s.get("buzzer", False):
        return None
    return outputs.Buzzer(machine.PWM(machine.Pin(p["pin"]), freq=2000, duty_u16=0))


def button(p):
    import machine
    # pins without internal pull-ups (GPIO34-39) rely on the board's external one
    if p.get("pull_up", True):
        return sensors.PinButton(machine.Pin(p["pin"], machine.Pin.IN, machine.Pin.PULL_UP))
    return sensors.PinButton(machine.Pin(p["pin"], machine.Pin.IN))


def battery(p, s):
    import machine
    if not s.get("battery", True):
        return None
    adc = machine.ADC(machine.Pin(p["adc_pin"]), atten=machine.ADC.ATTN_11DB)
    return sensors.BatteryAdc(adc, p["ratio"], 1)
