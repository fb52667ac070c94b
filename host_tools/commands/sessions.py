"""acutrainer sessions: list archived sessions (filters by date, routine, point)."""

from __future__ import annotations

from host_tools.archive import Archive, parse_date
from host_tools.export import iso_utc


def register(sub):
    p = sub.add_parser("sessions", help="list the archived practice sessions")
    p.add_argument("--archive", help="archive file (default: archive.sqlite in the data dir)")
    p.add_argument("--since", help="from this date (YYYY-MM-DD)")
    p.add_argument("--until", help="before this date (YYYY-MM-DD)")
    p.add_argument("--routine", help="only this routine")
    p.add_argument("--point", help="only sessions with a step on this point, e.g. HT7")
    p.set_defaults(func=cmd_sessions)


_MARK = {"device": "", "clock_set": "", "same_boot": "~", "pull": "~", None: "?"}


def session_lines(arc: Archive, since=None, until=None, routine=None, point=None) -> list[str]:
    lines = ["%5s %-12s %6s %-21s %-16s %-11s %6s %s" % ("id", "device", "no", "start (UTC)", "routine",
                                                          "status", "min", "notes")]
    for s in arc.sessions(since=since, until=until, routine=routine, point=point):
        start = iso_utc(s["wall_start_s"]).replace("T", " ").rstrip("Z") or "unknown"
        notes = []
        if s["wall_source"] in ("same_boot", "pull"):
            notes.append("time reconstructed")
        if s["problems"]:
            notes.append("%d problem(s)" % len(s["problems"]))
        if s["trace_stopped"]:
            notes.append("trace stopped (flash low)")
        lines.append("%5d %-12s %6d %-21s %-16s %-11s %6.1f %s" % (
            s["id"], (s["device_id"] or "")[:12], s["session_no"], _MARK.get(s["wall_source"], "") + start,
            (s["routine"] or "-")[:16], s["end_status"] or "open", (s["duration_ms"] or 0) / 60000.0,
            "; ".join(notes)))
    return lines


def cmd_sessions(args) -> int:
    since = parse_date(args.since, "--since")
    until = parse_date(args.until, "--until")
    with Archive(args.archive) as arc:
        lines = session_lines(arc, since, until, args.routine, args.point)
    print("\n".join(lines))
    if len(lines) == 1:
        print("(no sessions)")
    else:
        print("~ start time reconstructed by the host; ? unknown (the device clock was never set)")
    return 0
