# acu: the trainer's firmware package. Imports under MicroPython and CPython.
VERSION = "0.1.0"


def forget(name, pkg="acu"):
    """Drop the submodule <pkg>.<name> (loaded for a one-off job: parsing at start-up, log recovery,
    building the board) so the GC can free its code; the heap is small. The next import loads it again."""
    import sys
    sys.modules.pop(pkg + "." + name, None)
    p = sys.modules.get(pkg)
    if p is not None and hasattr(p, name):
        delattr(p, name)
