"""acutrainer doctor: check the ports, the link and the trainer; say what to do next for each problem."""

from __future__ import annotations

from host_tools import doctor
from host_tools.termsafe import shown
from host_tools.archive_db import ARCHIVE_HELP

MARKS = {
    doctor.OK: "[green]ok[/]",
    doctor.INFO: "[cyan]info[/]",
    doctor.WARN: "[yellow]warn[/]",
    doctor.FAIL: "[red bold]FAIL[/]",
}


def register(sub):
    p = sub.add_parser(
        "doctor",
        help="health check: ports, link, firmware, flash, calibration, clock, routine, "
        "sessions to pull (exit 1 on a problem)",
    )
    p.add_argument("--port", help="serial port (default: the running simulator or the one board)")
    p.add_argument("--archive", help=ARCHIVE_HELP)
    p.add_argument("--json", action="store_true", help="print the checks as JSON")
    from host_tools.session import add_practice_args
    add_practice_args(p)
    p.set_defaults(func=run)


def render(checks: list[doctor.Check], console=None) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = console or Console()
    t = Table(title="acutrainer doctor", show_lines=False)
    t.add_column("check")
    t.add_column("status")
    t.add_column("detail", overflow="fold")
    for c in checks:  # details quote device files: plain text (no rich markup), escaped for the terminal
        t.add_row(escape(shown(c.name)), MARKS.get(c.status, c.status), escape(shown(c.detail)))
    console.print(t)
    todo = [c for c in checks if c.fix and c.status in (doctor.FAIL, doctor.WARN)]
    if todo:
        console.print("[bold]What to do next:[/]")
        for i, c in enumerate(todo, 1):
            console.print("  %d. %s: %s" % (i, shown(c.name), shown(c.fix)), highlight=False, markup=False)
    if doctor.healthy(checks):
        console.print("[green]healthy[/]" + (" (with suggestions above)" if todo else ""))
    else:
        console.print("[red]problems found[/]: %d" % sum(c.status == doctor.FAIL for c in checks))


def run(a) -> int:
    checks = doctor.run(a.port, archive_path=a.archive, practice=a.practice)
    if a.json:
        print(doctor.as_json(checks))
    else:
        render(checks)
    return 0 if doctor.healthy(checks) else 1
