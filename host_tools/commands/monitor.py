"""`acutrainer monitor`: the force, the band state and the routine step, live, with a moving plot.

Reads the running app's stream over the live link (docs/protocol.md), so it works during a practice and
when idle, and never stops the app. Redraws at the stream's rate (default 25 Hz). Ctrl-C ends it cleanly;
the device stops streaming by itself when its lease runs out, even if the laptop vanished.
"""
from __future__ import annotations

import sys
import time
from collections import deque

from host_tools.link import Sample

BAR_MAX_G = 8000
COLORS = {"no_contact": "dim", "under": "yellow", "in": "green", "over": "red", "too_hard": "bold red",
          "fault": "magenta"}
WORDS = {"no_contact": "no contact", "under": "UNDER", "in": "IN BAND", "over": "OVER", "too_hard": "TOO HARD",
         "fault": "SENSOR FAULT"}
BLOCKS = " ▁▂▃▄▅▆▇█"


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


def render_plot(values: list[float], lo_g: int, hi_g: int, width: int = 60, height: int = 8,
                max_g: int = BAR_MAX_G) -> list[str]:
    """The last `width` force values as columns of block characters (newest right), the band's edges as
    dotted rows. Returns `height` strings, top row first."""
    vals = list(values)
    if len(vals) > width:  # a column per bucket of samples, its peak (a short press still shows)
        step = len(vals) / width
        vals = [max(vals[int(i * step):max(int(i * step) + 1, int((i + 1) * step))]) for i in range(width)]
    vals = [0.0] * (width - len(vals)) + vals
    eighths = [max(0, min(height * 8, int(round(v / max_g * height * 8)))) for v in vals]

    def row_of(g):
        return height - 1 - min(height - 1, int(g / max_g * height))
    band_rows = {row_of(lo_g), row_of(hi_g)}
    rows = []
    for r in range(height):
        base = (height - 1 - r) * 8   # eighths below this row
        line = []
        for e in eighths:
            k = max(0, min(8, e - base))
            line.append(BLOCKS[k] if k else ("·" if r in band_rows else " "))
        rows.append("".join(line))
    return rows


class Monitor:
    """The stream as the monitor shows it: the latest sample, the recent forces, the counts."""

    def __init__(self, link, rate_hz: float = 25.0, window_s: float = 10.0, renew_s: float = 1.0):
        self.link = link
        self.every_s = 1.0 / max(1.0, min(rate_hz, 100.0))
        self.renew_s = renew_s
        self.history: deque[float] = deque(maxlen=max(10, int(window_s / self.every_s)))
        self.last: Sample | None = None
        self.samples = 0
        self.started = time.monotonic()
        self._renewed = 0.0
        self.routine = None

    def renew(self):
        self.link.start_stream(self.every_s, max(3.0, 3 * self.renew_s))
        self._renewed = time.monotonic()

    def read(self, timeout_s: float = 0.05) -> list[Sample]:
        if time.monotonic() - self._renewed >= self.renew_s:
            self.renew()
        got = self.link.poll(timeout_s)
        for s in got:
            self.history.append(s.force_g)
        if got:
            self.last = got[-1]
            self.samples += len(got)
        return got

    def rate_hz(self) -> float:
        dt = time.monotonic() - self.started
        return self.samples / dt if dt > 0 else 0.0

    def line(self) -> str:
        s = self.last
        if s is None:
            return "waiting for the device..."
        step = "idle" if s.runner == 0 else "%s step %d  %d/%d s" % (s.runner_name, s.step + 1, s.step_ms // 1000,
                                                                    s.goal_ms // 1000)
        return "%6.2f kg  %-12s band %g-%g kg  %s%s" % (s.force_g / 1000, WORDS.get(s.state_name, s.state_name),
                                                       s.lo_g / 1000, s.hi_g / 1000, step,
                                                       "  [logging]" if s.logging else "")

    def render(self):
        from rich.panel import Panel
        from rich.text import Text

        s = self.last
        t = Text()
        if s is None:
            t.append("waiting for the device's stream...")
            return Panel(t, title="acutrainer monitor (Ctrl-C to stop)")
        color = COLORS.get(s.state_name, "")
        t.append(f"{s.force_g / 1000:6.2f} kg  ", style="bold")
        t.append(f"{WORDS.get(s.state_name, s.state_name):12s}", style=color)
        t.append(f"   band {s.lo_g / 1000:g}-{s.hi_g / 1000:g} kg\n")
        t.append(render_bar(s.force_g, s.lo_g, s.hi_g), style=color)
        t.append("\n0 kg" + " " * 50 + f"{BAR_MAX_G / 1000:g} kg\n\n")
        for row in render_plot(list(self.history), s.lo_g, s.hi_g):
            t.append(row + "\n", style="cyan")
        t.append(f"last {len(self.history) * self.every_s:.0f} s; dots: the band's edges\n\n")
        if s.runner == 0:
            t.append("routine: idle (press the button to start" + (f" {self.routine}" if self.routine else "") + ")")
        else:
            t.append(f"routine{' ' + self.routine if self.routine else ''}: {s.runner_name}, step {s.step + 1}, "
                     f"{s.step_ms / 1000:.0f} of {s.goal_ms / 1000:.0f} s")
        if s.logging:
            t.append("   (recording a session)")
        if s.fault:
            t.append(f"\nsensor fault {s.fault}: check the sensor's wiring", style="magenta")
        t.append(f"\n{self.rate_hz():.0f} samples/s, {self.link.lost} lost", style="dim")
        return Panel(t, title="acutrainer monitor (Ctrl-C to stop)")


def handler(args) -> int:
    from host_tools.session import connect

    with connect(args.port) as c:
        was_running = c.app_running
        hello = c.start_app()
        if not was_running:
            print("started the app (the board sat at its REPL)")
        mon = Monitor(c.live, rate_hz=args.rate, window_s=args.window)
        mon.routine = (hello.get("practice") or {}).get("routine")
        if mon.routine is None:
            mon.routine = c.live.status().get("routine")
        end = time.monotonic() + args.duration if args.duration else None
        try:
            if args.plain or not sys.stdout.isatty():   # piped into a file: lines, not a redrawn screen
                while end is None or time.monotonic() < end:
                    for s in mon.read(0.05):
                        print("%.3f %s" % (s.host_s, _plain(s)), flush=True)
            else:
                from rich.console import Console
                from rich.live import Live
                with Live(mon.render(), console=Console(), refresh_per_second=max(20, int(args.rate)),
                          auto_refresh=False) as live:
                    while end is None or time.monotonic() < end:
                        if mon.read(0.02):
                            live.update(mon.render(), refresh=True)
        except KeyboardInterrupt:
            pass
        finally:
            c.live.stop_stream()
    print("monitor: %d samples in %.1f s (%.0f/s), %d lost" % (
        mon.samples, time.monotonic() - mon.started, mon.rate_hz(), c.live.lost))
    return 0


def _plain(s: Sample) -> str:
    return "t_ms=%d force_g=%d state=%s band=%d-%d runner=%s step=%d step_ms=%d raw=%d" % (
        s.t_ms, s.force_g, s.state_name, s.lo_g, s.hi_g, s.runner_name, s.step, s.step_ms, s.raw)


def register(subparsers):
    p = subparsers.add_parser("monitor", help="live view of the force, the band and the routine step")
    p.add_argument("--port", help="serial port (default: the running simulator or the only board)")
    p.add_argument("--rate", type=float, default=25.0, metavar="HZ", help="samples (and redraws) per second")
    p.add_argument("--window", type=float, default=10.0, metavar="S", help="seconds of force in the plot")
    p.add_argument("--duration", type=float, default=0.0, metavar="S",
                   help="stop after S seconds (0: Ctrl-C)")
    p.add_argument("--plain", action="store_true", help="one text line per sample instead of the live view "
                   "(the default when output is not a terminal)")
    p.set_defaults(func=handler)
