"""`acutrainer monitor`: live terminal view of the force with the band drawn, the band state and the routine
step. Reads the device through the session: `acu.api.status()` when the firmware has it, otherwise raw
readings through hw_call converted with the device's calibration on the host (same codec)."""
from __future__ import annotations

import time

from host_tools import calibration as hc
from host_tools.errors import AcuError

BAR_MAX_G = 8000


def classify(force_g: float, lo_g: int, hi_g: int, contact_g: int = 300) -> str:
    if force_g < contact_g:
        return "idle"
    if force_g < lo_g:
        return "under"
    if force_g <= hi_g:
        return "inside"
    return "over"


def render_bar(force_g: float, lo_g: int, hi_g: int, width: int = 60, max_g: int = BAR_MAX_G) -> str:
    """A text gauge: '#' up to the force, the band as '[' ... ']' markers, '|' ticks every kg."""
    def col(g):
        return max(0, min(width - 1, int(round(g / max_g * (width - 1)))))
    cells = ["-"] * width
    for kg in range(0, max_g + 1, 1000):
        cells[col(kg)] = "|"
    for i in range(col(lo_g), col(hi_g) + 1):
        cells[i] = "="
    fill = col(force_g) if force_g > 0 else -1
    for i in range(fill + 1):
        cells[i] = "#"
    cells[col(lo_g)] = "["
    cells[col(hi_g)] = "]"
    return "".join(cells)


class Poller:
    """One sample per call: {'force_g', 'raw', 'state', 'step', 'source'}."""

    def __init__(self, session, band_lo_g: int = hc.BAND_LO_G, band_hi_g: int = hc.BAND_HI_G):
        self.s = session
        self.lo = band_lo_g
        self.hi = band_hi_g
        self.use_api = True
        self.cal: hc.dcal.Calibration | None = None
        self.zero_g = None

    def sample(self) -> dict:
        if self.use_api:
            try:
                st = self.s.call("acu.api", "status")
                if isinstance(st, dict) and "force_g" in st:
                    f = st["force_g"]
                    return {"force_g": f, "raw": st.get("raw"),
                            "state": st.get("band") or classify(f, self.lo, self.hi),
                            "step": st.get("step"), "source": "api"}
            except AcuError:
                pass
            self.use_api = False
        if self.cal is None:
            kind = self.s.hw_call("hw.sensor.kind")
            self.cal = hc.device_calibration(self.s, kind)
            if kind == "loadcell" and not self.cal.calibrated:
                self.zero_g = self.cal.grams(int(self.s.hw_call("hw.sensor.read_raw()")))
        raw = int(self.s.hw_call("hw.sensor.read_raw()"))
        f = self.cal.grams(raw) - (self.zero_g or 0)
        return {"force_g": f, "raw": raw, "state": classify(f, self.lo, self.hi), "step": None,
                "source": "raw"}


_COLORS = {"idle": "dim", "under": "yellow", "inside": "green", "over": "red"}


def render(sample: dict, lo_g: int, hi_g: int, cal_id: str | None = None):
    from rich.panel import Panel
    from rich.text import Text

    f = sample["force_g"]
    t = Text()
    t.append(f"{f / 1000:6.2f} kg  ", style="bold")
    t.append(f"{sample['state'].upper():7s}", style=_COLORS.get(sample["state"], ""))
    t.append(f"   band {lo_g / 1000:g}-{hi_g / 1000:g} kg\n")
    t.append(render_bar(f, lo_g, hi_g), style=_COLORS.get(sample["state"], ""))
    t.append("\n0 kg" + " " * 50 + f"{BAR_MAX_G / 1000:g} kg\n")
    step = sample.get("step")
    t.append(f"routine step: {step if step is not None else 'n/a'}   raw {sample.get('raw')}   "
             f"source {sample['source']}{'   calibration ' + cal_id if cal_id else ''}")
    return Panel(t, title="acutrainer monitor (Ctrl-C to stop)")


def handler(args) -> int:
    from rich.console import Console
    from rich.live import Live

    from host_tools.session import open_session

    con = Console()
    lo, hi = int(args.band_lo * 1000), int(args.band_hi * 1000)
    with open_session(args.port) as s:
        poller = Poller(s, lo, hi)
        end = time.monotonic() + args.duration if args.duration else None
        with Live(console=con, refresh_per_second=20) as live:
            try:
                while end is None or time.monotonic() < end:
                    smp = poller.sample()
                    live.update(render(smp, lo, hi, poller.cal.id if poller.cal else None))
                    time.sleep(args.interval)
            except KeyboardInterrupt:
                pass
    return 0


def register(subparsers):
    p = subparsers.add_parser("monitor", help="live view of the force, the band and the routine step")
    p.add_argument("--port", help="serial port (default: the running simulator or the only board)")
    p.add_argument("--band-lo", type=float, default=3.0, metavar="KG")
    p.add_argument("--band-hi", type=float, default=5.0, metavar="KG")
    p.add_argument("--interval", type=float, default=0.05, metavar="S", help="poll period")
    p.add_argument("--duration", type=float, default=0.0, metavar="S",
                   help="stop after S seconds (0: Ctrl-C)")
    p.set_defaults(func=handler)
