"""A session's first code refused for want of heap before any of it ran (the stopped app's heap in holes:
tests/integration/test_session_heap.py shows it on the simulator) is run again once on a fresh heap, after a
soft reset into the raw REPL; nothing else is ever run twice."""

import pytest

from host_tools import session as S
from host_tools.errors import DeviceError

REFUSED = (b"", b"MemoryError: memory allocation failed, allocating 1280 bytes\r\n")
RAN_OUT = (b"", b'Traceback (most recent call last):\r\n  File "<stdin>", line 2, in <module>\r\n'
                b"MemoryError: memory allocation failed, allocating 40000 bytes\r\n")
OK = (b"done\r\n", b"")


class _Serial:
    timeout = 1.0


class _Board:
    """Answers each exec from a script of (out, err) pairs; records the soft resets between them."""

    def __init__(self, answers):
        self.serial = _Serial()
        self.answers = list(answers)
        self.log = []

    def enter_raw_repl(self, soft_reset=False, timeout_overall=None):
        if soft_reset:
            self.log.append("reset")

    def exec_raw(self, code, timeout=None):
        self.log.append(code)
        return self.answers.pop(0)


def _session(answers):
    board = _Board(answers)
    return S.DeviceSession("/dev/fake", transport=board), board


def test_a_first_code_refused_before_it_ran_runs_again_on_a_fresh_heap():
    s, board = _session([REFUSED, OK])
    assert s.exec("x = 1\n") == "done\r\n"
    assert board.log == ["x = 1\n", "reset", "x = 1\n"]


def test_refused_again_on_a_fresh_heap_is_one_clear_error():
    s, board = _session([REFUSED, REFUSED])
    with pytest.raises(DeviceError, match="MemoryError"):
        s.exec("x = 1\n")
    assert board.log.count("reset") == 1


@pytest.mark.parametrize("answer", [RAN_OUT, (b"partial\r\n", REFUSED[1])])
def test_code_that_ran_is_never_run_twice(answer):
    s, board = _session([answer])
    with pytest.raises(DeviceError, match="MemoryError"):
        s.exec("write_something()\n")
    assert board.log == ["write_something()\n"]


def test_after_the_sessions_first_code_ran_nothing_is_reset_behind_it():
    # the session may hold names of its own (an open upload's file): a reset would drop them
    s, board = _session([OK, REFUSED])
    s.exec("f = open('/x.tmp', 'wb')\n")
    with pytest.raises(DeviceError, match="MemoryError"):
        s.exec("f.write(b'1')\n")
    assert "reset" not in board.log
