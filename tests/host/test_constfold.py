"""host_tools/constfold.py: the firmware build's cross-module constant folding."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from host_tools import constfold, deploy, paths

CONST = "from micropython import const\n"

A = CONST + """\
A = const(3)
B = const(A * 2 + 1)
NEG = const(-(1 << 4))
TEXT = "a"


def f(x=A):
    return x + B
"""

B_MOD = CONST + """\
from acu.a import (A, NEG,
                   f)
import acu.a
from acu import a as amod


def g():
    return A + amod.B + acu.a.NEG + NEG + f()
"""


def test_uses_become_numbers_and_definitions_private_on_the_same_lines():
    out = constfold.fold({"acu.a": A, "acu.b": B_MOD})
    a, b = out["acu.a"], out["acu.b"]
    assert "_A = const(3)" in a and "_B = const(3 * 2 + 1)" in a and "_NEG = const(-(1 << 4))" in a
    assert "def f(x=3):" in a and "return x + 7" in a
    assert 'TEXT = "a"' in a  # not an integer const: untouched
    assert "from acu.a import (f\n)" in b
    assert "return 3 + 7 + (-16) + (-16) + f()" in b
    for src, dst in ((A, a), (B_MOD, b)):
        assert src.count("\n") == dst.count("\n")
        ast.parse(dst)


def test_a_const_defined_from_an_imported_alias_folds():
    src = CONST + "from acu.a import B as BEE\nC = const(BEE * 10)\nx = C\n"
    out = constfold.fold({"acu.a": A, "acu.c": src})["acu.c"]
    assert "_C = const(7 * 10)" in out and "x = 70" in out


def test_an_import_left_with_nothing_becomes_pass():
    out = constfold.fold({"acu.a": A, "acu.c": "from acu.a import (A,\n    B)\nx = A + B\n"})
    assert out["acu.c"] == "pass\n\nx = 3 + 7\n"


def _blocked(src_b, extra=None):
    mods = {"acu.a": A, "acu.b": src_b}
    mods.update(extra or {})
    return "A = const(3)" in constfold.fold(mods)["acu.a"].splitlines()


@pytest.mark.parametrize("src_b", [
    "x = getattr(m, 'A')\n",                                     # reached by name
    "def h(o):\n    return o.A\n",                               # an attribute on something unknown
    "from acu.a import A\nA = 5\n",                              # rebound where imported
    "from acu import a\ndef h(a):\n    return a.A\n",           # the module's name is a parameter too
])
def test_a_const_anything_could_reach_by_name_stays_public(src_b):
    assert _blocked(src_b)


def test_a_const_forwarded_by_another_module_stays_public():
    fwd = "def __getattr__(name):\n    from acu import a\n    return getattr(a, name)\n"
    assert _blocked("from acu.fwd import A\n", {"acu.fwd": fwd})


def test_a_const_rebound_in_its_own_module_stays_public():
    out = constfold.fold({"acu.a": A + "\ndef h():\n    global A\n    A = 4\n"})
    assert "A = const(3)" in out["acu.a"].splitlines()


def test_attributes_on_foreign_modules_and_class_scope_names_do_not_block():
    src = CONST + "import machine\nfrom acu import a\n\n\nclass K:\n    def a(self):\n" \
        "        return a.A + machine.Pin.A\n"
    out = constfold.fold({"acu.a": A, "acu.k": src})
    assert "return 3 + machine.Pin.A" in out["acu.k"]


def test_a_module_that_does_not_parse_is_named():
    with pytest.raises(constfold.FoldError, match=r"acu\.bad: line 1"):
        constfold.fold({"acu.bad": "def (:\n"})


def _firmware():
    return constfold.module_sources(paths.DEVICE_DIR, paths.BOARDS_DIR)


def test_the_firmware_folds_all_its_public_consts():
    srcs = _firmware()
    out = constfold.fold(srcs)
    defs = {m: constfold._const_defs(ast.parse(t)) for m, t in srcs.items()}
    pairs = {(m, n) for m, t in out.items() for n in defs[m] if re.search(r"^_%s = const\(" % n, t, re.M)}
    total = sum(len(d) for d in defs.values())
    assert total >= 100 and len(pairs) == total, sorted((m, n) for m in defs for n in defs[m]
                                                        if (m, n) not in pairs)
    # names that are also something else somewhere (acu.VERSION is a string) are not checked below
    other = {n for m, t in srcs.items() for st in ast.parse(t).body for n in constfold.top_bindings(st)
             if n not in defs[m]}
    hidden = {n for m, n in pairs} - other
    for m, t in out.items():
        assert t.count("\n") == srcs[m].count("\n"), m
        tree = ast.parse(t)
        loads = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        foreign = constfold._foreign_imports(tree)   # machine.Pin.IN is not acu.band.IN_BAND
        attrs = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)
                 and (constfold._attr_chain(n) or [""])[0] not in foreign}
        assert not (loads | attrs) & hidden, (m, (loads | attrs) & hidden)


def _values(src: str) -> dict:
    """A module's top-level `X = const(...)` values as CPython computes them, private or not (a const whose
    expression names an imported one is skipped)."""
    ns = {"const": lambda x: x}
    for st in ast.parse(src).body:
        if isinstance(st, ast.Assign) and isinstance(st.value, ast.Call) \
                and getattr(st.value.func, "id", "") == "const":
            try:
                exec(compile(ast.Module(body=[st], type_ignores=[]), "m", "exec"), ns)
            except NameError:
                pass
    return {k.lstrip("_"): v for k, v in ns.items() if isinstance(v, int)}


def test_folded_consts_keep_their_values():
    srcs = _firmware()
    out = constfold.fold(srcs)
    checked = 0
    for m in srcs:
        before, after = _values(srcs[m]), _values(out[m])
        assert {k: after[k] for k in before if k in after} == {k: before[k] for k in before if k in after}, m
        checked += len(set(before) & set(after))
    assert checked >= 150


def test_every_firmware_module_compiles_folded(tmp_path):
    for board in deploy.boards():
        files = deploy.plan(board, False)
        assert "/lib/acu/band.mpy" in files and "/lib/boards/%s.mpy" % board in files
    # a source deploy, whole or mixed, copies the same folded modules: a .py and a .mpy always agree
    folded = deploy.firmware_sources("sim")
    assert deploy.plan("sim", True)["/lib/acu/band.py"] == folded["acu.band"].encode()
    mixed = deploy.plan("sim", {"runner"})
    assert mixed["/lib/acu/runner.py"] == folded["acu.runner"].encode() and "/lib/acu/band.mpy" in mixed


def test_the_folded_firmware_imports_on_the_unix_port(tmp_path):
    """Every module of esp32_devkitc's plan, folded and compiled, imports on MicroPython (a name a fold
    removed that something still imports would fail here)."""
    for path, data in deploy.plan("esp32_devkitc", False).items():
        if path.startswith("/lib/"):
            dest = tmp_path / path[len("/lib/"):]
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
    mods = sorted(deploy.firmware_sources("esp32_devkitc"))
    code = "import sys\nsys.path[:] = [%r, '.frozen']\nsys.path.append(%r)\nimport fakemachine\n" \
        "sys.modules['machine'] = fakemachine\n" % (str(tmp_path), str(paths.ROOT / "tests" / "device"))
    code += "".join("import %s\n" % m for m in mods) + "print('imported', %d)\n" % len(mods)
    upy = Path(sys.executable).parent / "micropython"
    r = subprocess.run([str(upy), "-c", code], capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == "imported %d" % len(mods), r.stdout + r.stderr


def test_parallel_deploys_share_the_compile_cache(tmp_path):
    """Deploys running at once (the reliability bench's workers) compile the same modules into one cache:
    each gets the same .mpy, none trips over another's temporary files, nothing temporary is left."""
    from concurrent.futures import ThreadPoolExecutor

    srcs = deploy.firmware_sources("esp32_devkitc")
    jobs = [(m, srcs[m]) for m in ("acu.band", "acu.ticks", "acu.forcefilter")] * 6
    with ThreadPoolExecutor(max_workers=6) as ex:
        out = list(ex.map(lambda j: deploy.compile_source(j[0], j[1], tmp_path, j[0]), jobs))
    for (m, _), data in zip(jobs, out, strict=True):
        assert data == out[jobs.index((m, srcs[m]))] and data.startswith(b"M")
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".mpy"] * 3
