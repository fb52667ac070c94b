# acu: the trainer's firmware package. Imports under MicroPython and CPython. The helpers here are the few
# every module may use: dropping a module needed once, and two path helpers.
import os

VERSION = "0.1.0"


def forget(name, pkg="acu"):
    """Drop the submodule <pkg>.<name> (loaded for a one-off job: parsing at start-up, log recovery,
    building the board) so the GC can free its code; the heap is small. The next import loads it again."""
    import sys
    sys.modules.pop(pkg + "." + name, None)
    p = sys.modules.get(pkg)
    if p is not None and hasattr(p, name):
        delattr(p, name)


def call(name, fn, *args):
    """fn(*args) of the submodule acu.<name>, which is loaded for this call only (unless something already
    holds it): the code of a one-off job never stays in the running app's heap."""
    import sys
    had = "acu." + name in sys.modules
    mod = __import__("acu." + name, None, None, (fn,))
    try:
        return getattr(mod, fn)(*args)
    finally:
        if not had:
            forget(name)


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
