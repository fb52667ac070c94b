"""host_tools/privnames.py: the firmware build's short shared private names."""

import ast
import re

import pytest

from host_tools import constfold, deploy, paths, privnames

COUNTER = """\
class Counter:
    LIMIT = 3

    def __init__(self):
        self._count = 0
        self._peak = 0

    def _bump(self, n):
        self._count += n
        if self._count > self._peak:
            self._peak = self._count

    def add(self, n):
        self._bump(n)
        f = lambda: self._count      # a closure over the method's self
        return f()

    @property
    def peak(self):
        return self._peak


class Timer:
    def __init__(self):
        self._start_ms = 5

    def elapsed(self, now_ms):
        return now_ms - self._start_ms


def _twice(x):
    return 2 * x


def run():
    c = Counter()
    c.add(2)
    c.add(_twice(3))
    return c.peak, Timer().elapsed(12)
"""


def _run(src: str):
    ns: dict = {}
    exec(compile(src, "m", "exec"), ns)
    return ns["run"]()


def _private_names(src: str) -> set[str]:
    return set(re.findall(r"\b_[A-Za-z]\w*", src))


def test_each_class_and_module_restarts_the_same_short_names():
    out = privnames.shorten({"acu.c": COUNTER})["acu.c"]
    assert _run(out) == _run(COUNTER) == (8, 7)
    assert out.count("\n") == COUNTER.count("\n")
    # Counter's three privates and Timer's one, and the module function, all come from _a, _b, _c
    assert _private_names(out) == {"_a", "_b", "_c"}
    assert "def _c(self, n):" in out and "self._a = 0" in out   # _count first seen, then _peak, _bump
    assert "        self._a = 5" in out.split("class Timer")[1]
    assert "def _a(x):" in out and "c.add(_a(3))" in out
    assert "LIMIT = 3" in out and "def peak(self):" in out


def test_lines_keep_their_numbers():
    out = privnames.shorten({"acu.c": COUNTER})["acu.c"]
    for i, (a, b) in enumerate(zip(COUNTER.splitlines(), out.splitlines(), strict=True)):
        assert (a == b) == ("_" not in a or not _private_names(a)), (i + 1, a, b)


def test_an_access_that_is_not_self_keeps_the_name_everywhere():
    other = "from acu.c import Counter\n\ndef peek(c):\n    return c._peak\n"
    out = privnames.shorten({"acu.c": COUNTER, "acu.o": other})
    assert "self._peak" in out["acu.c"] and out["acu.o"] == other
    assert "self._count" not in out["acu.c"]   # the others still shrink


def test_a_name_in_a_string_is_kept():
    src = COUNTER + "\n\ndef has(c):\n    return hasattr(c, '_count')\n"
    out = privnames.shorten({"acu.c": src})["acu.c"]
    assert "self._count" in out and "self._peak" not in out


def test_keep_names_are_kept():
    out = privnames.shorten({"acu.c": COUNTER}, keep={"_peak", "_twice"})["acu.c"]
    assert "self._peak" in out and "def _twice(x):" in out and "self._count" not in out


def test_module_globals_reachable_from_outside_are_kept():
    a = "_cache = {}\n\ndef _load(n):\n    return _cache.get(n)\n\ndef _spare(_x):\n    return _x\n" \
        "\ndef _gone():\n    return _load(1), _spare(2)\n"
    b = "from acu import a\nfrom acu.a import _spare\n\ndef f():\n    return a._load(1), _spare(3)\n"
    out = privnames.shorten({"acu.a": a, "acu.b": b})
    # _load: an attribute elsewhere; _spare: imported by name; _x: a parameter; _cache, _gone: renamed
    assert "def _load(n):" in out["acu.a"] and "def _spare(_x):" in out["acu.a"]
    assert "_cache" not in out["acu.a"] and "_gone" not in out["acu.a"]
    assert out["acu.b"] == b


def test_private_consts_imports_and_class_families_are_untouched():
    src = ("from micropython import const\nimport struct as _struct\n_LIMIT = const(4)\n\n"
           "class Base:\n    def __init__(self):\n        self._n = _LIMIT\n\n"
           "class Child(Base):\n    def get(self):\n        return self._n + _struct.calcsize('<I')\n")
    assert privnames.shorten({"acu.f": src})["acu.f"] == src


def test_a_nested_function_that_binds_self_is_not_the_method():
    src = ("class A:\n    def __init__(self):\n        self._v = 1\n\n"
           "    def f(self, other):\n        def g(self):\n            return self._v\n        return g(other)\n")
    assert privnames.shorten({"acu.n": src})["acu.n"] == src


def test_a_global_statement_is_renamed_with_its_global():
    src = "_state = None\n\ndef set_state(v):\n    global _state\n    _state = v\n    return _state\n"
    out = privnames.shorten({"acu.g": src})["acu.g"]
    assert "global _a\n    _a = v\n    return _a" in out
    ns: dict = {}
    exec(out, ns)
    assert ns["set_state"](4) == 4 and ns["_a"] == 4


def test_the_firmware_loses_over_a_hundred_distinct_private_names():
    srcs = constfold.fold(constfold.module_sources(paths.DEVICE_DIR, paths.BOARDS_DIR))
    out = privnames.shorten(srcs)
    consts = {n for t in srcs.values() for n in re.findall(r"^(_\w+) = const\(", t, re.M)}
    before = set().union(*(_private_names(t) for t in srcs.values())) - consts
    after = set().union(*(_private_names(t) for t in out.values())) - consts
    assert len(before) - len(after) >= 100, (len(before), len(after))
    for m, t in out.items():
        assert t.count("\n") == srcs[m].count("\n"), m
        ast.parse(t)
    # names the host and the benches reach on a board keep theirs
    assert "_current = None" in out["acu.logger"]   # api and logadmin reach it as logger._current
    assert "def write_counter(" in out["acu.logger"] and "self.last_flush_ms" in out["acu.logger"]


def test_deploy_shortens_only_all_mpy_plans():
    short = deploy.firmware_sources("esp32_devkitc")
    as_written = deploy.firmware_sources("esp32_devkitc", fold=False)
    assert "self._tbits" in as_written["acu.logger"] and "self._tbits" not in short["acu.logger"]


def test_a_module_that_does_not_parse_is_named():
    with pytest.raises(privnames.RenameError, match="acu.bad: line 1"):
        privnames.shorten({"acu.bad": "def (:\n"})
