"""The bring-up self-test's judgements (acutrainer selftest, docs/user-guide.md "Bring-up self-test"): each
check takes what was measured (stream readings, the device's answers, the person's typed answers) and the
board's PARTS, and returns a Result that says what was measured, what was expected and, on failure, what
to check on the wiring, naming the pin. No I/O here: commands/selftest.py asks and measures."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from host_tools import paths

U16 = 65535
OPEN_RAW = 200             # acu.sensors: a divider at or below this reads as open
SHORT_RAW = 60000          # ... at or above this as shorted
IDLE_SPREAD_MAX = 1500     # an unloaded divider's readings (oversampled) stay within this; a floating input not
IDLE_LO, IDLE_HI = 0.4, 2.5  # the unloaded level within these factors of the bleed divider's (ADC offset, parts)
LIGHT_G = 300              # a light press must reach the app's contact threshold (settings contact_g)
FIRM_G = 3000              # a firm press must reach the band's floor: else the band cannot be reached
LOADED_RAW = {"divider": 1000, "loadcell": 20000}   # the raw rise that is a press whatever the curve (capture.py)
BATTERY_MV = (3000, 4400)  # a LiPo cell through its divider; outside: the divider or the ADC pin is wrong
FLASH_FREE_MIN = 65536     # the logger's reserve (acu.logger): below it sessions stop being logged
CLOCK_YEARS = (2020, 2100)  # acu.wallclock's plausible range
FAULT_NAMES = ("none", "open", "short", "not ready")


@dataclass
class Result:
    part: str                  # a PARTS role: sensor, motor, led, rgb, buzzer, button, battery; or flash, clock
    check: str                 # what was checked: "idle level", "open detected"...
    ok: bool | None            # None: skipped (not asked, or the person skipped it)
    measured: str
    expected: str
    advice: str = ""           # on failure: what to check, naming the pin

    @property
    def verdict(self) -> str:
        return "skip" if self.ok is None else "PASS" if self.ok else "FAIL"


# ---------------------------------------------------------------- the board's parts
def load_parts(board: str, boards_dir: Path | None = None) -> dict | None:
    """The literal PARTS dict of boards/<board>.py (read with ast: neither `machine` nor the firmware is
    imported), or None when this acutrainer has no such board."""
    path = (boards_dir or paths.BOARDS_DIR) / (board + ".py")
    if not board.replace("_", "").isalnum() or not path.is_file():
        return None
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "PARTS" for t in node.targets):
            return ast.literal_eval(node.value)
    return None


def sensor_part(parts: dict | None, kind: str) -> dict:
    """The sensor's PARTS entry for the kind the device reports (its "alternatives" applied)."""
    p = dict((parts or {}).get("sensor") or {})
    alt = (p.get("alternatives") or {}).get(kind)
    if alt:
        p.update(alt)
    p["kind"] = kind
    return p


def is_divider(kind: str) -> bool:
    return kind != "loadcell"


def pin(parts: dict | None, role: str, kind: str = "") -> str:
    """Where a part is wired, as a person finds it on the board: 'GPIO34 (ADC)'."""
    if parts is None:
        return "its pin (this acutrainer does not know the board: see its board module's PARTS)"
    p = sensor_part(parts, kind) if role == "sensor" else (parts.get(role) or {})
    if role == "sensor" and not is_divider(kind):
        return "HX711 DOUT GPIO%s, SCK GPIO%s" % (p.get("dout_pin"), p.get("sck_pin"))
    if role == "sensor" or role == "battery":
        return "GPIO%s (ADC)" % p.get("adc_pin")
    if role == "haptic":
        return "I2C SDA GPIO%s, SCL GPIO%s (address 0x%02X)" % (p.get("sda"), p.get("scl"), p.get("addr", 0x5A))
    return "GPIO%s" % p.get("pin")


def idle_expected_raw(sp: dict) -> int | None:
    """An unloaded divider's reading: the bleed resistor against the measuring resistor (docs/hardware.md)."""
    r_m, r_b = sp.get("r_m_ohm"), sp.get("r_bleed_ohm")
    if not r_m or not r_b:
        return None
    return int(U16 * r_m / (r_m + r_b))


def _spread(raws: list[int]) -> int:
    return max(raws) - min(raws) if raws else 0


# ---------------------------------------------------------------- sensor
def check_idle(raws: list[int], faults: list[int], parts: dict | None, kind: str) -> Result:
    """The sensor untouched: a divider reads the bleed resistor's level, steadily; a load cell converts."""
    where = pin(parts, "sensor", kind)
    if not raws:
        return Result("sensor", "idle level", False, "no readings", "readings from the stream",
                      "the app sent no samples: is the firmware running? (acutrainer doctor)")
    mean = sum(raws) // len(raws)
    spread = _spread(raws)
    measured = "raw %d (spread %d over %d readings)%s" % (
        mean, spread, len(raws), "" if not any(faults) else ", fault " + FAULT_NAMES[max(faults)])
    if not is_divider(kind):
        ok = not any(faults) and mean != 0
        return Result("sensor", "idle level", ok, measured, "conversions from the HX711 (no 'not ready')",
                      "" if ok else "the HX711 gives no conversions: check its VCC and GND, and %s" % where)
    sp = sensor_part(parts, kind)
    exp = idle_expected_raw(sp)
    lo, hi = (int(exp * IDLE_LO), int(exp * IDLE_HI)) if exp else (OPEN_RAW + 1, 20000)
    expected = "raw %d-%d, spread under %d (the %s ohm bleed resistor against %s ohm)" % (
        lo, hi, IDLE_SPREAD_MAX, sp.get("r_bleed_ohm", "?"), sp.get("r_m_ohm", "?"))
    if mean <= OPEN_RAW:
        advice = ("the input reads 0 V: the sensor or its supply is not connected. Check the sensor's two leads "
                  "(one to 3V3%s, one to %s) and the %s ohm resistor from %s to GND"
                  % (" or GPIO%s" % sp["power_pin"] if sp.get("power_pin") else "", where,
                     sp.get("r_m_ohm", "?"), where))
        return Result("sensor", "idle level", False, measured, expected, advice)
    if mean < SHORT_RAW and (spread > IDLE_SPREAD_MAX or mean > hi):
        advice = ("the input floats (mid-scale or noisy): the bleed resistor (%s ohm, across the sensor, "
                  "from 3V3 to %s) is missing or not soldered; or something presses the sensor"
                  % (sp.get("r_bleed_ohm", "?"), where))
        return Result("sensor", "idle level", False, measured, expected, advice)
    if mean >= SHORT_RAW:
        advice = "the input sits at 3V3: the sensor's leads are shorted, or %s is wired to 3V3" % where
        return Result("sensor", "idle level", False, measured, expected, advice)
    if mean < lo:
        advice = ("the level is low: check the bleed resistor's value (%s ohm) and the measuring resistor "
                  "(%s ohm from %s to GND)" % (sp.get("r_bleed_ohm", "?"), sp.get("r_m_ohm", "?"), where))
        return Result("sensor", "idle level", False, measured, expected, advice)
    return Result("sensor", "idle level", True, measured, expected)


def check_fault_seen(faults: list[int], want: int, parts: dict | None, kind: str, skipped: bool = False) -> Result:
    """The person opened (want 1, or 3 for a load cell) or shorted (2) the sensor: the firmware must say so."""
    name = FAULT_NAMES[want]
    check = "%s detected" % ("open" if want in (1, 3) else "short")
    expected = "the firmware reports the sensor %s" % name
    if skipped:
        return Result("sensor", check, None, "skipped", expected)
    seen = sorted({FAULT_NAMES[f] for f in faults if 0 <= f < len(FAULT_NAMES)})
    ok = want in faults
    return Result("sensor", check, ok, "fault reported: %s" % (", ".join(seen) or "none"), expected,
                  "" if ok else "the firmware did not see it: was the sensor really %s? The input is %s; check "
                  "nothing else holds it (a second resistor, a bridge of solder)" % (
                      "disconnected" if want != 2 else "shorted", pin(parts, "sensor", kind)))


def check_fault_cleared(faults: list[int], parts: dict | None, kind: str, after: str) -> Result | None:
    """After the person reconnected the sensor the fault must clear; None when it did (nothing to report)."""
    if faults and faults[-1] == 0:
        return None
    return Result("sensor", "reconnected after " + after, False,
                  "fault still %s" % (FAULT_NAMES[faults[-1]] if faults else "unknown (no readings)"),
                  "no fault once reconnected",
                  "the sensor still reads %s: check its connector and %s" % (
                      FAULT_NAMES[faults[-1]] if faults else "nothing", pin(parts, "sensor", kind)))


def check_press(peak_g: int, peak_raw: int, idle_raw: int, firm: bool, parts: dict | None, kind: str) -> Result:
    """A light press must reach contact; a firm one the band's floor. The raw rise says whether the sensor
    responded at all (whatever the curve in use)."""
    want_g = FIRM_G if firm else LIGHT_G
    rise = abs(peak_raw - idle_raw)
    loaded = rise >= LOADED_RAW["divider" if is_divider(kind) else "loadcell"]
    check = "firm press seen" if firm else "light press seen"
    measured = "peak %d g (raw %d, %+d from idle)" % (peak_g, peak_raw, peak_raw - idle_raw)
    expected = "at least %d g%s" % (want_g, " (the band starts at 3 kg)" if firm else " (contact)")
    if peak_g >= want_g:
        return Result("sensor", check, True, measured, expected)
    if not loaded:
        advice = ("the reading hardly moved: press the sensor's round active area; check the sensor's leads and "
                  "%s" % pin(parts, "sensor", kind))
    elif firm:
        sp = sensor_part(parts, kind)
        advice = ("the sensor responds but does not reach 3 kg: press harder, through the tip; an uncalibrated "
                  "sensor reads on the nominal curve (acutrainer calibrate); check the measuring resistor "
                  "(%s ohm from %s to GND)" % (sp.get("r_m_ohm", "?"), pin(parts, "sensor", kind)))
    else:
        advice = "the sensor responds but weakly: press a little harder; calibrate it (acutrainer calibrate)"
    return Result("sensor", check, False, measured, expected, advice)


# ---------------------------------------------------------------- outputs, button
_OUTPUT_ADVICE = {
    "motor": "check the motor's leads, the MOSFET (gate from %s, drain to the motor's minus), the flyback diode's "
             "direction and the motor's supply",
    "haptic": "check the DRV2605L breakout's VIN and GND, %s, and the motor on its OUT+/OUT- pads",
    "led": "check the LED's direction (long leg towards %s) and its resistor to GND",
    "rgb": "check the LED's data line (%s), its 5V/3V3 supply and GND",
    "buzzer": "check the buzzer's leads (%s and GND); a passive buzzer needs the PWM, an active one makes no tone",
}


def check_output(role: str, what: str, answer: bool | None, parts: dict | None, ms: int = 0) -> Result:
    """The device drove an output at full for ms (its time); the person says whether it was felt, seen or
    heard: only they can tell (a dead motor's pin is driven all the same)."""
    sense = {"motor": "felt", "haptic": "felt", "buzzer": "heard"}.get(role, "seen")
    expected = "%s %s" % (what, sense)
    if answer is None:
        return Result(role, what + " " + sense, None, "skipped", expected)
    measured = "driven at full for %.1f s; you: %s" % (ms / 1000.0, sense if answer else "not " + sense)
    return Result(role, what + " " + sense, answer, measured, expected,
                  "" if answer else _OUTPUT_ADVICE[role] % pin(parts, role))


def check_button_idle(pressed_now: bool, parts: dict | None) -> Result:
    p = (parts or {}).get("button") or {}
    measured = "reads %s while untouched" % ("PRESSED" if pressed_now else "released")
    advice = ("the button reads pressed when nobody touches it: %s is shorted to GND (solder bridge, a pressed "
              "switch), or it lacks its pull-up%s" % (pin(parts, "button"),
                                                      " (active_low: true in PARTS)" if p.get("active_low") else ""))
    return Result("button", "released at rest", not pressed_now, measured, "released",
                  "" if not pressed_now else advice)


def check_button_press(got: dict | None, waited_s: float, parts: dict | None) -> Result:
    """got: the device's answer to `part button` ({"press_ms", "held_ms"}), None when not asked."""
    expected = "a press and release within %.0f s" % waited_s
    if got is None:
        return Result("button", "press seen", None, "skipped (it reads pressed at rest)", expected)
    if got.get("press_ms") is None:
        return Result("button", "press seen", False, "no press seen", expected,
                      "the press never reached the board: check the switch's two leads (%s and GND)"
                      % pin(parts, "button"))
    held = got.get("held_ms")
    measured = "pressed after %.1f s, %s" % (got["press_ms"] / 1000.0,
                                             "held %d ms" % held if held is not None else "not released in time")
    return Result("button", "press seen", True, measured, expected)


# ---------------------------------------------------------------- battery, flash, clock
def check_battery(mv: int, parts: dict | None) -> Result:
    lo, hi = BATTERY_MV
    ok = lo <= mv <= hi
    ratio = ((parts or {}).get("battery") or {}).get("ratio", 2)
    return Result("battery", "voltage read", ok, "%d mV" % mv, "%d-%d mV (a LiPo cell)" % (lo, hi),
                  "" if ok else "check the cell and the 1:%s divider into %s (a %s mV reading: %s)" % (
                      ratio, pin(parts, "battery"), mv, "nothing connected" if mv < 500 else "a wrong divider"))


def check_flash(free_bytes: int | None, total_bytes: int | None) -> Result:
    if free_bytes is None:
        return Result("flash", "free space", False, "unknown", "at least %d KB free" % (FLASH_FREE_MIN // 1024),
                      "the board could not count its free space: acutrainer doctor")
    ok = free_bytes >= FLASH_FREE_MIN
    return Result("flash", "free space", ok,
                  "%d KB free of %s KB" % (free_bytes // 1024, "?" if not total_bytes else total_bytes // 1024),
                  "at least %d KB free" % (FLASH_FREE_MIN // 1024),
                  "" if ok else "the flash is nearly full: pull the sessions (acutrainer pull) and free them")


def check_clock(wall_s: int | None, host_s: float, tolerance_s: float) -> Result:
    """The wall clock is set and plausible (docs/reliability.md): within tolerance_s of this computer's."""
    import time as _t
    expected = "set, within %d min of this computer's" % max(1, round(tolerance_s / 60))
    if wall_s is None:
        return Result("clock", "set", False, "not set", expected, "set it: acutrainer sync")
    year = _t.gmtime(wall_s).tm_year
    off = wall_s - host_s
    measured = "%s UTC (%+.0f s from this computer)" % (_t.strftime("%Y-%m-%d %H:%M:%S", _t.gmtime(wall_s)), off)
    ok = CLOCK_YEARS[0] <= year <= CLOCK_YEARS[1] and abs(off) <= tolerance_s
    return Result("clock", "set", ok, measured, expected, "" if ok else "set it again: acutrainer sync")


# ---------------------------------------------------------------- answers and the summary
YES = ("y", "yes")
NO = ("n", "no")
SKIP = ("s", "skip")


def parse_yes_no(text: str, allow_skip: bool = False) -> bool | None:
    """y/yes -> True, n/no -> False, s/skip -> None (where allowed); anything else raises ValueError."""
    t = text.strip().lower()
    if t in YES:
        return True
    if t in NO:
        return False
    if allow_skip and t in SKIP:
        return None
    raise ValueError("type y or n%s" % (" (or s to skip)" if allow_skip else ""))


def parse_enter(text: str) -> bool:
    """Enter (an empty answer) -> True: done; s/skip -> False: skipped; anything else raises ValueError."""
    t = text.strip().lower()
    if t == "":
        return True
    if t in SKIP:
        return False
    raise ValueError("press Enter when done, or type s to skip")


def summary(results: list[Result]) -> list[str]:
    """The table printed at the end: one line per check, then the failures' advice."""
    w_part = max([len("part")] + [len(r.part) for r in results])
    w_check = max([len("check")] + [len(r.check) for r in results])
    lines = ["%-*s  %-*s  %-6s %s" % (w_part, "part", w_check, "check", "result", "measured")]
    for r in results:
        lines.append("%-*s  %-*s  %-6s %s" % (w_part, r.part, w_check, r.check, r.verdict, r.measured))
    failed = [r for r in results if r.ok is False]
    skipped = sum(1 for r in results if r.ok is None)
    passed = sum(1 for r in results if r.ok)
    lines.append("%d passed, %d failed, %d skipped" % (passed, len(failed), skipped))
    for r in failed:
        lines.append("FAIL %s (%s): %s" % (r.part, r.check, r.advice))
    return lines


def exit_code(results: list[Result]) -> int:
    return 1 if any(r.ok is False for r in results) else 0
