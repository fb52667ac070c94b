"""`acutrainer check --weight 4.0`: verify the device's current calibration against a known load."""
from __future__ import annotations

from host_tools import calibration as hc
from host_tools.errors import InputError

DEFAULT_TOL_PCT = {"fsr402": 5.0, "fsr406": 5.0, "a201": 5.0, "loadcell": 1.0}


class ManualRig:
    """A person applies the load: press() asks them to, read_raw() reads the device."""

    def __init__(self, session, ask=input):
        self.s = session
        self.ask = ask

    def press(self, force_g, ramp_ms=150):
        self.ask(f"Put {force_g / 1000:g} kg on the tip (weight or scale), hold it steady, press Enter. ")

    def release(self):
        pass

    def wait_ms(self, ms):
        import time
        time.sleep(ms / 1000.0)

    def read_raw(self):
        return int(self.s.hw_call("hw.sensor.read_raw()"))


def check_weight(session, weight_g: float, rig, tolerance_pct: float | None = None, settle_ms: int = 2000,
                 reads: int = 12, kind: str | None = None) -> dict:
    """Apply (or ask for) a known load, read it through the device's calibration: pass/fail and error."""
    if not (100 <= weight_g <= 50000):
        raise InputError(f"--weight {weight_g / 1000:g} kg is outside 0.1..50 kg")
    kind = kind or session.hw_call("hw.sensor.kind")
    cal = hc.device_calibration(session, kind)
    tol = tolerance_pct if tolerance_pct is not None else DEFAULT_TOL_PCT.get(kind, 5.0)
    rig.release()
    rig.wait_ms(300)
    zero = sum(rig.read_raw() for _ in range(4)) / 4
    rig.press(weight_g)
    rig.wait_ms(settle_ms)
    raws = [rig.read_raw() for _ in range(reads)]
    rig.release()
    raw = sum(raws) / len(raws)
    measured = cal.grams(int(round(raw)))
    if kind == "loadcell" and not cal.calibrated:
        measured -= cal.grams(int(round(zero)))    # the device's zero tracking does this for a nominal cell
    err = measured - weight_g
    return {"sensor": kind, "calibration": cal.id, "calibrated": cal.calibrated, "weight_g": weight_g,
            "measured_g": measured, "error_g": err, "error_pct": round(100 * err / weight_g, 2),
            "tolerance_pct": tol, "pass": abs(err) <= tol / 100 * weight_g, "raw": round(raw, 1)}


def handler(args) -> int:
    from rich.console import Console

    from host_tools.session import open_session

    con = Console()
    with open_session(args.port) as s:
        rig = None
        if not args.manual:
            try:
                from host_tools.sim.control import SimControl
                sim = SimControl.for_port(s.port)
            except Exception:   # no simulator running: a person applies the load
                sim = None
                if args.auto:
                    raise
            if sim is not None:
                kind = s.hw_call("hw.sensor.kind")
                rig = hc.DeviceRig(s, sim, kind)
                con.print(f"simulator: applying {args.weight:g} kg")
        r = check_weight(s, args.weight * 1000.0, rig or ManualRig(s), args.tolerance)
    verdict = "[green]PASS[/]" if r["pass"] else "[red]FAIL[/]"
    con.print(f"{verdict}  {r['weight_g'] / 1000:g} kg reads {r['measured_g'] / 1000:.3f} kg: error "
              f"{r['error_g']:+.0f} g ({r['error_pct']:+.1f} %, tolerance {r['tolerance_pct']:g} %), "
              f"calibration {r['calibration']}{'' if r['calibrated'] else ' (uncalibrated nominal curve)'}")
    return 0 if r["pass"] else 1


def register(subparsers):
    p = subparsers.add_parser("check", help="check the calibration against a known weight (pass/fail)")
    p.add_argument("--weight", type=float, required=True, metavar="KG", help="the known load in kg")
    p.add_argument("--tolerance", type=float, metavar="PCT",
                   help="allowed error in %% (default 5 for FSR/FlexiForce, 1 for a load cell)")
    p.add_argument("--port", help="serial port (default: the running simulator or the only board)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--auto", action="store_true",
                   help="the simulator applies the load (default when one runs)")
    g.add_argument("--manual", action="store_true", help="you apply the load")
    p.set_defaults(func=handler)
