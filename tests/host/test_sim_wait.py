# sim profile's waiting (SimControl.wait_played) on a scripted launcher status: it follows the board's virtual
# clock from the note the board wrote when it took the script, and stops in one line when things go wrong.
import pytest

from host_tools.errors import AcuError
from host_tools.sim import control


class Scripted(control.SimControl):
    """A SimControl whose launcher answers `status` from a list (the last answer repeats)."""

    def __init__(self, answers, speed=60.0):
        super().__init__({"speed": speed, "port": "/dev/null"})
        self.answers = list(answers)
        self.progress = []

    def status(self):
        a = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(a, Exception):
            raise a
        return dict(a)


def st(t_ms, taken=1, starts=(1000,), boot=3, **kw):
    d = {"ok": True, "boot": boot, "running": True, "power_off": False, "at_repl": False, "t_ms": t_ms,
         "hand_sent": 1, "hand_taken": taken, "hand_t_ms": list(starts)}
    d.update(kw)
    return d


TICKET = {"boot": 3, "hand_seq": 1, "duration_ms": 5000}


def wait(sim, ticket=TICKET, **kw):
    kw.setdefault("timeout_s", 5)
    return sim.wait_played(ticket, poll_s=0, progress=lambda d, t: sim.progress.append((d, t)), **kw)


def test_waits_for_the_virtual_end_from_the_boards_note():
    sim = Scripted([st(900, taken=0, starts=()), st(1200), st(4000), st(5999), st(6000)])
    r = wait(sim)
    assert r == {"start_ms": 1000, "end_ms": 6000, "boot": 3}
    assert sim.progress == [(200, 5000), (3000, 5000), (4999, 5000), (5000, 5000)]


def test_the_start_is_this_scripts_note_not_an_earlier_one():
    sim = Scripted([st(30000, taken=2, starts=(1000, 20000)), st(25000, taken=2, starts=(1000, 20000))])
    r = wait(sim, {"boot": 3, "hand_seq": 2, "duration_ms": 5000})
    assert r["start_ms"] == 20000 and r["end_ms"] == 25000


def test_the_virtual_clock_wraps_like_ticks_ms():
    top = (1 << 30) - 500
    sim = Scripted([st(top, starts=(top,)), st(4500, starts=(top,))])
    assert wait(sim)["end_ms"] == 4500


@pytest.mark.parametrize("answer, says", [
    (AcuError("simulator control failed: [Errno 2]"), "the simulator stopped before the profile ended"),
    (st(2000, power_off=True, running=False), "the power was cut before the profile ended"),
    (st(2000, boot=4, taken=0, starts=()), "the board reset (boot 3, now 4) before the profile ended"),
    (st(2000, taken=2, starts=(1000, 1500)), "another press or profile replaced this one"),
])
def test_what_ends_the_wait_is_one_line(answer, says):
    sim = Scripted([st(1500), answer])
    with pytest.raises(AcuError) as e:
        wait(sim)
    assert says in str(e.value) and "\n" not in str(e.value)


def test_a_board_at_its_repl_that_never_takes_the_script_times_out_saying_why():
    sim = Scripted([st(900, taken=0, starts=(), at_repl=True)])
    with pytest.raises(AcuError) as e:
        wait(sim, timeout_s=0)
    assert "has not taken the profile" in str(e.value) and "REPL" in str(e.value)


def test_no_progress_times_out():
    sim = Scripted([st(2000)])
    with pytest.raises(AcuError) as e:
        wait(sim, timeout_s=0)
    assert "did not finish within 0 s (virtual time 1.0 s of 5.0 s)" in str(e.value)


def test_the_script_lasts_until_its_last_button_is_released():
    segs = [(1000, -1, 4000, 0), (2000, 4000, 4000, 0)]
    assert control.script_ms(segs) == 3000
    assert control.script_ms(segs, [(0, "short")]) == 3000
    assert control.script_ms(segs, [(2500, "long")]) == 4000  # held 1.5 s
    assert control.script_ms([], [(0, "double")]) == 350


def test_the_default_timeout_follows_duration_and_speed():
    # twice the script's real duration at --speed, plus 15 s; --speed 0 (as fast as possible) counts as x1
    assert control.wait_timeout_s(5000, 2.0) == 20.0
    assert control.wait_timeout_s(390000, 60.0) == 28.0
    assert control.wait_timeout_s(5000, 0.0) == 25.0
