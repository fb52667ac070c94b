"""What the `routine` and `programme` commands share: opening the device, the set-up of the actions both
have (list, show, validate, remove), the rows of a device listing, and validating files one line each.

Nothing here opens the device: the handlers in routine.py and programme.py do, through their module's
_open (the tests put a fake device there).
"""
from __future__ import annotations

import sys
from typing import Callable

from host_tools.errors import InputError
from host_tools.termsafe import shown


def open_device(args):
    # imported here so `validate`, `show` and `new` work without the serial stack
    from host_tools.session import open_session
    return open_session(getattr(args, "port", None), practice=getattr(args, "practice", "refuse"))


def warn(lines: list[str]):
    for ln in lines:
        print(ln, file=sys.stderr)


# ---- argparse ------------------------------------------------------------------------------------

def add_device_args(s):
    """--port, and --wait/--stop: every action that reaches the device takes its raw REPL, which a running
    practice holds."""
    from host_tools.cli import add_port_arg   # not at the top: cli imports the command modules
    from host_tools.session import add_practice_args
    add_port_arg(s)
    add_practice_args(s)


def add_command(sub, noun: str, help: str):
    """`acutrainer NOUN` (alone: its help) and its ACTION subparsers, returned."""
    p = sub.add_parser(noun, help=help)
    p.set_defaults(func=lambda a: p.print_help() or 0)
    return p.add_subparsers(dest=noun + "_cmd", metavar="ACTION")


def add_list(actions, help: str, func: Callable):
    s = actions.add_parser("list", help=help)
    s.add_argument("--library", action="store_true", help="list the built-in library instead (no device)")
    add_device_args(s)
    s.set_defaults(func=func)


def add_show(actions, noun: str, help: str, func: Callable):
    s = actions.add_parser("show", help=help)
    s.add_argument(noun, help="a file, a library name, or (with --device) a %s on the device" % noun)
    s.add_argument("--device", action="store_true", help="show the device's copy")
    add_device_args(s)
    s.set_defaults(func=func)


def add_validate(actions, help: str, check_one: Callable[[str], None]):
    """`validate FILE...`: every file through check_one (see validate_files)."""
    s = actions.add_parser("validate", help=help)
    s.add_argument("files", nargs="+")
    s.set_defaults(func=lambda args: validate_files(args.files, check_one))


def add_remove(actions, help: str, func: Callable):
    s = actions.add_parser("remove", help=help)
    s.add_argument("name")
    add_device_args(s)
    s.set_defaults(func=func)


# ---- handlers' common parts ------------------------------------------------------------------------

def print_device_list(items: list[dict], in_use: str | None, summary: Callable[[dict], str]):
    """One row per file the device lists: * marks the one in use, a file it cannot run says why."""
    for it in items:
        mark = "*" if it["name"] == in_use else " "
        if it["error"]:
            print("%s %-18s  BAD: %s" % (mark, shown(it["name"]), shown(it["error"])))
        else:
            print("%s %-18s %s" % (mark, shown(it["name"]), summary(it)))


def validate_files(files: list[str], check_one: Callable[[str], None]) -> int:
    """`validate`: check_one(f) validates a file and prints what it found. A bad file is one error line and
    the rest are still checked; the exit code is InputError's if any was bad."""
    bad = 0
    for f in files:
        try:
            check_one(f)
        except InputError as e:
            bad += 1
            print("acutrainer: error: %s" % e, file=sys.stderr)
    return InputError.exit_code if bad else 0
