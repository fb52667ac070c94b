# The serial console as the running app sees it: the same USB-serial link the REPL uses (sys.stdin and
# sys.stdout on every MicroPython port, the simulator's pty included). The live link (acu.link) reads the
# host's requests from it between loop iterations and writes its frames to it. A host's Ctrl-C never
# arrives here: the port's console driver turns it into KeyboardInterrupt, so mpremote, ampy and deploys
# interrupt the app exactly as before.
import sys

import select


class StdioConsole:
    """read_byte() -> 0..255, or -1 when nothing is waiting (never blocks); write(buf, n) the first n bytes.
    Both are allocation-free on MicroPython (the loop calls them every iteration)."""

    def __init__(self):
        self._poll = select.poll()
        self._poll.register(sys.stdin, select.POLLIN)
        self._ready = getattr(self._poll, "ipoll", self._poll.poll)  # ipoll: MicroPython's allocation-free poll
        self._in = sys.stdin.buffer
        self._out = sys.stdout.buffer
        self._one = bytearray(1)
        self._mp = sys.implementation.name == "micropython"

    def read_byte(self):
        for _ in self._ready(0):
            if self._in.readinto(self._one):
                return self._one[0]
            return -1  # end of input (the host side closed): nothing to read
        return -1

    def write(self, buf, n):
        if self._mp:
            self._out.write(buf, n)  # a stream's write(buf, max_len): no slice object
        else:  # CPython (tools that drive the app on a terminal)
            self._out.write(memoryview(buf)[:n])
            self._out.flush()
