"""acutrainer pull: download new practice sessions into the archive."""

from __future__ import annotations

from host_tools.archive import Archive
from host_tools.cli import add_port_arg
from host_tools.pull import pull
from host_tools.termsafe import shown
from host_tools.archive_db import ARCHIVE_HELP


def register(sub):
    p = sub.add_parser("pull", help="download new practice sessions into the archive (verified, resumable)")
    add_port_arg(p)
    p.add_argument("--archive", help=ARCHIVE_HELP)
    p.add_argument("--delete", action="store_true",
                   help="remove each session from the device once it is committed and verified")
    from host_tools.session import add_practice_args
    add_practice_args(p)
    p.set_defaults(func=cmd_pull)


RETRIES = 3          # a dropped link (a loose cable, a USB hub's hiccup) is tried again this many times in all
RETRY_WAIT_S = (1.0, 3.0)


def cmd_pull(args) -> int:
    """The pull, again after a dropped link (it is resumable: what was stored stays, nothing is duplicated)."""
    import sys
    import time

    from host_tools.errors import LinkError
    from host_tools.pull import PullResult
    from host_tools.session import PortBusy, open_session
    res = PullResult()
    with Archive(args.archive) as arc:
        for attempt in range(1, RETRIES + 1):
            try:
                with open_session(args.port, practice=args.practice) as s:
                    pull(s, arc, delete=args.delete, progress=lambda name: print("  stored %s" % shown(name)), res=res)
                break
            except PortBusy:
                raise  # not a dropped link: trying again would not help
            except LinkError as e:
                if attempt == RETRIES:
                    raise LinkError("%s (gave up after %d attempts; run pull again: nothing is lost)"
                                    % (e, RETRIES)) from None
                wait = RETRY_WAIT_S[min(attempt - 1, len(RETRY_WAIT_S) - 1)]
                print("acutrainer: link dropped: %s; trying again in %g s (attempt %d of %d)"
                      % (e, wait, attempt + 1, RETRIES), file=sys.stderr)
                time.sleep(wait)
    res.already = [x for x in dict.fromkeys(res.already) if x not in res.new]
    for m in dict.fromkeys(res.messages):
        print("  note: %s" % shown(m))
    print("%d new session(s), %d already archived, %d skipped%s%s" % (
        len(res.new), len(res.already), len(set(res.skipped)),
        ", %d deleted from the device" % len(res.deleted) if args.delete else "",
        ", %d start time(s) reconstructed" % res.reconstructed if res.reconstructed else ""))
    return 0
