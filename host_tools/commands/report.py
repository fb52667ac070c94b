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
    p.add_argument("--goal", "--weekly-goal", dest="goal", type=int,
                   help="sessions a week, e.g. a programme's (default: the routine's weekly_goal)")
    p.add_argument("--start", help="the learning curve's week 1 starts on this date (YYYY-MM-DD), e.g. a "
                   "programme's first day (default: the first session's)")
    p.add_argument("--routine", help="the routine the goal belongs to (default: the one practised most)")
    p.add_argument("--programme", help="a programme (library name or file): the learning curve counts each "
                   "programme week's sessions against its stage's goal; with --start, its first day")
    p.add_argument("--session", type=int, help="archive id of the session to plot (default: the latest)")
    p.add_argument("--out", default="acutrainer-report", help="output folder (default: ./acutrainer-report)")
    p.add_argument("--html", action="store_true", help="also write report.html with the plots inside")
    p.set_defaults(func=cmd_report)


def programme_goals(arg: str) -> list[int]:
    """The weekly goals of a programme (library name or file), one per planned week (docs/programmes.md)."""
    from host_tools import programmes
    from host_tools.learning import programme_goals as goals

    data, source, _ = programmes.resolve(arg)
    return goals([(s.weeks, s.goal) for s in programmes.parse_bytes(data, source).stages])


def cmd_report(args) -> int:
    # matplotlib takes ~1.8 s to import: only the report pays for it, not every acutrainer command
    from host_tools.report import render_text, write_report

    if args.goal is not None and not 1 <= args.goal <= 50:
        raise InputError("--goal %d: sessions a week must be 1..50" % args.goal)
    start = parse_date(args.start, "--start")
    since = parse_date(args.since, "--since")
    until = parse_date(args.until, "--until")
    week_goals = programme_goals(args.programme) if args.programme else None
    with Archive(args.archive) as arc:
        rep, paths = write_report(arc, args.out, since=since, until=until, goal=args.goal, routine=args.routine,
                                  html_page=args.html, session_id=args.session, start_s=start,
                                  week_goals=week_goals)
    print(render_text(rep))
    print("")
    for p in paths:
        print("wrote %s" % p)
    return 0
