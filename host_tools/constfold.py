"""Cross-module constant folding for the firmware's compiled modules (spec: docs/architecture.md, "Build").

MicroPython folds `_NAME = const(3)` inside its own module and keeps no global for it, but a public
`NAME = const(3)` stays a module global (an interned name and a dict slot on the board) and every other
module that imports it looks it up at run time. The firmware's modules share about a hundred such numbers
(record types, band states, event codes). fold() rewrites the sources before mpy-cross so that:

- every use of a public integer const, in its own module or in another one (`from acu.band import UNDER`,
  `band.UNDER`, `acu.band.UNDER`), becomes its number;
- its definition becomes `_NAME = const(...)`, so the board holds neither the name nor the global;
- an import statement keeps only the names that are not folded (`pass` when none is left).

Line numbers are kept (every rewrite stays on its lines), so a traceback from the board still points at
the source line. A const is left alone (public, not folded anywhere) when anything could reach it by
name at run time: an attribute access that is not on the defining module's name (`self.UNDER`, a module
`__getattr__` forwarding it), a string equal to its name (getattr), a rebinding, a `global`, an import of
it from another module, or a value this folder cannot compute (only integer expressions are folded).
The device sources stay as written: CPython tests and `deploy --source` use them unchanged.
"""

from __future__ import annotations

import ast
import operator
from pathlib import Path
from typing import Callable

_BINOPS: dict[type, Callable[[int, int], int]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod, ast.LShift: operator.lshift, ast.RShift: operator.rshift, ast.BitOr: operator.or_,
    ast.BitAnd: operator.and_, ast.BitXor: operator.xor,
}
_PACKAGES = ("acu", "boards")  # the firmware's packages: device/acu and boards/
_UNOPS: dict[type, Callable[[int], int]] = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Invert: operator.invert}


class FoldError(ValueError):
    pass


def module_sources(device_dir: Path, boards_dir: Path) -> dict[str, str]:
    """The firmware's modules as dotted name -> source: acu.* from device/acu, boards.* from boards/."""
    out = {}
    for pkg, d in zip(_PACKAGES, (device_dir / "acu", boards_dir), strict=True):
        for p in sorted(d.glob("*.py")):
            out[pkg if p.stem == "__init__" else pkg + "." + p.stem] = p.read_text()
    return out


def _const_defs(tree: ast.Module) -> dict[str, ast.expr]:
    """Top-level `NAME = const(expr)` with a public NAME: name -> expr."""
    out = {}
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Name)
                and node.value.func.id == "const" and len(node.value.args) == 1 and not node.value.keywords
                and not node.targets[0].id.startswith("_")):
            out[node.targets[0].id] = node.value.args[0]
    return out


def _module_aliases(tree: ast.Module, mod: str, known: set[str]) -> dict[str, str]:
    """Names bound to a firmware module anywhere in the module: alias -> dotted module name. `import acu.x`
    binds `acu` (the package: attribute chains are resolved from it)."""
    out: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                full = node.module + "." + a.name
                if full in known:
                    out[a.asname or a.name] = full
        elif isinstance(node, ast.ImportFrom) and node.level:
            raise FoldError("%s: relative imports are not supported by the firmware build" % mod)
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.asname and a.name in known:
                    out[a.asname] = a.name
                elif a.name.split(".")[0] in _PACKAGES:
                    out[a.name.split(".")[0]] = a.name.split(".")[0]
    return out


def _bound_names(tree: ast.Module) -> dict[str, int]:
    """How many times each name is bound (assigned, a parameter, a loop/with/except target, def/class,
    global) in a scope where module code or a function body would see it, imports not counted. Names a
    class body binds (its methods, class attributes) are not: function bodies never see them."""
    out: dict[str, int] = {}

    def bump(n):
        out[n] = out.get(n, 0) + 1

    in_class_body = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for st in node.body:
                if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    in_class_body.add(id(st))
                elif isinstance(st, (ast.Assign, ast.AnnAssign)):
                    for t in (st.targets if isinstance(st, ast.Assign) else [st.target]):
                        if isinstance(t, ast.Name):
                            in_class_body.add(id(t))
    for node in ast.walk(tree):
        if id(node) in in_class_body:
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bump(node.id)
        elif isinstance(node, ast.arg):
            bump(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bump(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            for n in node.names:
                bump(n)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bump(node.name)
    return out


def _foreign_imports(tree: ast.Module) -> set[str]:
    """Names bound by importing from outside the firmware (machine, from machine import Pin): an attribute
    on them is never one of the firmware's constants."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] not in _PACKAGES:
            out.update(a.asname or a.name for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.asname or a.name.split(".")[0] for a in node.names
                       if a.name.split(".")[0] not in _PACKAGES)
    return out


def _attr_chain(node: ast.expr) -> list[str] | None:
    """a.b.c -> ['a', 'b', 'c'] for a chain of plain names, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return parts[::-1]


def parse_modules(sources: dict[str, str], error: type[ValueError] = FoldError) -> dict[str, ast.Module]:
    """Dotted module name -> its tree; error names the module and line of one that does not parse."""
    trees = {}
    for mod, text in sources.items():
        try:
            trees[mod] = ast.parse(text)
        except SyntaxError as e:
            raise error("%s: line %s: %s" % (mod, e.lineno, e.msg)) from None
    return trees


def fold(sources: dict[str, str]) -> dict[str, str]:
    """Dotted module name -> source, rewritten as the module docstring says. Raises FoldError when a module
    does not parse."""
    trees = parse_modules(sources)
    known = set(sources)
    defs = {mod: _const_defs(t) for mod, t in trees.items()}
    bound = {mod: _bound_names(t) for mod, t in trees.items()}
    aliases = {mod: _module_aliases(t, mod, known) for mod, t in trees.items()}
    const_names = {n for d in defs.values() for n in d}
    foreign = {mod: _foreign_imports(t) for mod, t in trees.items()}
    top_names = {mod: {n for st in t.body for n in top_bindings(st)} for mod, t in trees.items()}

    # names that something could reach at run time by name: never folded
    blocked: set[str] = set()
    for mod, t in trees.items():
        own = defs[mod]
        for n in own:
            if bound[mod].get(n, 0) != 1 or ("_" + n) in bound[mod]:
                blocked.add(n)   # rebound, a `global`, or the private name is taken
        for node in ast.walk(t):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in const_names:
                blocked.add(node.value)
            elif isinstance(node, ast.Attribute) and node.attr in const_names:
                chain = _attr_chain(node)
                if _resolve_attr(node, aliases[mod], bound[mod], defs) is None and not (
                        chain and chain[0] in foreign[mod] and not bound[mod].get(chain[0])):
                    blocked.add(node.attr)   # maybe a module reached another way, or forwarded
            elif isinstance(node, ast.ImportFrom) and node.module in defs:
                for a in node.names:
                    if a.name == "*":
                        blocked.update(defs[node.module])
                    elif a.name in const_names and a.name not in top_names[node.module]:
                        blocked.add(a.name)   # forwarded by a module __getattr__
                    elif a.name in defs[node.module] and bound[mod].get(a.asname or a.name, 0):
                        blocked.add(a.name)   # the importing module rebinds it

    values: dict[tuple[str, str], int] = {}
    imported_from = {mod: _import_map(t) for mod, t in trees.items()}

    def value(mod: str, name: str, depth: int = 0) -> int | None:
        key = (mod, name)
        if key in values:
            return values[key]
        if depth > 50 or name in blocked or mod not in defs or name not in defs[mod]:
            return None
        v = _eval(defs[mod][name], mod, depth)
        if v is not None:
            values[key] = v
        return v

    def _eval(e: ast.expr, mod: str, depth: int) -> int | None:
        if isinstance(e, ast.Constant) and type(e.value) is int:
            return e.value
        if isinstance(e, ast.UnaryOp) and type(e.op) in _UNOPS:
            v = _eval(e.operand, mod, depth)
            return None if v is None else _UNOPS[type(e.op)](v)
        if isinstance(e, ast.BinOp) and type(e.op) in _BINOPS:
            a, b = _eval(e.left, mod, depth), _eval(e.right, mod, depth)
            if a is None or b is None or (type(e.op) in (ast.FloorDiv, ast.Mod) and b == 0):
                return None
            return _BINOPS[type(e.op)](a, b)
        if isinstance(e, ast.Name):
            if e.id in defs[mod]:
                return value(mod, e.id, depth + 1)
            src = imported_from[mod].get(e.id)   # (module, its name there): `from M import X as Y`
            return value(src[0], src[1], depth + 1) if src else None
        if isinstance(e, ast.Attribute):
            r = _resolve_attr(e, aliases[mod], bound[mod], defs)
            return value(r[0], r[1], depth + 1) if r else None
        return None

    for mod in defs:
        for n in defs[mod]:
            value(mod, n)
    # a const whose value could not be computed stays public: so must every use of it
    folded = {key for key in values}
    return {mod: _rewrite(mod, sources[mod], trees[mod], defs[mod], aliases[mod], bound[mod], defs, folded,
                          values) for mod in sources}


def top_bindings(st: ast.stmt) -> list[str]:
    """The names a module-level statement binds: defs, classes, assignment targets, imports, and those of
    the statements inside a top-level if/try (`try: from micropython import const`)."""
    if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [st.name]
    if isinstance(st, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = st.targets if isinstance(st, ast.Assign) else [st.target]
        return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
    if isinstance(st, (ast.Import, ast.ImportFrom)):
        return [a.asname or a.name.split(".")[0] for a in st.names]
    if isinstance(st, (ast.If, ast.Try)):
        inner = st.body + st.orelse + getattr(st, "finalbody", [])
        inner += [s for h in getattr(st, "handlers", []) for s in h.body]
        return [n for s in inner for n in top_bindings(s)]
    return []


def _import_map(tree: ast.Module, defs: dict[str, dict] | None = None) -> dict[str, tuple[str, str]]:
    """Name bound by `from M import X [as name]` -> (M, X), the first such import (ast.walk's order) of
    each name; only imports from the firmware's modules when defs is given."""
    out: dict[str, tuple[str, str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and (defs is None or node.module in defs):
            for a in node.names:
                out.setdefault(a.asname or a.name, (node.module, a.name))
    return out


def _resolve_attr(node: ast.Attribute, aliases: dict[str, str], bound: dict[str, int],
                  defs: dict[str, dict]) -> tuple[str, str] | None:
    """(module, name) when node is `alias.NAME` / `acu.mod.NAME` on a module alias that is never rebound
    and that module defines NAME as a const."""
    chain = _attr_chain(node)
    if not chain or chain[0] not in aliases or bound.get(chain[0], 0):
        return None
    mod = aliases[chain[0]]
    for part in chain[1:-1]:
        mod = mod + "." + part
    if mod in defs and chain[-1] in defs[mod]:
        return mod, chain[-1]
    return None


def _literal(v: int) -> str:
    return "(%d)" % v if v < 0 else "%d" % v


def _rewrite(mod, text, tree, own, aliases, bound, defs, folded, values) -> str:
    lines = text.splitlines(keepends=True)
    imported = _import_map(tree, defs)
    edits = []   # (line0, col0, line1, col1, replacement): 1-based lines, utf-8 byte columns

    def edit(node, repl):
        edits.append((node.lineno, node.col_offset, node.end_lineno, node.end_col_offset, repl))

    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) \
                and node.targets[0].id in own and (mod, node.targets[0].id) in folded:
            edit(node.targets[0], "_" + node.targets[0].id)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            if node.id in own and (mod, node.id) in folded:
                edit(node, _literal(values[(mod, node.id)]))
            else:
                src = imported.get(node.id)
                if src and src in folded:
                    edit(node, _literal(values[src]))
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            r = _resolve_attr(node, aliases, bound, defs)
            if r and r in folded:
                edit(node, _literal(values[r]))
        elif isinstance(node, ast.ImportFrom) and node.module in defs:
            keep = [a for a in node.names if (node.module, a.name) not in folded]
            if len(keep) == len(node.names):
                continue
            pad = "\n" * ((node.end_lineno or node.lineno) - node.lineno)
            if keep:
                names = ", ".join(a.name + (" as " + a.asname if a.asname else "") for a in keep)
                repl = "from %s import (%s%s)" % (node.module, names, pad)
            else:
                repl = "pass" + pad
            edit(node, repl)
    # outermost edits win (an attribute chain inside a folded attribute is not edited twice)
    edits.sort(key=lambda e: (e[0], e[1], -e[2], -e[3]))
    kept: list[tuple] = []
    for e in edits:
        if kept and (e[0], e[1]) < (kept[-1][2], kept[-1][3]):
            continue
        kept.append(e)
    data = [ln.encode() for ln in lines]
    for l0, c0, l1, c1, repl in reversed(kept):
        head = data[l0 - 1][:c0]
        tail = data[l1 - 1][c1:]
        data[l0 - 1:l1] = [head + repl.encode() + tail]
    out = b"".join(data).decode()
    if out.count("\n") != text.count("\n"):
        raise FoldError("%s: folding changed the line count (a bug in host_tools/constfold.py)" % mod)
    return out
