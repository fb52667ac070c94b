"""acutrainer study init | enrol | unenrol | status: a trial's participants, arms and devices (docs/study.md).

Other modules add sub-commands to the group with register(study_subparsers): SUBCOMMAND_MODULES.
"""

from __future__ import annotations

import importlib
import importlib.util
import time

from host_tools.archive import Archive, parse_date
from host_tools.cli import add_port_arg
from host_tools.errors import AcuError, InputError
from host_tools.export import iso_utc
from host_tools.termsafe import shown

# modules of host_tools.commands that add to the group, each with register(study_subparsers)
SUBCOMMAND_MODULES = ["study_report"]


def register(sub):
    p = sub.add_parser("study", help="a trial: participants, arms, devices and their sessions (docs/study.md)")
    p.set_defaults(func=lambda a: p.print_help() or 0)
    ss = p.add_subparsers(dest="study_cmd", metavar="ACTION")
    s = ss.add_parser("init", help="name the study and its goal (sessions per week, weeks)")
    s.add_argument("--name", required=True)
    s.add_argument("--weekly-goal", type=int, required=True, help="sessions per week asked of a participant")
    s.add_argument("--weeks", type=int, required=True, help="the programme's length")
    s.add_argument("--start", help="the study's first day (YYYY-MM-DD; default: today)")
    s.set_defaults(func=cmd_init)
    s = ss.add_parser("enrol", help="enrol the connected device to a participant from now, in an arm")
    s.add_argument("participant", help="a pseudonymous id such as P001 (no names, no e-mail addresses)")
    s.add_argument("--arm", required=True, choices=["feedback", "no_feedback", "sham_band"])
    add_port_arg(s)
    from host_tools.session import add_practice_args
    add_practice_args(s)
    s.set_defaults(func=cmd_enrol)
    s = ss.add_parser("unenrol", help="end the connected device's enrolment (its arm goes back to normal)")
    s.add_argument("--device", help="end this device's enrolment without connecting to it")
    add_port_arg(s)
    from host_tools.session import add_practice_args as practice_args
    practice_args(s)
    s.set_defaults(func=cmd_unenrol)
    s = ss.add_parser("status", help="participants, arms, devices, sessions so far, the last session")
    s.set_defaults(func=cmd_status)
    for name in SUBCOMMAND_MODULES:
        if importlib.util.find_spec("host_tools.commands." + name) is not None:
            importlib.import_module("host_tools.commands." + name).register(ss)


def _archive() -> Archive:
    return Archive(None)  # the global --archive, $ACUTRAINER_ARCHIVE, or the data dir's


def cmd_init(args) -> int:
    if not args.name.strip():
        raise InputError("--name: give the study a name")
    if not 1 <= args.weekly_goal <= 50:
        raise InputError("--weekly-goal %d: sessions per week, 1 to 50" % args.weekly_goal)
    if not 1 <= args.weeks <= 520:
        raise InputError("--weeks %d: 1 to 520" % args.weeks)
    start = parse_date(args.start or time.strftime("%Y-%m-%d"), "--start") or 0
    with _archive() as arc:
        arc.set_study(args.name.strip(), args.weekly_goal, args.weeks, int(start))
        print("study %s: %d session(s) a week for %d week(s) from %s, in %s"
              % (shown(args.name.strip()), args.weekly_goal, args.weeks, iso_utc(int(start))[:10], arc.path))
    return 0


def _device_arm(args, arm: str) -> str:
    """Connect, write the arm into the device's settings, restart its app. Returns the device id."""
    from host_tools import study
    from host_tools.session import connect
    with connect(args.port) as c:
        dev = study.connected_device(c)
        with c.repl(args.practice) as s:
            study.set_device_arm(s, arm)
    return dev


def cmd_enrol(args) -> int:
    from host_tools import study
    pid = study.check_participant(args.participant)
    arm = study.check_arm(args.arm)
    with _archive() as arc:
        if arc.study_info() is None:
            raise AcuError("no study in this archive (%s): acutrainer study init first" % arc.path)
        known = {p["participant"]: p["arm"] for p in arc.participants()}
        if pid in known and known[pid] != arm:  # before the device is touched
            raise InputError("participant %s is in arm %s, not %s: a participant's arm does not change"
                             % (pid, known[pid], arm))
        dev = _device_arm(args, arm)
        ended = arc.enrol(pid, arm, dev, int(time.time()))
    for e in ended:
        print("  ended: device %s with %s (from %s)" % (e["device_id"], e["participant"], iso_utc(e["start_s"])))
    print("enrolled device %s to %s, arm %s, from now (the device's arm is set; the participant is not told)"
          % (dev, pid, arm))
    return 0


def cmd_unenrol(args) -> int:
    if args.device:
        dev = args.device
        note = "; the device keeps its arm setting until it is enrolled again or unenrolled while connected"
    else:
        dev = _device_arm(args, "feedback")
        note = "; its arm is back to normal feedback"
    with _archive() as arc:
        ended = arc.unenrol(dev, int(time.time()))
    if not ended:
        raise AcuError("device %s is not enrolled%s" % (shown(dev), "" if args.device else " (its arm is normal)"))
    for e in ended:
        print("unenrolled device %s from %s (arm %s, since %s)%s"
              % (dev, e["participant"], e["arm"], iso_utc(e["start_s"]), note))
    return 0


def status_lines(st: dict) -> list[str]:
    info = st["study"]
    lines = []
    if info is None:
        lines.append("no study in this archive: acutrainer study init")
    else:
        lines.append("study %s: %d session(s) a week for %d week(s) from %s"
                     % (shown(info["name"]), info["weekly_goal"], info["weeks"], iso_utc(info["start_s"])[:10]))
    lines.append("%-12s %-12s %-24s %8s  %s" % ("participant", "arm", "device (now)", "sessions", "last session"))
    for p in st["participants"]:
        devs = ", ".join(("%s*" % d if d == p["open_device"] else d) for d in p["devices"]) or "-"
        last = iso_utc(p["last_s"])[:16] if p["last_s"] is not None else "-"
        lines.append("%-12s %-12s %-24s %8d  %s" % (p["participant"], p["arm"], devs, p["sessions"], last))
        for sid, dev, ran in p["wrong_arm"][:5]:
            lines.append("  ! session %d from device %s ran arm %s, not %s (its setting was changed?)"
                         % (sid, dev, ran, p["arm"]))
    if st["unattributed"]:
        lines.append("%d session(s) outside any enrolment (another device, before enrolment, or undated)"
                     % st["unattributed"])
    lines.append("* the device enrolled now")
    return lines


def cmd_status(args) -> int:
    from host_tools import study
    with _archive() as arc:
        for line in status_lines(study.status(arc)):
            print(line)
    return 0
