"""Files the host writes for the user (exports, reports): an output folder checked before anything is
written, and each file written whole or not at all. A file appears under its name only once it is complete
(written to a private temporary name beside it, flushed, then renamed), so a full disk or an interrupted
export never leaves a truncated CSV or a 0-byte PNG that looks finished; a failure is one line naming the
file and the reason, and the temporary file is removed.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from host_tools.errors import AcuError, InputError


def out_dir(path, option: str = "--out") -> Path:
    """The output folder, created if needed; InputError/AcuError in one line if it cannot be."""
    if path is None or not str(path).strip():
        raise InputError("%s is empty: name an output folder" % option)
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise InputError("%s: %s is a file, not a folder" % (option, p))
    try:
        p.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as e:
        raise AcuError("%s: cannot create the folder %s (%s)" % (option, p, e.strerror or e)) from None
    if not os.access(p, os.W_OK | os.X_OK):
        raise AcuError("%s: the folder %s is not writable" % (option, p))
    return p


def write_atomic(path: Path, data: bytes) -> None:
    """path holds data, complete (0600), or is left as it was. Never follows a symlink planted at path:
    the rename replaces the link itself."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix="." + path.name + ".", suffix=".tmp", dir=str(path.parent))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise AcuError("%s: cannot write (%s); nothing was left half-written" % (path, e.strerror or e)) from None
