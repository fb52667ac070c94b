"""The learning curve (issue 19, docs/score.md "The learning curve"): per week of the user's practice, how
well they press WITH feedback and WITHOUT it, side by side. Learning shows as the without-feedback figures
(blind checks, silent press time) coming up to the with-feedback ones (FIELD_NOTES "Learning and retention":
a retention test without feedback is the measure). Pure computation over archive rows; no learning model.

With feedback: a press step's contact time less the part its schedule kept silent (acu.score.feedback_parts,
the score's own rule: bandwidth's silence is the message, so all its time counts as feedback on); steps
archived before schedules existed ran full feedback.
Without: blind checks (accuracy by acu.score.check_accurate, error |measured - target|) and the contact time
a schedule kept silent (faded, none).
The mean absolute error of press time is from the trace (100 ms means, contact only) against the band's
centre: full and bandwidth steps count as with feedback, `none` steps as without; a faded step's samples are
split by its schedule as the device ran it (faded_sides), those that may lie on either side of a switch left
out."""

from __future__ import annotations

import datetime as dt

from host_tools.scoring import FB_NAMES, R, logfmt, score  # the device's modules: one rule, one codec

DAY_S = 86400
WEEK_S = 7 * DAY_S
CONTACT_G = 300  # a trace sample below this is no contact (the device's default contact threshold, acu.band)
FADE_BLOCK_MS = 10000  # a faded schedule's block (acu.app._FADE_BLOCK_MS; docs/feedback.md): on for its first pct %
_CLOCK_EVENTS = {logfmt.EV_PAUSE, logfmt.EV_RESUME, logfmt.EV_CONTACT_LOST, logfmt.EV_CONTACT_BACK}


def _acc():
    return {"sessions": 0, "completed": 0, "place": None, "fb_contact_ms": 0, "fb_in_ms": 0, "fb_err_g": 0, "fb_n": 0,
            "silent_ms": 0, "silent_in_ms": 0, "silent_err_g": 0, "silent_n": 0,
            "checks": 0, "accurate": 0, "check_err_g": 0}


def _pct(part, whole):
    return round(100.0 * part / whole, 1) if whole else None


def _mean(total, n):
    return round(total / n) if n else None


def _trace_error(trace, st) -> tuple[int, int]:
    """(sum of |force - band centre| g, samples) over the step's contact samples."""
    lo, hi, t0, t1 = st.get("band_lo_g"), st.get("band_hi_g"), st.get("t_begin_ms"), st.get("t_end_ms")
    if not lo or not hi or t0 is None or t1 is None:
        return 0, 0
    centre = (lo + hi) // 2
    errs = [abs(g - centre) for t, g in trace if t0 <= t < t1 and g >= CONTACT_G]
    return sum(errs), len(errs)


def faded_sides(trace, st, events, period_ms: int = 100) -> list[tuple[int, int, bool]]:
    """A faded press step's contact samples split by its schedule as the device ran it: [(t_ms, grams, on)], on True
    where the band feedback spoke, False where it was silent. The device's rule (acu.app._feedback_gate): on
    while the step's live time modulo FADE_BLOCK_MS is under fb_pct % of it. The live time starts at the step's
    first contact, stops while the clock is held for lost contact (contact_lost .. contact_back) or paused
    (pause .. resume; after a resume it starts again at the next contact). The events' times are the device's
    own; a first contact is read from the trace (100 ms means), which puts the live clock up to two periods off
    each time: a sample whose window, widened by that doubt, reaches across a switch is left out, as is one
    while the clock stood or one an event falls in."""
    lo, hi, t0, t1 = st.get("band_lo_g"), st.get("band_hi_g"), st.get("t_begin_ms"), st.get("t_end_ms")
    pct = st.get("fb_pct")
    if not lo or not hi or t0 is None or t1 is None or pct is None:
        return []
    on_ms = FADE_BLOCK_MS * pct // 100
    evs = sorted((e["t_ms"], e["code"]) for e in events
                 if e["code"] in _CLOCK_EVENTS and e["value"] == st.get("idx") and t0 <= e["t_ms"] <= t1)
    seen = held = paused = False
    live_ms = 0          # the live clock at `since` (None: it stands)
    since = None
    doubt = 0
    out = []
    k = 0
    for t, g in trace:
        if not t0 <= t < t1:
            continue
        hit = False      # an event inside this sample's window: the clock changed in it
        while k < len(evs) and evs[k][0] < t + period_ms:
            te, code = evs[k]
            k += 1
            hit = hit or te > t
            if since is not None:
                live_ms += te - since
                since = None
            if code == logfmt.EV_CONTACT_LOST:
                held = True
            elif code == logfmt.EV_PAUSE:
                paused = True
            elif code == logfmt.EV_RESUME:
                paused = held = seen = False  # the runner waits for a new first contact
            else:  # contact back: the clock runs again from the event's own time
                held = False
            if seen and not held and not paused:
                since = te
        if not seen and not paused and g >= CONTACT_G:
            seen = True
            since = t
            doubt += 2 * period_ms
        if hit or since is None or g < CONTACT_G:
            continue
        w = live_ms + t - since           # the live clock at the sample's start
        a = (w - doubt) % FADE_BLOCK_MS   # the earliest it may be, within its block
        b = a + period_ms + 2 * doubt     # ... and the latest end
        if b <= on_ms:
            out.append((t, g, True))
        elif on_ms <= a and b <= FADE_BLOCK_MS:
            out.append((t, g, False))
    return out


def _add_steps(acc, steps, read_trace, events=()):
    trace = None  # read at the first press step that needs it: a session of checks and rests reads none
    for st in steps:
        if st["kind"] == "check":
            t, m = st.get("check_target_g"), st.get("check_measured_g")
            if t and m is not None and st["status"] == "done":  # as the score: only checks done count
                acc["checks"] += 1
                acc["accurate"] += 1 if score.check_accurate(t, m) else 0
                acc["check_err_g"] += abs(m - t)
            continue
        if st["kind"] not in (None, "press") or st.get("no_band") or st["in_ms"] is None:
            continue
        fb = R.FB_FULL if st.get("fb") is None else st["fb"]  # before schedules: always full feedback
        contact = (st["under_ms"] or 0) + st["in_ms"] + (st["over_ms"] or 0)
        silent, silent_in = st.get("silent_ms") or 0, st.get("silent_in_ms") or 0
        c_on, i_on = score.feedback_parts(fb, contact, st["in_ms"], silent, silent_in)
        acc["fb_contact_ms"] += c_on
        acc["fb_in_ms"] += i_on
        if fb != R.FB_BANDWIDTH:
            acc["silent_ms"] += silent
            acc["silent_in_ms"] += silent_in
        if trace is None:
            trace = read_trace()
        if fb == R.FB_FADED:
            for _, g, on in faded_sides(trace, st, events):  # none without a band: its centre is then read
                side = "fb" if on else "silent"
                acc[side + "_err_g"] += abs(g - (st["band_lo_g"] + st["band_hi_g"]) // 2)
                acc[side + "_n"] += 1
            continue
        err, n = _trace_error(trace, st)
        side = "silent" if fb == R.FB_NONE else "fb"
        acc[side + "_err_g"] += err
        acc[side + "_n"] += n


def programme_goals(stages) -> list[int]:
    """A programme's sessions-a-week goal for each of its weeks as planned, from its stages [(weeks, goal)]
    (docs/programmes.md). A week the device held a stage back is in its state, not in the log: the curve
    counts each week against the plan."""
    return [goal for weeks, goal in stages for _ in range(weeks)]


def programme_place(events) -> tuple[int, int, int] | None:
    """(stage, week of the stage, goal) a programme's session logged (event programme, docs/log-format.md:
    stage + 256 x week + 65536 x goal), or None outside a programme."""
    for e in events:
        if e["code"] == logfmt.EV_PROGRAMME and e["value"] is not None:
            v = int(e["value"])
            return v & 0xFF, (v >> 8) & 0xFF, v >> 16
    return None


def week_goal(goals, week: int) -> int | None:
    """The sessions-a-week goal of week `week` (from 1): goals is one number for every week, a list with one
    per week (a programme's stages; None past its end), or None (unknown)."""
    if goals is None or isinstance(goals, int):
        return goals
    return goals[week - 1] if week <= len(goals) else None


def curve(archive, since: float | None = None, until: float | None = None, start_s: float | None = None,
          goals=None) -> dict:
    """{"start_utc": the first week's first day, "weeks": rows (columns.LEARNING), "undated": sessions left
    out for want of a date}. Week 1 starts on the UTC day of the first dated session, or of start_s (a
    programme's start) when given; sessions before it are left out. goals: the weekly goal (week_goal) the
    week's completed sessions are counted against."""
    sessions = archive.sessions(since=since, until=until)
    dated = [s for s in sessions if s["wall_start_s"] is not None]
    if start_s is None and dated:
        start_s = dated[0]["wall_start_s"]
    if start_s is None:
        return {"start_utc": None, "weeks": [], "undated": len(sessions)}
    day0 = int(start_s) // DAY_S * DAY_S
    weeks: dict[int, dict] = {}
    for s in dated:
        if s["wall_start_s"] < day0:
            continue
        acc = weeks.setdefault((s["wall_start_s"] - day0) // WEEK_S + 1, _acc())
        acc["sessions"] += 1
        acc["completed"] += s["end_status"] == "completed"
        events = archive.events(s["id"])
        acc["place"] = programme_place(events) or acc["place"]  # the week's latest
        _add_steps(acc, archive.steps(s["id"]), lambda sid=s["id"]: archive.trace(sid), events)
    rows = []
    for n in range(1, max(weeks) + 1 if weeks else 1):
        a = weeks.get(n, _acc())
        rows.append({
            "week": n, "from_date": dt.datetime.fromtimestamp(day0 + (n - 1) * WEEK_S, dt.timezone.utc)
            .strftime("%Y-%m-%d"), "sessions": a["sessions"],
            "fb_press_s": round(a["fb_contact_ms"] / 1000.0, 1), "fb_pct_in_band": _pct(a["fb_in_ms"],
                                                                                      a["fb_contact_ms"]),
            "fb_mae_g": _mean(a["fb_err_g"], a["fb_n"]),
            "silent_press_s": round(a["silent_ms"] / 1000.0, 1),
            "silent_pct_in_band": _pct(a["silent_in_ms"], a["silent_ms"]),
            "silent_mae_g": _mean(a["silent_err_g"], a["silent_n"]),
            "checks": a["checks"], "checks_accurate": a["accurate"],
            "check_accuracy_pct": _pct(a["accurate"], a["checks"]), "check_mae_g": _mean(a["check_err_g"],
                                                                                      a["checks"]),
            # the goal the programme logged for the week wins over one given (docs/score.md)
            "completed": a["completed"], "goal": a["place"][2] if a["place"] else week_goal(goals, n),
        })
        g = rows[-1]["goal"]
        rows[-1]["adherence_pct"] = round(100.0 * min(a["completed"], g) / g, 1) if g else None
        rows[-1]["programme_stage"] = a["place"][0] if a["place"] else None
    return {"start_utc": rows[0]["from_date"] if rows else None, "weeks": rows,
            "undated": len(sessions) - len(dated)}


def schedule_name(code) -> str | None:
    """The schedule's name of an archived fb code (None: no band, or archived before schedules)."""
    return FB_NAMES[code] if code is not None and 0 <= code < len(FB_NAMES) else None
