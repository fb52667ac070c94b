"""Readings captured from the running app's live stream (docs/protocol.md): steadiness in device time, the
calibration wizard a person follows with a kitchen scale, and the weight check.

The app keeps running: it streams in calibration mode (no practice logged, outputs quiet) while a person
presses. Capture works on device time (the stream's T_MS), so the simulator at --speed N behaves like a
board. The wizard's steps are plain functions with ask/out/show callbacks so a test can drive them with a
fake stream, and the CLI (commands/calibrate.py) drives them on a terminal.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from host_tools.calibration.fit import Fit, build_calibration
from host_tools.calibration.pointsfile import Points, family
from host_tools.errors import AcuError, InputError

STEADY_MS = 1000           # a reading is steady when it stays within the tolerance this long
STEADY_TOL_PCT = 1.5       # ... of the raw reading's distance from the tare
MIN_SPAN = {"divider": 150, "loadcell": 2500}   # raw units: the noise floor (ADC u16; HX711 counts ~12 g)
# The wizard judges "loaded" by the raw reading's rise above the tare, not by the device's current curve:
# before calibration that is the nominal curve, which reads a steep part (docs/sensors.md, measured family)
# at a third of its load, so 1 kg on it would never look like contact. ~50 mV on the divider, ~100 g on a
# load cell (HX711 counts).
LOADED_RAW = {"divider": 1000, "loadcell": 20000}
CONTACT_G = 300            # the app's contact threshold: below it the tip counts as free
STATE_FAULT = 5            # the stream's band state for a sensor fault (acu.band.FAULT): its raw is stale
RENEW_S = 1.0              # the stream's lease is renewed this often (real time)
LEASE_S = 3.0
DEFAULT_TOL_PCT = {"fsr402": 5.0, "fsr406": 5.0, "a201": 5.0, "loadcell": 1.0}   # acutrainer check


class Cancelled(AcuError):
    """The person ended the wizard (Ctrl-C or Ctrl-D at a prompt); nothing was written."""

    exit_code = 130


@dataclass
class Reading:
    t_ms: int          # device ticks
    raw: int
    force_g: int
    state: int


class StreamSource:
    """The live stream in calibration mode: read(timeout_s) -> new Readings. Renews its lease as it reads."""

    def __init__(self, link, every_device_ms: int = 50, mode: str = "calib"):
        self.link = link
        self.every_device_ms = every_device_ms   # on the device's clock: steadiness is judged there
        self.mode = mode
        self._renewed = 0.0
        self._renew()

    def _renew(self):
        self.link.start_stream(0, LEASE_S, self.mode, every_device_ms=self.every_device_ms)
        self._renewed = time.monotonic()

    def read(self, timeout_s: float = 0.1) -> list[Reading]:
        if time.monotonic() - self._renewed >= RENEW_S:
            self._renew()
        return [Reading(s.t_ms, s.raw, s.force_g, s.state) for s in self.link.poll(timeout_s)]

    def close(self):
        self.link.stop_stream()


def _ticks_diff(a: int, b: int) -> int:
    return ((a - b + (1 << 29)) & ((1 << 30) - 1)) - (1 << 29)


class Steadiness:
    """Is the raw reading steady? It is when the readings of the last window_ms of device time stay within
    max(tol % of their distance from the tare, min_span)."""

    def __init__(self, zero_raw: float = 0.0, min_span: float = MIN_SPAN["divider"], window_ms: int = STEADY_MS,
                 tol_pct: float = STEADY_TOL_PCT):
        self.zero = zero_raw
        self.window_ms = window_ms
        self.tol = tol_pct / 100.0
        self.min_span = min_span
        self.buf: list[Reading] = []

    def add(self, r: Reading) -> bool:
        self.buf.append(r)
        while len(self.buf) > 2 and _ticks_diff(r.t_ms, self.buf[1].t_ms) >= self.window_ms:
            self.buf.pop(0)
        return self.steady()

    def span_ms(self) -> int:
        return _ticks_diff(self.buf[-1].t_ms, self.buf[0].t_ms) if len(self.buf) > 1 else 0

    def steady(self) -> bool:
        if len(self.buf) < 2 or self.span_ms() < self.window_ms:
            return False
        raws = [r.raw for r in self.buf]
        mid = sum(raws) / len(raws)
        return max(raws) - min(raws) <= max(self.tol * abs(mid - self.zero), self.min_span)

    def mean_raw(self) -> float:
        return sum(r.raw for r in self.buf) / len(self.buf)

    def mean_force(self) -> float:
        return sum(r.force_g for r in self.buf) / len(self.buf)

    def mid_t_ms(self) -> int:
        return self.buf[0].t_ms + self.span_ms() // 2

    def reset(self):
        self.buf = []


@dataclass
class Capture:
    raw: float            # the steady window's mean raw reading
    force_g: float        # ... and the device's own force over it
    hold_s: float         # time from first contact to the middle of the window (0 for a tare)


def wait_steady(src, det: Steadiness, show, label: str, loaded: bool, timeout_s: float = 600,
                on_raw: float | None = None) -> Capture:
    """Read until det says steady with the tip loaded (loaded=True: above the contact threshold, or with
    on_raw given, a raw reading at or above it) or free (loaded=False: a tare). show(text) gets a live line."""
    det.reset()
    contact_t = None
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for r in src.read(0.1):
            if r.state == STATE_FAULT:
                # a sensor that stopped answering repeats its last reading: perfectly steady, and wrong
                det.reset()
                show("%s   the sensor reports a fault (no new readings): waiting for it..." % label)
                continue
            on = r.force_g >= CONTACT_G if on_raw is None else r.raw >= on_raw
            if on and contact_t is None:
                contact_t = r.t_ms
            elif not on:
                contact_t = None
            if on != loaded:
                det.reset()
                hint = "press..." if loaded else "take everything off the tip..."
                ok = False
            else:
                ok = det.add(r)
                hint = "STEADY" if ok else "hold it steady..."
            show("%s   raw %6d   ~%5.2f kg on the device's current curve   %s" % (label, r.raw, r.force_g / 1000.0,
                                                                                 hint))
            if ok:
                hold = _ticks_diff(det.mid_t_ms(), contact_t) / 1000.0 if loaded and contact_t is not None else 0.0
                return Capture(det.mean_raw(), det.mean_force(), max(0.0, hold))
    raise AcuError("no steady reading within %.0f s: is the device %s?" % (
        timeout_s, "pressed on the scale" if loaded else "free of any load"))


def wait_released(src, show, timeout_s: float = 120):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for r in src.read(0.1):
            show("release the tip...   raw %6d" % r.raw)
            if r.force_g < CONTACT_G:
                return
    raise AcuError("the tip was not released within %.0f s" % timeout_s)


def count_presses(src, top_g: float, show, want: int, timeout_s: float = 120) -> int:
    """Count conditioning presses (reaching a quarter of top_g on the device's current curve: before
    calibration the nominal curve reads a steep part at about a third of its load) until `want` of them."""
    n = 0
    up = False
    deadline = time.monotonic() + timeout_s
    while n < want and time.monotonic() < deadline:
        for r in src.read(0.1):
            if not up and r.force_g >= top_g / 4:
                up = True
                n += 1
            elif up and r.force_g < CONTACT_G:
                up = False
            show("conditioning: %d of %d presses   ~%5.2f kg" % (n, want, r.force_g / 1000.0))
    return n


def parse_scale_reading(text: str, target_g: float) -> float:
    """The person's scale reading ('3.05', '3.05 kg', '3050 g') in grams; InputError with the reason."""
    t = text.strip().lower().replace(",", ".")
    scale = 1000.0
    if t.endswith("kg"):
        t = t[:-2]
    elif t.endswith("g"):
        t, scale = t[:-1], 1.0
    try:
        v = float(t) * scale
    except ValueError:
        raise InputError("%r is not a scale reading (type it in kg, e.g. 3.05)" % text.strip()) from None
    if not (50 <= v <= 50000):
        raise InputError("%g g is not a plausible reading (0.05-50 kg)" % v)
    if not (0.4 * target_g <= v <= 2.0 * target_g):
        raise InputError("%.2f kg is far from the %.2f kg asked for: press again nearer to it"
                         % (v / 1000, target_g / 1000))
    return v


WIZARD_LOADS = {"divider": [1000, 2000, 3000, 4000, 5000, 6000], "loadcell": [1000, 3000, 5000]}
# asked again at the end: how far a repeated press lands from the first measures the repeatability
WIZARD_REPEATS = {"divider": [4000], "loadcell": [3000]}


def run_wizard(src, kind: str, ask, out, show, loads=None, creep_hold_s: float = 0.0, method=None,
               mode: str = "scale") -> tuple[dict, Fit]:
    """The guided calibration on the live stream; the built calibration dict and its fit (not written).
    ask(prompt) -> str (EOFError/KeyboardInterrupt cancel), out(line), show(live text)."""
    fam = family(kind)
    loads = list(loads or WIZARD_LOADS[fam]) + WIZARD_REPEATS[fam]
    span = MIN_SPAN[fam]

    def prompt(text):
        try:
            return ask(text)
        except (EOFError, KeyboardInterrupt):
            raise Cancelled("calibration cancelled; nothing was written") from None

    out("Calibrating the %s. The device stays quiet and logs nothing while you calibrate." % kind)
    if mode == "scale":
        out("You need a kitchen scale. Each time, press the device's tip on the scale until it shows about the "
            "load asked for and hold it steady: the wizard captures the reading, then you type what the scale "
            "shows.")
    else:
        out("Rest each known weight on the tip when asked; the wizard captures the reading when it is steady.")
    prompt("1) Tare: take everything off the tip, then press Enter. ")
    zero = wait_steady(src, Steadiness(0.0, span), show, "tare", loaded=False).raw
    out("   tare: raw %.0f" % zero)
    if fam == "divider":
        top = 1.1 * max(loads)
        prompt("2) Condition the sensor: press it 4 times to about %.1f kg, 1 s each. Press Enter, then press. "
               % (top / 1000))
        out("   %d conditioning presses" % count_presses(src, top, show, want=4))
        wait_released(src, show)
    pts = []
    holds = []
    for i, target in enumerate(loads, 1):
        label = "[%d/%d] %g kg" % (i, len(loads), target / 1000)
        again = " again (a repeat: it measures how well presses repeat)" if target in loads[:i - 1] else ""
        while True:
            if mode == "scale":
                prompt("[%d/%d] Press Enter, then press the tip on the scale to about %g kg%s and hold it "
                       "steady. " % (i, len(loads), target / 1000, again))
            else:
                prompt("[%d/%d] Rest %g kg on the tip%s, then press Enter. " % (i, len(loads), target / 1000,
                                                                                again))
            cap = wait_steady(src, Steadiness(zero, span), show, label, loaded=True,
                              on_raw=zero + LOADED_RAW[fam])
            if mode == "scale":
                try:
                    grams = parse_scale_reading(prompt("   Steady. What does the scale read (kg)? "), target)
                except InputError as e:
                    out("   %s; again." % e)
                    wait_released(src, show)
                    continue
            else:
                grams = float(target)
            break
        pts.append((grams, round(cap.raw, 1)))
        holds.append(cap.hold_s)
        out("   captured %.3f kg: raw %.0f" % (grams / 1000, cap.raw))
        if mode == "scale":
            out("   release the tip")
        wait_released(src, show)
    ref_s = round(sum(holds) / len(holds), 2) if holds else 2.0
    creep: list[tuple[float, float]] = []
    creep_g = None
    if creep_hold_s > 0 and fam == "divider":
        ans = prompt("Creep: press Enter, then press about 4 kg on the scale and hold it for %g s ('s' Enter: "
                     "skip). " % creep_hold_s)
        if ans.strip().lower() != "s":
            creep, creep_g = _creep_hold(src, zero, span, show, prompt, out, creep_hold_s)
    p = Points(sensor=kind, zero_raw=int(round(zero)), points=pts, creep_grams=creep_g if creep else None,
                  creep_samples=_thin(creep), ref_s=max(ref_s, 0.5), reference=f"wizard, {mode} mode",
                  source="wizard")
    return build_calibration(kind, p, method=method, creep=bool(creep))


def _creep_hold(src, zero, span, show, prompt, out, hold_s):
    """(t_s from first contact, raw) over a hold, and the scale reading at its end."""
    contact_t = None
    samples: list[tuple[float, float]] = []
    while not samples or samples[-1][0] < hold_s:
        for r in src.read(0.1):
            if r.force_g < CONTACT_G:
                if contact_t is not None:
                    out("   the press ended early; press again and hold")
                contact_t = None
                samples = []
                show("creep hold: press about 4 kg...   raw %6d" % r.raw)
                continue
            if contact_t is None:
                contact_t = r.t_ms
            t = _ticks_diff(r.t_ms, contact_t) / 1000.0
            samples.append((round(t, 3), float(r.raw)))
            show("creep hold: %3.0f of %g s   raw %6d   ~%5.2f kg" % (t, hold_s, r.raw, r.force_g / 1000.0))
    try:
        grams = parse_scale_reading(prompt("   Done. What does the scale read now (kg)? "), 4000)
    except InputError as e:
        out("   %s: the creep hold is left out" % e)
        samples, grams = [], None
    wait_released(src, show)
    return samples, grams


def _thin(samples, n: int = 120):
    """At most n creep samples, spread over the hold (the fit needs the shape, not every frame)."""
    if len(samples) <= n:
        return samples
    step = len(samples) / n
    return [samples[int(i * step)] for i in range(n)]


# ---------------------------------------------------------------- the weight check
def check_live(src, weight_g: float, hand=None, ask=None, show=lambda t: None, calibrated=True,
               calib_id: str = "", kind: str = "fsr402", tolerance_pct: float | None = None) -> dict:
    """The device's own reading (calibrated, creep-compensated, filtered: what the user feels) at a known
    load. hand: the simulator's (press/release), else ask() tells a person what to put on the tip."""
    if not (100 <= weight_g <= 50000):
        raise InputError(f"--weight {weight_g / 1000:g} kg is outside 0.1..50 kg")
    tol = tolerance_pct if tolerance_pct is not None else DEFAULT_TOL_PCT.get(kind, 5.0)
    span = MIN_SPAN[family(kind)]
    if hand is not None:
        hand.release()
    zero = wait_steady(src, Steadiness(0.0, span), show, "tare", loaded=False).raw
    if hand is not None:
        hand.press(weight_g)
    else:
        ask(f"Put {weight_g / 1000:g} kg on the tip (a weight or the scale), hold it steady, press Enter. ")
    cap = wait_steady(src, Steadiness(zero, span, window_ms=2000), show, "%g kg" % (weight_g / 1000), loaded=True)
    if hand is not None:
        hand.release()
    err = cap.force_g - weight_g
    return {"sensor": kind, "calibration": calib_id, "calibrated": calibrated, "weight_g": weight_g,
            "measured_g": round(cap.force_g, 1), "error_g": round(err, 1),
            "error_pct": round(100 * err / weight_g, 2), "tolerance_pct": tol,
            "pass": abs(err) <= tol / 100 * weight_g, "raw": round(cap.raw, 1)}
