"""acutrainer: the command line. Parses arguments, calls command handlers, turns errors into one line."""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sqlite3
import sys

from host_tools import __version__
from host_tools.errors import AcuError

# one module per command family, each with register(subparsers)
COMMAND_MODULES = [
    "sim", "deploy", "status", "routine", "programme", "points", "calibrate", "check", "monitor",
    "sync", "pull", "sessions", "export", "report", "archive", "doctor", "validate", "selftest", "study",
    "remind",
]


class _Parser(argparse.ArgumentParser):
    """A usage error is one line naming the problem and where help is, not the whole usage block."""

    def error(self, message):
        self.exit(2, "%s: error: %s (%s --help)\n" % (self.prog, message, self.prog))


def build_parser() -> argparse.ArgumentParser:
    ap = _Parser(
        prog="acutrainer",
        description="Pressure-feedback trainer for acupressure: simulator, deploy, calibration, routines, logs.",
    )
    ap.add_argument("--version", action="version", version="acutrainer " + __version__)
    ap.add_argument("--archive", dest="archive_global", metavar="URL",
                    help="the archive every command uses: an SQLite file, sqlite:///path or postgresql://... "
                         "(default: $ACUTRAINER_ARCHIVE, else archive.sqlite in the data dir; docs/study.md)")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        mod = importlib.import_module("host_tools.commands." + name)
        mod.register(sub)
    return ap


def add_port_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--port", help="serial port of the board (default: the running simulator or the one board)")


def main(argv: list[str] | None = None) -> int:
    rc = _main(argv)
    if argv is None:  # the acutrainer program: a Ctrl-C after the command's work is done changes nothing
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    return rc


def _main(argv: list[str] | None = None) -> int:
    try:  # Ctrl-C while the command modules import is one line too
        ap = build_parser()
        args = ap.parse_args(argv)
    except KeyboardInterrupt:
        print("acutrainer: interrupted", file=sys.stderr)
        return 130
    if not getattr(args, "func", None):
        ap.print_help()
        return 0
    from host_tools import archive
    archive.set_default(getattr(args, "archive_global", None))
    try:
        return int(args.func(args) or 0)
    except AcuError as e:
        print("acutrainer: error: %s" % e, file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("acutrainer: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except sqlite3.OperationalError as e:
        if "locked" in str(e) or "busy" in str(e):  # another acutrainer held the archive too long
            print("acutrainer: error: the archive is in use by another program (another acutrainer?); "
                  "try again when it has finished", file=sys.stderr)
        elif "disk is full" in str(e) or "disk I/O" in str(e) or "readonly" in str(e):
            print("acutrainer: error: the archive cannot be written (%s); nothing half-stored: "
                  "each session is one transaction" % e, file=sys.stderr)
        else:
            print("acutrainer: error: the archive cannot be read (%s): acutrainer archive check" % e,
                  file=sys.stderr)
        return 1
    except sqlite3.DatabaseError as e:  # a damaged archive met mid-command
        print("acutrainer: error: the archive cannot be read (%s): acutrainer archive check" % e, file=sys.stderr)
        return 1
    except OSError as e:  # a full disk, a read-only folder, a file that vanished
        where = " %s" % e.filename if getattr(e, "filename", None) else ""
        print("acutrainer: error:%s %s" % (where, e.strerror or e), file=sys.stderr)
        return 1
    except Exception as e:  # noqa: BLE001 (the last line of defence: one line, never a traceback)
        if os.environ.get("ACUTRAINER_DEBUG"):
            raise
        print("acutrainer: internal error: %s: %s (please report it; ACUTRAINER_DEBUG=1 shows where)"
              % (type(e).__name__, str(e)[:200]), file=sys.stderr)
        return 70


if __name__ == "__main__":
    sys.exit(main())
