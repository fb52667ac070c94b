"""`acutrainer check --weight 4.0`: verify the device's current calibration against a known load.

Reads the running app's own force through the live link (calibration mode: nothing is logged, the outputs
stay quiet), so the check sees exactly what the person practising feels: the calibration, the creep
compensation and the filter. On the simulator its hand applies the load; otherwise a person does.
"""
from __future__ import annotations

from host_tools import capture


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
    verdict = "[green]PASS[/]" if r["pass"] else "[red]FAIL[/]"
    con.print(f"{verdict}  {r['weight_g'] / 1000:g} kg reads {r['measured_g'] / 1000:.3f} kg: error "
              f"{r['error_g']:+.0f} g ({r['error_pct']:+.1f} %, tolerance {r['tolerance_pct']:g} %), "
              f"calibration {r['calibration']}{'' if r['calibrated'] else ' (uncalibrated nominal curve)'}",
              soft_wrap=True)
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
