"""acutrainer archive check | rebuild: is the archive sound, and make it again from the raw session bytes."""

from __future__ import annotations

from host_tools import archive_repair
from host_tools.archive import default_target
from host_tools.archive_db import is_url, parse, redact
from host_tools.errors import AcuError
from host_tools.termsafe import shown


def register(sub):
    p = sub.add_parser("archive", help="check the archive, or rebuild it from the session bytes it keeps")
    p.set_defaults(func=lambda a: p.print_help() or 0)
    ss = p.add_subparsers(dest="archive_cmd", metavar="ACTION")
    s = ss.add_parser("check", help="SQLite's integrity check and every session's bytes against its sha256")
    s.add_argument("--archive", help="archive file (default: archive.sqlite in the data dir)")
    s.set_defaults(func=cmd_check)
    s = ss.add_parser("rebuild", help="a new archive from what can be read (the damaged one is kept)")
    s.add_argument("--archive", help="archive file (default: archive.sqlite in the data dir)")
    s.add_argument("--out", help="where to write it (default: beside the archive, .rebuilt.sqlite)")
    s.add_argument("--replace", action="store_true",
                   help="put the rebuilt archive in place; the damaged one is kept as .damaged-<time>.sqlite")
    s.set_defaults(func=cmd_rebuild)


def cmd_check(args) -> int:
    path = args.archive or default_target()
    r = archive_repair.check(path)
    path = redact(str(path)) if is_url(path) else path
    for p in r.problems[:30]:
        print("  %s" % shown(p))
    if r.ok:
        print("%s: sound (%d sessions, each matching its sha256)" % (path, r.sessions))
        return 0
    print("%s: %d problem(s): acutrainer archive rebuild --replace makes it again from the session bytes"
          % (path, len(r.problems)))
    return 1


def cmd_rebuild(args) -> int:
    from pathlib import Path
    target = args.archive or default_target()
    if parse(target)[0] != "sqlite":
        raise AcuError("%s: archive rebuild works on an SQLite file; a PostgreSQL server keeps its own "
                       "(restore it from the server's backups)" % redact(str(target)))
    src = Path(parse(target)[1])
    if not src.exists():
        raise AcuError("%s: no archive there" % src)
    out = Path(args.out) if args.out else src.with_name(src.stem + ".rebuilt" + src.suffix)
    r = archive_repair.rebuild(src, out)
    for m in r.lost[:30]:
        print("  unreadable: %s" % shown(m))
    print("rebuilt %s: %d session(s) (%d carved from damaged pages), %d device file(s), %d row(s) unreadable"
          % (out, r.sessions, r.carved, r.files, len(r.lost)))
    if args.replace:
        keep = archive_repair.replace_with(src, out)
        print("now in use as %s; the old one is kept as %s" % (src, keep))
    return 0
