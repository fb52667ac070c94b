"""`acutrainer calibrate`: the interactive wizard, `--points FILE`, `--auto` (simulator), `--restore`.

Library functions (tested directly) do the work; the handler only wires arguments, prompts and output.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from host_tools import calibration as hc
from host_tools.errors import AcuError, InputError


# ---------------------------------------------------------------- library
def device_kind(session) -> str:
    kind = session.hw_call("hw.sensor.kind")
    if kind not in hc.KINDS:
        raise AcuError(f"the device reports an unknown sensor kind {kind!r}")
    return kind


def calibrate_from_points(session, points_path, kind=None, method=None, creep=True, write=True,
                          confirm=None, out=print) -> dict:
    """Fit a points file, print the report, and (after confirm()) write it to the device."""
    pts = hc.load_points_file(points_path)
    if kind is None:
        kind = pts.sensor if session is None else device_kind(session)
    if kind is None:
        raise InputError(f"{points_path}: no '# sensor:' line and no device to ask (use --sensor)")
    d, fit = hc.build_calibration(kind, pts, method=method, creep=creep)
    return _finish(session, d, fit, write, confirm, out)


def calibrate_auto(session, sim, method=None, creep_hold_s=60.0, write=True, confirm=None, out=print,
                   save_points=None, rig=None) -> dict:
    """Calibrate the simulator's part: apply known loads with SimControl.press, read raw from the device."""
    kind = device_kind(session)
    rig = rig or hc.DeviceRig(session, sim, kind)
    pts = hc.auto_capture(rig, kind, creep_hold_s=creep_hold_s if kind != "loadcell" else 0.0,
                          progress=lambda m: out(f"  {m}"))
    if save_points:
        Path(save_points).write_text(hc.points_to_csv(pts))
    d, fit = hc.build_calibration(kind, pts, method=method, creep=creep_hold_s > 0)
    return _finish(session, d, fit, write, confirm, out)


def _finish(session, d, fit, write, confirm, out):
    for line in hc.format_report(fit, d):
        out(line)
    if not write or session is None:
        out("not written (dry run)")
        return d
    if confirm is not None and not confirm(f"write calibration {d['id']} to the device?"):
        out("not written")
        return d
    hc.write_calibration(session, d)
    out(f"written {hc.CALIB_PATH} (id {d['id']}); the previous one is kept as {hc.PREV_PATH}")
    # the app picks it up when the session closes (a soft reset); restarting here would leave the
    # session out of the raw REPL and make its close wait for a prompt the running app never prints
    return d


def restore(session, out=print) -> dict:
    d = hc.restore_calibration(session)
    out(f"restored calibration {d['id']} ({d['created']}, {d['method']})")  # in use after the session closes
    return d


class StableDetector:
    """Kitchen-scale mode: the reading is stable when the last n raw values stay within tol_pct."""

    def __init__(self, n: int = 10, tol_pct: float = 1.0, min_raw_span: float = 40.0):
        self.n = n
        self.tol = tol_pct / 100.0
        self.min_span = min_raw_span
        self.vals: list[float] = []

    def add(self, raw: float) -> bool:
        self.vals.append(raw)
        self.vals = self.vals[-self.n:]
        if len(self.vals) < self.n:
            return False
        lo, hi = min(self.vals), max(self.vals)
        mid = abs(sum(self.vals) / len(self.vals))
        return hi - lo <= max(self.tol * mid, self.min_span)

    def value(self) -> float:
        return sum(self.vals) / len(self.vals)


def wizard(session, mode="scale", loads=None, creep_hold_s=0.0, method=None, poll_s=0.1,
           ask=input, out=print, live=None) -> dict:
    """The guided calibration. ask(prompt) -> str; live(text) shows the running readout (rich)."""
    kind = device_kind(session)
    fam = hc.family(kind)
    loads = list(loads or hc.AUTO_LOADS[fam])
    nominal = hc.device_calibration(session, kind)
    show = live or (lambda text: None)

    def read():
        return float(session.hw_call("hw.sensor.read_raw()"))

    def readout(target=None, det=None):
        raw = read()
        g = nominal.grams(int(raw))
        tgt = "" if target is None else f"  target {target / 1000:g} kg"
        stable = det.add(raw) if det is not None else False
        st = "" if det is None else ("  STABLE" if stable else "  settling...")
        show(f"raw {raw:9.0f}   ~{g / 1000:5.2f} kg (current calibration){tgt}{st}")
        return (raw, stable) if det is not None else raw

    out(f"Calibrating a {kind}. Readings use the current calibration only as a guide.")
    ask("1) Tare: take everything off the tip, then press Enter. ")
    zero = sum(read() for _ in range(10)) / 10
    if fam == "divider":
        top = 1.1 * max(loads)
        out(f"2) Condition the sensor: press it 4-5 times to about {top / 1000:.1f} kg, 1 s each.")
        ask("   Press Enter when done. ")
    pts = []
    for i, L in enumerate(loads, 1):
        if mode == "scale":
            out(f"[{i}/{len(loads)}] Press the tip on the scale until it reads {L / 1000:g} kg and hold it; "
                "the reading is captured when stable.")
            det = StableDetector()
            t_stable = None
            while True:
                if readout(L, det)[1]:
                    t_stable = t_stable or time.monotonic()
                    if time.monotonic() - t_stable >= 1.0:
                        break
                else:
                    t_stable = None
                time.sleep(poll_s)
            raw = det.value()
        else:
            ask(f"[{i}/{len(loads)}] Rest {L / 1000:g} kg on the tip, wait 2 s, press Enter. ")
            raw = sum(readout(L) for _ in range(12)) / 12
        pts.append((float(L), round(raw, 1)))
        out(f"   captured {L / 1000:g} kg: raw {raw:.0f}")
        if mode == "scale":
            ask("   Release, then press Enter for the next load. ")
    creep = []
    if creep_hold_s > 0 and fam == "divider":
        ask(f"Creep: hold 4 kg steady for {creep_hold_s:g} s; press Enter as you reach it. ")
        t0 = time.monotonic()
        while (t := time.monotonic() - t0) < creep_hold_s:
            creep.append((round(t, 2), readout(4000)))
            time.sleep(max(poll_s, 0.5))
    p = hc.Points(sensor=kind, zero_raw=int(round(zero)), points=pts, creep_grams=4000.0 if creep else None,
                  creep_samples=creep, ref_s=2.0, reference=f"{mode} mode", source="wizard")
    d, fit = hc.build_calibration(kind, p, method=method, creep=bool(creep))
    return _finish(session, d, fit, True,
                   lambda q: ask(q + " [y/N] ").strip().lower() in ("y", "yes"), out)


# ---------------------------------------------------------------- CLI
def _console():
    from rich.console import Console
    return Console()


def handler(args) -> int:
    from host_tools.session import open_session

    con = _console()

    def out(line):
        con.print(line, markup=False, highlight=False)

    def confirm(q):
        if args.yes or not sys.stdin.isatty():
            return True
        return input(q + " [y/N] ").strip().lower() in ("y", "yes")

    if args.points and args.dry_run:
        calibrate_from_points(None, args.points, kind=args.sensor, method=args.method,
                              creep=not args.no_creep, write=False, out=out)
        return 0
    with open_session(args.port) as s:
        if args.restore:
            restore(s, out)
        elif args.points:
            calibrate_from_points(s, args.points, method=args.method, creep=not args.no_creep,
                                  write=not args.dry_run, confirm=confirm, out=out)
        elif args.auto:
            from host_tools.sim.control import SimControl
            sim = SimControl.for_port(s.port)
            calibrate_auto(s, sim, method=args.method, creep_hold_s=0.0 if args.no_creep else args.creep_hold,
                           write=not args.dry_run, confirm=confirm, out=out, save_points=args.save_points)
        else:
            from rich.live import Live
            with Live("", console=con, refresh_per_second=10, transient=True) as lv:
                def ask(prompt):
                    lv.stop()
                    try:
                        return input(prompt)
                    finally:
                        lv.start()
                wizard(s, mode=args.mode, creep_hold_s=args.creep_hold if not args.no_creep else 0.0,
                       method=args.method, ask=ask, out=out, live=lv.update)
    return 0


def register(subparsers):
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
    p.add_argument("--mode", choices=("scale", "weights"), default="scale",
                   help="wizard: press on a kitchen scale (auto-capture) or rest known weights")
    p.add_argument("--sensor", choices=hc.KINDS, help="sensor kind for --points --dry-run without a device")
    p.add_argument("--method", choices=("power-law", "pchip-conductance", "linear"), help="override the fit")
    p.add_argument("--creep-hold", type=float, default=60.0, metavar="S",
                   help="hold time at 4 kg to measure FSR creep (default 60; 0 skips)")
    p.add_argument("--no-creep", action="store_true", help="no creep measurement/compensation")
    p.add_argument("--save-points", metavar="FILE", help="--auto: also save the captured points as CSV")
    p.add_argument("--dry-run", action="store_true", help="fit and report only; write nothing")
    p.add_argument("-y", "--yes", action="store_true", help="do not ask before writing")
    p.set_defaults(func=handler)
