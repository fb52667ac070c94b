"""Calibration points files (docs/calibration.md, "Points files"): reference loads and the sensor's readings,
as CSV or JSON, parsed into `Points` with one-line errors naming the file; and back to CSV.
"""
from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from host_tools import strictjson
from host_tools.errors import InputError
from host_tools.paths import ensure_device_importable

ensure_device_importable()
from acu import calib_parse as dfmt  # noqa: E402  (the device codec: one spec, one codec)

KINDS = dfmt.KINDS


@dataclass
class Points:
    """Reference loads and readings: zero_raw is the tare (nothing on the tip)."""

    sensor: str | None
    zero_raw: int | None
    points: list[tuple[float, float]]          # (grams, raw), possibly several per load
    creep_grams: float | None = None
    creep_samples: list[tuple[float, float]] = field(default_factory=list)   # (t_s from load, raw)
    ref_s: float = 2.0                         # hold time at which the points were captured
    reference: str = ""
    source: str = ""
    # (grams, raw) read while easing off from a heavier press: they measure hysteresis, not the curve
    unloading: list[tuple[float, float]] = field(default_factory=list)


def family(kind: str) -> str:
    return "loadcell" if kind == "loadcell" else "divider"


def _num(text: Any, where: str, name: str) -> float:
    # text: a CSV cell or any JSON value (a non-number is the user's error, reported here)
    try:
        v = float(text)
    except (TypeError, ValueError):
        raise InputError(f"{where}: {name} {text!r} is not a number") from None
    if not math.isfinite(v):
        raise InputError(f"{where}: {name} {text!r} is not a finite number")
    return v


def parse_points_text(text: str, name: str) -> Points:
    """A points file (CSV or JSON, docs/calibration.md). Errors are one line naming the file."""
    s = text.lstrip()
    if s.startswith("{") or s.startswith("["):
        return _parse_points_json(text, name)
    try:
        return _parse_points_csv(text, name)
    except csv.Error as e:
        raise InputError(f"{name}: not a points CSV ({e})") from None


MAX_FILE_BYTES = 1 << 20    # a points file is a few dozen lines; a megabyte is already absurd
MAX_POINTS = 2000           # per file, creep samples included
MIN_LOAD_G = 50.0           # lighter loads vanish in the sensor's noise: the fit would be meaningless


def load_points_file(path) -> Points:
    p = Path(path)
    try:
        if p.stat().st_size > MAX_FILE_BYTES:
            raise InputError(f"{p}: {p.stat().st_size} bytes is too big for a points file (at most "
                             f"{MAX_FILE_BYTES // 1024} KB, {MAX_POINTS} points)")
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise InputError(f"{p}: cannot read ({e.strerror or e})") from None
    except UnicodeDecodeError:
        raise InputError(f"{p}: not a UTF-8 text file") from None
    return parse_points_text(text, str(p))


def _parse_points_csv(text: str, name: str) -> Points:
    meta: dict[str, str] = {}
    header = None
    scale = 1.0
    pts: list[tuple[float, float]] = []
    creep: list[tuple[float, float]] = []
    down: list[tuple[float, float]] = []
    for ln, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or not "".join(row).strip():
            continue
        first = row[0].strip()
        if first.startswith("#"):
            body = ",".join(row).lstrip("#").strip()
            if ":" in body:
                k, v = body.split(":", 1)
                meta[k.strip().lower()] = v.strip()
            continue
        cells = [c.strip() for c in row]
        where = f"{name} line {ln}"
        if header is None:
            header = [c.lower() for c in cells]
            if header[:2] not in (["grams", "raw"], ["kg", "raw"], ["t_s", "raw"]) and header != [
                    "grams", "raw", "t_s"]:
                raise InputError(f"{where}: header must be 'grams,raw' or 'kg,raw' (got {','.join(cells)!r})")
            scale = 1000.0 if header[0] == "kg" else 1.0
            continue
        if len(cells) not in (2, 3):
            raise InputError(f"{where}: expected 2 columns (load, raw), got {len(cells)}")
        g = _num(cells[0], where, header[0]) * scale
        r = _num(cells[1], where, "raw")
        if len(cells) == 3 and cells[2].lower() == "down":
            # read while easing off from a heavier press (hysteresis)
            if g <= 0:
                raise InputError(f"{where}: an unloading point needs a load above 0")
            down.append((g, r))
            continue
        if len(cells) == 3 and cells[2] != "":
            # an optional t_s column marks samples of the creep hold
            creep.append((_num(cells[2], where, "t_s"), r))
            meta.setdefault("creep_grams", str(g))
            continue
        if g < 0:
            raise InputError(f"{where}: load {g:g} g is negative")
        pts.append((g, r))
    if header is None:
        raise InputError(f"{name}: no header line 'grams,raw' and no points")
    sensor = meta.get("sensor")
    if sensor is not None and sensor not in KINDS:
        raise InputError(f"{name}: sensor {sensor!r} is not one of {', '.join(KINDS)}")
    return _finish_points(name, sensor, pts, creep,
                          float(meta["creep_grams"]) if "creep_grams" in meta else None,
                          _num(meta["ref_s"], name, "ref_s") if "ref_s" in meta else 2.0,
                          meta.get("reference", ""), down)


def _parse_points_json(text: str, name: str) -> Points:
    try:
        d = strictjson.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"{name}: invalid JSON at line {e.lineno} column {e.colno}: {e.msg}") from None
    except strictjson.StrictJSONError as e:
        raise InputError(f"{name}: not a points file ({e})") from None
    if not isinstance(d, dict):
        raise InputError(f"{name}: top level must be an object")
    sensor = d.get("sensor")
    if sensor is not None and sensor not in KINDS:
        raise InputError(f"{name}: sensor {sensor!r} is not one of {', '.join(KINDS)}")
    raw_pts = d.get("points")
    if not isinstance(raw_pts, list):
        raise InputError(f"{name}: points: must be a list")
    pts = []
    down = []
    for i, p in enumerate(raw_pts):
        where = f"{name}: points[{i}]"
        if isinstance(p, dict):
            if "grams" in p:
                g = _num(p["grams"], where, "grams")
            elif "kg" in p:
                g = _num(p["kg"], where, "kg") * 1000.0
            else:
                raise InputError(f"{where}: needs 'grams' (or 'kg') and 'raw'")
            if "raw" not in p:
                raise InputError(f"{where}: needs 'raw'")
            r = _num(p["raw"], where, "raw")
            unloading = p.get("unloading", False)
            if not isinstance(unloading, bool):
                raise InputError(f"{where}: unloading must be true or false")
            if unloading:
                if g <= 0:
                    raise InputError(f"{where}: an unloading point needs a load above 0")
                down.append((g, r))
                continue
        elif isinstance(p, list) and len(p) == 2:
            g = _num(p[0], where, "grams")
            r = _num(p[1], where, "raw")
        else:
            raise InputError(f"{where}: must be {{'grams': g, 'raw': r}} or [grams, raw]")
        if g < 0:
            raise InputError(f"{where}: load {g:g} g is negative")
        pts.append((g, r))
    creep = []
    cg = None
    c = d.get("creep")
    if c is not None:
        if not isinstance(c, dict) or not isinstance(c.get("samples"), list):
            raise InputError(f"{name}: creep: must be {{'grams': g, 'samples': [[t_s, raw], ...]}}")
        cg = _num(c.get("grams"), f"{name}: creep", "grams")
        for i, smp in enumerate(c["samples"]):
            if not isinstance(smp, list) or len(smp) != 2:
                raise InputError(f"{name}: creep.samples[{i}]: must be [t_s, raw]")
            creep.append((_num(smp[0], f"{name}: creep.samples[{i}]", "t_s"),
                          _num(smp[1], f"{name}: creep.samples[{i}]", "raw")))
    ref_s = d.get("ref_s", 2.0)
    ref_s = _num(ref_s, name, "ref_s")
    return _finish_points(name, sensor, pts, creep, cg, ref_s, str(d.get("reference", "")), down)


def _finish_points(name, sensor, pts, creep, creep_grams, ref_s, reference, down=()) -> Points:
    zeros = [r for g, r in pts if g == 0]
    loaded = [(g, r) for g, r in pts if g > 0]
    if not zeros:
        raise InputError(f"{name}: no tare reading (a row with load 0)")
    if not loaded:
        raise InputError(f"{name}: no loaded points")
    if not (0 < ref_s <= 600):
        raise InputError(f"{name}: ref_s must be in (0, 600]")
    if len(pts) + len(creep) + len(down) > MAX_POINTS:
        raise InputError(f"{name}: {len(pts) + len(creep) + len(down)} points is more than a calibration can use "
                         f"(at most {MAX_POINTS})")
    light = [g for g, _ in list(loaded) + list(down) if g < MIN_LOAD_G]
    if light:
        raise InputError(f"{name}: a load of {light[0]:g} g is too light to calibrate with (at least "
                         f"{MIN_LOAD_G:g} g; a load of 0 is the tare)")
    return Points(sensor=sensor, zero_raw=int(round(sum(zeros) / len(zeros))), points=loaded,
                  creep_grams=creep_grams, creep_samples=creep, ref_s=ref_s, reference=reference,
                  source=name, unloading=list(down))


def points_to_csv(p: Points) -> str:
    out = ["# acutrainer calibration points"] + ([f"# sensor: {p.sensor}"] if p.sensor else []) + [
        f"# ref_s: {p.ref_s}"]
    if p.reference:
        out.append(f"# reference: {p.reference}")
    out.append("grams,raw")
    out.append(f"0,{p.zero_raw}")
    out += [f"{g:g},{r:g}" for g, r in p.points]
    out += [f"{g:g},{r:g},down" for g, r in p.unloading]
    if p.creep_samples:
        out.append(f"# creep_grams: {p.creep_grams:g}")
        out += [f"{p.creep_grams:g},{r:g},{t:g}" for t, r in p.creep_samples]
    return "\n".join(out) + "\n"
