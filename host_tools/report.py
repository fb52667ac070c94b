"""Practice report: adherence against the routine's weekly goal, minutes / % in band / mean force per
point, the trend per ISO week; PNG plots and an optional self-contained HTML page (PNGs inlined)."""

from __future__ import annotations

import base64
import datetime as dt
import html
import json
from pathlib import Path

from host_tools import learning, outfiles, plots
from host_tools.archive import Archive
from host_tools.errors import InputError
from host_tools.export import iso_utc, safe_path
from host_tools.termsafe import shown

DEFAULT_GOAL = 5  # sessions a week when a routine's own goal is unknown (FIELD_NOTES: 3-7 a week)


def routine_goal(name: str | None) -> int | None:
    """weekly_goal of a library routine (host_tools.routines), or None."""
    if not name:
        return None
    try:
        from host_tools import routines
        d = json.loads(routines.library_routine(name))
        g = d.get("weekly_goal")
        return int(g) if isinstance(g, int) and g > 0 else None
    except Exception:  # not a library routine (a user's own): the caller falls back
        return None


def _week(epoch_s: int) -> str:
    y, w, _ = dt.datetime.fromtimestamp(epoch_s, dt.timezone.utc).isocalendar()
    return "%d-W%02d" % (y, w)


def _week_range(first: str, last: str) -> list[str]:
    d = dt.date.fromisocalendar(int(first[:4]), int(first[6:]), 1)
    end = dt.date.fromisocalendar(int(last[:4]), int(last[6:]), 1)
    out = []
    while d <= end:
        y, w, _ = d.isocalendar()
        out.append("%d-W%02d" % (y, w))
        d += dt.timedelta(days=7)
    return out


_EMPTY_WEEK = {"sessions": 0, "started": 0, "other": 0, "contact_ms": 0, "in_ms": 0, "force_ms": 0}


def _contact(st: dict) -> int:
    if st["kind"] not in (None, "press"):
        return 0  # a rest, breath or timed step has no band (archives before format 3 counted one)
    return (st["under_ms"] or 0) + (st["in_ms"] or 0) + (st["over_ms"] or 0)


def build_report(archive: Archive, since: float | None = None, until: float | None = None,
                 goal: int | None = None, routine: str | None = None, start_s: float | None = None,
                 week_goals: list[int] | None = None) -> dict:
    """Adherence counts the completed sessions of one routine, the one the weekly goal belongs to (`routine`,
    else the routine practised most); free presses and other routines are counted beside it, not toward
    the goal. The learning curve's weeks count completed sessions against week_goals (a programme's, from
    start_s: learning.programme_goals), else against the same weekly goal."""
    sessions = archive.sessions(since=since, until=until)
    routines: dict[str, int] = {}
    for s in sessions:
        routines[s["routine"] or ""] = routines.get(s["routine"] or "", 0) + 1
    # the routine practised most sets the weekly goal; free presses ("free") are no routine
    ranked = {r: n for r, n in routines.items() if r not in ("", "free")} or routines
    main_routine = routine or (max(ranked, key=lambda r: ranked[r]) if ranked else None)
    if goal is None:
        goal = routine_goal(main_routine) or DEFAULT_GOAL
    weeks: dict[str, dict] = {}
    points: dict[str, dict] = {}
    undated = 0
    scores = []
    for s in sessions:
        steps = archive.steps(s["id"])
        if s.get("score") is not None or s.get("score_host") is not None:
            checks = [st for st in steps if st.get("check_target_g")]
            scores.append({"id": s["id"], "session_no": s["session_no"], "start": iso_utc(s["wall_start_s"]) or None,
                           "routine": s["routine"], "score": s["score"], "score_host": s["score_host"],
                           "checks": len(checks), "checks_accurate": sum(1 for st in checks if st["check_grade"] == 0)})
        contact = sum(_contact(st) for st in steps)
        in_ms = sum(st["in_ms"] or 0 for st in steps if _contact(st))
        force_ms = sum((st["mean_g"] or 0) * _contact(st) for st in steps)
        for st in steps:
            if st["kind"] not in (None, "press") or not st["point"]:
                continue
            c = (st["under_ms"] or 0) + (st["in_ms"] or 0) + (st["over_ms"] or 0)
            p = points.setdefault(st["point"], {"point": st["point"], "contact_ms": 0, "in_ms": 0,
                                                "force_ms": 0, "steps": 0})
            p["contact_ms"] += c
            p["in_ms"] += st["in_ms"] or 0
            p["force_ms"] += (st["mean_g"] or 0) * c
            p["steps"] += 1
        if s["wall_start_s"] is None:
            undated += 1
            continue
        wk = weeks.setdefault(_week(s["wall_start_s"]), dict(_EMPTY_WEEK))
        if (s["routine"] or "") == (main_routine or ""):
            wk["started"] += 1
            if s["end_status"] == "completed":
                wk["sessions"] += 1
        elif s["end_status"] == "completed":
            wk["other"] += 1   # a free press or another routine: practice, but not this goal's
        wk["contact_ms"] += contact
        wk["in_ms"] += in_ms
        wk["force_ms"] += force_ms
    week_rows = []
    if weeks:
        for name in _week_range(min(weeks), max(weeks)):
            w = weeks.get(name, _EMPTY_WEEK)
            week_rows.append({
                "week": name, "sessions": w["sessions"], "started": w["started"], "other": w["other"],
                "goal": goal,
                "adherence_pct": round(100.0 * min(w["sessions"], goal) / goal, 1),
                "minutes": round(w["contact_ms"] / 60000.0, 1),
                "pct_in_band": round(100.0 * w["in_ms"] / w["contact_ms"], 1) if w["contact_ms"] else None,
                "mean_g": round(w["force_ms"] / w["contact_ms"]) if w["contact_ms"] else None,
            })
    point_rows = []
    for p in sorted(points.values(), key=lambda p: -p["contact_ms"]):
        point_rows.append({
            "point": p["point"], "steps": p["steps"], "minutes": round(p["contact_ms"] / 60000.0, 1),
            "pct_in_band": round(100.0 * p["in_ms"] / p["contact_ms"], 1) if p["contact_ms"] else None,
            "mean_g": round(p["force_ms"] / p["contact_ms"]) if p["contact_ms"] else None,
        })
    trend = None
    active = [w for w in week_rows if w["minutes"]]
    if len(active) >= 2 and active[0]["pct_in_band"] is not None and active[-1]["pct_in_band"] is not None:
        trend = round(active[-1]["pct_in_band"] - active[0]["pct_in_band"], 1)
    return {
        "sessions": len(sessions), "completed": sum(1 for s in sessions if s["end_status"] == "completed"),
        "routine_sessions": sum(1 for s in sessions if (s["routine"] or "") == (main_routine or "")),
        "cut_short": sum(1 for s in sessions if s["end_status"] == "cut_short"),
        "undated": undated, "routine": main_routine, "goal": goal, "weeks": week_rows, "points": point_rows,
        "in_band_trend_pts": trend, "scores": scores,
        "learning": learning.curve(archive, since=since, until=until, start_s=start_s,
                                   goals=goal if week_goals is None else week_goals),
        "overall_adherence_pct": round(sum(w["adherence_pct"] for w in week_rows) / len(week_rows), 1)
        if week_rows else None,
        "last_session_id": sessions[-1]["id"] if sessions else None,
        "last_session": sessions[-1] if sessions else None,
    }


def _fmt(v, suffix=""):
    return "-" if v is None else "%s%s" % (v, suffix)


def render_text(rep: dict) -> str:
    lines = ["%d sessions (%d completed, %d cut short, %d of unknown date); routine %s, goal %d a week"
             % (rep["sessions"], rep["completed"], rep["cut_short"], rep["undated"], shown(rep["routine"]) or "-",
                rep["goal"])]
    if rep["weeks"]:
        lines.append("")
        lines.append("%-9s %8s %9s %6s %8s %9s %7s"
                     % ("week", "sessions", "adherence", "other", "minutes", "in band", "mean"))
        for w in rep["weeks"]:
            lines.append("%-9s %5d/%-2d %8s%% %6d %8s %8s%% %6sg" % (
                w["week"], w["sessions"], w["goal"], w["adherence_pct"], w["other"], w["minutes"],
                _fmt(w["pct_in_band"]), _fmt(w["mean_g"])))
        lines.append("(sessions: completed %s sessions, toward the goal; other: free presses and other routines; "
                     "minutes, in band and mean: all practice)" % (shown(rep["routine"]) or "-"))
    if rep["points"]:
        lines.append("")
        lines.append("%-12s %6s %8s %9s %7s" % ("point", "steps", "minutes", "in band", "mean"))
        for p in rep["points"]:
            lines.append("%-12s %6d %8s %8s%% %6sg" % (shown(p["point"])[:12], p["steps"], p["minutes"],
                                                     _fmt(p["pct_in_band"]), _fmt(p["mean_g"])))
    if rep["in_band_trend_pts"] is not None:
        lines.append("")
        lines.append("time in band, first to last week: %+.1f points" % rep["in_band_trend_pts"])
    if rep["scores"]:
        lines.append("")
        lines.append("%-21s %-16s %5s %7s  (session score 0-100, docs/score.md)" % ("session (UTC)", "routine",
                                                                                   "score", "checks"))
        for sc in rep["scores"]:
            lines.append("%-21s %-16s %5s %7s%s" % (
                (sc["start"] or "date unknown").replace("T", " ").rstrip("Z"), (shown(sc["routine"]) or "-")[:16],
                _fmt(sc["score"]), "%d/%d" % (sc["checks_accurate"], sc["checks"]) if sc["checks"] else "-",
                "" if sc["score"] == sc["score_host"] else "  (host computes %s)" % _fmt(sc["score_host"])))
    lines += learning_lines(rep.get("learning"))
    return "\n".join(lines)


def learning_lines(lc: dict | None) -> list[str]:
    """The learning curve's table (host_tools.learning): only when some practice was without feedback (a
    silent schedule or a blind check); with feedback alone it would repeat the weeks' "in band"."""
    if not lc or not any(w["silent_press_s"] or w["checks"] for w in lc["weeks"]):
        return []
    lines = ["", "learning curve, week 1 from %s: with feedback | without (silent press time | blind checks)"
             % lc["start_utc"],
             "%-4s %-10s %5s | %7s %7s %6s | %7s %7s %6s | %6s %8s %6s" % (
                 "week", "from", "done", "press s", "in band", "error", "press s", "in band", "error",
                 "checks", "accurate", "error")]
    for w in lc["weeks"]:
        lines.append("%-4d %-10s %5s | %7s %6s%% %5sg | %7s %6s%% %5sg | %6d %7s%% %5sg" % (
            w["week"], w["from_date"], "%d/%s" % (w["completed"], _fmt(w["goal"])), w["fb_press_s"],
            _fmt(w["fb_pct_in_band"]),
            _fmt(w["fb_mae_g"]), w["silent_press_s"], _fmt(w["silent_pct_in_band"]), _fmt(w["silent_mae_g"]),
            w["checks"], _fmt(w["check_accuracy_pct"]), _fmt(w["check_mae_g"])))
    lines.append("(done: completed sessions / the weekly goal; in band: share of the press time; error: mean "
                 "|force - target| (presses: the band's centre, trace); accurate: within +-15 % of the target; "
                 "docs/score.md)")
    return lines


def make_plots(archive: Archive, rep: dict, session_id: int | None = None) -> dict[str, bytes]:
    """{"adherence.png": ..., "session_<id>.png": ...} (names built from numbers only)."""
    out = {}
    if rep["weeks"]:
        out["adherence.png"] = plots.weekly_adherence_png(rep["weeks"])
    if learning_lines(rep.get("learning")):
        out["learning.png"] = plots.learning_png(rep["learning"]["weeks"])
    if rep["scores"]:
        out["scores.png"] = plots.scores_png(rep["scores"])
    sid = session_id if session_id is not None else rep["last_session_id"]
    if sid is not None:
        s = archive.session(int(sid))
        if s is not None:
            when = iso_utc(s["wall_start_s"]) or "date unknown"
            if s["wall_source"] in ("same_boot", "pull"):
                when += " (reconstructed)"
            title = "session %d: %s, %s, %s" % (s["session_no"], s["routine"] or "free press", when,
                                                s["end_status"] or "open")
            out["session_%06d.png" % int(sid)] = plots.session_trace_png(
                archive.trace(int(sid)), archive.steps(int(sid)), title,
                band=(s["band_lo_g"] or 3000, s["band_hi_g"] or 5000))
    return out


_CAPTIONS = {"adherence.png": "Weekly adherence", "learning.png": "Learning curve: with and without feedback",
             "scores.png": "Session score per session"}


def render_html(rep: dict, images: dict[str, bytes]) -> str:
    e = html.escape
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>acutrainer practice report</title>",
             "<style>body{font-family:sans-serif;max-width:960px;margin:2em auto;color:#222}"
             "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;"
             "text-align:right}th{background:#eee}td:first-child{text-align:left}img{max-width:100%}</style>",
             "</head><body><h1>Practice report</h1>",
             "<p>%d sessions (%d completed, %d cut short, %d of unknown date). Routine: <b>%s</b>, goal %d "
             "sessions a week. Mean weekly adherence: %s.</p>" % (
                 rep["sessions"], rep["completed"], rep["cut_short"], rep["undated"],
                 e(rep["routine"] or "-"), rep["goal"], e(_fmt(rep["overall_adherence_pct"], " %")))]
    if rep["weeks"]:
        parts.append("<h2>Weeks</h2><table><tr><th>week</th><th>sessions / goal</th><th>adherence</th>"
                     "<th>minutes</th><th>% in band</th><th>mean force</th></tr>")
        for w in rep["weeks"]:
            parts.append("<tr><td>%s</td><td>%d / %d</td><td>%s %%</td><td>%s</td><td>%s</td><td>%s</td>"
                         "</tr>" % (
                e(w["week"]), w["sessions"], w["goal"], w["adherence_pct"], w["minutes"],
                e(_fmt(w["pct_in_band"], " %")), e(_fmt(w["mean_g"], " g"))))
        parts.append("</table>")
    if rep["points"]:
        parts.append("<h2>Points</h2><table><tr><th>point</th><th>steps</th><th>minutes</th>"
                     "<th>% in band</th><th>mean force</th></tr>")
        for p in rep["points"]:
            parts.append("<tr><td>%s</td><td>%d</td><td>%s</td><td>%s</td><td>%s</td></tr>" % (
                e(p["point"]), p["steps"], p["minutes"], e(_fmt(p["pct_in_band"], " %")),
                e(_fmt(p["mean_g"], " g"))))
        parts.append("</table>")
    if rep["in_band_trend_pts"] is not None:
        parts.append("<p>Time in band from the first to the last week: %+.1f points.</p>"
                     % rep["in_band_trend_pts"])
    if rep["scores"]:
        parts.append("<h2>Session scores</h2><p>0-100: time in band with feedback on, blind-check accuracy and "
                     "completion (docs/score.md).</p><table><tr><th>session (UTC)</th><th>routine</th>"
                     "<th>score</th><th>accurate checks</th></tr>")
        for sc in rep["scores"]:
            parts.append("<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>" % (
                e(sc["start"] or "date unknown"), e(sc["routine"] or "-"), e(_fmt(sc["score"])),
                "%d / %d" % (sc["checks_accurate"], sc["checks"]) if sc["checks"] else "-"))
        parts.append("</table>")
    lc = rep.get("learning")
    if lc is not None and learning_lines(lc):
        parts.append("<h2>Learning curve</h2><p>Week 1 from %s. With feedback: press time with feedback on; "
                     "without: press time a schedule kept silent and blind checks. Error: mean |force - target| "
                     "(presses: the band's centre); accurate: within &plusmn;15 %% of the target "
                     "(docs/score.md).</p><table><tr><th>week</th><th>completed / goal</th>"
                     "<th>in band, feedback on</th>"
                     "<th>error, feedback on</th><th>in band, feedback off</th><th>error, feedback off</th>"
                     "<th>blind checks accurate</th><th>blind-check error</th></tr>" % e(lc["start_utc"] or "-"))
        for w in lc["weeks"]:
            parts.append("<tr><td>%d (%s)</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>"
                         "<td>%s</td><td>%s</td></tr>" % (
                w["week"], e(w["from_date"]), "%d / %s" % (w["completed"], _fmt(w["goal"])),
                e(_fmt(w["fb_pct_in_band"], " %")),
                e(_fmt(w["fb_mae_g"], " g")), e(_fmt(w["silent_pct_in_band"], " %")),
                e(_fmt(w["silent_mae_g"], " g")),
                "%d / %d" % (w["checks_accurate"], w["checks"]) if w["checks"] else "-",
                e(_fmt(w["check_mae_g"], " g"))))
        parts.append("</table>")
    for name in sorted(images):
        caption = _CAPTIONS.get(name) or "Force trace of session %d" % int(name[len("session_"):-len(".png")])
        parts.append("<h2>%s</h2><img alt='%s' src='data:image/png;base64,%s'>" % (
            e(caption), e(caption), base64.b64encode(images[name]).decode()))
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(archive: Archive, out_dir, since=None, until=None, goal=None, html_page=False, routine=None,
                 session_id=None, start_s=None, week_goals=None) -> tuple[dict, list[Path]]:
    """Build the report, write its PNGs (and report.html) into out_dir; returns (report, paths)."""
    if session_id is not None and archive.session(int(session_id)) is None:
        raise InputError("--session %d: no such session in %s (acutrainer sessions lists them)"
                         % (session_id, archive.path))
    rep = build_report(archive, since=since, until=until, goal=goal, routine=routine, start_s=start_s,
                       week_goals=week_goals)
    out = outfiles.out_dir(out_dir)
    images = make_plots(archive, rep, session_id)
    paths = []
    for name, data in images.items():
        p = safe_path(out, name)
        outfiles.write_atomic(p, data)
        paths.append(p)
    if html_page:
        p = safe_path(out, "report.html")
        outfiles.write_atomic(p, render_html(rep, images).encode())
        paths.append(p)
    return rep, paths
