"""acutrainer export: steps as CSV/JSON plus per-sample trace files; Parquet, BIDS-physio and REDCap for studies
(docs/export.md)."""

from __future__ import annotations

from host_tools.archive import Archive, parse_date
from host_tools.archive_db import ARCHIVE_HELP
from host_tools.errors import InputError
from host_tools.export import FORMATS, export, export_learning


def register(sub):
    p = sub.add_parser("export", help="export steps (one row each) and force traces: CSV, JSON, Parquet, "
                       "BIDS-physio or REDCap (docs/export.md)")
    p.add_argument("--archive", help=ARCHIVE_HELP)
    p.add_argument("--format", choices=list(FORMATS), default="csv")
    p.add_argument("--since", help="from this date (YYYY-MM-DD)")
    p.add_argument("--until", help="before this date (YYYY-MM-DD)")
    p.add_argument("--out", default="acutrainer-export", help="output folder (default: ./acutrainer-export)")
    p.add_argument("--learning", action="store_true",
                   help="write the learning curve instead, one row per week (learning.csv or learning.json)")
    p.add_argument("--start", help="the learning curve's week 1 starts on this date (YYYY-MM-DD), e.g. a "
                   "programme's first day (default: the first session's)")
    p.add_argument("--weekly-goal", type=int, help="with --learning: the sessions-a-week goal each week's "
                   "completed sessions are counted against (e.g. a programme's)")
    p.set_defaults(func=cmd_export)


def cmd_export(args) -> int:
    since = parse_date(args.since, "--since")
    until = parse_date(args.until, "--until")
    start = parse_date(args.start, "--start")
    if args.weekly_goal is not None and not 1 <= args.weekly_goal <= 50:
        raise InputError("--weekly-goal %d: sessions a week must be 1..50" % args.weekly_goal)
    if args.learning:
        with Archive(args.archive) as arc:
            paths = export_learning(arc, args.out, fmt=args.format, since=since, until=until, start_s=start,
                                    goals=args.weekly_goal)
        print("wrote %s (the learning curve: docs/export.md)" % paths[0])
        return 0
    with Archive(args.archive) as arc:
        paths = export(arc, args.out, fmt=args.format, since=since, until=until)
    if args.format in ("csv", "json"):
        print("wrote %d file(s) to %s (steps.%s and %d trace file(s))" % (len(paths), args.out, args.format,
                                                                          len(paths) - 1))
    else:
        print("wrote %d file(s) to %s (%s: docs/export.md)" % (len(paths), args.out, args.format))
    return 0
