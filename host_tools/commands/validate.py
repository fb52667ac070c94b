"""`acutrainer validate`: measure and publish the accuracy of a build (docs/validation.md). Presses at several
loads against a reference (a kitchen scale or a load cell; on the simulator its hand applies exact loads),
then a constant-load hold for drift; writes a Bland-Altman report. The work is in host_tools/validation.py.
"""
from __future__ import annotations

import time

from host_tools import capture, outfiles, validation
from host_tools.calibration import pointsfile as calpoints
from host_tools.errors import AcuError
from host_tools.termsafe import shown


def handler(args) -> int:
    from rich.console import Console

    from host_tools.liveprompt import live_prompt
    from host_tools.session import connect

    loads = validation.parse_loads(args.loads)
    validation.check_args(args.repeats, args.hold_s)
    out_dir = args.out or "validation-%s" % time.strftime("%Y%m%d-%H%M%S")
    outfiles.out_dir(out_dir)   # a folder that cannot be written is named now, not after the presses
    con = Console()

    def out(line):
        con.print(line, markup=False, highlight=False, soft_wrap=True)

    with connect(args.port) as c:
        c.start_app()
        c.settle_practice(args.practice)
        st = c.live.status()
        kind = st.get("sensor")
        if kind not in calpoints.KINDS:
            raise AcuError("the device reports an unknown sensor kind %r" % shown(kind))
        if not st.get("calibrated"):
            out("note: the device is not calibrated: this measures its nominal curve (acutrainer calibrate first "
                "to validate a calibration)")
        hand = None
        if not args.manual:
            try:
                from host_tools.sim.control import SimControl
                hand = SimControl.for_port(c.port)
            except Exception:   # no simulator running: a person presses
                if args.auto:
                    raise
            if hand is not None:
                out("simulator: its hand applies each load (the reference is the load it applies)")
        src = capture.StreamSource(c.live)
        try:
            with live_prompt(con) as (ask, show):
                result = validation.run(src, kind, loads, args.repeats, hand=hand,
                                        ask=None if hand is not None else ask, out=out, show=show,
                                        hold_s=args.hold_s)
        finally:
            src.close()
    calib_id = st.get("calib_id") or ""
    source = ("simulator: its hand applied the loads" if hand is not None
              else "%s: reference typed from a scale" % shown(c.port))
    figs = validation.analyse(result, kind, calib_id=calib_id, calibrated=bool(st.get("calibrated")), source=source)
    for line in validation.summary_lines(figs):
        out(line)
    names = validation.write_report(out_dir, result, figs)
    out("written %s: %s" % (shown(out_dir), ", ".join(names)))
    return 0


def register(subparsers):
    from host_tools.session import add_practice_args

    p = subparsers.add_parser("validate", help="measure the device's accuracy against a reference "
                                                "(Bland-Altman report)",
                              description="Presses at several loads against a kitchen scale or a load cell "
                                          "(on the simulator its hand applies them), then a constant-load hold: "
                                          "bias, 95 %% limits of agreement, band-decision agreement at 3 and "
                                          "5 kg, drift; see docs/validation.md.")
    p.add_argument("--port", help="serial port (default: the running simulator or the only board)")
    p.add_argument("--loads", default="1,2,3,4,5,6", metavar="KG,KG,...", help="loads in kg (default 1,2,3,4,5,6)")
    p.add_argument("--repeats", type=int, default=validation.DEFAULT_REPEATS, metavar="N",
                   help="presses at each load (default %d)" % validation.DEFAULT_REPEATS)
    p.add_argument("--hold-s", type=float, default=validation.DEFAULT_HOLD_S, metavar="S",
                   help="drift hold at 4 kg in seconds (default 120; 0 skips)")
    p.add_argument("--out", metavar="DIR", help="report folder (default validation-SENSOR-DATE)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--auto", action="store_true", help="the simulator applies the loads (default when one runs)")
    g.add_argument("--manual", action="store_true", help="you press, and type the scale's reading")
    add_practice_args(p)
    p.set_defaults(func=handler)
