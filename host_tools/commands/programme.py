"""acutrainer programme ...: list, show, validate, push, status and remove multi-week programmes."""

from __future__ import annotations

import json

from host_tools import cautions
from host_tools import programmes as PR
from host_tools import routines as RT
from host_tools.commands import docfile_commands
from host_tools.commands.docfile_commands import add_device_args, warn
from host_tools.errors import LinkError
from host_tools.termsafe import shown

_open = docfile_commands.open_device    # the handlers look it up here: the tests put a fake device in its place


def register(sub):
    ps = docfile_commands.add_command(sub, "programme",
                                      help="multi-week programmes: list, show, validate, push, status, remove")
    docfile_commands.add_list(ps, help="the programmes on the device (* marks the one in use), or --library",
                              func=cmd_list)
    docfile_commands.add_show(ps, "programme", help="a programme's stages, schedules and progression rule",
                              func=cmd_show)
    docfile_commands.add_validate(ps, help="check programme files and the routines they name (exit 2 if any is bad)",
                                  check_one=_validate_one)

    s = ps.add_parser("push", help="validate, upload a programme (and the library routines it needs the device "
                      "lacks) atomically, and start it (a re-push keeps the user's place)")
    s.add_argument("programme", help="FILE or library NAME")
    s.add_argument("--restart", action="store_true", help="start again from stage 1")
    s.add_argument("--yes", action="store_true",
                   help="confirm its routines' cautions (printed) without asking; needed off a terminal")
    add_device_args(s)
    s.set_defaults(func=cmd_push)

    s = ps.add_parser("status", help="where the user is: stage, week, day, sessions vs goal, what unlocks the next "
                      "(answers during a practice, as `acutrainer status` does)")
    s.add_argument("--json", action="store_true")
    from host_tools.cli import add_port_arg   # not at the top: cli imports the command modules
    add_port_arg(s)
    s.set_defaults(func=cmd_status)

    docfile_commands.add_remove(ps, help="delete a programme from the device (the one in use: the device leaves it)",
                                func=cmd_remove)


def cmd_list(args) -> int:
    if args.library:
        for name in PR.library_names():
            p = PR.parse_bytes(PR.library_programme(name), name)
            print("  %-18s %2d week%s  %s" % (name, p.weeks, " " if p.weeks == 1 else "s", p.title))
        return 0
    with _open(args) as s:
        info = PR.device_list(s)
    used = (info["place"] or {}).get("programme")
    if not info["programmes"]:
        print("no programmes on the device (acutrainer programme push sleep-4wk)")
    docfile_commands.print_device_list(info["programmes"], used, _listed_summary)
    return 0


def _listed_summary(it: dict) -> str:
    return "%2d week%s  %s" % (it["weeks"], " " if it["weeks"] == 1 else "s", shown(it["title"]))


def _routine_cautions(routines) -> list[str]:
    out = []
    for r in routines:
        out += RT.cautions(r)
    return out


def cmd_show(args) -> int:
    if args.device:
        with _open(args) as s:
            data = PR.pull(s, args.programme)
        p = PR.parse_bytes(data, "device:%s" % args.programme)
        routines = []
    else:
        data, src, beside = PR.resolve(args.programme)
        p = PR.parse_bytes(data, src)
        routines = PR.check_routines(p, src, beside)
    print("\n".join(PR.describe(p)))
    warn(_routine_cautions(routines))
    return 0


def _validate_one(f: str):
    """`validate`, one programme file and the routines it names: its ok line and their cautions."""
    p, routines = PR.validate_file(f)
    print("%s: ok, %s, %d stage%s, %d week%s, routines %s" % (
        f, p.name, len(p.stages), "" if len(p.stages) == 1 else "s", p.weeks, "" if p.weeks == 1 else "s",
        ", ".join(r.name for r in routines)))
    warn(_routine_cautions(routines))


def cmd_push(args) -> int:
    data, src, beside = PR.resolve(args.programme)
    p = PR.parse_bytes(data, src)          # refuse before opening the link: nothing changes on the device
    sources = PR.routine_sources(p, src, beside, strict=False)
    # the cautions of every routine the programme will run, shown once each (confirmed before: one line)
    for rdata, rsrc in sources.values():
        cautions.confirm(RT.parse_bytes(rdata, rsrc), yes=args.yes)
    with _open(args) as s:
        missing = PR.require_routines(s, p, src, sources)  # one the device lacks and we cannot send: refused now
        for name in PR.PP.routine_names(p):
            if name not in sources:        # on the device only: its copy is what will run
                cautions.confirm(RT.parse_bytes(RT.pull(s, name), "device:%s" % name), yes=args.yes)
        sm = PR.push(s, data, src, sources, restart=args.restart)
    if missing:
        print("pushed routine%s %s" % ("" if len(missing) == 1 else "s", ", ".join(missing)))
    print("pushed %s (%d stage%s, %d week%s)" % (p.name, len(p.stages), "" if len(p.stages) == 1 else "s", p.weeks,
                                                "" if p.weeks == 1 else "s"))
    for ln in PR.describe_place(sm):
        print("  " + shown(ln))
    return 0


def read_place(args) -> dict | None:
    """Where the user is (acu.programme_parse.summary), from the device's status: over the live link while the
    app runs, so a practice goes on (the raw REPL only when the board sits at its REPL)."""
    from host_tools.commands.status import read_status
    from host_tools.session import connect
    with connect(args.port) as c:
        st = read_status(c)
    if "programme" not in st:
        raise LinkError("the firmware on %s does not report programmes: update it (acutrainer deploy)" % c.port)
    return st["programme"]


def cmd_status(args) -> int:
    sm = read_place(args)
    if args.json:
        print(json.dumps(sm, indent=1))
        return 0
    for ln in PR.describe_place(sm):
        print(shown(ln))
    return 0


def cmd_remove(args) -> int:
    with _open(args) as s:
        left = PR.remove(s, args.name)
    print("removed %s%s" % (args.name, " (it was in use: the device runs its selected routine again)" if left
                            else ""))
    return 0
