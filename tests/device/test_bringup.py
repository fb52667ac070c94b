# The live link's `part` request (acu.bringup, docs/protocol.md): the bring-up self-test drives one output
# for a while and gives it back to the feedback, waits for the button (a press already down counts, a
# press starts no practice), reads the battery; refused during a practice, for a part the board lacks and
# for a time out of range. Loaded for the answer only: nothing of it stays in sys.modules.
import sys

import fakeboard
from routine_samples import bedtime
from test_link import Console, answers, loop, request


def make_app(outputs=True, routine=None):
    con = Console()
    app, clock, sensor = fakeboard.make_app(routine, con, outputs=outputs)
    loop(app, clock, 3)
    con.lines()
    return app, con, clock


def ask(app, con, clock, body, rid=1):
    con.feed(request(rid, body))
    loop(app, clock, 2)
    return answers(con)[rid]


class Recorder:
    """An output that keeps every level it was given, with the board's time."""

    def __init__(self, clock):
        self.clock = clock
        self.log = []
        self.level = 0

    def set(self, level, g=0, b=0):
        self.level = level
        self.log.append((self.clock.ticks_ms(), level, g, b))

    def tone(self, hz, level):
        self.set(level, hz)


class TimedButton:
    """A finger on the button: down from down_ms to up_ms of the board's time (up_ms None: held)."""

    def __init__(self, clock, down_ms, up_ms):
        self.clock = clock
        self.down_ms = down_ms
        self.up_ms = up_ms

    def pressed(self):
        t = self.clock.ticks_ms()
        return t >= self.down_ms and (self.up_ms is None or t < self.up_ms)


def test_part_lists_the_boards_parts():
    app, con, clock = make_app()
    kind, got = ask(app, con, clock, "part")
    assert kind == "R"
    assert got == {"parts": ["sensor", "led", "rgb", "motor", "buzzer", "button", "battery"], "sensor": "fsr402"}
    assert "acu.bringup" not in sys.modules


def test_an_output_is_driven_for_its_time_then_given_back_to_the_feedback():
    app, con, clock = make_app()
    motor = Recorder(clock)
    app.hw.motor = app.fb.motor = motor
    t0 = clock.ticks_ms()
    kind, got = ask(app, con, clock, "part motor 800")
    assert kind == "R" and got == {"part": "motor", "ms": 800}
    on = [e for e in motor.log if e[1] == 1023]
    off = [e for e in motor.log if e[1] == 0]
    assert on and off and 800 <= off[0][0] - on[0][0] <= 805   # the loop was held for the time asked
    assert on[0][0] - t0 < 20
    # the next iteration's feedback wrote its own level again (it writes only on change: it was told to forget)
    assert len(off) == 2 and off[1][0] > off[0][0] and motor.level == 0


def test_rgb_buzzer_led_and_battery():
    app, con, clock = make_app()
    rgb = Recorder(clock)
    app.hw.rgb = app.fb.rgb = rgb
    buzzer = Recorder(clock)
    app.hw.buzzer = app.fb.buzzer = buzzer
    assert ask(app, con, clock, "part rgb 0 255 0 100", 1)[0] == "R"
    assert rgb.log[0][1:] == (0, 255, 0) and rgb.log[1][1:] == (0, 0, 0)
    assert ask(app, con, clock, "part buzzer 100", 2)[0] == "R"
    on = [i for i, e in enumerate(buzzer.log) if e[1] == 1023]
    assert on and buzzer.log[on[0]][2] == 2000 and buzzer.log[on[0] + 1][1] == 0
    assert ask(app, con, clock, "part led 50", 3)[1] == {"part": "led", "ms": 50}
    assert ask(app, con, clock, "part battery", 4)[1] == {"mv": 3900}


def test_the_button_wait_reports_a_press_and_its_release():
    app, con, clock = make_app()
    now = clock.ticks_ms()
    app.hw.button = TimedButton(clock, now + 300, now + 450)
    kind, got = ask(app, con, clock, "part button 2000")
    assert kind == "R" and got["pressed_now"] is False
    assert 290 <= got["press_ms"] <= 320 and 140 <= got["held_ms"] <= 160
    assert ticks_diff(clock.ticks_ms(), now) < 600   # answered at the release, not at the end of the wait
    loop(app, clock, 200)
    assert app.runner.state == 0 and not app.log.active    # the press started nothing


def test_a_button_held_at_rest_reads_pressed_and_a_dead_one_is_never_pressed():
    app, con, clock = make_app()
    app.hw.button = TimedButton(clock, 0, None)               # shorted to GND: pressed all the time
    assert ask(app, con, clock, "part button 0", 1)[1] == {"pressed_now": True, "press_ms": None, "held_ms": None}
    app.hw.button = TimedButton(clock, 1 << 29, None)         # an open lead: never pressed
    now = clock.ticks_ms()
    got = ask(app, con, clock, "part button 500", 2)[1]
    assert got["press_ms"] is None and 500 <= ticks_diff(clock.ticks_ms(), now) < 520


def test_refusals():
    app, con, clock = make_app(outputs=False)
    assert ask(app, con, clock, "part motor 100", 1) == ("E", "this board has no motor")
    assert ask(app, con, clock, "part sensor", 2)[0] == "E"
    assert ask(app, con, clock, "part wheel", 3)[0] == "E"
    app, con, clock = make_app()
    assert "0..3000" in ask(app, con, clock, "part motor 5000", 1)[1]
    app, con, clock = make_app(routine=bedtime())
    app.runner.start(clock.ticks_ms())
    loop(app, clock, 2)
    assert ask(app, con, clock, "part motor 100", 2) == ("E", "a practice is running: test the parts when it has "
                                                          "ended")
    assert "acu.bringup" not in sys.modules


def ticks_diff(a, b):
    from acu import ticks
    return ticks.diff(a, b)
