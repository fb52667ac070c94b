"""acutrainer pull: download new practice sessions into the archive."""

from __future__ import annotations

from host_tools.archive import Archive
from host_tools.cli import add_port_arg
from host_tools.pull import pull


def register(sub):
    p = sub.add_parser("pull", help="download new practice sessions into the archive (verified, resumable)")
    add_port_arg(p)
    p.add_argument("--archive", help="archive file (default: archive.sqlite in the data dir)")
    p.add_argument("--delete", action="store_true",
                   help="remove each session from the device once it is committed and verified")
    from host_tools.session import add_practice_args
    add_practice_args(p)
    p.set_defaults(func=cmd_pull)


def cmd_pull(args) -> int:
    from host_tools.session import open_session
    with Archive(args.archive) as arc, open_session(args.port, practice=args.practice) as s:
        res = pull(s, arc, delete=args.delete, progress=lambda name: print("  stored %s" % name))
    for m in res.messages:
        print("  note: %s" % m)
    print("%d new session(s), %d already archived, %d skipped%s%s" % (
        len(res.new), len(res.already), len(res.skipped),
        ", %d deleted from the device" % len(res.deleted) if args.delete else "",
        ", %d start time(s) reconstructed" % res.reconstructed if res.reconstructed else ""))
    return 0
