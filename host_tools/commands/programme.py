"""acutrainer programme ...: list, show, validate, push, status and remove multi-week programmes."""

from __future__ import annotations

import json
import sys

from host_tools import cautions
from host_tools import programmes as PR
from host_tools import routines as RT
from host_tools.errors import InputError
from host_tools.termsafe import shown


def _open(args):
    from host_tools.session import open_session
    return open_session(getattr(args, "port", None), practice=getattr(args, "practice", "refuse"))


def register(sub):
    from host_tools.cli import add_port_arg as _port_arg
    from host_tools.session import add_practice_args

    def add_port_arg(s):
        _port_arg(s)
        add_practice_args(s)

    p = sub.add_parser("programme", help="multi-week programmes: list, show, validate, push, status, remove")
    p.set_defaults(func=lambda a: p.print_help() or 0)
    ps = p.add_subparsers(dest="programme_cmd", metavar="ACTION")

    s = ps.add_parser("list", help="the programmes on the device (* marks the one in use), or --library")
    s.add_argument("--library", action="store_true", help="list the built-in library instead (no device)")
    add_port_arg(s)
    s.set_defaults(func=cmd_list)

    s = ps.add_parser("show", help="a programme's stages, schedules and progression rule")
    s.add_argument("programme", help="a file, a library name, or (with --device) a programme on the device")
    s.add_argument("--device", action="store_true", help="show the device's copy")
    add_port_arg(s)
    s.set_defaults(func=cmd_show)

    s = ps.add_parser("validate", help="check programme files and the routines they name (exit 2 if any is bad)")
    s.add_argument("files", nargs="+")
    s.set_defaults(func=cmd_validate)

    s = ps.add_parser("push", help="validate, upload a programme (and the library routines it needs the device "
                      "lacks) atomically, and start it (a re-push keeps the user's place)")
    s.add_argument("programme", help="FILE or library NAME")
    s.add_argument("--restart", action="store_true", help="start again from stage 1")
    s.add_argument("--yes", action="store_true",
                   help="confirm its routines' cautions (printed) without asking; needed off a terminal")
    add_port_arg(s)
    s.set_defaults(func=cmd_push)

    s = ps.add_parser("status", help="where the user is: stage, week, day, sessions vs goal, what unlocks the next")
    s.add_argument("--json", action="store_true")
    add_port_arg(s)
    s.set_defaults(func=cmd_status)

    s = ps.add_parser("remove", help="delete a programme from the device (the one in use: the device leaves it)")
    s.add_argument("name")
    add_port_arg(s)
    s.set_defaults(func=cmd_remove)


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
    for it in info["programmes"]:
        mark = "*" if it["name"] == used else " "
        if it["error"]:
            print("%s %-18s  BAD: %s" % (mark, shown(it["name"]), shown(it["error"])))
        else:
            print("%s %-18s %2d week%s  %s" % (mark, shown(it["name"]), it["weeks"], " " if it["weeks"] == 1 else "s",
                                               shown(it["title"])))
    return 0


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
    for ln in _routine_cautions(routines):
        print(ln, file=sys.stderr)
    return 0


def cmd_validate(args) -> int:
    bad = 0
    for f in args.files:
        try:
            p, routines = PR.validate_file(f)
        except InputError as e:
            bad += 1
            print("acutrainer: error: %s" % e, file=sys.stderr)
            continue
        print("%s: ok, %s, %d stage%s, %d week%s, routines %s" % (
            f, p.name, len(p.stages), "" if len(p.stages) == 1 else "s", p.weeks, "" if p.weeks == 1 else "s",
            ", ".join(r.name for r in routines)))
        for ln in _routine_cautions(routines):
            print(ln, file=sys.stderr)
    return InputError.exit_code if bad else 0


def cmd_push(args) -> int:
    data, src, beside = PR.resolve(args.programme)
    p = PR.parse_bytes(data, src)          # refuse before opening the link: nothing changes on the device
    sources = PR.routine_sources(p, src, beside, strict=False)
    # the cautions of every routine the programme will run, shown once each (confirmed before: one line)
    for rdata, rsrc in sources.values():
        cautions.confirm(RT.parse_bytes(rdata, rsrc), yes=args.yes)
    with _open(args) as s:
        for name in PR.PP.routine_names(p):
            if name not in sources:        # on the device only: its copy is what will run
                cautions.confirm(RT.parse_bytes(RT.pull(s, name), "device:%s" % name), yes=args.yes)
        missing = PR.missing_routines(s, p)
        sm = PR.push(s, data, src, sources, restart=args.restart)
    if missing:
        print("pushed routine%s %s" % ("" if len(missing) == 1 else "s", ", ".join(missing)))
    print("pushed %s (%d stages, %d weeks)" % (p.name, len(p.stages), p.weeks))
    for ln in PR.describe_place(sm):
        print("  " + shown(ln))
    return 0


def cmd_status(args) -> int:
    with _open(args) as s:
        sm = PR.place(s)
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
