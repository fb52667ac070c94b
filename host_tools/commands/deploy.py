"""acutrainer deploy: put the firmware on the board (or the simulator)."""

from __future__ import annotations

import contextlib
import sys

from host_tools import deploy as deploy_mod
from host_tools.ports import find_port
from host_tools.session import open_session


def register(sub):
    p = sub.add_parser("deploy", help="compile and copy the firmware to the board (only what changed)")
    p.add_argument("--port", help="serial port (default: the running simulator or the one board)")
    p.add_argument(
        "--board",
        help="board module (default: sim for the simulator, else esp32_devkitc)",
        choices=deploy_mod.boards(),
    )
    p.add_argument(
        "--source",
        nargs="?",
        const="all",
        metavar="MODULES",
        help="copy .py sources instead of .mpy, for debugging: all modules, or only the named ones "
        "(--source app,runner; the rest stay .mpy, which the board's heap needs)",
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--romfs",
        action="store_true",
        default=None,
        help="put the modules in the board's ROM partition (ROMFS), where they run from flash and leave "
        "the heap free (the default when the board's firmware has one: the simulator; docs/hardware.md)",
    )
    where.add_argument("--no-romfs", dest="romfs", action="store_false",
                       help="put the modules in /lib on the flash filesystem even if the board has ROMFS")
    p.add_argument("--no-confirm", action="store_true", help="do not wait for the app to come up")
    from host_tools.session import add_practice_args
    add_practice_args(p)
    p.set_defaults(func=run)


@contextlib.contextmanager
def _rom_bar():
    """A progress bar for writing the ROM partition (~8 s for the firmware at 115200 baud) on a terminal."""
    if not sys.stdout.isatty():
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

    with Progress(TextColumn("  writing the ROM partition"), BarColumn(), DownloadColumn(), transient=True) as p:
        task = None

        def update(done: int, total: int):
            nonlocal task
            if task is None:
                task = p.add_task("rom", total=total)
            p.update(task, completed=done)

        yield update


def run(a):
    port = find_port(a.port)
    board = a.board
    if board is None:
        from host_tools.sim import control

        board = "sim" if control.running_port_names().get(port) else "esp32_devkitc"
    deploy_mod.check_board_for_port(port, board)  # a simulator runs --board sim only: refused before connecting
    source = deploy_mod.parse_source(a.source)
    kind = "sources" if source is True else ("sources of %s" % ",".join(sorted(source)) if source else ".mpy")
    print("deploying to %s (board %s, %s)" % (port, board, kind))
    with open_session(port, practice=a.practice) as s, _rom_bar() as bar:
        r = deploy_mod.deploy(s, board=board, source=source, romfs=a.romfs, rom_progress=bar)
    print("the modules are in %s" % ("the ROM partition (ROMFS, /rom)" if r["rom_bytes"] else "/lib"))
    print(
        "copied %d file(s), %d unchanged, %d stale removed; MicroPython %s"
        % (len(r["copied"]), r["unchanged"], len(r["removed"]), r["micropython"])
    )
    if r["routines_installed"]:
        print("installed the routine library (%s); selected: bedtime" % ", ".join(r["routines_installed"]))
    if not a.no_confirm:
        # sources compile on the board at their first import: the app comes up far later than from .mpy
        c = deploy_mod.confirm_app(port, 60.0 if a.source else 15.0)
        print("the app is running (%d loop iterations since boot)" % c["iterations"])
    return 0
