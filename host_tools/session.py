"""The one module that talks to a board (or the simulator) over its serial link.

Built on mpremote's SerialTransport (raw REPL and raw-paste mode). Everything else in host_tools calls
these methods and gets plain values back, or one of host_tools.errors' exceptions with a one-line
message. Opening a session interrupts the firmware's app (Ctrl-C, as every MicroPython tool does);
closing it restarts the app with a soft reset unless asked not to.
"""

from __future__ import annotations

import binascii
import hashlib
import json
import time

import serial
from mpremote.transport import TransportError, TransportExecError
from mpremote.transport_serial import SerialTransport

from host_tools.errors import DeviceError, LinkError
from host_tools.ports import find_port

UPLOAD_CHUNK = 2048        # raw bytes per exec when writing a file: small enough for a fragmented heap
DOWNLOAD_CHUNK = 4096      # bytes the device reads per readinto when streaming a file out

# Runs on the device: stream a file as one header line, the raw bytes, then its sha256.
# Raw bytes are safe in this direction (device -> host output is 8-bit clean on USB-serial and
# on the simulator's pty); the host reads exactly `size` bytes, so no byte value is special.
_READ_CODE = """\
import os, sys, hashlib, binascii
def _acu_rd(p, off):
    sz = os.stat(p)[6]
    h = hashlib.sha256()
    buf = bytearray(%d)
    mv = memoryview(buf)
    out = sys.stdout.buffer if hasattr(sys.stdout, 'buffer') else None
    if off > sz:
        raise ValueError('%%s is %%d bytes, shorter than the %%d the host holds' %% (p, sz, off))
    with open(p, 'rb') as f:
        left = off  # the host holds these bytes: hash them, send the rest (the hash covers the whole file)
        while left > 0:
            k = f.readinto(mv[:min(left, len(buf))])
            if not k:
                break
            h.update(mv[:k])
            left -= k
        sys.stdout.write('ACUX %%d %%d %%s\\n' %% (sz, off, 'B' if out else 'A'))
        while True:
            k = f.readinto(buf)
            if not k:
                break
            h.update(mv[:k])
            if out:
                out.write(mv[:k])
            else:
                sys.stdout.write(binascii.b2a_base64(mv[:k]))
    sys.stdout.write('\\n#' + binascii.hexlify(h.digest()).decode() + '\\n')
""" % DOWNLOAD_CHUNK


def _device_error(err: str) -> DeviceError:
    """The last line of a MicroPython traceback is the message worth showing."""
    lines = [ln.strip() for ln in err.strip().splitlines() if ln.strip()]
    last = lines[-1] if lines else "unknown error"
    if last.startswith("ImportError: no module named 'acu"):  # a bare MicroPython or another project's board
        return DeviceError("device: not our firmware (no acu package on the board): "
                           "install it with 'acutrainer deploy'")
    for prefix in ("ValueError: ", "RuntimeError: "):  # our firmware's refusals: the message is enough
        if last.startswith(prefix):
            last = last[len(prefix):]
    return DeviceError("device: " + last)


class DeviceSession:
    def __init__(self, port: str, baud: int = 115200, timeout_s: float = 10.0):
        self.port = port
        self.timeout_s = timeout_s
        self._restart = True
        try:
            self.t = SerialTransport(port, baudrate=baud)
            self.t.serial.timeout = timeout_s  # never block forever on a board that stopped answering
        except TransportError as e:
            raise LinkError("cannot open %s: %s (is another program using it?)" % (port, e)) from None
        except (serial.SerialException, OSError) as e:
            raise LinkError("cannot open %s: %s" % (port, e)) from None
        try:
            self._enter()
        except BaseException:
            # release the port now: the exception's traceback keeps this object alive, and with it an
            # exclusively opened port that the next attempt could not open
            try:
                self.t.close()
            except (serial.SerialException, OSError):
                pass
            raise

    def _enter(self):
        last = None
        for _ in range(3):
            try:
                self.t.enter_raw_repl(soft_reset=False, timeout_overall=self.timeout_s)
                return
            except TransportError as e:
                last = e
                time.sleep(0.2)
            except (serial.SerialException, OSError) as e:
                raise LinkError("link to %s lost: %s" % (self.port, e)) from None
        raise LinkError("could not enter raw REPL on %s (%s): is this a MicroPython board? "
                        "see docs/troubleshooting.md" % (self.port, last))

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

    def close(self, restart: bool = True):
        try:
            if restart:
                self.restart_app()
            else:
                self.t.exit_raw_repl()
        except (TransportError, serial.SerialException, OSError):
            pass
        finally:
            try:
                self.t.close()
            except (serial.SerialException, OSError):
                pass

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
        try:
            out, err = self.t.exec_raw(code, timeout=timeout or self.timeout_s)
        except TransportError as e:
            raise LinkError("no answer from %s (%s): cable unplugged or board busy?" % (self.port, e)) from None
        except (serial.SerialException, OSError) as e:
            raise LinkError("link to %s lost: %s" % (self.port, e)) from None
        if err:
            raise _device_error(err.decode(errors="replace"))
        return out.decode(errors="replace")

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
        """Download a file: one exec streams it; its length and sha256 are checked here. `have`: the
        file's first bytes as the host already holds them; only the rest crosses the link, and the
        device's sha256 of the whole file checks both parts."""
        t = self.t
        try:
            t.exec_raw_no_follow(_READ_CODE + "_acu_rd(%r, %d)\n" % (path, len(have)))
            header = self._read_line_or_eof()
            if b"ACUX " not in header:
                # no header: the code failed; what follows the first EOF is the traceback
                err = b""
                if header.endswith(b"\x04"):
                    err = t.read_until(1, b"\x04", timeout=self.timeout_s)
                else:
                    _, err = t.follow(self.timeout_s)
                msg = err.decode(errors="replace")
                if "ENOENT" in msg:
                    raise DeviceError("device: cannot read %s: no such file" % path)
                raise _device_error(msg)
            _, size_s, _off, mode = header[header.index(b"ACUX "):].decode().split()
            size = int(size_s)
            if mode == "B":
                data = bytearray(have)
                while len(data) < size:
                    chunk = t.serial.read(min(65536, size - len(data)))
                    if not chunk:
                        raise LinkError("download of %s stopped after %d of %d bytes: link lost"
                                        % (path, len(data), size))
                    data += chunk
                    if progress:
                        progress(len(data), size)
                tail = t.read_until(1, b"\n", timeout=self.timeout_s)  # the newline after the data
                tail = t.read_until(1, b"\n", timeout=self.timeout_s)
                rest, err = t.follow(self.timeout_s)
            else:
                rest, err = t.follow(self.timeout_s)
                lines = rest.decode().split("\n")
                data = bytearray(have)
                for ln in lines:
                    if ln.startswith("#"):
                        tail = ln.encode()
                        break
                    if ln.strip():
                        data += binascii.a2b_base64(ln)
                rest = b""
            if err:
                raise _device_error(err.decode(errors="replace"))
        except TransportError as e:
            raise LinkError("download of %s failed: %s (link lost?)" % (path, e)) from None
        except (serial.SerialException, OSError) as e:
            raise LinkError("link to %s lost: %s" % (self.port, e)) from None
        digest = tail.strip().lstrip(b"#").decode(errors="replace")
        if len(data) != size:
            raise LinkError("download of %s is %d bytes, expected %d" % (path, len(data), size))
        if hashlib.sha256(data).hexdigest() != digest:
            raise LinkError("download of %s failed its sha256 check" % path)
        return bytes(data)

    def _read_line_or_eof(self) -> bytes:
        """Bytes up to a newline, or up to the raw REPL's EOF marker (0x04) when the code failed early."""
        buf = bytearray()
        deadline = time.monotonic() + self.timeout_s
        ser = self.t.serial
        while time.monotonic() < deadline:
            c = ser.read(1)
            if not c:
                continue
            buf += c
            if c in (b"\n", b"\x04"):
                return bytes(buf)
        raise LinkError("no answer from %s: cable unplugged or board busy?" % self.port)

    def write_file_atomic(self, path: str, data: bytes, check: tuple[str, str] | None = None, progress=None):
        """Write path so that it is either the old or the new complete file, never a mix.

        The data goes to path.tmp, its sha256 is verified on the device, the optional
        check=(module, func) runs on the tmp file (raising to refuse it), then it is renamed over path.
        """
        tmp = path + ".tmp"
        parent = path.rsplit("/", 1)[0]
        if parent:
            self.makedirs(parent)
        self.exec("import binascii\n_acu_f = open(%r, 'wb')\n" % tmp)
        try:
            for i in range(0, len(data), UPLOAD_CHUNK):
                chunk = binascii.b2a_base64(data[i:i + UPLOAD_CHUNK], newline=False).decode()
                self.exec("_acu_f.write(binascii.a2b_base64(%r))\n" % chunk)
                if progress:
                    progress(min(i + UPLOAD_CHUNK, len(data)), len(data))
            self.exec("_acu_f.close()\n")
            digest = self.sha256(tmp)
            if digest != hashlib.sha256(data).hexdigest():
                raise LinkError("upload of %s failed its sha256 check; the old file is kept" % path)
            if check:
                self.call(check[0], check[1], tmp)
            self.rename(tmp, path)
        except BaseException:
            try:
                self.exec("import os\ntry:\n _acu_f.close()\nexcept Exception:\n pass\n"
                          "try:\n os.remove(%r)\nexcept OSError:\n pass\n" % tmp)
            except Exception:
                pass
            raise


def open_session(port: str | None = None, baud: int = 115200, timeout_s: float = 10.0) -> DeviceSession:
    return DeviceSession(find_port(port), baud=baud, timeout_s=timeout_s)


__all__ = ["DeviceSession", "open_session", "TransportExecError"]
