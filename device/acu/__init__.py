# acu: the trainer's firmware package. Imports under MicroPython and CPython. The helpers here are the few
# every module may use: dropping a module needed once, and two path helpers.
import os

VERSION = "0.1.0"
# the boot files found bad at this start (acu.cfgfile): (path, problem, set-aside name or None)
problems = []  # type: list


def forget(name, pkg="acu"):
    """Drop the submodule <pkg>.<name> (loaded for a one-off job: parsing at start-up, log recovery,
    building the board) so the GC can free its code; the heap is small. The next import loads it again."""
    import sys
    sys.modules.pop(pkg + "." + name, None)
    p = sys.modules.get(pkg)
    if p is not None and hasattr(p, name):
        delattr(p, name)


def call(name, fn, *args):
    """fn(*args) of the submodule acu.<name>, loaded for this call only: it, and any acu module it loaded,
    is dropped after (a module something already held stays). The code of a one-off job (a parser at
    start-up, the log recovery, an answer to the host) never stays in the running app's heap."""
    import sys
    had = list(sys.modules)
    try:
        return getattr(__import__("acu." + name, None, None, (fn,)), fn)(*args)
    finally:
        for k in list(sys.modules):
            if k.startswith("acu.") and k not in had:
                forget(k[4:])


def join(root, name):
    return root + name if root.endswith("/") else root + "/" + name


def makedirs(path):
    """Make path and its parents (absolute or relative); existing ones are fine."""
    cur = ""
    for part in path.split("/"):
        if not part:
            cur = "/" if cur == "" else cur
            continue
        cur = (cur + part) if cur.endswith("/") else (cur + "/" + part if cur else part)
        try:
            os.mkdir(cur)
        except OSError:
            pass
