"""acutrainer sessions: list archived sessions (filters by date, routine, point)."""

from __future__ import annotations

from host_tools.archive import Archive, parse_date
from host_tools.export import iso_utc
from host_tools.termsafe import shown


def register(sub):
    p = sub.add_parser("sessions", help="list the archived practice sessions")
    p.add_argument("--archive", help="archive file (default: archive.sqlite in the data dir)")
    p.add_argument("--since", help="from this date (YYYY-MM-DD)")
    p.add_argument("--until", help="before this date (YYYY-MM-DD)")
    p.add_argument("--routine", help="only this routine")
    p.add_argument("--point", help="only sessions with a step on this point, e.g. HT7")
    p.add_argument("--device", action="store_true",
                   help="list the session files on the device instead (works during a practice)")
    p.add_argument("--port", help="with --device: serial port (default: the running simulator or the one board)")
    p.set_defaults(func=cmd_sessions)


def device_files(c) -> tuple[str, list[list]]:
    """(device id, [[name, size, open], ...]) from the running app, or from the REPL at a REPL."""
    files: list[list] = []
    if c.app_running:
        dev = c.hello.get("device_id") or ""
        while True:
            page = c.live.request("sessions", len(files), 20)
            files += page["files"]
            if len(files) >= page["total"] or not page["files"]:
                return dev, files
    with c.repl() as s:
        dev = s.hw_call("''.join('%02x' % b for b in hw.unique_id)")
        page = s.call("acu.logadmin", "list_files", None, 0, 10000)
        return dev, page["files"]


def device_lines(arc: Archive, dev: str, files: list[list]) -> list[str]:
    lines = ["%-12s %9s  %s" % ("file", "bytes", "state")]
    for name, size, is_open in files:
        have = arc.file_size(dev, name)
        if is_open:
            state = "being recorded now"
        elif have is None:
            state = "not pulled yet"
        elif have < size:
            state = "grown since the last pull (%d new bytes)" % (size - have)
        else:
            state = "archived"
        lines.append("%-12s %9d  %s" % (shown(name), size, state))
    return lines


def cmd_device_sessions(args) -> int:
    from host_tools.session import connect
    with connect(args.port) as c:
        dev, files = device_files(c)
    with Archive(args.archive) as arc:
        lines = device_lines(arc, dev, files)
    print("\n".join(lines))
    if not files:
        print("(no session files on the device)")
    return 0


_MARK = {"device": "", "clock_set": "", "same_boot": "~", "pull": "~", None: "?"}


def session_lines(arc: Archive, since=None, until=None, routine=None, point=None) -> list[str]:
    lines = ["%5s %-12s %6s %-21s %-16s %-11s %6s %5s %s" % ("id", "device", "no", "start (UTC)", "routine",
                                                              "status", "min", "score", "notes")]
    for s in arc.sessions(since=since, until=until, routine=routine, point=point):
        start = iso_utc(s["wall_start_s"]).replace("T", " ").rstrip("Z") or "unknown"
        notes = []
        if s["wall_source"] in ("same_boot", "pull"):
            notes.append("time reconstructed")
        if s["problems"]:
            notes.append("%d problem(s)" % len(s["problems"]))
        if s["trace_stopped"]:
            notes.append("trace stopped (flash low)")
        steps = arc.steps(s["id"])
        partial = sum(1 for st in steps if st.get("partial"))
        if partial:  # a step stopped mid-way: its figures cover only the part done (docs/log-format.md)
            notes.append("%d partial step%s%s" % (partial, "" if partial == 1 else "s",
                                                  ", rebuilt from the trace" if any(st.get("reconstructed")
                                                                                    for st in steps) else ""))
        sc, sc_host = s.get("score"), s.get("score_host")
        if sc is not None and sc_host is not None and sc != sc_host:
            notes.append("the host computes score %d from the log" % sc_host)  # a bug or a damaged log
        checks = [st for st in steps if st.get("check_target_g")]
        if checks:  # blind checks (docs/score.md): how many were accurate
            ok = sum(1 for st in checks if st["check_grade"] == 0)
            notes.append("%d of %d check%s accurate" % (ok, len(checks), "" if len(checks) == 1 else "s"))
        lines.append("%5d %-12s %6d %-21s %-16s %-11s %6.1f %5s %s" % (
            s["id"], shown(s["device_id"])[:12], s["session_no"], _MARK.get(s["wall_source"], "") + start,
            (shown(s["routine"]) or "-")[:16], shown(s["end_status"]) or "open", (s["duration_ms"] or 0) / 60000.0,
            "-" if sc is None else str(sc), "; ".join(notes)))
    return lines


def cmd_sessions(args) -> int:
    if args.device:
        return cmd_device_sessions(args)
    since = parse_date(args.since, "--since")
    until = parse_date(args.until, "--until")
    with Archive(args.archive) as arc:
        lines = session_lines(arc, since, until, args.routine, args.point)
    print("\n".join(lines))
    if len(lines) == 1:
        print("(no sessions)")
    else:
        print("~ start time reconstructed by the host; ? unknown (the device clock was never set)")
    return 0
