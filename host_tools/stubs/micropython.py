"""CPython's stand-in for MicroPython's built-in `micropython` module, so the firmware's modules import
unchanged on the host (host_tools imports the device codecs) and in the CPython tests. MicroPython's own
built-in module always wins on a board and on the unix port: this directory is only ever on CPython's path
(host_tools.paths.ensure_device_importable, tests/conftest.py)."""


def const(x):
    """MicroPython folds `_NAME = const(3)` at compile time; on CPython it is the value itself."""
    return x
