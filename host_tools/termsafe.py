"""Text from a device, made safe to print on a terminal. Routine and point names, device ids and log
problems come from the device's flash: a newline in one would forge a line of output, an escape sequence
would clear the screen or set the window title. Control characters (and the other unprintable ones) are
shown as Python-style escapes instead; ordinary text, accents included, is left alone."""
from __future__ import annotations


def shown(value) -> str:
    if value is None:
        return ""
    s = str(value)
    if s.isprintable():
        return s
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in s)
