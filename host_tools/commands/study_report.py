"""acutrainer study report: the coordinator's report (docs/study.md, "Coordinator report and exports").
register() adds `report` to the `study` command group."""

from __future__ import annotations

import time

from host_tools.archive import Archive, parse_date


def register(study_sub):
    p = study_sub.add_parser("report", help="per participant and week: sessions against the goal, minutes, dose and "
                             "time in band per point, who is falling behind (CSV; --html: a page with plots)")
    p.add_argument("--archive", help="archive file (default: archive.sqlite in the data dir)")
    p.add_argument("--out", default="acutrainer-study-report",
                   help="output folder (default: ./acutrainer-study-report)")
    p.add_argument("--csv", action="store_true", help="write the CSV files (default: CSV and HTML)")
    p.add_argument("--html", action="store_true", help="write study_report.html (default: CSV and HTML)")
    p.add_argument("--as-of", help="report as of this date (YYYY-MM-DD; default: now): which weeks are complete, "
                   "who is behind")
    p.set_defaults(func=cmd_report)


def cmd_report(args) -> int:
    from host_tools.study_report import load, render_text, write

    as_of = parse_date(args.as_of, "--as-of")
    now_s = int(as_of if as_of is not None else time.time())
    with Archive(args.archive) as arc:
        rep = load(arc, now_s)
    both = not args.csv and not args.html
    paths = write(rep, args.out, csv_files=args.csv or both, html_page=args.html or both)
    print(render_text(rep))
    print("")
    for p in paths:
        print("wrote %s" % p)
    return 0
