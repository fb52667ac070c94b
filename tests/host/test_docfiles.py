"""Routine and programme files are read, size-checked, decoded and handed to the device's parser by the same
code (host_tools/docfiles.py): each test runs for both kinds, and every bad file is one InputError line that
starts with the kind and the file, e.g. ``programme my.json: not valid JSON (line 1 column 2: ...)``."""
from __future__ import annotations

import re

import pytest
from docfx import FakeSession

from host_tools import programmes as PR
from host_tools import routines as RT
from host_tools.errors import InputError

KINDS = [pytest.param(RT, id="routine"), pytest.param(PR, id="programme")]


def one_line_error(kind, source, call) -> str:
    """call()'s InputError message, checked to be one line naming the kind and the source; the rest of it."""
    with pytest.raises(InputError) as e:
        call()
    msg = str(e.value)
    head = "%s %s: " % (kind.FILES.noun, source)
    assert msg.startswith(head) and "\n" not in msg, msg
    return msg[len(head):]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("data, want", [
    (b"{oops", r"not valid JSON \(line 1 column 2: "),
    (b"\xff\xfe{}", r"not UTF-8 text \(byte 0\)"),
    (b'{"a": 1, "a": 2}', r"not valid JSON \(the key 'a' appears twice\)"),
    (b'{"x": NaN}', r"not valid JSON \(NaN is not a number JSON allows\)"),
    (b"[" * 10000, r"nested too deeply|not valid JSON"),
    (b"[1]", r"must be a JSON object"),
    (b" " * 16385, r"file is 16385 bytes, limit 16384"),
])
def test_a_bad_file_is_one_line_naming_it(tmp_path, kind, data, want):
    f = tmp_path / "x.json"
    f.write_bytes(data)
    assert re.match(want, one_line_error(kind, f, lambda: kind.validate_file(f)))
    assert re.match(want, one_line_error(kind, "device:x", lambda: kind.parse_bytes(data, "device:x")))


@pytest.mark.parametrize("kind", KINDS)
def test_no_file_a_folder_and_an_unknown_name(tmp_path, kind):
    noun = kind.FILES.noun
    missing = tmp_path / "missing.json"
    assert one_line_error(kind, missing, lambda: kind.validate_file(missing)) == "no such file"
    assert one_line_error(kind, tmp_path, lambda: kind.read_file(tmp_path)) == "is a directory, not a %s file" % noun
    rest = one_line_error(kind, "nope", lambda: kind.resolve("nope"))
    assert rest.startswith("no such file and no library %s of that name (library: " % noun)


@pytest.mark.parametrize("kind", KINDS)
def test_the_library_and_the_device_paths(tmp_path, kind):
    noun = kind.FILES.noun
    names = kind.FILES.library_names()
    data, source, folder = kind.FILES.resolve(names[0])
    assert data == (kind.LIBRARY_DIR / (names[0] + ".json")).read_bytes() and folder is None
    assert source == kind.FILES.library + "/%s.json" % names[0]
    with pytest.raises(InputError, match="no library %s 'nope' \\(library: %s\\)" % (noun, ", ".join(names))):
        kind.FILES.library_file("nope")
    assert kind.device_path("my-1") == kind.DEVICE_ROOT + "/my-1.json"
    with pytest.raises(InputError, match=r"^%s name '\.\./x': use 1\.\.32 of a-z 0-9 -$" % noun):
        kind.device_path("../x")
    with pytest.raises(InputError, match="^no %s 'nope' on the device$" % noun):
        kind.pull(FakeSession(tmp_path / "flash"), "nope")
