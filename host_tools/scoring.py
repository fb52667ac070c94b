"""The session score on the host (docs/score.md): the device's own figure from its log (the score event) and
the host's computation from the same log with the same code (acu.score, shared with the firmware), so a
difference shows a bug or a damaged log."""
from __future__ import annotations

from host_tools.paths import ensure_device_importable

ensure_device_importable()
from acu import logfmt, routine as R, score  # noqa: E402  (the device's modules: one formula)

FB_NAMES = R.FB_NAMES
_FB_CODES = {name: i for i, name in enumerate(FB_NAMES)}


def score_inputs(decoded: dict) -> tuple[int, int, list[tuple[int, int]], int] | None:
    """(contact ms with feedback on, in-band ms of it, checks [(target_g, measured_g)], steps done) from a
    decoded session (acu.logread.decode_session); None for a session the device scores not (no
    steps_planned event: a free press, a session cut short, firmware before the score)."""
    evs = decoded.get("events") or []
    if not any(e["code"] == logfmt.EV_STEPS_PLANNED for e in evs):
        return None
    fb_contact = fb_in = 0
    checks = []
    for st in decoded.get("steps") or []:
        b, s = st.get("begin"), st.get("summary")
        if b is None or s is None:
            continue
        if b["kind"] == "press" and s.get("feedback") in _FB_CODES and s["in_ms"] is not None:
            c, i = score.feedback_parts(_FB_CODES[s["feedback"]], s["under_ms"] + s["in_ms"] + s["over_ms"],
                                        s["in_ms"], s["silent_ms"] or 0, s["silent_in_ms"] or 0)
            fb_contact += c
            fb_in += i
        if b["kind"] == "check" and s.get("check") and s["status"] == "done":
            checks.append((s["check"]["target_g"], s["check"]["measured_g"]))
    done = (decoded.get("end") or {}).get("steps_done") or 0
    return fb_contact, fb_in, checks, done


def session_scores(decoded: dict) -> tuple[int | None, int | None]:
    """(the device's score, the host's) of a decoded session; None where there is none."""
    evs = decoded.get("events") or []
    dev = [e["value"] for e in evs if e["code"] == logfmt.EV_SCORE]
    planned = [e["value"] for e in evs if e["code"] == logfmt.EV_STEPS_PLANNED]
    inputs = score_inputs(decoded)
    host = None
    if inputs is not None and planned:
        fb_contact, fb_in, checks, done = inputs
        host = score.session_score(fb_contact, fb_in, checks, done, planned[-1])
    return (dev[-1] if dev else None), host
