"""acutrainer export: steps as CSV/JSON plus per-sample trace files; Parquet, BIDS-physio and REDCap for studies
(docs/export.md)."""

from __future__ import annotations

from host_tools.archive import Archive, parse_date
from host_tools.export import FORMATS, export


def register(sub):
    p = sub.add_parser("export", help="export steps (one row each) and force traces: CSV, JSON, Parquet, "
                       "BIDS-physio or REDCap (docs/export.md)")
    p.add_argument("--archive", help="archive file (default: archive.sqlite in the data dir)")
    p.add_argument("--format", choices=list(FORMATS), default="csv")
    p.add_argument("--since", help="from this date (YYYY-MM-DD)")
    p.add_argument("--until", help="before this date (YYYY-MM-DD)")
    p.add_argument("--out", default="acutrainer-export", help="output folder (default: ./acutrainer-export)")
    p.set_defaults(func=cmd_export)


def cmd_export(args) -> int:
    since = parse_date(args.since, "--since")
    until = parse_date(args.until, "--until")
    with Archive(args.archive) as arc:
        paths = export(arc, args.out, fmt=args.format, since=since, until=until)
    if args.format in ("csv", "json"):
        print("wrote %d file(s) to %s (steps.%s and %d trace file(s))" % (len(paths), args.out, args.format,
                                                                          len(paths) - 1))
    else:
        print("wrote %d file(s) to %s (%s: docs/export.md)" % (len(paths), args.out, args.format))
    return 0
