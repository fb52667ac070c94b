"""acutrainer points [POINT...]: the point table (where each point is, how to press it, its cautions)."""

from __future__ import annotations

from host_tools import points
from host_tools.errors import InputError


def register(sub):
    p = sub.add_parser("points", help="the acupressure points routines use: locations and cautions",
                       description="Without POINT: every point with its location and cautions. With POINT "
                       "(a code, name or alias such as HT7, shenmen, 'yin tang'): that point in full.")
    p.add_argument("point", nargs="*", metavar="POINT")
    p.set_defaults(func=cmd_points)


def _point_lines(p: points.Point, full: bool) -> list[str]:
    out = ["%-12s %s   sides: %s" % (p.code, p.label()[len(p.code) + 1:], "|".join(p.sides)),
           "             where: " + p.location]
    if full:
        out.append("             how:   " + p.how_to)
        if p.aliases:
            out.append("             also:  " + ", ".join(p.aliases))
    out += ["             CAUTION: " + c for c in p.cautions]
    return out


def lines(names: list[str]) -> list[str]:
    """The table (no names) or the named points in full; an unknown name is an InputError."""
    if names:
        chosen = []
        for n in names:
            p = points.find(n)
            if p is None:
                raise InputError("point %r unknown (known: %s)" % (n, ", ".join(points.POINTS)))
            chosen.append(p)
    else:
        chosen = list(points.POINTS.values())
    out = []
    for p in chosen:
        out += _point_lines(p, full=bool(names))
    out.append("")
    out += ["note: " + c for c in points.GENERAL_CAUTIONS]
    out.append("Locations and cautions come from the sources in docs/routines.md; this is no medical advice.")
    return out


def cmd_points(args) -> int:
    print("\n".join(lines(args.point)))
    return 0
