"""`acutrainer selftest`: the bring-up self-test of a freshly soldered board, one part at a time, with the
person's typed answers (docs/user-guide.md, "Bring-up self-test"). The judgements are host_tools/selftest.py;
this module asks, measures over the live link (the app keeps running, in calibration mode: no practice is
logged, the button starts nothing) and prints. Answers come from the terminal, or from --answers FILE."""
from __future__ import annotations

import sys
import time
from pathlib import Path

from host_tools import selftest as st
from host_tools.errors import AcuError, DeviceError, InputError

IDLE_S = 1.5          # real seconds of readings for the idle level
FAULT_S = 1.5         # ... after the person opened or shorted the sensor (the firmware needs 100 ms of rail)
PRESS_S = 20.0        # a press is waited for this long
HOLD_S = 1.0          # an output is driven this long (at most the device's 3 s)
HOLD_MAX_MS = 3000    # acu.bringup
BUTTON_S = 15.0       # the button press is waited for this long (at most the device's 20 s)
BUTTON_MAX_MS = 20000
EVERY_MS = 50         # stream period on the device's clock: a short press is seen on a fast simulator too
LEASE_S = 10.0        # the calibration-mode stream's lease (renewed every second while watching)
RENEW_S = 1.0
PARTS_ORDER = ("sensor", "motor", "haptic", "led", "rgb", "buzzer", "button", "battery", "flash", "clock")
COLOURS = (("red", (255, 0, 0)), ("green", (0, 255, 0)), ("blue", (0, 0, 255)))


class Cancelled(AcuError):
    """Ctrl-D at a prompt: the self-test ends, the board as it was."""

    exit_code = 130


class Answers:
    """Where the person's answers come from: the terminal (input()), or a file of one answer per line in
    the order the questions come (an empty line is Enter; lines starting with '#' are comments)."""

    def __init__(self, path: str | None, out=print):
        self.out = out
        self.path = path
        self.lines: list[tuple[int, str]] | None = None
        if path is not None:
            try:
                text = Path(path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as e:
                raise InputError("%s: cannot read the answers (%s)" % (path, getattr(e, "strerror", None) or e)) \
                    from None
            self.lines = [(i + 1, ln.strip()) for i, ln in enumerate(text.splitlines())
                          if not ln.lstrip().startswith("#")]

    def ask(self, prompt: str) -> tuple[str, str]:
        """(the answer, where it came from for an error message)."""
        if self.lines is None:
            try:
                return input(prompt), "the terminal"
            except EOFError:
                raise Cancelled("self-test cancelled (Ctrl-D); the board is as it was") from None
            except KeyboardInterrupt:
                print(flush=True)  # the CLI's one line goes under the prompt, not after it
                raise
        if not self.lines:
            raise InputError("%s: no answer left for %r (one answer a line, in the order asked)"
                             % (self.path, prompt.strip()))
        n, text = self.lines.pop(0)
        self.out("%s%s" % (prompt, text))
        return text, "%s line %d" % (self.path, n)


class SelfTest:
    """The steps on one connection. out(line) prints; answers: Answers."""

    def __init__(self, conn, answers: Answers, out=print, only: tuple[str, ...] = ()):
        self.conn = conn
        self.live = conn.live
        self.answers = answers
        self.out = out
        self.only = only
        self.results: list[st.Result] = []
        self._renewed = 0.0
        try:
            info = self.live.request("part", timeout_s=3.0)
        except DeviceError as e:
            if "unknown request" in str(e):
                raise DeviceError("device: its firmware has no part checks: update it (acutrainer deploy)") from None
            raise
        self.have = set(info.get("parts") or ())
        self.kind = info.get("sensor") or ""
        status = self.live.status()
        self.status = status
        self.board = status.get("board") or ""
        self.parts = st.load_parts(self.board)

    # ---- answers ----
    def _ask(self, prompt: str, parse):
        text, where = self.answers.ask(prompt)
        try:
            return parse(text)
        except ValueError as e:
            raise InputError("unknown answer %r to %r from %s: %s" % (text[:20], prompt.strip(), where, e)) from None

    def yes_no(self, question: str, allow_skip: bool = False) -> bool | None:
        return self._ask("%s [y/n%s] " % (question, "/s" if allow_skip else ""),
                         lambda t: st.parse_yes_no(t, allow_skip))

    def enter(self, what: str) -> bool:
        """Enter when done (True), s to skip (False)."""
        return self._ask("%s, then press Enter (s to skip) " % what, st.parse_enter)

    # ---- the stream (calibration mode: nothing logged, the button ignored, the feedback quiet) ----
    def _renew(self):
        self.live.start_stream(0.05, LEASE_S, "calib", every_device_ms=EVERY_MS)
        self._renewed = time.monotonic()

    def watch(self, seconds: float, stop=None) -> list:
        """Stream samples for up to `seconds` (real), or until stop(new samples) says so."""
        self._renew()
        self.live.poll(0.0)  # what arrived before this watch is not part of it
        got: list = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if time.monotonic() - self._renewed >= RENEW_S:
                self._renew()
            new = self.live.poll(0.05)
            got += new
            if new and stop is not None and stop(new):
                break
        return got

    def drive(self, *args, ms: int):
        """`part ROLE ... MS` (the device holds the output ms of its time, then gives it back)."""
        real_s = ms / 1000.0 / self.live.scale
        return self.live.request("part", *args, ms, timeout_s=real_s + 3.0, tries=2)

    def add(self, r: st.Result) -> st.Result:
        self.results.append(r)
        mark = {"PASS": "ok  ", "FAIL": "FAIL", "skip": "skip"}[r.verdict]
        self.out("  %s %s: measured %s; expected %s" % (mark, r.check, r.measured, r.expected))
        if r.ok is False:
            self.out("       check: %s" % r.advice)
        return r

    def wanted(self, part: str) -> bool:
        return not self.only or part in self.only

    # ---- the steps ----
    def run(self) -> list[st.Result]:
        self.out("self-test of %s (board %s, sensor %s); answer y/n, or press Enter when asked; Ctrl-C ends it"
                 % (self.conn.port, self.board or "?", self.kind or "?"))
        if self.parts is None:
            self.out("note: this acutrainer does not know board %r: pins are not named" % self.board)
        for part in PARTS_ORDER:
            if not self.wanted(part):
                continue
            if part in ("flash", "clock") or part in self.have:
                self.out("")
                self.out("%s: %s" % (part, self._title(part)))
                getattr(self, "step_" + part)()
            elif self.only:
                self.out("")
                self.out("%s: not on this board (not fitted, or not in its PARTS)" % part)
        self.out("")
        return self.results

    def _title(self, part: str) -> str:
        if part in ("flash", "clock"):
            return {"flash": "free space for the logs", "clock": "the wall clock"}[part]
        return "%s on %s" % ((self.parts or {}).get(part, {}).get("part") or part, st.pin(self.parts, part, self.kind))

    def step_sensor(self):
        self.enter("Take everything off the sensor and leave it untouched")
        smp = self.watch(IDLE_S)
        raws = [s.raw for s in smp]
        idle = self.add(st.check_idle(raws, [s.fault for s in smp], self.parts, self.kind))
        if not idle.ok:
            for check in ("open detected", "short detected", "light press seen", "firm press seen"):
                self.add(st.Result("sensor", check, None, "skipped (the idle level failed)", "-"))
            return
        idle_raw = sum(raws) // len(raws)
        divider = st.is_divider(self.kind)
        self._fault_step("Unplug the sensor (or lift one of its leads)" if divider else
                         "Unplug the HX711's DOUT wire (or the load cell's connector)", 1 if divider else 3, "open")
        if divider:
            self._fault_step("Short the sensor's two leads (a wire or tweezers across its connector)", 2, "short")
        self._press_step(idle_raw, firm=False)
        self._press_step(idle_raw, firm=True)

    def _fault_step(self, action: str, want: int, name: str):
        if not self.enter(action):
            self.add(st.check_fault_seen([], want, self.parts, self.kind, skipped=True))
            return
        smp = self.watch(FAULT_S, stop=lambda new: any(s.fault == want for s in new))
        self.add(st.check_fault_seen([s.fault for s in smp], want, self.parts, self.kind))
        self.enter("Connect the sensor again as it was")
        smp = self.watch(FAULT_S, stop=lambda new: new[-1].fault == 0)
        bad = st.check_fault_cleared([s.fault for s in smp], self.parts, self.kind, name)
        if bad is not None:
            self.add(bad)

    def _press_step(self, idle_raw: int, firm: bool):
        if firm:
            what = "Press the sensor firmly (about 4 kg, through the tip) for a moment and let go"
            want = st.FIRM_G
        else:
            what = "Press the sensor lightly (about 1 kg, a fingertip) for a moment and let go"
            want = st.LIGHT_G
        self.out("  %s (watching for %.0f s)" % (what, PRESS_S))
        peak = {"g": 0, "raw": idle_raw}

        def released_after_press(new):
            for s in new:
                peak["g"] = max(peak["g"], s.force_g)
                if abs(s.raw - idle_raw) > abs(peak["raw"] - idle_raw):
                    peak["raw"] = s.raw
            return peak["g"] >= want and new[-1].force_g < st.LIGHT_G

        self.watch(PRESS_S, stop=released_after_press)
        self.add(st.check_press(peak["g"], peak["raw"], idle_raw, firm, self.parts, self.kind))

    def _output(self, role: str, question: str, what: str, *args):
        ms = min(self.live.device_ms(HOLD_S), HOLD_MAX_MS)
        self.drive(role, *args, ms=ms)
        return self.add(st.check_output(role, what, self.yes_no(question, allow_skip=True), self.parts, ms))

    def step_motor(self):
        self.out("  the motor runs for a moment: hold the device")
        self._output("motor", "Did you feel the motor buzz?", "vibration")

    def step_haptic(self):
        self.out("  the DRV2605L drives the motor for a moment: hold the device")
        self._output("haptic", "Did you feel the motor buzz?", "vibration")

    def step_led(self):
        self.out("  the LED lights for a moment: look at it")
        self._output("led", "Did the LED light?", "light")

    def step_rgb(self):
        for name, (r, g, b) in COLOURS:
            self.out("  the RGB LED shows %s for a moment: look at it" % name)
            self._output("rgb", "Did the LED show %s?" % name, name, r, g, b)

    def step_buzzer(self):
        self.out("  the buzzer sounds for a moment: listen")
        self._output("buzzer", "Did you hear a tone?", "tone")

    def step_button(self):
        got = self.live.request("part", "button", 0, timeout_s=3.0)
        idle = self.add(st.check_button_idle(bool(got.get("pressed_now")), self.parts))
        if not idle.ok:
            self.add(st.check_button_press(None, BUTTON_S, self.parts))
            return
        wait_ms = min(self.live.device_ms(BUTTON_S), BUTTON_MAX_MS)
        real_s = wait_ms / 1000.0 / self.live.scale
        got = self.live.request("part", "button", wait_ms, timeout_s=real_s + 3.0, tries=1,
                                sent=lambda: self.out("  Press the button once and let go (waiting %.0f s)" % real_s))
        self.add(st.check_button_press(got, real_s, self.parts))

    def step_battery(self):
        got = self.live.request("part", "battery", timeout_s=3.0)
        self.add(st.check_battery(int(got.get("mv", 0)), self.parts))

    def step_flash(self):
        s = self.live.status()
        self.add(st.check_flash(s.get("free_bytes"), s.get("flash_bytes")))

    def step_clock(self):
        tol = 600.0 * self.live.scale  # a simulator's clock runs --speed times faster than this computer's
        r = st.check_clock(self.live.status().get("wall_s"), time.time(), tol)
        if not r.ok and self.yes_no("  The board's clock is %s. Set it from this computer now?" % r.measured):
            self.live.request("clock", int(time.time()), timeout_s=3.0)
            r = st.check_clock(self.live.status().get("wall_s"), time.time(), tol)
        self.add(r)


# ---------------------------------------------------------------- CLI
def handler(args) -> int:
    from host_tools.session import connect

    def out(line=""):
        print(line, flush=True)

    only = tuple(p.strip() for p in (args.only or "").split(",") if p.strip())
    bad = [p for p in only if p not in PARTS_ORDER]
    if bad:
        raise InputError("--only: no part %r (parts: %s)" % (bad[0], ", ".join(PARTS_ORDER)))
    if args.answers is None and not sys.stdin.isatty():
        raise InputError("selftest asks a person questions: run it on a terminal, or give the answers with "
                         "--answers FILE (docs/user-guide.md)")
    answers = Answers(args.answers, out)
    with connect(args.port) as c:
        c.start_app()
        c.settle_practice(args.practice)
        results = SelfTest(c, answers, out, only).run()
    for line in st.summary(results):
        out(line)
    return st.exit_code(results)


def register(subparsers):
    from host_tools.session import add_practice_args

    p = subparsers.add_parser(
        "selftest", help="bring-up self-test of a freshly soldered board, one part at a time",
        description="Checks the sensor (idle level, open and short detection, a light and a firm press), the "
                    "motor, the LED, the buzzer, the button, the battery, the flash and the clock, asking you "
                    "to do or confirm each; names the pin to check when a part fails. Exit 0: all passed; 1: a "
                    "part failed.")
    p.add_argument("--port", help="serial port (default: the running simulator or the only board)")
    p.add_argument("--answers", metavar="FILE",
                   help="read the answers from FILE, one a line in the order asked (an empty line is Enter); "
                        "needed when stdin is not a terminal")
    p.add_argument("--only", metavar="PARTS",
                   help="test only these parts, comma-separated: " + ", ".join(PARTS_ORDER))
    add_practice_args(p)
    p.set_defaults(func=handler)
