"""acutrainer report: adherence, minutes / % in band / mean force per point, weekly trend, plots, HTML."""

from __future__ import annotations

from host_tools.archive import Archive, parse_date
from host_tools.errors import InputError
from host_tools.archive_db import ARCHIVE_HELP


def register(sub):
    p = sub.add_parser("report", help="practice report with PNG plots (--html: one self-contained page)")
    p.add_argument("--archive", help=ARCHIVE_HELP)
    p.add_argument("--since", help="from this date (YYYY-MM-DD)")
    p.add_argument("--until", help="before this date (YYYY-MM-DD)")
    p.add_argument("--goal", type=int, help="sessions a week (default: the routine's weekly_goal)")
    p.add_argument("--routine", help="the routine the goal belongs to (default: the one practised most)")
    p.add_argument("--session", type=int, help="archive id of the session to plot (default: the latest)")
    p.add_argument("--out", default="acutrainer-report", help="output folder (default: ./acutrainer-report)")
    p.add_argument("--html", action="store_true", help="also write report.html with the plots inside")
    p.set_defaults(func=cmd_report)


def cmd_report(args) -> int:
    # matplotlib takes ~1.8 s to import: only the report pays for it, not every acutrainer command
    from host_tools.report import render_text, write_report

    if args.goal is not None and not 1 <= args.goal <= 50:
        raise InputError("--goal %d: sessions a week must be 1..50" % args.goal)
    since = parse_date(args.since, "--since")
    until = parse_date(args.until, "--until")
    with Archive(args.archive) as arc:
        rep, paths = write_report(arc, args.out, since=since, until=until, goal=args.goal, routine=args.routine,
                                  html_page=args.html, session_id=args.session)
    print(render_text(rep))
    print("")
    for p in paths:
        print("wrote %s" % p)
    return 0
