"""Raw REPL sessions opened from several threads at once (the reliability bench's workers, parallel pulls)
leave the process's sys.stdout as it was: mpremote prints when a banner does not come, and the session
catches that print by swapping sys.stdout, which is process-wide."""

import sys
import threading
import time

from mpremote.transport import TransportError

from host_tools import session as S


class _Serial:
    timeout = 1.0


class _SlowBannerTransport:
    """A board whose first banner does not come (mpremote prints what it got), the second one does."""

    def __init__(self):
        self.serial = _Serial()
        self.tries = 0

    def enter_raw_repl(self, soft_reset=False, timeout_overall=None):
        self.tries += 1
        print("b'garbage before the banner'")
        time.sleep(0.02)
        if self.tries == 1:
            raise TransportError("could not enter raw repl")


def test_parallel_sessions_leave_stdout_alone():
    before = sys.stdout
    errors = []

    def open_one():
        try:
            for _ in range(20):
                S.DeviceSession("/dev/fake", transport=_SlowBannerTransport())
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sys.stdout is before
