# A fake board for the tests that drive a whole App (test_app.py, test_link.py, test_app_creep.py), on both
# interpreters: parts that keep what the app did in plain attributes (never allocating, so heap_lock proofs
# hold), a private flash root, the settings, the app built on them.
import json
import os

from mpcompat import FakeClock

from acu import app as app_mod
from acu import calib
from acu import routine as R
from acu.hw import Hardware

SETTINGS = {"feedback": "both", "intensity_pct": 100, "loop_hz": 200, "too_hard_g": 7000, "contact_g": 300,
            "free_sessions": True}

_N = [0]


class Sensor:
    """An FSR whose raw reading (and fault code) the test sets."""

    kind = "fsr402"

    def __init__(self):
        self.raw = 0
        self.fault_code = 0

    def read_raw(self):
        return self.raw

    def fault(self):
        return self.fault_code


class Out:
    """An LED, motor, RGB LED or buzzer: its last level (rgb: r, g, b; buzzer: hz) and how often it was set."""

    def __init__(self):
        self.level = 0
        self.rgb_g = 0
        self.hz = 0
        self.sets = 0

    def set(self, level, g=0, b=0):
        self.level = level
        self.rgb_g = g
        self.sets += 1

    def tone(self, hz, level):
        self.hz = hz
        self.level = level
        self.sets += 1


class Button:
    def __init__(self):
        self.down = False

    def pressed(self):
        return self.down


class Battery:
    def __init__(self, mv=3900):
        self.mv = mv

    def read_mv(self):
        return self.mv


def flash_root():
    """A fresh, empty directory standing for the board's flash: /cfg, /routines and /log in it. (The name's
    id() is the same in every run of a fresh MicroPython heap: a folder an earlier run left is skipped, never
    reused with its files.)"""
    while True:
        _N[0] += 1
        d = "/tmp/acu_fakeboard_%d_%d" % (id(_N) & 0xFFFFFF, _N[0])
        try:
            os.mkdir(d)
            break
        except OSError:
            pass
    for p in (d + "/cfg", d + "/routines", d + "/log"):
        os.mkdir(p)
    return d


def settings(**changes):
    s = dict(SETTINGS)
    s.update(changes)
    return s


def board(clock, sensor, outputs=False):
    """The Hardware: the sensor and, with outputs, an LED, a motor, an RGB LED, a buzzer, a button and a
    battery (else none of them)."""
    if not outputs:
        return Hardware("test", clock, sensor, calib.nominal("fsr402"), unique_id=b"\x01\x02")
    return Hardware("test", clock, sensor, calib.nominal("fsr402"), unique_id=b"\x01\x02", led=Out(), rgb=Out(),
                    motor=Out(), buzzer=Out(), button=Button(), battery=Battery())


def make_app(routine=None, console=None, outputs=False, boot_count=7, boot_id=0, **changes):
    """(app, clock, sensor): an App started on a fake board whose flash holds routine (a routine dict,
    selected) or none; console: the live link's fake console, or None for no link; boot_id: the boot's id."""
    import gc
    gc.collect()  # the unix-port runner shares one heap across test files: start from a collected one
    root = flash_root()
    if routine is not None:
        with open(root + R.ROOT + "/%s.json" % routine["name"], "w") as f:
            f.write(json.dumps(routine))
        with open(root + R.SELECTED_PATH, "w") as f:
            f.write(routine["name"])
    clock = FakeClock(1000)
    sensor = Sensor()
    app = app_mod.App(board(clock, sensor, outputs), settings(**changes), boot_count, root, console=console,
                      boot_id=boot_id)
    app.start()
    return app, clock, sensor


def raw_for(app, grams):
    """The raw reading the app's calibration turns into grams."""
    lo, hi = 0, 65535
    while lo < hi:
        mid = (lo + hi) // 2
        if app.cal.grams(mid) < grams:
            lo = mid + 1
        else:
            hi = mid
    return lo
