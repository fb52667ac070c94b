"""Short shared private names for the firmware's compiled modules (spec: docs/architecture.md, "Build").

Every distinct name in the firmware (an attribute, a method, a module global) is interned on the board
when its module loads, and interned names are never freed. MicroPython keeps them in pools that grow by
doubling: on the 64-bit unix port, past about 620 names a 7 KB pool is allocated at once. About a
quarter of the firmware's names are private (`self._tbits`, `_session_names()`), each used in one class
or one module only. shorten() gives them short names drawn from one shared sequence (`_a`, `_b`, ...),
restarted for every class and every module: the Logger's private attributes and the Runner's then share
the same few interned names.

A private name (one leading underscore, not `__x`) is renamed
- as an attribute of class C when every attribute access of that name anywhere in the firmware is
  `self._x` inside a method of a class that has no firmware base or subclass, and `self` is that
  method's first parameter; C's body may define it (a method, a class attribute). Any other access
  (`other._x`, `logger._x`, `cls._x`) keeps the name everywhere;
- as a global of module M when M binds it at the top level, no module imports it by name, no class body
  in M binds it and it is never an attribute or a parameter anywhere (`mod._x` could reach it).
A name that appears in any string (getattr, hasattr, messages) or is given in keep is never renamed, nor
is a private const (MicroPython keeps no name for it) or a name an import or an except clause binds;
the new names are ones the firmware uses nowhere. Every rewrite stays on its line, so a traceback from
the board still points at the source line (the function name it shows is the short one).
"""

from __future__ import annotations

import ast
import io
import re
import tokenize

from host_tools import constfold

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class RenameError(ValueError):
    pass


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__") and len(name) > 1


def _fresh(taken: set[str]):
    """_a, _b, ... _z, _aa, _ab, ...: names no firmware module uses."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    size = 1
    while True:
        idx = [0] * size
        while True:
            name = "_" + "".join(letters[i] for i in idx)
            if name not in taken:
                yield name
            k = size - 1
            while k >= 0 and idx[k] == len(letters) - 1:
                idx[k] = 0
                k -= 1
            if k < 0:
                break
            idx[k] += 1
        size += 1


class _Scan(ast.NodeVisitor):
    """One module: every attribute access of a private name with its owning class (or None when the
    object is not `self` of a method), class-body bindings, parameters, strings and all names used."""

    def __init__(self, mod: str, tree: ast.Module):
        self.mod = mod
        self.attr_uses: list[tuple[ast.Attribute, str | None]] = []   # (node, owning class key or None)
        self.class_defs: list[tuple[ast.AST, str, str]] = []          # (node, name, class key)
        self.class_body_names: set[str] = set()
        self.params: set[str] = set()
        self.words: set[str] = set()        # every identifier-like word of the module, strings included
        self.string_words: set[str] = set()
        self.bases: dict[str, list[str]] = {}   # class key -> base names (last part of the expression)
        self.top_names: set[str] = set()
        self.class_body_reads: set[str] = set()
        self.import_bound: set[str] = set()   # names bound by an import or an except clause: not renamed
        self._self_owner: list[str | None] = [None]
        for st in tree.body:
            for n in constfold.top_bindings(st):
                self.top_names.add(n)
        self.visit(tree)

    def key(self, cls: str) -> str:
        return self.mod + ":" + cls

    def visit_ClassDef(self, node: ast.ClassDef):
        k = self.key(node.name)
        self.words.add(node.name)
        self.bases[k] = [b.attr if isinstance(b, ast.Attribute) else getattr(b, "id", "?") for b in node.bases]
        for st in node.body:
            if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.class_body_names.add(st.name)
                if _private(st.name):
                    self.class_defs.append((st, st.name, k))
            elif isinstance(st, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = st.targets if isinstance(st, ast.Assign) else [st.target]
                for t in targets:
                    for n in ast.walk(t):
                        if isinstance(n, ast.Name):
                            self.class_body_names.add(n.id)
                            if _private(n.id):
                                self.class_defs.append((n, n.id, k))
        for d in node.decorator_list + node.bases + node.keywords:
            self.visit(d)
        self._self_owner.append("class body")
        for st in node.body:
            if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self._method(st, k)
            else:
                self.visit(st)
        self._self_owner.pop()

    def _method(self, node: ast.FunctionDef | ast.AsyncFunctionDef, k: str):
        self.words.add(node.name)
        for d in node.decorator_list:
            self.visit(d)
        first = node.args.posonlyargs + node.args.args
        plain = all(isinstance(d, ast.Name) and d.id == "property" for d in node.decorator_list)
        rebound = any(isinstance(n, ast.Name) and n.id == "self" and not isinstance(n.ctx, ast.Load)
                      for n in ast.walk(node))
        is_method = plain and first and first[0].arg == "self" and not rebound
        self.visit(node.args)
        if node.returns:
            self.visit(node.returns)
        self._self_owner.append(k if is_method else None)
        for st in node.body:
            self.visit(st)
        self._self_owner.pop()

    def _function(self, node):
        # a nested function or lambda that binds `self` itself hides the method's
        args = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
        rebinds = any(a.arg == "self" for a in args) or (node.args.vararg and node.args.vararg.arg == "self")
        self._self_owner.append(None if rebinds else self._self_owner[-1])
        self.generic_visit(node)
        self._self_owner.pop()

    def visit_FunctionDef(self, node):
        self.words.add(node.name)
        self._function(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node):
        self._function(node)

    def visit_arg(self, node: ast.arg):
        self.params.add(node.arg)
        self.words.add(node.arg)
        self.generic_visit(node)

    def visit_keyword(self, node: ast.keyword):
        if node.arg:
            self.params.add(node.arg)
            self.words.add(node.arg)
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name):
        self.words.add(node.id)
        if self._self_owner[-1] == "class body" and isinstance(node.ctx, ast.Load) and _private(node.id):
            self.class_body_reads.add(node.id)   # a class attribute read in the class body: kept

    def visit_Attribute(self, node: ast.Attribute):
        self.words.add(node.attr)
        if _private(node.attr):
            owner = None
            if isinstance(node.value, ast.Name) and node.value.id == "self" \
                    and self._self_owner[-1] != "class body":
                owner = self._self_owner[-1]
            self.attr_uses.append((node, owner))
        self.generic_visit(node)

    def visit_alias(self, node: ast.alias):
        self.words.update(_WORD.findall(node.name))
        self.import_bound.add(node.asname or node.name.split(".")[0])
        if node.asname:
            self.words.add(node.asname)

    def visit_Global(self, node):
        self.words.update(node.names)

    visit_Nonlocal = visit_Global

    def visit_ExceptHandler(self, node):
        if node.name:
            self.words.add(node.name)
            self.import_bound.add(node.name)
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant):
        if isinstance(node.value, str):
            found = set(_WORD.findall(node.value))
            self.string_words |= found
            self.words |= found


def shorten(sources: dict[str, str], keep: frozenset[str] | set[str] = frozenset()) -> dict[str, str]:
    """Dotted module name -> source, with private names shortened as the module docstring says."""
    trees = constfold.parse_modules(sources, RenameError)
    scans = {mod: _Scan(mod, t) for mod, t in trees.items()}
    words = set().union(*(s.words for s in scans.values())) if scans else set()
    blocked = set(keep).union(*(s.string_words for s in scans.values())) if scans else set(keep)
    imported: set[str] = set()
    for t in trees.values():
        for node in ast.walk(t):
            if isinstance(node, ast.ImportFrom):
                imported.update(a.name for a in node.names)

    # classes in an inheritance relation with another firmware class keep their private names
    class_names: dict[str, list[str]] = {}
    for s in scans.values():
        for k in s.bases:
            class_names.setdefault(k.split(":")[1], []).append(k)
    family: set[str] = set()
    for s in scans.values():
        for k, bases in s.bases.items():
            for b in bases:
                if b in class_names:
                    family.add(k)
                    family.update(class_names[b])

    # attributes: name -> owning classes, or None once any access is not a method's self
    attr_owner: dict[str, set[str] | None] = {}
    for s in scans.values():
        for node, owner in s.attr_uses:
            cur = attr_owner.setdefault(node.attr, set())
            if cur is None:
                continue
            if owner is None or owner in family:
                attr_owner[node.attr] = None
            else:
                cur.add(owner)
        for _node, name, k in s.class_defs:
            cur = attr_owner.setdefault(name, set())
            if cur is not None:
                if k in family or name in s.class_body_reads:
                    attr_owner[name] = None
                else:
                    cur.add(k)
    attr_map: dict[str, dict[str, str]] = {}   # class key -> {old: new}
    for name, owners in attr_owner.items():
        if owners is None or name in blocked:
            continue
        for k in owners:
            attr_map.setdefault(k, {})[name] = ""

    # module globals
    attr_names = {use.attr for s in scans.values() for use, _owner in s.attr_uses}
    glob_map: dict[str, dict[str, str]] = {}
    for mod, s in scans.items():
        consts = {st.targets[0].id for st in trees[mod].body if isinstance(st, ast.Assign)
                  and isinstance(st.targets[0], ast.Name) and isinstance(st.value, ast.Call)
                  and isinstance(st.value.func, ast.Name) and st.value.func.id == "const"}
        for name in sorted(s.top_names - consts):   # MicroPython keeps no name for a private const
            if (_private(name) and name not in blocked and name not in imported and name not in attr_names
                    and name not in s.class_body_names and name not in s.params and name not in s.import_bound):
                glob_map.setdefault(mod, {})[name] = ""

    # new names, in order of first appearance in the source
    taken = words | blocked
    for scope, names in list(attr_map.items()) + list(glob_map.items()):
        mod = scope.split(":")[0]
        order = {m.group(0): m.start() for m in reversed(list(_WORD.finditer(sources[mod])))}
        gen = _fresh(taken)
        for old in sorted(names, key=lambda n: order.get(n, 0)):
            names[old] = next(gen)

    return {mod: _rewrite(mod, sources[mod], trees[mod], scans[mod], attr_map, glob_map.get(mod, {}))
            for mod in sources}


def _rewrite(mod: str, text: str, tree: ast.Module, scan: _Scan, attr_map: dict[str, dict[str, str]],
             glob: dict[str, str]) -> str:
    if not glob and not any(k.startswith(mod + ":") for k in attr_map):
        return text
    lines = text.splitlines(keepends=True)
    edits: dict[tuple[int, int], tuple[str, str]] = {}   # (line, byte col) -> (old, new)

    def at(line: int, col: int, old: str, new: str):
        edits[(line, col)] = (old, new)

    def def_name(node, old: str, new: str):
        # the name after `def`/`class` (no column in the tree): the first matching token from the node
        toks = tokenize.generate_tokens(io.StringIO("".join(lines[node.lineno - 1:])).readline)
        prev = None
        for tok in toks:
            if tok.type == tokenize.NAME and tok.string == old and prev in ("def", "class"):
                line = node.lineno + tok.start[0] - 1
                at(line, len(lines[line - 1][:tok.start[1]].encode()), old, new)
                return
            prev = tok.string if tok.type == tokenize.NAME else None
        raise RenameError("%s: line %d: no `def %s` found" % (mod, node.lineno, old))

    for use, owner in scan.attr_uses:
        new = attr_map.get(owner or "", {}).get(use.attr)
        if new:
            end = use.end_col_offset or 0
            at(use.end_lineno or use.lineno, end - len(use.attr), use.attr, new)
    for d, name, k in scan.class_defs:
        new = attr_map.get(k, {}).get(name)
        if new:
            if isinstance(d, ast.Name):
                at(d.lineno, d.col_offset, name, new)
            else:
                def_name(d, name, new)
    if glob:
        in_class = {id(st) for c in ast.walk(tree) if isinstance(c, ast.ClassDef) for st in c.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id in glob:
                at(node.lineno, node.col_offset, node.id, glob[node.id])
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name in glob:
                if id(node) not in in_class:
                    def_name(node, node.name, glob[node.name])
            elif isinstance(node, (ast.Global, ast.Nonlocal)) and any(n in glob for n in node.names):
                toks = tokenize.generate_tokens(io.StringIO("".join(lines[node.lineno - 1:])).readline)
                for tok in toks:
                    if tok.type == tokenize.NEWLINE or tok.string == ";":
                        break
                    if tok.type == tokenize.NAME and tok.string in glob and tok.start[1] >= node.col_offset:
                        line = node.lineno + tok.start[0] - 1
                        at(line, len(lines[line - 1][:tok.start[1]].encode()), tok.string, glob[tok.string])

    data = [ln.encode() for ln in lines]
    for (line, col), (old, new) in sorted(edits.items(), reverse=True):
        row = data[line - 1]
        if row[col:col + len(old)] != old.encode():
            raise RenameError("%s: line %d: expected %r at column %d (a bug in host_tools/privnames.py)"
                              % (mod, line, old, col))
        data[line - 1] = row[:col] + new.encode() + row[col + len(old):]
    out = b"".join(data).decode()
    if out.count("\n") != text.count("\n"):
        raise RenameError("%s: renaming changed the line count (a bug in host_tools/privnames.py)" % mod)
    return out
