"""The coordinator's study report (docs/study.md, "Coordinator report and exports"): per participant and
study week, sessions against the weekly goal, minutes of practice, dose and time in band per point, blind-
check accuracy where the log has blind checks, and who is falling behind. build() is pure computation over
plain data; load() gathers that data from an archive; the writers (CSV, HTML with plots) are below.

Weeks are counted per participant from the start of their first enrolment: week 1 is its first 7 days.
A session counts toward the goal when it completed a routine (a free press is practice, not a session).
Minutes, dose and % in band are press steps' figures; blind checks (steps of kind "check") are kept apart.

Falling behind (a participant with an open enrolment, inside their study weeks) when either:
- the last complete week had fewer counted sessions than the weekly goal, or
- no session started in the last IDLE_DAYS days (once enrolled that long).
"""

from __future__ import annotations

import base64
import csv
import html
import io
from pathlib import Path

from host_tools import attribution, outfiles
from host_tools.errors import AcuError
from host_tools.export import _cell, iso_utc, safe_path
from host_tools.termsafe import shown

DAY_S = 86400
WEEK_S = 7 * DAY_S
IDLE_DAYS = 7
PRACTICE_KINDS = (None, "press")  # steps with a pressure target that practise (None: logs before kinds)
CHECK_KIND = "check"              # issue 19's blind checks: no band feedback during the press

WEEK_COLUMNS = ["participant", "arm", "week", "week_start_utc", "complete", "sessions", "goal", "goal_met",
                "started", "minutes", "in_band_min", "pct_in_band", "dose_kg_s", "blind_checks",
                "blind_check_pct_in_band"]
POINT_COLUMNS = ["participant", "arm", "week", "point", "steps", "minutes", "in_band_min", "pct_in_band",
                 "dose_kg_s"]
PARTICIPANT_COLUMNS = ["participant", "arm", "status", "enrolled_utc", "week_now", "sessions", "undated",
                       "last_session_utc", "days_since_last", "behind", "reasons"]


def _acc():
    return {"contact_ms": 0, "in_ms": 0, "dose_gs": 0, "steps": 0}


def _add(acc: dict, st: dict):
    acc["contact_ms"] += (st["under_ms"] or 0) + (st["in_ms"] or 0) + (st["over_ms"] or 0)
    acc["in_ms"] += st["in_ms"] or 0
    acc["dose_gs"] += st["dose_gs"] or 0
    acc["steps"] += 1


def _pct(part, whole):
    return round(100.0 * part / whole, 1) if whole else None


def _figures(acc: dict) -> dict:
    return {"minutes": round(acc["contact_ms"] / 60000.0, 2), "in_band_min": round(acc["in_ms"] / 60000.0, 2),
            "pct_in_band": _pct(acc["in_ms"], acc["contact_ms"]), "dose_kg_s": round(acc["dose_gs"] / 1000.0, 3)}


def counts_toward_goal(s: dict) -> bool:
    return s["end_status"] == "completed" and (s["routine"] or "free") != "free"


def build(study: dict, participants: list[dict], enrolments: list[dict], sessions: list[dict],
          steps_of: dict, now_s: int) -> dict:
    """sessions: attributed (each has `participant`); steps_of: {session id: its steps}. Returns
    {"study", "now_s", "weeks": [...], "points": [...], "participants": [...]} (rows keyed as the *_COLUMNS)."""
    goal, n_weeks = int(study["weekly_goal"]), int(study["weeks"])
    arms = {p["participant"]: p["arm"] for p in participants}
    ids = [p["participant"] for p in participants]
    # then anyone enrolled or with sessions who is not in the list
    for extra in ([e["participant"] for e in enrolments], sorted(s["participant"] for s in sessions
                                                                   if s.get("participant"))):
        ids += [i for i in dict.fromkeys(extra) if i not in ids]
    enrols_of: dict[str, list[dict]] = {}
    for e in enrolments:
        enrols_of.setdefault(e["participant"], []).append(e)
    sessions_of: dict[str, list[dict]] = {}
    for s in sessions:
        if s.get("participant"):
            sessions_of.setdefault(s["participant"], []).append(s)
    week_rows, point_rows, people = [], [], []
    for pid in ids:
        arm = arms.get(pid)
        mine = enrols_of.get(pid, [])
        own = sessions_of.get(pid, [])
        dated = sorted((s for s in own if s["wall_start_s"] is not None), key=lambda s: s["wall_start_s"])
        last = dated[-1]["wall_start_s"] if dated else None
        row = {"participant": pid, "arm": arm, "sessions": sum(1 for s in own if counts_toward_goal(s)),
               "undated": len(own) - len(dated), "last_session_utc": iso_utc(last),
               "days_since_last": round((now_s - last) / DAY_S, 1) if last is not None else None,
               "enrolled_utc": "", "week_now": None, "behind": False, "reasons": ""}
        if not mine:
            row["status"] = "not_enrolled"
            people.append(row)
            continue
        start = min(e["start_s"] for e in mine)
        is_open = any(e["end_s"] is None for e in mine)
        week_now = (now_s - start) // WEEK_S + 1 if now_s >= start else 0
        row["enrolled_utc"] = iso_utc(start)
        row["week_now"] = week_now
        row["status"] = ("ended" if not is_open else "not_started" if week_now == 0
                         else "finished" if week_now > n_weeks else "active")
        weeks = {w: {"sessions": 0, "started": 0, "practice": _acc(), "checks": _acc(), "points": {}}
                 for w in range(1, min(week_now, n_weeks) + 1)}
        for s in dated:
            w = (s["wall_start_s"] - start) // WEEK_S + 1
            if w not in weeks:
                continue  # before the enrolment, or after the study's last week
            wk = weeks[w]
            wk["started"] += 1
            wk["sessions"] += counts_toward_goal(s)
            for st in steps_of.get(s["id"], []):
                if st["kind"] == CHECK_KIND:
                    _add(wk["checks"], st)
                elif st["kind"] in PRACTICE_KINDS and not st.get("no_band"):
                    _add(wk["practice"], st)
                    if st["point"]:
                        _add(wk["points"].setdefault(st["point"], _acc()), st)
        for w, wk in weeks.items():
            complete = now_s >= start + w * WEEK_S
            checks = wk["checks"]
            week_rows.append(dict(
                participant=pid, arm=arm, week=w, week_start_utc=iso_utc(start + (w - 1) * WEEK_S),
                complete=complete, sessions=wk["sessions"], goal=goal, goal_met=wk["sessions"] >= goal,
                started=wk["started"], blind_checks=checks["steps"],
                blind_check_pct_in_band=_pct(checks["in_ms"], checks["contact_ms"]) if checks["steps"] else None,
                **_figures(wk["practice"])))
            for point in sorted(wk["points"]):
                acc = wk["points"][point]
                point_rows.append(dict(participant=pid, arm=arm, week=w, point=point, steps=acc["steps"],
                                       **_figures(acc)))
        if row["status"] == "active":
            row["reasons"] = "; ".join(behind_reasons(weeks, week_now, goal, start, last, now_s))
            row["behind"] = bool(row["reasons"])
        people.append(row)
    return {"study": study, "now_s": now_s, "weeks": week_rows, "points": point_rows, "participants": people}


def behind_reasons(weeks: dict, week_now: int, goal: int, start: int, last: int | None, now_s: int) -> list[str]:
    """Why an active participant is falling behind ([] when they are not): the rule in the module's doc."""
    out = []
    done = week_now - 1  # the last complete week
    if done in weeks and weeks[done]["sessions"] < goal:
        out.append("week %d: %d of %d sessions" % (done, weeks[done]["sessions"], goal))
    since = last if last is not None else start
    if now_s - start >= IDLE_DAYS * DAY_S and now_s - since >= IDLE_DAYS * DAY_S:
        out.append("no session for %d days" % ((now_s - since) // DAY_S) if last is not None
                   else "no session since enrolment (%d days)" % ((now_s - start) // DAY_S))
    return out


def load(archive, now_s: int) -> dict:
    """The report from an archive (its study, participants, enrolments and sessions)."""
    study = attribution.study_info(archive)
    if study is None:
        raise AcuError("no study in %s: start one with acutrainer study init"
                       % getattr(archive, "path", "the archive"))
    enrols = attribution.enrolments(archive)
    sessions = [s for s in attribution.attribute(archive.sessions(), enrols) if s["participant"]]
    steps = {s["id"]: archive.steps(s["id"]) for s in sessions}
    return build(study, attribution.participants(archive), enrols, sessions, steps, now_s)


# ------------------------------------------------------------------------------------------------ output
def _csv(columns: list[str], rows: list[dict]) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: _cell(v) for k, v in r.items() if k in columns})
    return buf.getvalue().encode()


def render_text(rep: dict) -> str:
    st = rep["study"]
    people = rep["participants"]
    lines = ["study %s: goal %d sessions a week for %d weeks; %d participants, %d behind (as of %s)" % (
        shown(st["name"]), st["weekly_goal"], st["weeks"], len(people), sum(p["behind"] for p in people),
        iso_utc(rep["now_s"]))]
    if people:
        lines.append("")
        lines.append("%-16s %-12s %-12s %5s %8s %9s  %s" % ("participant", "arm", "status", "week", "sessions",
                                                            "last (d)", "behind"))
        for p in people:
            lines.append("%-16s %-12s %-12s %5s %8d %9s  %s" % (
                shown(p["participant"])[:16], shown(p["arm"] or "-")[:12], p["status"],
                "-" if p["week_now"] is None else p["week_now"], p["sessions"],
                "-" if p["days_since_last"] is None else p["days_since_last"],
                shown(p["reasons"]) if p["behind"] else "-"))
    return "\n".join(lines)


def make_plots(rep: dict) -> dict[str, bytes]:
    from host_tools import plots  # matplotlib: only when a page is written

    out = {}
    if rep["weeks"]:
        out["study_sessions.png"] = plots.study_sessions_png(rep["weeks"], rep["study"]["weekly_goal"])
        out["study_in_band.png"] = plots.study_in_band_png(rep["weeks"])
    return out


def _v(v, suffix=""):
    return "-" if v is None or v == "" else "%s%s" % (v, suffix)


def render_html(rep: dict, images: dict[str, bytes]) -> str:
    def e(v):  # markup escaped, control characters shown as escapes (termsafe)
        return html.escape(shown(v))
    st = rep["study"]
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>acutrainer study report</title>",
             "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
             "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;"
             "text-align:right}th{background:#eee}td:first-child{text-align:left}img{max-width:100%}"
             "tr.behind td{background:#fde2e2}</style>",
             "</head><body><h1>Study report: %s</h1>" % e(st["name"]),
             "<p>Goal %d sessions a week for %d weeks; as of %s. Behind: fewer sessions than the goal in the last "
             "complete week, or no session for %d days (docs/study.md).</p>" % (
                 st["weekly_goal"], st["weeks"], e(iso_utc(rep["now_s"])), IDLE_DAYS)]
    parts.append("<h2>Participants</h2><table><tr>%s</tr>" % "".join(
        "<th>%s</th>" % c for c in ("participant", "arm", "status", "week", "sessions", "last session",
                                    "days since", "behind")))
    for p in rep["participants"]:
        parts.append("<tr%s><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%d</td><td>%s</td><td>%s</td>"
                     "<td>%s</td></tr>" % (
                         " class='behind'" if p["behind"] else "", e(p["participant"]), e(_v(p["arm"])),
                         e(p["status"]), _v(p["week_now"]), p["sessions"], e(_v(p["last_session_utc"])),
                         _v(p["days_since_last"]), e(p["reasons"]) if p["behind"] else "-"))
    parts.append("</table>")
    for name, caption in (("study_sessions.png", "Sessions per participant and week (against the goal)"),
                          ("study_in_band.png", "Time in band per week, by arm")):
        if name in images:
            parts.append("<h2>%s</h2><img alt='%s' src='data:image/png;base64,%s'>" % (
                e(caption), e(caption), base64.b64encode(images[name]).decode()))
    if rep["weeks"]:
        parts.append("<h2>Weeks</h2><table><tr>%s</tr>" % "".join(
            "<th>%s</th>" % c for c in ("participant", "week", "sessions / goal", "minutes", "% in band",
                                        "dose (kg.s)", "blind checks", "blind % in band")))
        for w in rep["weeks"]:
            parts.append("<tr><td>%s</td><td>%d%s</td><td>%d / %d</td><td>%s</td><td>%s</td><td>%s</td>"
                         "<td>%d</td><td>%s</td></tr>" % (
                             e(w["participant"]), w["week"], "" if w["complete"] else " (so far)", w["sessions"],
                             w["goal"], w["minutes"], _v(w["pct_in_band"]), w["dose_kg_s"], w["blind_checks"],
                             _v(w["blind_check_pct_in_band"])))
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write(rep: dict, out_dir, csv_files: bool = True, html_page: bool = True) -> list[Path]:
    out = outfiles.out_dir(out_dir)
    files: list[tuple[str, bytes]] = []
    if csv_files:
        files += [("study_weeks.csv", _csv(WEEK_COLUMNS, rep["weeks"])),
                  ("study_points.csv", _csv(POINT_COLUMNS, rep["points"])),
                  ("study_participants.csv", _csv(PARTICIPANT_COLUMNS, rep["participants"]))]
    if html_page:
        files.append(("study_report.html", render_html(rep, make_plots(rep)).encode()))
    paths = []
    for name, data in files:
        p = safe_path(out, name)
        outfiles.write_atomic(p, data)
        paths.append(p)
    return paths
