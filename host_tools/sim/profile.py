"""Press profiles: a small text format for scripted presses (spec: docs/press-profiles.md).

    # bedtime HT7, left wrist
    wait 2s
    press 4kg for 60s ramp 1s noise 3%
    release ramp 0.5s
    button short          # the finger on the button, at this point of the script
    hold 3s at 0
    ramp 2s to 5.5kg
    hold 10s noise 100g
    blind 4kg +12% for 10s quiet   # a blind check: pressed 12 % over; no band feedback expected

Each line becomes (duration_ms, f0_g, f1_g, noise_g) segments; f0_g = -1 means "from the force the hand
applies now". Errors name the file and the line.
"""

from __future__ import annotations

import os
import re

from host_tools import paths
from host_tools.errors import InputError

MAX_SEGMENTS = 64  # the simulated hand holds this many (rom/simhw.py MAXSEG)
MAX_FORCE_G = 30000
MAX_DURATION_MS = 6 * 3600 * 1000

_TIME = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|min|h)$")
_FORCE = re.compile(r"^(\d+(?:\.\d+)?)(g|kg|n)?$", re.I)


def parse_time_ms(tok: str, where: str) -> int:
    m = _TIME.match(tok.strip().lower())
    if not m:
        raise InputError("%s: bad duration %r (use e.g. 500ms, 2s, 1.5min)" % (where, tok))
    v = float(m.group(1)) * {"ms": 1, "s": 1000, "min": 60000, "h": 3600000}[m.group(2)]
    if v > MAX_DURATION_MS:
        raise InputError("%s: duration %r is longer than 6 h" % (where, tok))
    return int(round(v))


def parse_force_g(tok: str, where: str) -> int:
    """'4.2kg', '4200g', '41N', '0' -> grams."""
    m = _FORCE.match(tok.strip())
    if not m:
        raise InputError("%s: bad force %r (use e.g. 4.2kg, 4200g, 41N)" % (where, tok))
    unit = (m.group(2) or ("g" if float(m.group(1)) > 20 or float(m.group(1)) == 0 else "kg")).lower()
    v = float(m.group(1)) * {"g": 1.0, "kg": 1000.0, "n": 1000.0 / 9.80665}[unit]
    if v > MAX_FORCE_G:
        raise InputError("%s: force %r is above %d kg" % (where, tok, MAX_FORCE_G // 1000))
    return int(round(v))


def _noise_g(tok: str, force_g: int, where: str) -> int:
    tok = tok.strip()
    if tok.endswith("%"):
        try:
            pct = float(tok[:-1])
        except ValueError:
            raise InputError("%s: bad noise %r" % (where, tok)) from None
        if not 0 <= pct <= 50:
            raise InputError("%s: noise %r out of 0..50 %%" % (where, tok))
        return int(round(force_g * pct / 100.0))
    return parse_force_g(tok, where)


def _options(words: list[str], where: str, allowed: set[str]) -> dict[str, str]:
    opts = {}
    if len(words) % 2:
        raise InputError("%s: expected pairs like 'ramp 1s' or 'noise 3%%', got %r" % (where, " ".join(words)))
    for k, v in zip(words[::2], words[1::2], strict=True):
        if k not in allowed:
            raise InputError("%s: unknown option %r (allowed: %s)" % (where, k, ", ".join(sorted(allowed))))
        opts[k] = v
    return opts


BUTTON_KINDS = ("short", "double", "long")
MAX_BUTTONS = 8


def parse(text: str, source: str = "<profile>") -> list[tuple[int, int, int, int]]:
    return parse_full(text, source)[0]


def parse_full(text: str, source: str = "<profile>"):
    """-> (segments, buttons): buttons are (t_ms from the profile's start, kind)."""
    segs, buttons, _quiet = parse_plan(text, source)
    return segs, buttons


_ERROR = re.compile(r"^([+-]\d+(?:\.\d+)?)%$")


def blind_force_g(target_g: int, error_tok: str, where: str) -> int:
    """A blind hand's force: the target off by a signed percentage ('+12%', '-20%')."""
    m = _ERROR.match(error_tok.strip())
    if not m:
        raise InputError("%s: bad error %r (use a signed percentage, e.g. +12%% or -20%%)" % (where, error_tok))
    pct = float(m.group(1))
    if not -90 <= pct <= 200:
        raise InputError("%s: error %r out of -90..+200 %%" % (where, error_tok))
    f = int(round(target_g * (100 + pct) / 100.0))
    if f > MAX_FORCE_G:
        raise InputError("%s: %s of %d g is above %d kg" % (where, error_tok, target_g, MAX_FORCE_G // 1000))
    return f


def quiet_violations(trace: list[dict], t0_ms: int, quiet: list[tuple[int, int]]) -> list[str]:
    """The moments of a simulator trace (records from t0_ms, the profile's start on the board's clock) where
    band feedback spoke inside a `quiet` window of the profile: the app's schedule verdict (`band_fb` 1)
    while a band state that is not safety (under, in, over) was shown. [] when the schedule held."""
    out = []
    fb = None
    state = 0
    events = sorted((r["t_ms"], r["name"], r["value"]) for r in trace
                    if r.get("name") in ("band_fb", "state") and r["t_ms"] >= t0_ms)
    for t, name, value in events:
        if name == "band_fb":
            fb = value
        else:
            state = value
        rel = t - t0_ms
        if fb == 1 and state in (1, 2, 3) and any(a <= rel < b for a, b in quiet):
            out.append("band feedback (state %d) at %d ms" % (state, rel))
    return out


def parse_plan(text: str, source: str = "<profile>"):
    """-> (segments, buttons, quiet): quiet lists the (t0_ms, t1_ms) windows of lines marked `quiet` (no
    band feedback is expected there: a blind check, a step with feedback none), from the profile's start."""
    segs: list[tuple[int, int, int, int]] = []
    buttons: list[tuple[int, str]] = []
    quiet: list[tuple[int, int]] = []
    force = None  # unknown until the profile sets it: the first segment starts from the current force

    def add(dur, f1, noise=0, f0=None):
        nonlocal force
        segs.append((dur, -1 if force is None and f0 is None else (force if f0 is None else f0), f1, noise))
        force = f1

    for no, raw in enumerate(text.splitlines(), 1):
        where = "%s:%d" % (source, no)
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        w = line.split()
        cmd = w[0].lower()
        t_line = sum(sg[0] for sg in segs)
        is_quiet = len(w) > 1 and w[-1].lower() == "quiet" and cmd != "button"
        if is_quiet:
            w = w[:-1]
        if cmd == "wait":
            if len(w) != 2:
                raise InputError("%s: use 'wait 2s'" % where)
            add(parse_time_ms(w[1], where), 0 if force is None else force)
        elif cmd == "hold":
            # hold 10s [at 4kg] [noise 3%]
            if len(w) < 2:
                raise InputError("%s: use 'hold 10s [at 4kg] [noise 3%%]'" % where)
            dur = parse_time_ms(w[1], where)
            opts = _options(w[2:], where, {"at", "noise"})
            f = parse_force_g(opts["at"], where) if "at" in opts else (force or 0)
            add(dur, f, _noise_g(opts.get("noise", "0"), f, where), f0=f)
        elif cmd == "ramp":
            # ramp 1.5s to 4.2kg
            if len(w) < 4 or w[2].lower() != "to":
                raise InputError("%s: use 'ramp 1.5s to 4.2kg'" % where)
            opts = _options(w[4:], where, {"noise"})
            f = parse_force_g(w[3], where)
            add(parse_time_ms(w[1], where), f, _noise_g(opts.get("noise", "0"), f, where))
        elif cmd == "press":
            # press 4kg for 60s [ramp 1s] [noise 3%]
            if len(w) < 4 or w[2].lower() != "for":
                raise InputError("%s: use 'press 4kg for 60s [ramp 1s] [noise 3%%]'" % where)
            f = parse_force_g(w[1], where)
            dur = parse_time_ms(w[3], where)
            opts = _options(w[4:], where, {"ramp", "noise"})
            ramp = parse_time_ms(opts.get("ramp", "300ms"), where)
            add(ramp, f)
            add(dur, f, _noise_g(opts.get("noise", "0"), f, where), f0=f)
        elif cmd == "blind":
            # blind 4000g +12% for 10s [ramp 1s] [noise 3%]: a hand pressing what it thinks is 4 kg, 12 % over
            if len(w) < 5 or w[3].lower() != "for":
                raise InputError("%s: use 'blind 4kg +12%% for 10s [ramp 1s] [noise 3%%]'" % where)
            f = blind_force_g(parse_force_g(w[1], where), w[2], where)
            dur = parse_time_ms(w[4], where)
            opts = _options(w[5:], where, {"ramp", "noise"})
            add(parse_time_ms(opts.get("ramp", "300ms"), where), f)
            add(dur, f, _noise_g(opts.get("noise", "0"), f, where), f0=f)
        elif cmd == "button":
            if len(w) != 2 or w[1].lower() not in BUTTON_KINDS:
                raise InputError("%s: use 'button short', 'button double' or 'button long'" % where)
            if len(buttons) >= MAX_BUTTONS:
                raise InputError("%s: more than %d button presses in one profile" % (where, MAX_BUTTONS))
            buttons.append((sum(sg[0] for sg in segs), w[1].lower()))
        elif cmd == "release":
            opts = _options(w[1:], where, {"ramp"})
            add(parse_time_ms(opts.get("ramp", "300ms"), where), 0)
        else:
            raise InputError("%s: unknown command %r (wait, hold, ramp, press, blind, release, button)"
                             % (where, w[0]))
        if is_quiet:
            quiet.append((t_line, sum(sg[0] for sg in segs)))
        if len(segs) > MAX_SEGMENTS:
            raise InputError("%s: more than %d segments" % (where, MAX_SEGMENTS))
    if not segs and not buttons:
        raise InputError("%s: the profile is empty" % source)
    return segs, buttons, quiet


def load(path: str) -> list[tuple[int, int, int, int]]:
    return load_full(path)[0]


def example_names() -> list[str]:
    """The press profiles shipped with the tools (examples/, package data when installed)."""
    return sorted(p.stem for p in paths.EXAMPLES_DIR.glob("*.profile"))


def resolve(name_or_path: str) -> str:
    """A profile file's path: the path itself when it exists, else the shipped example of that name
    ('bedtime-practice' or 'bedtime-practice.profile')."""
    if os.path.exists(name_or_path):
        return name_or_path
    stem = name_or_path.removesuffix(".profile")
    if stem in example_names():
        return str(paths.EXAMPLES_DIR / (stem + ".profile"))
    raise InputError("%s: no such profile file, nor a shipped profile of that name (shipped: %s)" % (
        name_or_path, ", ".join(example_names()) or "none"))


def load_full(path: str):
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read(1 << 20)
    except (OSError, UnicodeDecodeError) as e:
        raise InputError("%s: cannot read the profile: %s" % (path, e)) from None
    return parse_full(text, path)


def duration_ms(segs) -> int:
    return sum(s[0] for s in segs)
