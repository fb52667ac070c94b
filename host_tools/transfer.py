"""Verified file transfer over the raw REPL: the download and the atomic upload behind DeviceSession.read_file
and DeviceSession.write_file_atomic (host_tools/session.py). Like host_tools/link.py for the live link, this is
a layer of the transport that only the session uses; everything else asks the session.

Why not mpremote's own file helpers (Transport.fs_readfile, fs_writefile, fs_hashfile, fs_stat, fs_listdir,
what `mpremote cp` runs):
- **Downloads**: fs_readfile asks for 256 bytes per round trip and gets each chunk back as repr() text that
  the host evaluates as a Python literal. Here one exec streams the file's raw bytes after a header with its
  length and ends with the device's sha256 of the whole file, checked on the host; a download can also
  go on from bytes the host already holds (`have`). On a USB-serial bridge each round trip costs its
  latency timer: `make bench` measures the difference (transfer_ratio_vs_mpremote_cp).
- **Uploads**: fs_writefile writes the file in place, so a power cut or a pulled cable leaves a torn file.
  Here the data goes to <path>.tmp, its sha256 is checked on the device (and, optionally, the firmware's
  own validator runs on it), and only then is it renamed over the old file (atomic on LittleFS).
- **Answers**: mpremote evaluates its listing and stat answers as Python literals too. Nothing from a device
  is evaluated on the host (docs/reliability.md): our calls answer in JSON.
- **Timeouts**: mpremote's Transport.exec waits a fixed 10 s; the session's own timeout is what notices a
  pulled cable or a power cut within a second or two.
"""

from __future__ import annotations

import binascii
import hashlib
import time

import serial
from mpremote.transport import TransportError

from host_tools import holdpoint
from host_tools.errors import DeviceError, LinkError, device_error

# Raw bytes per exec when writing a file. The device holds each exec's code whole, in a buffer that grows by
# doubling, and compiles it with the base64 text as one string constant: 2048 bytes made ~2.8 KB of code and
# a 4097-byte buffer, which a running app's fragmented heap refused ("MemoryError ... 4097 bytes", once
# in a CI run). 1024 keeps the code under 2 KB (tests/host/test_transfer_chunks.py); mpremote's fs_writefile
# sends 256.
UPLOAD_CHUNK = 1024
MAX_UPLOAD_CODE = 2047     # the code of one upload exec, in bytes (its buffer, NUL included, is <= 2 KB)
DOWNLOAD_CHUNK = 4096      # bytes the device reads per readinto when streaming a file out
DOWNLOAD_SMALL = 256       # the same, when the device's heap has no free block of DOWNLOAD_CHUNK bytes

# Runs on the device: stream a file as one header line, the raw bytes, then its sha256.
# Raw bytes are safe in this direction (device -> host output is 8-bit clean on USB-serial and
# on the simulator's pty); the host reads exactly `size` bytes, so no byte value is special.
READ_CODE = """\
import os, sys, hashlib, binascii
def _acu_rd(p, off):
    sz = os.stat(p)[6]
    h = hashlib.sha256()
    try:
        buf = bytearray(%d)
    except MemoryError:  # a heap a practice left in holes: smaller reads, the same bytes
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
""" % (DOWNLOAD_CHUNK, DOWNLOAD_SMALL)


def read_file(t, port: str, timeout_s: float, path: str, progress=None, have: bytes = b"") -> bytes:
    """Download a file: one exec streams it; its length and sha256 are checked here. `have`: the
    file's first bytes as the host already holds them; only the rest crosses the link, and the
    device's sha256 of the whole file checks both parts. t: the session's mpremote SerialTransport, in
    the raw REPL; timeout_s: how long the link may stay silent."""
    try:
        t.exec_raw_no_follow(READ_CODE + "_acu_rd(%r, %d)\n" % (path, len(have)))
        header = _read_line_or_eof(t.serial, port, timeout_s)
        if b"ACUX " not in header:
            # no header: the code failed; what follows the first EOF is the traceback
            err = b""
            if header.endswith(b"\x04"):
                err = t.read_until(1, b"\x04", timeout=timeout_s)
            else:
                _, err = t.follow(timeout_s)
            msg = err.decode(errors="replace")
            if "ENOENT" in msg:
                raise DeviceError("device: cannot read %s: no such file" % path)
            raise device_error(msg)
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
                holdpoint.reached("transfer.read")
                if progress:
                    progress(len(data), size)
            tail = t.read_until(1, b"\n", timeout=timeout_s)  # the newline after the data
            tail = t.read_until(1, b"\n", timeout=timeout_s)
            rest, err = t.follow(timeout_s)
        else:
            rest, err = t.follow(timeout_s)
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
            raise device_error(err.decode(errors="replace"))
    except TransportError as e:
        raise LinkError("download of %s failed: %s (link lost?)" % (path, e)) from None
    except (serial.SerialException, OSError) as e:
        raise LinkError("link to %s lost: %s" % (port, e)) from None
    digest = tail.strip().lstrip(b"#").decode(errors="replace")
    if len(data) != size:
        raise LinkError("download of %s is %d bytes, expected %d" % (path, len(data), size))
    if hashlib.sha256(data).hexdigest() != digest:
        raise LinkError("download of %s failed its sha256 check" % path)
    return bytes(data)


def _read_line_or_eof(ser, port: str, timeout_s: float) -> bytes:
    """Bytes up to a newline, or up to the raw REPL's EOF marker (0x04) when the code failed early."""
    buf = bytearray()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        c = ser.read(1)
        if not c:
            continue
        buf += c
        if c in (b"\n", b"\x04"):
            return bytes(buf)
    raise LinkError("no answer from %s: cable unplugged or board busy?" % port)


def write_file_atomic(session, path: str, data: bytes, check: tuple[str, str] | None = None, progress=None):
    """Write path so that it is either the old or the new complete file, never a mix.

    The data goes to path.tmp, its sha256 is verified on the device, the optional
    check=(module, func) runs on the tmp file (raising to refuse it), then it is renamed over path.
    session: the DeviceSession (its exec, sha256, call, rename and makedirs).
    """
    tmp = path + ".tmp"
    parent = path.rsplit("/", 1)[0]
    if parent:
        session.makedirs(parent)
    session.exec("import binascii\n_acu_f = open(%r, 'wb')\n" % tmp)
    try:
        for i in range(0, len(data), UPLOAD_CHUNK):
            chunk = binascii.b2a_base64(data[i:i + UPLOAD_CHUNK], newline=False).decode()
            session.exec("_acu_f.write(binascii.a2b_base64(%r))\n" % chunk)
            if progress:
                progress(min(i + UPLOAD_CHUNK, len(data)), len(data))
        session.exec("_acu_f.close()\n")
        digest = session.sha256(tmp)
        if digest != hashlib.sha256(data).hexdigest():
            raise LinkError("upload of %s failed its sha256 check; the old file is kept" % path)
        if check:
            session.call(check[0], check[1], tmp)
        session.rename(tmp, path)
    except BaseException:
        try:
            session.exec("import os\ntry:\n _acu_f.close()\nexcept Exception:\n pass\n"
                         "try:\n os.remove(%r)\nexcept OSError:\n pass\n" % tmp)
        except Exception:
            pass
        raise
