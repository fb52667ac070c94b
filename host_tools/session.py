"""The one module that talks to a board (or the simulator) over its serial link. host_tools/link.py (the live
link) and host_tools/transfer.py (verified file transfer) are layers it uses; nothing else calls them.

A `Connection` opens the port (mpremote's SerialTransport) and first asks the running app over the live
link (host_tools/link.py, docs/protocol.md): read-only commands stay there and never stop a practice.
A command that needs the raw REPL gets a `DeviceSession` from `Connection.repl()`, which refuses in one
line while a practice runs (or waits for its end, or stops it on purpose), then interrupts the app with
Ctrl-C as every MicroPython tool does; closing the session restarts the app with a soft reset unless asked
not to. Everything else in host_tools gets plain values back, or one of host_tools.errors' exceptions with
a one-line message.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import threading
import time

import serial
from mpremote.transport import TransportError
from mpremote.transport_serial import SerialTransport

from host_tools import transfer
from host_tools.errors import AcuError, DeviceError, LinkError, device_error
from host_tools.link import LiveLink
from host_tools.ports import find_port

# contextlib.redirect_stdout swaps the process's sys.stdout: two threads entering raw REPLs at once (the
# reliability bench's parallel workers, a study's parallel pulls) would restore each other's buffers and
# leave sys.stdout a StringIO for good. One at a time.
_REDIRECT_LOCK = threading.Lock()

SILENCE_S = 4.0            # a link that stays silent this long while we wait for an answer is lost
RAW_ENTER_S = 1.5          # a board stops its app and shows the raw REPL's banner well within this


class PortBusy(LinkError):
    """The port exists but another program holds it (ports open exclusively)."""


def _open_transport(port: str, baud: int) -> SerialTransport:
    try:
        return SerialTransport(port, baudrate=baud)
    except (TransportError, serial.SerialException, OSError) as e:
        if os.path.exists(port):
            raise PortBusy("cannot open %s: another program is using it (acutrainer monitor in another "
                           "terminal, mpremote, a serial monitor?): close it and run this again" % port) from None
        raise LinkError("cannot open %s: %s" % (port, e)) from None


def _close_transport(t: SerialTransport):
    try:
        t.close()
    except (serial.SerialException, OSError):
        pass


class PracticeRunning(AcuError):
    """A command needs the raw REPL (which stops the app) while a practice runs."""

    exit_code = 6


def describe_practice(p: dict) -> str:
    """'bedtime, step 3 of 5, 2:10 in' for a practice dict from the live link's hello."""
    el = int(p.get("elapsed_ms") or 0) // 1000
    when = "%d:%02d in" % (el // 60, el % 60)
    if p.get("free"):
        return "a free press (%s)" % when
    return "'%s', step %d of %d, %s" % (p.get("routine"), int(p.get("step", -1)) + 1, int(p.get("steps", 0)), when)


def sim_speed(port: str) -> float:
    """Device ms per real ms on this port: the simulator's --speed, 1 for a board."""
    try:
        from host_tools.sim import control
        name = control.running_port_names().get(port)
        if name:
            st = control.read_state(name) or {}
            return float(st.get("speed") or 1.0) or 1.0
    except (OSError, ValueError, ImportError):
        pass
    return 1.0


class Connection:
    """One open port. `hello` is the running app's answer (None: the board is at its REPL or runs other
    firmware); `live` talks to the app without stopping it; repl() gives a DeviceSession for commands that
    need the raw REPL. Every connection to a running app records a time anchor in the archive."""

    def __init__(self, port: str, baud: int = 115200, timeout_s: float = SILENCE_S, anchor: bool = True):
        self.port = port
        self.baud = baud
        self.timeout_s = timeout_s
        self.t = _open_transport(port, baud)
        self._session: DeviceSession | None = None
        try:
            self.live = LiveLink(self.t.serial, port, sim_speed(port))
            self.hello = self.live.hello()
            if self.hello is not None and anchor:
                record_anchor(self.hello, "connect")
        except BaseException:
            _close_transport(self.t)  # never leave an exclusively opened port behind an error
            raise

    @property
    def app_running(self) -> bool:
        return self.hello is not None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()
        return False

    def close(self):
        if self._session is not None:
            self._session.close(restart=self._session._restart)
            self._session = None
        elif self.app_running and self.live.streaming:
            self.live.stop_stream()
        _close_transport(self.t)

    def practice(self) -> dict | None:
        """The practice running now (asked again), or None."""
        if not self.app_running:
            return None
        self.hello = self.live.hello() or self.hello
        return self.hello.get("practice") if self.hello else None

    def repl(self, practice: str = "refuse", say=None) -> "DeviceSession":
        """The raw REPL, which stops the app. practice: what to do if one is running: 'refuse' (one line,
        PracticeRunning), 'wait' (until it ends; say(text) reports once), 'stop' (end it on purpose)."""
        self.settle_practice(practice, say)
        self._session = DeviceSession(self.port, baud=self.baud, timeout_s=self.timeout_s, transport=self.t)
        return self._session

    def settle_practice(self, practice: str = "refuse", say=None) -> None:
        """Make sure no practice runs before a command that needs the device to itself (see repl())."""
        p = self.practice()
        if p is not None:
            if practice == "stop":
                self.live.request("stop")
                (say or _say)("stopped the practice (%s) on purpose" % describe_practice(p))
            elif practice == "wait":
                (say or _say)("waiting for the practice (%s) to end; Ctrl-C to give up" % describe_practice(p))
                while p is not None:
                    time.sleep(1.0)
                    p = self.practice()
            else:
                raise PracticeRunning("a practice is running on %s (%s): run this when it has ended, or add "
                                      "--wait to wait for it, or --stop to end it now"
                                      % (self.port, describe_practice(p)))

    def start_app(self, timeout_s: float = 20.0) -> dict:
        """Make sure the app runs (a board left at its REPL: soft reset); its hello."""
        if self.hello is not None:
            return self.hello
        s = DeviceSession(self.port, baud=self.baud, timeout_s=self.timeout_s, transport=self.t)
        s.call("acu.api", "version")  # a board without our firmware is named now, not after a wait
        s.restart_app()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.hello = self.live.hello()
            if self.hello is not None:
                record_anchor(self.hello, "connect")
                return self.hello
        raise DeviceError("device: the app did not start on %s (acutrainer doctor says why)" % self.port)


def _say(text: str):
    print("acutrainer: " + text, file=sys.stderr)


def record_anchor(hello: dict, kind: str):
    """(device, boot, ticks) seen at this laptop's time, in the default archive: sessions of this boot
    recorded before the device clock was set get their start time from it. Never stops a command."""
    try:
        dev, boot, ticks = hello.get("device_id"), hello.get("boot_count"), hello.get("ticks_ms")
        if not isinstance(dev, str) or not dev or not isinstance(boot, int) or not isinstance(ticks, int):
            return
        from host_tools.archive import Archive
        with Archive(None) as arc:
            arc.add_anchor(dev, boot, ticks, int(time.time()), kind, hello.get("boot_id"))
    except Exception as e:  # noqa: BLE001 (a full disk or a locked archive must not stop the command)
        _say("note: time anchor not recorded (%s)" % e)


def _never_ran_for_memory(out: bytes, err: bytes) -> bool:
    """The device refused the code before running any of it for want of heap: a MemoryError with no output
    and no traceback (an exception raised while the code runs comes with one) is the compiler's."""
    return not out and err.startswith(b"MemoryError") and b"Traceback" not in err


class DeviceSession:
    """The raw REPL on an open port (from Connection.repl(), or on its own for tools that bypass the
    live link, e.g. the reliability bench)."""

    def __init__(self, port: str, baud: int = 115200, timeout_s: float = SILENCE_S,
                 transport: SerialTransport | None = None):
        self.port = port
        self.timeout_s = timeout_s
        self._restart = True
        self._closed = False
        self._ran = False  # some code of this session ran on the device (it may hold names of its own)
        self.t = transport if transport is not None else _open_transport(port, baud)
        self.t.serial.timeout = timeout_s  # never block forever on a board that stopped answering
        try:
            self._enter()
        except BaseException:
            # release the port now: the exception's traceback keeps this object alive, and with it an
            # exclusively opened port that the next attempt could not open
            _close_transport(self.t)
            raise

    def _enter(self):
        """Ctrl-C, then the raw REPL's banner: two tries of RAW_ENTER_S each. A board that answers nothing at
        all (a pulled cable, a board that is off) is named as such, within seconds."""
        heard = b""
        ser = self.t.serial
        ser.timeout = 0.1  # mpremote reads a pty byte by byte with the port's timeout: keep each read short
        try:
            for _ in range(2):
                out = io.StringIO()
                try:
                    # mpremote prints what it got when the banner does not come: one line from us instead
                    with _REDIRECT_LOCK, contextlib.redirect_stdout(out):
                        self.t.enter_raw_repl(soft_reset=False, timeout_overall=RAW_ENTER_S)
                    return
                except TransportError:
                    heard += out.getvalue().strip().encode()[-200:]
                    time.sleep(0.1)
                except (serial.SerialException, OSError) as e:
                    raise LinkError("link to %s lost: %s" % (self.port, e)) from None
        finally:
            ser.timeout = self.timeout_s
        if heard.strip(b"b'\"") == b"":
            raise LinkError("no answer from %s: the cable is unplugged, or the board is off, asleep (press its "
                            "button) or stuck (see docs/troubleshooting.md)" % self.port)
        raise LinkError("could not enter raw REPL on %s: is this a MicroPython board? "
                        "see docs/troubleshooting.md" % self.port)

    # ---- lifecycle -------------------------------------------------------------------------------
    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        # the app runs again even after a refused command: a device is never left stopped by an error
        self.close(restart=self._restart)
        return False

    def keep_repl(self):
        """Leave the app stopped when this session closes (e.g. for a second command right after)."""
        self._restart = False

    def set_timeout(self, timeout_s: float):
        """How long the link may stay silent from now on (short: a pulled cable or a power cut is noticed
        quickly)."""
        self.timeout_s = timeout_s
        self.t.serial.timeout = timeout_s

    def close(self, restart: bool = True):
        if self._closed:
            return
        self._closed = True
        try:
            if restart:
                self.restart_app()
            else:
                self.t.exit_raw_repl()
        except (TransportError, serial.SerialException, OSError):
            pass
        finally:
            _close_transport(self.t)

    def reset_to_raw_repl(self):
        """Soft-reset the board into the raw REPL, where main.py does not run: the app's objects are gone and
        nothing of the firmware is imported until the host imports it."""
        try:
            self.t.enter_raw_repl(soft_reset=True, timeout_overall=self.timeout_s)
        except TransportError as e:
            raise AcuError("the board did not come back after a soft reset (%s): see docs/troubleshooting.md"
                           % e) from None
        except (serial.SerialException, OSError) as e:
            raise LinkError("link to %s lost: %s" % (self.port, e)) from None

    def restart_app(self):
        """Soft reset from the friendly REPL: the board runs boot.py and main.py again."""
        self.t.exit_raw_repl()
        self.t.read_until(1, b">>> ", timeout=2)
        self.t.serial.write(b"\x04")
        self.t.serial.flush()
        # wait for the reboot to begin: bytes sent to a board while it resets are lost. (The next command's
        # Ctrl-C may land in the app's start-up: it is raised at a safe point there, on a board and in the
        # simulator alike.)
        self.t.read_until(1, b"soft reboot\r\n", timeout=5)

    # ---- code execution ----------------------------------------------------------------------------
    def exec(self, code: str, timeout: float | None = None) -> str:
        out, err = self._exec_raw(code, timeout)
        if not self._ran and _never_ran_for_memory(out, err):
            # The stopped app's heap is in holes: compiling the session's first code needed one bigger block
            # than it has (its new names need the interpreter's next name pool: 1280 entries, 14 KB on the
            # unix port, 9 KB on an ESP32, "MemoryError ... allocating 1280 bytes"). Nothing ran and the
            # session holds nothing yet: a soft reset into the raw REPL (a fresh heap; acu.api rebuilds the
            # app's objects from the flash, without what the stopped app knew only in memory, such as its
            # boot problems) and the same code again, rather than a command that fails.
            self.reset_to_raw_repl()
            out, err = self._exec_raw(code, timeout)
        if not _never_ran_for_memory(out, err):
            self._ran = True
        if err:
            raise device_error(err.decode(errors="replace"))
        return out.decode(errors="replace")

    def _exec_raw(self, code: str, timeout: float | None) -> tuple[bytes, bytes]:
        try:
            return self.t.exec_raw(code, timeout=timeout or self.timeout_s)
        except TransportError as e:
            raise LinkError("no answer from %s (%s): cable unplugged or board busy?" % (self.port, e)) from None
        except (serial.SerialException, OSError) as e:
            raise LinkError("link to %s lost: %s" % (self.port, e)) from None

    def _json_result(self, out: str):
        for line in reversed(out.splitlines()):
            if line.startswith("@@"):
                try:
                    return json.loads(line[2:])
                except ValueError:
                    break
        raise DeviceError("device: unexpected answer %r (an older firmware, or not our firmware?)" % out[-200:])

    def call(self, module: str, func: str, *args, timeout: float | None = None):
        """module.func(*args) on the device; the result comes back as JSON."""
        argtxt = ", ".join(repr(a) for a in args)
        code = "import json, %s as _m\nprint('@@' + json.dumps(_m.%s(%s)))\n" % (module, func, argtxt)
        return self._json_result(self.exec(code, timeout))

    def hw_call(self, expr: str, timeout: float | None = None):
        """Evaluate expr on the device with `hw` bound to the board's Hardware object."""
        code = "import json, acu.api as _a\nhw = _a.hw()\nprint('@@' + json.dumps(%s))\n" % expr
        return self._json_result(self.exec(code, timeout))

    # ---- files -----------------------------------------------------------------------------------
    # Not mpremote's Transport.fs_* helpers: they answer with repr() text evaluated as a literal (nothing
    # from a device is evaluated on the host, docs/reliability.md), wait a fixed 10 s (Transport.exec)
    # where the session's own timeout notices a pulled cable or a power cut, and raise OSError or
    # TransportExecError instead of one-line errors. Each call here is one exec answering JSON;
    # makedirs makes every level in one. The transfers are host_tools/transfer.py (why: its docstring).
    def listdir(self, path: str = "/") -> list[tuple[str, int, bool]]:
        code = ("import os, json\nr = []\ntry:\n for e in os.ilistdir(%r):\n"
                "  r.append((e[0], e[3] if len(e) > 3 else 0, e[1] == 0x4000))\nexcept OSError:\n pass\n"
                "print('@@' + json.dumps(r))\n" % path)
        return [tuple(x) for x in self._json_result(self.exec(code))]

    def exists(self, path: str) -> bool:
        code = "import os\ntry:\n os.stat(%r)\n print('@@true')\nexcept OSError:\n print('@@false')\n" % path
        return self._json_result(self.exec(code))

    def stat_size(self, path: str) -> int | None:
        code = "import os\ntry:\n print('@@%%d' %% os.stat(%r)[6])\nexcept OSError:\n print('@@null')\n" % path
        return self._json_result(self.exec(code))

    def makedirs(self, path: str):
        parts = [p for p in path.split("/") if p]
        code = ("import os\np = ''\nfor d in %r:\n p += '/' + d\n try:\n  os.mkdir(p)\n"
                " except OSError:\n  pass\n" % parts)
        self.exec(code)

    def remove(self, path: str):
        self.exec("import os\nos.remove(%r)\n" % path)

    def rename(self, src: str, dst: str):
        self.exec("import os\nos.rename(%r, %r)\n" % (src, dst))

    def sha256(self, path: str) -> str | None:
        code = ("import os, hashlib, binascii\ntry:\n h = hashlib.sha256()\n b = bytearray(1024)\n"
                " with open(%r, 'rb') as f:\n  while True:\n   n = f.readinto(b)\n   if not n:\n    break\n"
                "   h.update(memoryview(b)[:n])\n print('@@\"%%s\"' %% binascii.hexlify(h.digest()).decode())\n"
                "except OSError:\n print('@@null')\n" % path)
        return self._json_result(self.exec(code))

    def read_file(self, path: str, progress=None, have: bytes = b"") -> bytes:
        """Download a file, its length and sha256 checked (host_tools/transfer.py). `have`: the file's first
        bytes as the host already holds them; only the rest crosses the link."""
        return transfer.read_file(self.t, self.port, self.timeout_s, path, progress=progress, have=have)

    def write_file_atomic(self, path: str, data: bytes, check: tuple[str, str] | None = None, progress=None):
        """Write path so that it is either the old or the new complete file, never a mix: path.tmp, its
        sha256 verified on the device, the optional check=(module, func) run on it (raising to refuse it),
        then renamed over path (host_tools/transfer.py)."""
        transfer.write_file_atomic(self, path, data, check=check, progress=progress)


def connect(port: str | None = None, baud: int = 115200, timeout_s: float = SILENCE_S) -> Connection:
    """The live link to the board on `port` (default: the running simulator or the one board)."""
    return Connection(find_port(port), baud=baud, timeout_s=timeout_s)


def open_session(port: str | None = None, baud: int = 115200, timeout_s: float = SILENCE_S,
                 practice: str = "refuse", say=None) -> DeviceSession:
    """The raw REPL on the board (the app stops; it restarts when the session closes). A running
    practice is refused, waited for or stopped (practice='refuse'|'wait'|'stop'): see Connection.repl."""
    c = connect(port, baud=baud, timeout_s=timeout_s)
    try:
        return c.repl(practice, say=say)
    except BaseException:
        c.close()
        raise


def add_practice_args(p) -> None:
    """--wait / --stop for a command that needs the raw REPL (an argparse parser)."""
    g = p.add_mutually_exclusive_group()
    g.add_argument("--wait", dest="practice", action="store_const", const="wait", default="refuse",
                   help="if a practice is running, wait for it to end first")
    g.add_argument("--stop", dest="practice", action="store_const", const="stop",
                   help="if a practice is running, end it now (logged as stopped from the laptop)")


__all__ = ["Connection", "DeviceSession", "PracticeRunning", "connect", "open_session"]
