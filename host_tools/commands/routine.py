"""acutrainer routine ...: list, show, validate, push, pull, remove, select and create routines."""

from __future__ import annotations

import sys
from pathlib import Path

from host_tools import cautions, points
from host_tools import routines as RT
from host_tools.commands import docfile_commands
from host_tools.commands.docfile_commands import add_device_args, warn
from host_tools.errors import InputError
from host_tools.termsafe import shown

_open = docfile_commands.open_device    # the handlers look it up here: the tests put a fake device in its place


def register(sub):
    rs = docfile_commands.add_command(sub, "routine",
                                      help="routines: list, show, validate, push, pull, remove, select, new")
    docfile_commands.add_list(rs, help="the routines on the device (* marks the selected one), or --library",
                              func=cmd_list)
    docfile_commands.add_show(rs, "routine", help="a routine's steps, points and cautions", func=cmd_show)
    docfile_commands.add_validate(rs, help="check routine files (exit 2 if any is bad)", check_one=_validate_one)

    s = rs.add_parser("push", help="validate, then upload a routine file or library routine atomically")
    s.add_argument("routine", help="FILE or library NAME")
    s.add_argument("--select", action="store_true", help="also make it the selected routine")
    _yes_arg(s)
    add_device_args(s)
    s.set_defaults(func=cmd_push)

    s = rs.add_parser("pull", help="download a routine from the device")
    s.add_argument("name")
    s.add_argument("--out", help="file to write (default NAME.json; '-' prints it)")
    s.add_argument("--force", action="store_true", help="overwrite an existing file")
    add_device_args(s)
    s.set_defaults(func=cmd_pull)

    docfile_commands.add_remove(rs, help="delete a routine from the device (not the selected one)",
                                func=cmd_remove)

    s = rs.add_parser("select", help="the routine the button starts")
    s.add_argument("name")
    _yes_arg(s)
    add_device_args(s)
    s.set_defaults(func=cmd_select)

    s = rs.add_parser("new", help="make a routine from step specs and/or a library routine",
                      description="Step specs: " + RT.STEP_SPEC_HELP + ". Example: routine new evening "
                      "--step HT7:each:60:dose --step yintang:60:2-4kg --step breathe:38")
    s.add_argument("name")
    s.add_argument("--step", action="append", default=[], metavar="SPEC", help=RT.STEP_SPEC_HELP)
    s.add_argument("--from", dest="base", metavar="ROUTINE", help="start from a library routine or file")
    s.add_argument("--title")
    s.add_argument("--description")
    s.add_argument("--weekly-goal", type=int)
    s.add_argument("--out", help="file to write (default: print it)")
    s.add_argument("--force", action="store_true", help="overwrite an existing file")
    s.add_argument("--push", action="store_true", help="upload it to the device too")
    s.add_argument("--select", action="store_true", help="upload it and select it")
    _yes_arg(s)
    add_device_args(s)
    s.set_defaults(func=cmd_new)


def _yes_arg(s):
    s.add_argument("--yes", action="store_true",
                   help="confirm the routine's cautions (printed) without asking; needed off a terminal")


def _fmt_total(s: int) -> str:
    return "%d:%02d" % (s // 60, s % 60)


def cmd_list(args) -> int:
    if args.library:
        for name in RT.library_names():
            r = RT.parse_bytes(RT.library_routine(name), name)
            print("  %-18s %6s  %s" % (name, _fmt_total(r.total_ms // 1000), r.title))
        return 0
    with _open(args) as s:
        info = RT.device_list(s)
    sel = info["selected"]
    if not info["routines"]:
        print("no routines on the device (acutrainer routine push bedtime --select)")
    docfile_commands.print_device_list(info["routines"], sel, _listed_summary)
    if sel is None:
        print("no routine selected (acutrainer routine select NAME)")
    return 0


def _listed_summary(it: dict) -> str:
    return "%6s  %s" % (_fmt_total(it["total_s"]), shown(it["title"]))


def cmd_show(args) -> int:
    if args.device:
        with _open(args) as s:
            data = RT.pull(s, args.routine)
        src = "device:%s" % args.routine
    else:
        data, src = RT.resolve(args.routine)
    r = RT.parse_bytes(data, src)
    print("\n".join(RT.describe(r)))
    warn(RT.cautions(r))
    for c in points.GENERAL_CAUTIONS:
        print("note: " + c)
    return 0


def _validate_one(f: str):
    """`validate`, one routine file: its ok line and its points' cautions (a bad file raises InputError)."""
    r = RT.validate_file(f)
    print("%s: ok, %s, %d steps, about %s" % (f, r.name, len(r.steps), _fmt_total(r.total_ms // 1000)))
    warn(RT.cautions(r))


def cmd_push(args) -> int:
    data, src = RT.resolve(args.routine)
    r = RT.parse_bytes(data, src)        # refuse before opening the link: nothing changes on the device
    cautions.confirm(r, yes=args.yes)
    with _open(args) as s:
        RT.push(s, data, src, select=args.select)
    print("pushed %s (%d steps, about %s)%s" % (r.name, len(r.steps), _fmt_total(r.total_ms // 1000),
                                               ", selected" if args.select else ""))
    return 0


def cmd_pull(args) -> int:
    RT.device_path(args.name)
    out = args.out or (args.name + ".json")
    if out != "-" and Path(out).exists() and not args.force:
        raise InputError("%s exists (use --force to overwrite)" % out)
    with _open(args) as s:
        data = RT.pull(s, args.name)
    try:
        RT.parse_bytes(data, "device:%s" % args.name)
    except InputError as e:
        print("warning: %s" % e, file=sys.stderr)
    if out == "-":
        sys.stdout.write(data.decode("utf-8", errors="replace"))
    else:
        Path(out).write_bytes(data)
        print("wrote %s (%d bytes)" % (out, len(data)))
    return 0


def cmd_remove(args) -> int:
    with _open(args) as s:
        RT.remove(s, args.name)
    print("removed %s" % args.name)
    return 0


def cmd_select(args) -> int:
    with _open(args) as s:
        # the device's copy is what the button will start: its cautions are confirmed before selecting
        if not s.exists(RT.device_path(args.name)):
            raise InputError("no routine %r on the device (push it first)" % args.name)
        r = RT.parse_bytes(RT.pull(s, args.name), "device:%s" % args.name)
        cautions.confirm(r, yes=args.yes)
        RT.select_routine(s, args.name)
    print("selected %s" % args.name)
    return 0


def cmd_new(args) -> int:
    data = RT.new_routine(args.name, steps=args.step, base=args.base, title=args.title,
                          description=args.description, weekly_goal=args.weekly_goal)
    r = RT.parse_bytes(data, args.name)
    if args.push or args.select:
        cautions.confirm(r, yes=args.yes)
    else:
        warn(RT.cautions(r))
    if args.out:
        if Path(args.out).exists() and not args.force:
            raise InputError("%s exists (use --force to overwrite)" % args.out)
        Path(args.out).write_bytes(data)
        print("wrote %s" % args.out, file=sys.stderr)
    elif not (args.push or args.select):
        sys.stdout.write(data.decode("utf-8"))
    if args.push or args.select:
        with _open(args) as s:
            RT.push(s, data, args.name, select=args.select)
        print("pushed %s%s" % (r.name, ", selected" if args.select else ""), file=sys.stderr)
    return 0
