"""JSON the host reads from a person or a device file (routines, calibration points, calibration files,
settings), held to what JSON means: a key given twice is an error (Python's json keeps the last one
silently, so `{"name": "dup", "name": "bedtime"}` would overwrite the selected routine), NaN and Infinity
are not numbers (JSON has none), an integer of more than MAX_DIGITS digits is refused before Python builds
it (a 5000-digit number raises deep inside int()), and nesting is bounded. Every refusal is a ValueError
with one line; callers put the file's name in front."""
from __future__ import annotations

import json

MAX_DIGITS = 30     # no field of ours needs more (a u32 has 10 digits)
MAX_DEPTH = 64


class StrictJSONError(ValueError):
    pass


def _pairs(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise StrictJSONError("the key %r appears twice" % k[:40])
        out[k] = v
    return out


def _constant(name):
    raise StrictJSONError("%s is not a number JSON allows" % name)


def _int(text):
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise StrictJSONError("a number of %d digits is too long" % len(text.lstrip("-")))
    return int(text)


def _depth(text: str) -> int:
    depth = top = 0
    in_str = esc = False
    for c in text:
        if in_str:
            if esc:
                esc = False
            elif c == "\\":
                esc = True
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif c in "[{":
            depth += 1
            top = max(top, depth)
        elif c in "]}":
            depth -= 1
    return top


def loads(text: str):
    """json.loads, strictly; StrictJSONError (a ValueError) or json.JSONDecodeError in one line."""
    if _depth(text) > MAX_DEPTH:
        raise StrictJSONError("nested more than %d levels deep" % MAX_DEPTH)
    return json.loads(text, object_pairs_hook=_pairs, parse_constant=_constant, parse_int=_int)
