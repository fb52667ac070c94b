"""`acutrainer check --weight 4.0`: verify the device's current calibration against a known load.

Reads the running app's own force through the live link (calibration mode: nothing is logged, the outputs
stay quiet), so the check sees exactly what the person practising feels: the calibration, the creep
compensation and the filter. On the simulator its hand applies the load; otherwise a person does.
"""
from __future__ import annotations

from host_tools import capture, strictjson
from host_tools.errors import AcuError


# ---------------------------------------------------------------- library
def stored_expect(calib_id: str, device_id: str | None, read_calib_file=None) -> dict | None:
    """The expected error (fit.expect, docs/calibration.md) of the calibration calib_id: from the archive's
    calibration history, else from the device's /cfg/calib.json (read_calib_file() -> bytes) when it is
    that calibration. None: not known (the nominal curve, or a file written before expected errors)."""
    if not calib_id or calib_id.startswith("nominal"):
        return None
    try:
        from host_tools.archive import Archive
        with Archive(None) as arc:
            for row in reversed(arc.calibrations(device_id)):
                if row["calib_id"] == calib_id:
                    return (row["data"].get("fit") or {}).get("expect")
    except AcuError:
        pass   # no archive here: ask the device
    if read_calib_file is None:
        return None
    try:
        d = strictjson.loads(read_calib_file().decode("utf-8"))
    except (AcuError, ValueError):   # a damaged file (JSON and UTF-8 errors are ValueErrors) promises nothing
        return None
    if not isinstance(d, dict) or d.get("id") != calib_id or not isinstance(d.get("fit"), dict):
        return None
    e = d["fit"].get("expect")
    return e if isinstance(e, dict) and isinstance(e.get("pct"), (int, float)) else None


def compare_expected(r: dict, expect: dict | None) -> str:
    """The check's reading against the error its calibration promised; sets r["expected_pct"] and
    r["within_expected"] (None: no promise known)."""
    if expect is None:
        r["expected_pct"] = r["within_expected"] = None
        if not r["calibrated"]:
            return "uncalibrated: the nominal curve promises nothing (acutrainer calibrate)"
        return ("the expected error of calibration %s is not known here (written before expected errors, or "
                "from another computer)" % r["calibration"])
    pct = float(expect["pct"])
    lo, hi = expect.get("lo_g", 3000), expect.get("hi_g", 5000)
    r["expected_pct"] = pct
    r["within_expected"] = abs(r["error_pct"]) <= pct
    where = "" if lo <= r["weight_g"] <= hi else " (promised for %g-%g kg only)" % (lo / 1000, hi / 1000)
    if r["within_expected"]:
        return "within the expected +-%.1f %% of this calibration%s" % (pct, where)
    return ("outside the expected +-%.1f %% of this calibration%s: check the weight and that the tip bears all "
            "of it, then run check again; if it stays outside, recalibrate" % (pct, where))


def handler(args) -> int:
    from rich.console import Console

    from host_tools.liveprompt import live_prompt

    from host_tools.session import connect

    con = Console()
    with connect(args.port) as c:
        c.start_app()
        c.settle_practice(args.practice)
        st = c.live.status()
        hand = None
        if not args.manual:
            try:
                from host_tools.sim.control import SimControl
                hand = SimControl.for_port(c.port)
            except Exception:   # no simulator running: a person applies the load
                if args.auto:
                    raise
            if hand is not None:
                con.print(f"simulator: applying {args.weight:g} kg")
        src = capture.StreamSource(c.live)
        try:
            with live_prompt(con) as (ask, show):
                r = capture.check_live(src, args.weight * 1000.0, hand=hand, ask=ask, show=show,
                                       calibrated=bool(st.get("calibrated")), calib_id=st.get("calib_id") or "",
                                       kind=st.get("sensor") or "fsr402", tolerance_pct=args.tolerance)
        finally:
            src.close()
        expect = stored_expect(r["calibration"], (c.hello or {}).get("device_id"),
                               lambda: c.repl(args.practice).read_file("/cfg/calib.json"))
    verdict = "[green]PASS[/]" if r["pass"] else "[red]FAIL[/]"
    con.print(f"{verdict}  {r['weight_g'] / 1000:g} kg reads {r['measured_g'] / 1000:.3f} kg: error "
              f"{r['error_g']:+.0f} g ({r['error_pct']:+.1f} %, tolerance {r['tolerance_pct']:g} %), "
              f"calibration {r['calibration']}{'' if r['calibrated'] else ' (uncalibrated nominal curve)'}",
              soft_wrap=True)
    con.print(compare_expected(r, expect), markup=False, highlight=False, soft_wrap=True)
    return 0 if r["pass"] else 1


def register(subparsers):
    from host_tools.session import add_practice_args

    p = subparsers.add_parser("check", help="check the calibration against a known weight (pass/fail)")
    p.add_argument("--weight", type=float, required=True, metavar="KG", help="the known load in kg")
    p.add_argument("--tolerance", type=float, metavar="PCT",
                   help="allowed error in %% (default 5 for FSR/FlexiForce, 1 for a load cell)")
    p.add_argument("--port", help="serial port (default: the running simulator or the only board)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--auto", action="store_true",
                   help="the simulator applies the load (default when one runs)")
    g.add_argument("--manual", action="store_true", help="you apply the load")
    add_practice_args(p)
    p.set_defaults(func=handler)
