"""The project's JSON documents, routine and programme files alike, as the host handles them: read a file,
check its size, decode it and have the device's own parser validate it, every bad file one InputError line
naming the file (``programme my.json: not valid JSON (line 1 column 2: ...)``); the built-in library of each
kind; and the names and paths of the device's copies.

routines.py and programmes.py each describe their kind with one DocKind. The words of every message come
from its noun, so that both kinds report the same problem in the same words.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from host_tools import strictjson
from host_tools.errors import InputError

HOST_TOOLS_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class DocKind:
    """What differs between routine files and programme files (the rest is the same code)."""

    noun: str                           # "routine" or "programme": the first word of every message
    device_parse: Callable[..., Any]    # the device's parse(d, where=...): one validator, host and device
    max_bytes: int                      # the device's limit for one file
    library: str                        # the built-in files' folder below host_tools, as messages name it
    device_root: str                    # the folder the device keeps its copies in
    valid_name: Callable[[str], bool]   # the device's rule for a name (the name is the file name)
    name_max: int                       # the longest name, for the message when valid_name refuses one

    def error(self, source: str | Path, problem: str) -> InputError:
        """One line naming the kind and the file: ``routine my.json: no such file``."""
        return InputError("%s %s: %s" % (self.noun, source, problem))

    # ---- a file on the laptop ------------------------------------------------------------------------

    def check_size(self, size: int, source: str | Path):
        if size > self.max_bytes:
            raise self.error(source, "file is %d bytes, limit %d" % (size, self.max_bytes))

    def read_file(self, path: str | Path) -> bytes:
        p = Path(path)
        try:
            if p.is_dir():
                raise self.error(path, "is a directory, not a %s file" % self.noun)
            self.check_size(p.stat().st_size, path)   # before reading: a huge file is refused unread
            return p.read_bytes()
        except FileNotFoundError:
            raise self.error(path, "no such file") from None
        except PermissionError:
            raise self.error(path, "permission denied") from None

    def load_json(self, data: bytes, source: str) -> Any:
        """File bytes -> the JSON value (strict JSON: host_tools.strictjson), not yet validated."""
        self.check_size(len(data), source)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise self.error(source, "not UTF-8 text (byte %d)" % e.start) from None
        try:
            return strictjson.loads(text)
        except json.JSONDecodeError as e:
            raise self.error(source, "not valid JSON (line %d column %d: %s)" % (e.lineno, e.colno, e.msg)) from None
        except strictjson.StrictJSONError as e:
            raise self.error(source, "not valid JSON (%s)" % e) from None

    def parse_bytes(self, data: bytes, source: str) -> Any:
        """Validate file bytes; source names the file in errors. Returns what the device's parser returns."""
        d = self.load_json(data, source)
        try:
            return self.device_parse(d, where=source)
        except ValueError as e:   # the device's messages name the kind and source already
            raise InputError(str(e)) from None

    # ---- the built-in library ------------------------------------------------------------------------

    @property
    def library_dir(self) -> Path:
        return HOST_TOOLS_DIR / self.library

    def library_names(self) -> list[str]:
        return sorted(f.stem for f in self.library_dir.glob("*.json"))

    def library_file(self, name: str) -> bytes:
        if name not in self.library_names():
            raise InputError("no library %s %r (library: %s)" % (self.noun, name, ", ".join(self.library_names())))
        return (self.library_dir / (name + ".json")).read_bytes()

    def library_source(self, name: str) -> str:
        """How messages name a library file: ``library/bedtime.json``."""
        return "%s/%s.json" % (self.library, name)

    def resolve(self, arg: str) -> tuple[bytes, str, Path | None]:
        """FILE or library NAME -> (bytes, source for messages, the file's folder; None for the library).
        A path wins over a library name."""
        p = Path(arg)
        if p.exists() or arg.endswith(".json") or "/" in arg:
            return self.read_file(p), arg, p.resolve().parent
        if arg in self.library_names():
            return self.library_file(arg), self.library_source(arg), None
        raise self.error(arg, "no such file and no library %s of that name (library: %s)"
                         % (self.noun, ", ".join(self.library_names())))

    # ---- the device's copies (s is a host_tools.session.DeviceSession) ---------------------------------

    def device_path(self, name: str) -> str:
        if not self.valid_name(name):
            raise InputError("%s name %r: use 1..%d of a-z 0-9 -" % (self.noun, name, self.name_max))
        return "%s/%s.json" % (self.device_root, name)

    def path_on_device(self, s, name: str) -> str:
        """The device path of name's file, which must be on the device."""
        path = self.device_path(name)
        if not s.exists(path):
            raise InputError("no %s %r on the device" % (self.noun, name))
        return path

    def pull(self, s, name: str) -> bytes:
        return s.read_file(self.path_on_device(s, name))
