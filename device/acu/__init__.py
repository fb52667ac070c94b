# acu: the trainer's firmware package. Imports under MicroPython and CPython.
VERSION = "0.1.0"


def forget(name):
    """Drop the submodule acu.<name> (loaded for a one-off job: parsing at start-up, log recovery) so
    the GC can free its code; the heap is small. The next import loads it again."""
    import sys
    sys.modules.pop("acu." + name, None)
    g = globals()
    if name in g:
        del g[name]
