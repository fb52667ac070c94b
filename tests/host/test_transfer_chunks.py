"""An upload's code fits a fragmented device heap: every exec that write_file_atomic sends stays under
MAX_UPLOAD_CODE bytes (host_tools/transfer.py says why), and the chunks put the file back together whole."""

import binascii
import hashlib
import re

import pytest

from host_tools import transfer


class _RecordingSession:
    """What the device would receive: the exec'd code, with the writes decoded into a file."""

    def __init__(self):
        self.codes: list[str] = []
        self.files: dict[str, bytes] = {}
        self._open: str | None = None

    def makedirs(self, path):
        pass

    def exec(self, code: str) -> str:
        self.codes.append(code)
        m = re.search(r"open\('([^']+)', 'wb'\)", code)
        if m:
            self._open = m.group(1)
            self.files[self._open] = b""
        m = re.search(r"a2b_base64\('([^']*)'\)", code)
        if m:
            self.files[self._open] += binascii.a2b_base64(m.group(1))
        return ""

    def sha256(self, path):
        return hashlib.sha256(self.files[path]).hexdigest()

    def rename(self, src, dst):
        self.files[dst] = self.files.pop(src)


@pytest.mark.parametrize("size", [0, 1, transfer.UPLOAD_CHUNK - 1, transfer.UPLOAD_CHUNK,
                                  3 * transfer.UPLOAD_CHUNK + 5, 70_000])
def test_every_upload_exec_fits_in_two_kilobytes(size):
    data = bytes((i * 131 + 7) & 0xFF for i in range(size))
    s = _RecordingSession()
    transfer.write_file_atomic(s, "/routines/a-rather-long-routine-name-for-the-path.json", data)
    assert s.files == {"/routines/a-rather-long-routine-name-for-the-path.json": data}
    longest = max(len(c.encode()) for c in s.codes)
    assert longest <= transfer.MAX_UPLOAD_CODE, longest
