"""For the routine and programme tests (test_routines, test_programmes, test_docfiles): a fake device whose
flash is a temporary folder and whose calls run the real device functions (acu.routine_parse,
acu.programme_parse) on it, writing a document to a file, and running a command's handlers as acutrainer
does."""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import pytest

from host_tools import programmes as PR
from host_tools import routines as RT
from host_tools.errors import DeviceError, LinkError

RP = RT.RP
PP = PR.PP

# what FakeSession.fail_upload can be, and what an upload then raises: the link drops half-way (the sha256
# check fails), or the device's check refuses the file (an older firmware)
UPLOAD_FAILURES = (("cut", LinkError), ("old-firmware", DeviceError))


class FakeSession:
    """Same method names as host_tools.session.DeviceSession; the flash is a temp dir. calls records every
    call into the device as (module, function, args)."""

    def __init__(self, root: Path):
        self.root = root
        for d in ("routines", "cfg"):
            (root / d).mkdir(parents=True, exist_ok=True)
        self.fail_upload: str | None = None
        self.calls: list[tuple] = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def _p(self, path: str) -> str:
        assert path.startswith("/") and ".." not in path
        return str(self.root) + path

    def exists(self, path):
        return os.path.exists(self._p(path))

    def read_file(self, path):
        return Path(self._p(path)).read_bytes()

    def remove(self, path):
        os.remove(self._p(path))

    def makedirs(self, path):
        os.makedirs(self._p(path), exist_ok=True)

    def write_file_atomic(self, path, data, check=None):
        tmp = path + ".tmp"
        Path(self._p(tmp)).write_bytes(data[: len(data) // 2] if self.fail_upload == "cut" else data)
        try:
            if self.fail_upload == "cut":
                raise LinkError("upload of %s failed its sha256 check; the old file is kept" % path)
            if check:
                self.call(check[0], check[1], tmp)
            os.rename(self._p(tmp), self._p(path))
        except BaseException:
            os.remove(self._p(tmp))
            raise

    def call(self, module, func, *args):
        self.calls.append((module, func, args))
        try:
            if module == "acu.routine_parse":
                return self._routine_parse(func, args)
            if module == "acu.programme_parse":
                return self._programme_parse(func, args)
        except ValueError as e:   # as the real session reports the device's refusals
            raise DeviceError("device: %s" % e) from None
        raise AssertionError("unexpected call %s.%s" % (module, func))

    def _routine_parse(self, func, args):
        routines = str(self.root / "routines")
        if func == "list_routines":
            return RP.list_routines(routines)
        if func == "selected":
            return RP.selected(str(self.root / "cfg" / "selected"))
        if func == "load":
            return json.loads(json.dumps(RP.load(args[0], routines)))
        if func == "check_file":
            if self.fail_upload == "old-firmware":
                raise ValueError("routine %s: version 1 not supported (this firmware reads version 0)" % args[0])
            return RP.check_file(self._p(args[0]))
        raise AssertionError("unexpected call acu.routine_parse.%s" % func)

    def _programme_parse(self, func, args):
        root = str(self.root)
        if func == "check_file":
            if self.fail_upload == "old-firmware":
                raise ValueError("programme x: version 1 not supported (this firmware reads version 0)")
            return PP.check_file(self._p(args[0]), root + "/routines")
        if func == "list_programmes":
            return PP.list_programmes(root + "/programmes")
        if func == "enrol":
            return json.loads(json.dumps(PP.enrol(*args, root=root)))
        if func == "summary":
            return json.loads(json.dumps(PP.summary(None, root)))
        if func == "leave":
            return PP.leave(root)
        raise AssertionError("unexpected call acu.programme_parse.%s" % func)


def assert_upload_failures_raise(s: FakeSession, push):
    """push() under each of UPLOAD_FAILURES raises what that failure raises; uploads work again after."""
    for mode, exc in UPLOAD_FAILURES:
        s.fail_upload = mode
        with pytest.raises(exc):
            push()
    s.fail_upload = None


def write(folder: Path, d: dict | str, name: str = "r.json") -> Path:
    """d as the file folder/name: a dict as JSON, a str as it is."""
    p = folder / name
    p.write_text(json.dumps(d) if not isinstance(d, str) else d)
    return p


def run_command(cmd, argv: list[str], monkeypatch, session: FakeSession | None = None) -> int:
    """argv through the parser that cmd (a host_tools.commands module) registers, into its handler;
    session is the device the handlers open."""
    if session is not None:
        monkeypatch.setattr(cmd, "_open", lambda args: session)
    ap = argparse.ArgumentParser()
    cmd.register(ap.add_subparsers())
    args = ap.parse_args(argv)
    return args.func(args)
