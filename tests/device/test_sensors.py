# acu.sensors: FSR divider driver (averaging, pulse power, rail faults) and the bit-banged HX711.
import fakemachine
from mpcompat import FakeClock, raises

from acu import hx711, sensors


def _fsr(value, clock, **kw):
    fakemachine.reset()
    fakemachine.adc_values[34] = value
    adc = fakemachine.ADC(fakemachine.Pin(34), atten=fakemachine.ADC.ATTN_11DB)
    return adc, sensors.FsrAdc(adc, clock=clock, **kw)


def test_fsr_averages_oversampled_reads():
    clock = FakeClock(1000)
    adc, s = _fsr(20000, clock, oversample=8)
    assert s.kind == "fsr402"
    assert s.read_raw() == 20000
    assert adc.reads == 8
    assert s.fault() == sensors.FAULT_NONE


class _SeqAdc:
    # returns a repeating sequence, to check the integer average and rounding
    def __init__(self, seq):
        self.seq = seq
        self.i = 0

    def read_u16(self):
        v = self.seq[self.i % len(self.seq)]
        self.i += 1
        return v


def test_fsr_average_rounds():
    s = sensors.FsrAdc(_SeqAdc([1000, 1001, 1001, 1001]), oversample=4, clock=FakeClock())
    assert s.read_raw() == 1001  # 4003 / 4 = 1000.75 -> 1001
    s = sensors.FsrAdc(_SeqAdc([10, 20, 30]), oversample=3, clock=FakeClock())
    assert s.read_raw() == 20


def test_fsr_open_fault_needs_persistence_and_clears():
    clock = FakeClock(0)
    adc, s = _fsr(0, clock)
    s.read_raw()
    assert s.fault() == sensors.FAULT_NONE  # a single rail reading is not a fault
    clock.advance(60)
    s.read_raw()
    assert s.fault() == sensors.FAULT_NONE
    clock.advance(50)
    assert s.read_raw() == 0
    assert s.fault() == sensors.FAULT_OPEN
    fakemachine.adc_values[34] = 4230  # plugged back in, unloaded level (bleed resistor)
    s.read_raw()
    assert s.fault() == sensors.FAULT_NONE


def test_fsr_short_fault():
    clock = FakeClock(5)
    adc, s = _fsr(65535, clock)
    for _ in range(30):
        s.read_raw()
        clock.advance(5)
    assert s.fault() == sensors.FAULT_SHORT


def test_fsr_spike_to_rail_is_not_fault():
    clock = FakeClock(0)
    adc, s = _fsr(30000, clock)
    for i in range(100):
        fakemachine.adc_values[34] = 0 if i % 10 == 0 else 30000  # isolated dropouts
        s.read_raw()
        clock.advance(5)
        assert s.fault() == sensors.FAULT_NONE


def test_fsr_pulse_power_pin_only_high_while_sampling():
    clock = FakeClock()
    fakemachine.reset()
    power = fakemachine.Pin(25, fakemachine.Pin.OUT)
    levels = []

    class _WatchAdc:
        def read_u16(self):
            levels.append(power.level)
            return 12345

    s = sensors.FsrAdc(_WatchAdc(), oversample=4, power_pin=power, clock=clock)
    assert power.level == 0
    assert s.read_raw() == 12345
    assert levels == [1, 1, 1, 1]
    assert power.level == 0


def test_fsr_bad_oversample():
    raises(ValueError, sensors.FsrAdc, _SeqAdc([1]), "fsr402", 0)


def _hx(counts, clock, gain=128):
    fakemachine.reset()
    dev = fakemachine.attach_hx711(16, 17, counts)
    dout = fakemachine.Pin(16, fakemachine.Pin.IN, fakemachine.Pin.PULL_UP)
    sck = fakemachine.Pin(17, fakemachine.Pin.OUT)
    return dev, hx711.Hx711(dout, sck, gain=gain, clock=clock)


def test_hx711_reads_signed_counts_and_gain_pulses():
    clock = FakeClock(100)
    dev, hx = _hx(123456, clock)
    assert hx.kind == "loadcell"
    assert hx.read_raw() == 123456
    assert dev.pulses == 25  # channel A gain 128
    dev.counts = -4242
    dev.ready = True
    assert hx.read_raw() == -4242
    assert hx.fault() == sensors.FAULT_NONE
    dev, hx = _hx(77, clock, gain=64)
    assert hx.read_raw() == 77
    assert dev.pulses == 27


def test_hx711_not_ready_is_non_blocking_then_fault():
    clock = FakeClock(0)
    dev, hx = _hx(5000, clock)
    assert hx.read_raw() == 5000
    # no new conversion: the last value comes back at once
    dev.counts = 9999
    assert hx.read_raw() == 5000
    clock.advance(200)
    assert hx.read_raw() == 5000
    assert hx.fault() == sensors.FAULT_NONE
    clock.advance(100)
    assert hx.fault() == sensors.FAULT_NOT_READY
    dev.ready = True
    assert hx.read_raw() == 9999
    assert hx.fault() == sensors.FAULT_NONE


def test_hx711_saturated_is_short_fault():
    clock = FakeClock(0)
    dev, hx = _hx(0x7FFFFF, clock)
    assert hx.read_raw() == 0x7FFFFF
    assert hx.fault() == sensors.FAULT_SHORT
    dev.counts = -0x800000
    dev.ready = True
    assert hx.read_raw() == -0x800000
    assert hx.fault() == sensors.FAULT_SHORT


def test_hx711_bad_gain():
    fakemachine.reset()
    raises(ValueError, hx711.Hx711, fakemachine.Pin(16), fakemachine.Pin(17), 100, FakeClock())


def test_button_and_battery():
    fakemachine.reset()
    pin = fakemachine.Pin(0, fakemachine.Pin.IN, fakemachine.Pin.PULL_UP)
    b = sensors.PinButton(pin)
    assert not b.pressed()
    pin.level = 0
    assert b.pressed()
    fakemachine.adc_values[35] = 32768  # ~1650 mV at the pin, x2 divider
    bat = sensors.BatteryAdc(fakemachine.ADC(fakemachine.Pin(35)), 2, 1)
    mv = bat.read_mv()
    assert 3290 <= mv <= 3310
