"""The validation kit (docs/validation.md): presses at known loads against a reference, read from the running
app's live stream exactly as the person practising feels them (calibration, creep compensation, filter, band
state), then a constant-load hold for drift; and the report: pairs.csv, hold.csv, bland_altman.png,
drift.png, report.md, results.json. The statistics are in host_tools/agreement.py.

run() takes a stream source (capture.StreamSource or a test's fake), and either a hand (the simulator's:
press/release at exact loads, so the reference is the load it applies) or ask() for a person, who presses on
a kitchen scale and types what it reads.
"""
from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

from host_tools import agreement, capture, outfiles, plots
from host_tools.calibration.pointsfile import family
from host_tools.errors import AcuError, InputError
from host_tools.termsafe import shown

DEFAULT_LOADS_G = [1000, 2000, 3000, 4000, 5000, 6000]
DEFAULT_REPEATS = 5
DEFAULT_HOLD_S = 120.0
CONDITION_PRESSES = 4
HOLD_G = 4000                # the drift hold: the middle of the band
STEADY_WINDOW_MS = 2000      # a press is read as the mean of 2 s of steady device readings
# the firmware's band states (device/acu/band.py) as agreement classes; TOO_HARD is over the band too
STATE_CLASS = {1: "under", 2: "in", 3: "over", 4: "over"}
STATE_NAMES = ("no_contact", "under", "in", "over", "too_hard", "fault")
LATENCY_NOTE = ("not measured by the firmware: it keeps no timestamp of its outputs. On the simulator "
                "`make bench` measures it from the output trace (feedback_latency_ms, docs/feedback.md); on a "
                "board it needs an external measurement (docs/validation.md)")


def parse_loads(text: str) -> list[int]:
    """'1,2,3.5' (kg) -> grams; InputError naming the bad item."""
    out = []
    for item in text.split(","):
        try:
            kg = float(item.strip())
        except ValueError:
            raise InputError("--loads: %r is not a load in kg (e.g. --loads 1,2,3,4,5,6)" % item.strip()) from None
        if not (0.3 <= kg <= 20.0):
            raise InputError("--loads: %g kg is outside 0.3..20 kg" % kg)
        out.append(int(round(kg * 1000)))
    return out


def check_args(repeats: int, hold_s: float) -> None:
    """Checked before anything is asked of the device or the person."""
    if not 1 <= repeats <= 100:
        raise InputError("--repeats %d: give 1 to 100 presses at each load" % repeats)
    if not (math.isfinite(hold_s) and 0 <= hold_s <= 3600):
        raise InputError("--hold-s %g: give 0 (no drift hold) to 3600 s" % hold_s)


def _prompt(ask, text):
    try:
        return ask(text)
    except (EOFError, KeyboardInterrupt):
        raise capture.Cancelled("validation cancelled; nothing was written") from None


def _press(src, zero, span, show, label):
    """One steady loaded reading: (mean force, mean raw, the band state at its end)."""
    det = capture.Steadiness(zero, span, window_ms=STEADY_WINDOW_MS)
    cap = capture.wait_steady(src, det, show, label, loaded=True)
    return cap.force_g, cap.raw, det.buf[-1].state


def run(src, kind: str, loads_g, repeats: int, hand=None, ask=None, out=print, show=lambda t: None,
        hold_s: float = DEFAULT_HOLD_S) -> dict:
    """The whole protocol; returns {"pairs": [...], "hold": [(t_s, g)...] or [], "hold_ref_g": g or None}."""
    check_args(repeats, hold_s)
    if hand is None and ask is None:
        raise AcuError("validate needs the simulator's hand or a person to press")
    span = capture.MIN_SPAN[family(kind)]
    n = len(loads_g) * repeats
    out("Validating the %s: %d presses (%s kg, %s)%s." % (
        kind, n, ", ".join("%g" % (g / 1000) for g in loads_g),
        "once each" if repeats == 1 else "%d times each" % repeats,
        ", then a %g s hold at %g kg" % (hold_s, HOLD_G / 1000) if hold_s > 0 else ""))
    if hand is not None:
        hand.release()
    else:
        out("You need a kitchen scale (or a load cell) as the reference. The device stays quiet and logs nothing.")
        _prompt(ask, "Tare: take everything off the tip, then press Enter. ")
    zero = capture.wait_steady(src, capture.Steadiness(0.0, span), show, "tare", loaded=False).raw
    if family(kind) == "divider":
        _condition(src, zero, span, hand, ask, out, show, 1.1 * max(loads_g))
    pairs: list[dict] = []
    for rep in range(repeats):
        for target in loads_g:
            i = len(pairs) + 1
            label = "[%d/%d] %g kg" % (i, n, target / 1000)
            while True:
                if hand is not None:
                    hand.press(target)
                else:
                    _prompt(ask, "[%d/%d] Press Enter, then press the tip on the scale to about %g kg and hold it "
                                 "steady. " % (i, n, target / 1000))
                force, raw, state = _press(src, zero, span, show, label)
                if hand is not None:
                    ref = float(target)
                    break
                try:
                    ref = capture.parse_scale_reading(_prompt(ask, "   Steady. What does the scale read (kg)? "),
                                                      target)
                    break
                except InputError as e:
                    out("   %s; again." % e)
                    _rest(src, span, show)
            pairs.append({"press": i, "repeat": rep + 1, "target_g": target, "reference_g": round(ref, 1),
                          "device_g": round(force, 1), "raw": round(raw, 1), "device_state": state})
            out("   %s: reference %.3f kg, device %.3f kg (%+.1f %%), band %s" % (
                label, ref / 1000, force / 1000, 100 * (force - ref) / ref, STATE_NAMES[state]
                if 0 <= state < len(STATE_NAMES) else state))
            if hand is not None:
                hand.release()
            _rest(src, span, show)
    hold, hold_ref = [], None
    if hold_s > 0:
        hold, hold_ref = _hold(src, zero, span, hand, ask, out, show, hold_s)
    return {"pairs": pairs, "hold": hold, "hold_ref_g": hold_ref}


def _condition(src, zero, span, hand, ask, out, show, top_g):
    """A thin-film sensor reads its first presses after a rest differently: load it to 110 % of the top
    load 4 times first (FIELD_NOTES, FlexiForce; docs/validation.md)."""
    if hand is not None:
        for i in range(CONDITION_PRESSES):
            hand.press(top_g)
            _press(src, zero, span, show, "conditioning %d of %d" % (i + 1, CONDITION_PRESSES))
            hand.release()
            _rest(src, span, show)
    else:
        _prompt(ask, "Condition the sensor: press it %d times to about %.1f kg, 1 s each. Press Enter, then "
                     "press. " % (CONDITION_PRESSES, top_g / 1000))
        capture.count_presses(src, top_g, show, want=CONDITION_PRESSES)
        _rest(src, span, show)
    out("   %d conditioning presses to %.1f kg" % (CONDITION_PRESSES, top_g / 1000))


def _rest(src, span, show):
    """Released, and free long enough for a steady reading: the firmware's zero tracking settles between
    presses as it does when a person lifts the finger for a moment (docs/validation.md)."""
    capture.wait_released(src, show)
    capture.wait_steady(src, capture.Steadiness(0.0, span), show, "rest", loaded=False)


def _hold(src, zero, span, hand, ask, out, show, hold_s):
    """(t_s, device g) for hold_s of device time from the first steady reading under a constant load."""
    if hand is not None:
        hand.press(HOLD_G)
        ref = float(HOLD_G)
    else:
        ans = _prompt(ask, "Drift: rest a known weight of about %g kg on the tip (a water bottle you weighed on the "
                           "scale), type its mass in kg and press Enter ('s': skip the drift hold). " % (HOLD_G / 1000))
        if ans.strip().lower() == "s":
            out("   drift hold skipped")
            return [], None
        try:
            ref = capture.parse_scale_reading(ans, HOLD_G)
        except InputError as e:
            out("   %s: the drift hold is left out" % e)
            return [], None
    det = capture.Steadiness(zero, span)
    capture.wait_steady(src, det, show, "hold", loaded=True)
    t0 = det.buf[-1].t_ms
    samples: list[tuple[float, float]] = []
    while not samples or samples[-1][0] < hold_s:
        for r in src.read(0.1):
            t = capture._ticks_diff(r.t_ms, t0) / 1000.0
            if t < 0:
                continue
            if r.force_g < capture.CONTACT_G:
                out("   the load came off %.0f s into the hold: the drift is left out" % t)
                if hand is not None:
                    hand.release()
                return [], None
            samples.append((round(t, 3), float(r.force_g)))
            show("drift hold: %3.0f of %g s   ~%5.2f kg" % (t, hold_s, r.force_g / 1000.0))
    if hand is not None:
        hand.release()
    else:
        out("   done: take the weight off")
    capture.wait_released(src, show)
    return samples, ref


# ---------------------------------------------------------------- the report
def analyse(result: dict, kind: str, calib_id: str = "", calibrated: bool = True, source: str = "") -> dict:
    pairs = result["pairs"]
    dev = [p["device_g"] for p in pairs]
    ref = [p["reference_g"] for p in pairs]
    classes = [STATE_CLASS.get(p["device_state"], "none") for p in pairs]
    figs = {"sensor": kind, "calibration": calib_id, "calibrated": calibrated, "source": source,
            "bland_altman": agreement.bland_altman(dev, ref),
            "per_load": agreement.per_load([p["target_g"] for p in pairs], dev, ref),
            "band": agreement.band_agreement(classes, ref),
            "drift": agreement.drift(result["hold"], result["hold_ref_g"]) if result["hold"] else None,
            "feedback_latency_ms": None, "feedback_latency_note": LATENCY_NOTE}
    return figs


def summary_lines(f: dict) -> list[str]:
    ba, band, dr = f["bland_altman"], f["band"], f["drift"]

    def share(s):
        return "n/a (no presses)" if s["share"] is None else "%.0f %% (%d of %d)" % (100 * s["share"], s["agree"],
                                                                                    s["n"])
    lines = [
        "%s, calibration %s%s: %d presses" % (f["sensor"], shown(f["calibration"]) or "?",
                                              "" if f["calibrated"] else " (uncalibrated nominal curve)", ba["n"]),
        "bias %+.0f g (%+.2f %%), SD %.0f g (%.2f %%)" % (ba["bias_g"], ba["bias_pct"], ba["sd_g"], ba["sd_pct"]),
        "95 %% limits of agreement %+.0f to %+.0f g, %+.2f to %+.2f %% of the reference (within +-%.2f %%)" % (
            ba["loa_lo_g"], ba["loa_hi_g"], ba["loa_lo_pct"], ba["loa_hi_pct"], ba["loa_pct"]),
        "band decisions (%g-%g kg) agree: %s; at the %g kg edge %s, at the %g kg edge %s; within %g %% of an "
        "edge %s, clear of the edges %s" % (
            band["lo_g"] / 1000, band["hi_g"] / 1000, share(band["all"]), band["lo_g"] / 1000,
            share(band["lo_edge"]), band["hi_g"] / 1000, share(band["hi_edge"]), band["edge_pct"],
            share(band["near_edges"]), share(band["clear_of_edges"])),
    ]
    if dr is None:
        lines.append("drift: no hold measured")
    else:
        lines.append("drift over a %.0f s hold at %.2f kg: %+.3f %% per minute (%+.2f %% first to last tenth)" % (
            dr["hold_s"], dr["reference_g"] / 1000, dr["pct_per_min"], dr["change_pct"]))
    lines.append("feedback latency: " + f["feedback_latency_note"])
    return lines


def _csv(header, rows) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode()


def _json_safe(x):
    return json.dumps(x, indent=1, sort_keys=True, allow_nan=False).encode()


def _markdown(f: dict, lines: list[str], files: list[str]) -> str:
    ba = f["bland_altman"]
    md = ["# Validation report: %s" % f["sensor"], ""]
    if f["source"]:
        md += ["Source: %s" % shown(f["source"]), ""]
    md += ["- " + ln for ln in lines] + ["", "## Bland-Altman", "",
                                          "![Bland-Altman plot](bland_altman.png)", "",
                                          "| figure | grams | % of the reference |", "|---|---|---|"]
    for name, g, p in (("bias (mean difference)", "bias_g", "bias_pct"), ("SD of the differences", "sd_g", "sd_pct"),
                       ("lower 95 % limit", "loa_lo_g", "loa_lo_pct"), ("upper 95 % limit", "loa_hi_g", "loa_hi_pct")):
        sign = "" if g == "sd_g" else "+"
        md.append(("| %s | %" + sign + ".1f | %" + sign + ".2f |") % (name, ba[g], ba[p]))
    md += ["", "## Per load", "", "| load (kg) | presses | bias (g) | bias (%) | SD (g) |", "|---|---|---|---|---|"]
    for r in f["per_load"]:
        md.append("| %g | %d | %+.1f | %+.2f | %s |" % (r["target_g"] / 1000, r["n"], r["bias_g"], r["bias_pct"],
                                                        "-" if r["sd_g"] is None else "%.1f" % r["sd_g"]))
    if f["drift"]:
        md += ["", "## Drift", "", "![drift over the hold](drift.png)"]
    md += ["", "Method: docs/validation.md (Bland & Altman 1986). Files: %s." % ", ".join(files), ""]
    return "\n".join(md)


def write_report(out_dir, result: dict, figs: dict) -> list[str]:
    """All the report files into out_dir (each whole or not at all); their names."""
    d = outfiles.out_dir(out_dir)
    pairs = result["pairs"]
    files = {}
    files["pairs.csv"] = _csv(
        ["press", "repeat", "target_g", "reference_g", "device_g", "diff_g", "diff_pct", "mean_g", "raw",
         "device_state", "reference_class", "device_class"],
        [[p["press"], p["repeat"], p["target_g"], p["reference_g"], p["device_g"],
          round(p["device_g"] - p["reference_g"], 1),
          round(100 * (p["device_g"] - p["reference_g"]) / p["reference_g"], 3),
          round((p["device_g"] + p["reference_g"]) / 2, 1), p["raw"],
          STATE_NAMES[p["device_state"]] if 0 <= p["device_state"] < len(STATE_NAMES) else p["device_state"],
          agreement.classify(p["reference_g"]), STATE_CLASS.get(p["device_state"], "none")] for p in pairs])
    title = "%s: %d presses, limits of agreement %+.0f to %+.0f g" % (
        figs["sensor"], figs["bland_altman"]["n"], figs["bland_altman"]["loa_lo_g"], figs["bland_altman"]["loa_hi_g"])
    files["bland_altman.png"] = plots.bland_altman_png(
        [(p["device_g"] + p["reference_g"]) / 2 for p in pairs], [p["device_g"] - p["reference_g"] for p in pairs],
        figs["bland_altman"], title)
    if result["hold"]:
        files["hold.csv"] = _csv(["t_s", "device_g", "reference_g"],
                                 [[t, g, result["hold_ref_g"]] for t, g in result["hold"]])
        files["drift.png"] = plots.drift_png(result["hold"], result["hold_ref_g"], "%s: %+.3f %% per minute" % (
            figs["sensor"], figs["drift"]["pct_per_min"]))
    files["results.json"] = _json_safe(figs)
    names = sorted(files) + ["report.md"]
    files["report.md"] = _markdown(figs, summary_lines(figs), names).encode()
    for name in names:
        outfiles.write_atomic(Path(d) / name, files[name])
    return names
