"""`acutrainer calibrate`: the interactive wizard (host_tools/capture.py, on the live stream), `--points FILE`,
`--auto` (simulator), `--restore`, `--history`.

Library functions (tested directly) do the work; the handler only wires arguments, prompts and output.
"""
from __future__ import annotations

import sys
from pathlib import Path

from host_tools import outfiles
from host_tools.calibration import device as caldev
from host_tools.calibration import fit as calfit
from host_tools.calibration import pointsfile as calpoints
from host_tools.calibration import rigs as calrigs
from host_tools.errors import AcuError, InputError


# ---------------------------------------------------------------- library
def device_kind(session) -> str:
    kind = session.hw_call("hw.sensor.kind")
    if kind not in calpoints.KINDS:
        raise AcuError(f"the device reports an unknown sensor kind {kind!r}")
    return kind


def calibrate_from_points(session, points_path, kind=None, method=None, creep=True, write=True,
                          confirm=None, out=print) -> dict:
    """Fit a points file, print the report, and (after confirm()) write it to the device."""
    pts = calpoints.load_points_file(points_path)
    if kind is None:
        kind = pts.sensor if session is None else device_kind(session)
    if kind is None:
        raise InputError(f"{points_path}: no '# sensor:' line and no device to ask (use --sensor)")
    d, fit = calfit.build_calibration(kind, pts, method=method, creep=creep)
    return _finish(session, d, fit, write, confirm, out)


def calibrate_auto(session, sim, method=None, creep_hold_s=60.0, write=True, confirm=None, out=print,
                   save_points=None, rig=None) -> dict:
    """Calibrate the simulator's part: apply known loads with SimControl.press, read raw from the device."""
    kind = device_kind(session)
    rig = rig or calrigs.DeviceRig(session, sim, kind)
    pts = calrigs.auto_capture(rig, kind, creep_hold_s=creep_hold_s if kind != "loadcell" else 0.0,
                          progress=lambda m: out(f"  {m}"))
    if save_points:
        outfiles.write_atomic(Path(save_points), calpoints.points_to_csv(pts).encode())  # whole or not at all
    d, fit = calfit.build_calibration(kind, pts, method=method, creep=creep_hold_s > 0)
    return _finish(session, d, fit, write, confirm, out)


def _finish(session, d, fit, write, confirm, out):
    for line in calfit.format_report(fit, d):
        out(line)
    e = fit.expect
    out(f"a check with a known weight in {e['lo_g'] / 1000:g}-{e['hi_g'] / 1000:g} kg should read within about "
        f"+-{e['pct']:.1f} % of it (acutrainer check --weight 4.0)")
    if not write or session is None:
        out("not written (dry run)")
        return d
    if confirm is not None and not confirm(f"write calibration {d['id']} to the device?"):
        out("not written")
        return d
    damaged: list[str] = []
    prev = caldev.write_calibration(session, d, damaged)
    if damaged:
        out(f"written {caldev.CALIB_PATH} (id {d['id']}); the file it replaced was not a valid calibration and "
            f"is not kept ({damaged[0]})")
    elif prev is not None:
        out(f"written {caldev.CALIB_PATH} (id {d['id']}); the previous one ({prev['id']}) is kept as "
            f"{caldev.PREV_PATH} (acutrainer calibrate --restore puts it back)")
    else:
        out(f"written {caldev.CALIB_PATH} (id {d['id']}); there was no previous calibration on the device")
    _keep_history(session, d, prev, out)
    # the app picks it up when the session closes (a soft reset); restarting here would leave the
    # session out of the raw REPL and make its close wait for a prompt the running app never prints
    return d


def device_id(session) -> str:
    """The device's id as the logs record it (hex of machine.unique_id())."""
    return session.hw_call("''.join('%02x' % b for b in hw.unique_id)")


def _keep_history(session, d, prev, out):
    """Every calibration written, and the one it replaced, stays in the archive (calibrate --history)."""
    from host_tools.archive import Archive
    try:
        with Archive(None) as arc:
            arc.add_calibration(device_id(session), d, prev)
    except AcuError as e:
        out(f"note: not kept in the archive's calibration history ({e})")


def history(device: str | None, out=print) -> list[dict]:
    from host_tools.archive import Archive
    with Archive(None) as arc:
        rows = arc.calibrations(device)
    if not rows:
        out("no calibrations in the archive yet")
    for r in rows:
        d = r["data"]
        fitd = d.get("fit") or {}
        e3 = (fitd.get("expect") or {}).get("pct")
        if e3 is None:   # written before the expected error: the left-out error at 3 kg
            e3 = (fitd.get("expected_error") or {}).get("3000", {}).get("pct")
        creep = (d.get("creep") or {}).get("pct_per_decade")
        out(f"{r['device_id'][:12]:12s}  {r['calib_id']:24s} {d.get('sensor', ''):8s} {d.get('method', ''):18s} "
            f"{'' if e3 is None else f'expect +-{e3:.1f} %':16s} "
            f"{'' if creep is None else f'creep {creep:.2f} %/decade'}")
    return rows


def restore(session, out=print) -> dict:
    d = caldev.restore_calibration(session)
    out(f"restored calibration {d['id']} ({d['created']}, {d['method']})")  # in use after the session closes
    return d


def run_wizard_on(conn, mode="scale", creep_hold_s=0.0, method=None, ask=input, out=print, show=None,
                  confirm=None, practice="refuse") -> dict | None:
    """The wizard on a connection: the live stream while the person presses, the raw REPL to write."""
    from host_tools import capture
    conn.start_app()
    conn.settle_practice(practice)
    kind = conn.live.status().get("sensor")
    if kind not in calpoints.KINDS:
        raise AcuError(f"the device reports an unknown sensor kind {kind!r}")
    src = capture.StreamSource(conn.live)
    try:
        d, fit = capture.run_wizard(src, kind, ask=ask, out=out, show=show or (lambda t: None),
                                    creep_hold_s=creep_hold_s, method=method, mode=mode)
    finally:
        src.close()
    s = conn.repl()
    return _finish(s, d, fit, True, confirm, out)


# ---------------------------------------------------------------- CLI
def _console():
    from rich.console import Console
    return Console()


def handler(args) -> int:
    from host_tools.session import connect

    con = _console()

    def out(line):
        con.print(line, markup=False, highlight=False, soft_wrap=True)

    def confirm(q):
        if args.yes or not sys.stdin.isatty():
            return True
        return input(q + " [y/N] ").strip().lower() in ("y", "yes")

    if args.history:
        history(None, out)
        return 0
    if args.points and args.dry_run:
        calibrate_from_points(None, args.points, kind=args.sensor, method=args.method,
                              creep=not args.no_creep, write=False, out=out)
        return 0
    with connect(args.port) as c:
        if args.restore or args.points or args.auto:
            s = c.repl(args.practice)
            if args.restore:
                restore(s, out)
            elif args.points:
                calibrate_from_points(s, args.points, method=args.method, creep=not args.no_creep,
                                      write=not args.dry_run, confirm=confirm, out=out)
            else:
                from host_tools.sim.control import SimControl
                sim = SimControl.for_port(s.port)
                calibrate_auto(s, sim, method=args.method, creep_hold_s=0.0 if args.no_creep else args.creep_hold,
                               write=not args.dry_run, confirm=confirm, out=out, save_points=args.save_points)
            return 0
        from host_tools.liveprompt import live_prompt
        with live_prompt(con) as (ask, show):
            def yes(q):
                return ask(q + " [y/N] ").strip().lower() in ("y", "yes")

            run_wizard_on(c, mode=args.mode, creep_hold_s=args.creep_hold if not args.no_creep else 0.0,
                          method=args.method, ask=ask, out=out, show=show, confirm=None if args.yes else yes,
                          practice=args.practice)
    return 0


def register(subparsers):
    from host_tools.session import add_practice_args

    p = subparsers.add_parser("calibrate",
                              help="calibrate the force sensor (wizard, --points, --auto, --restore)",
                              description="Guided calibration; refuses bad points with a reason and shows "
                                          "residuals and the expected error at 3 and 5 kg before writing.")
    p.add_argument("--port", help="serial port (default: the running simulator or the only board)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--points", metavar="FILE",
                   help="reference loads and readings (CSV or JSON, docs/calibration.md)")
    g.add_argument("--auto", action="store_true", help="against the simulator: apply known loads itself")
    g.add_argument("--restore", action="store_true", help="put the previous calibration back")
    g.add_argument("--history", action="store_true", help="list the calibrations kept in the archive")
    p.add_argument("--mode", choices=("scale", "weights"), default="scale",
                   help="wizard: press on a kitchen scale (auto-capture) or rest known weights")
    p.add_argument("--sensor", choices=calpoints.KINDS, help="sensor kind for --points --dry-run without a device")
    p.add_argument("--method", choices=("power-law", "pchip-conductance", "linear"), help="override the fit")
    p.add_argument("--creep-hold", type=float, default=60.0, metavar="S",
                   help="hold time at 4 kg to measure FSR creep (default 60; 0 skips)")
    p.add_argument("--no-creep", action="store_true", help="no creep measurement/compensation")
    p.add_argument("--save-points", metavar="FILE", help="--auto: also save the captured points as CSV")
    p.add_argument("--dry-run", action="store_true", help="fit and report only; write nothing")
    p.add_argument("-y", "--yes", action="store_true", help="do not ask before writing")
    add_practice_args(p)
    p.set_defaults(func=handler)
