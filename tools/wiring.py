"""Draw docs/wiring.svg: the wiring of the default build (ESP32-DevKitC + FSR 402), from boards/esp32_devkitc.py.

    python tools/wiring.py            write docs/wiring.svg
    python tools/wiring.py --check    exit 1 if docs/wiring.svg differs from what this file draws

The pins, resistor values (and the idle reading they give), ADC attenuation, PWM and I2C clocks come from the
board module's PARTS dict (read with `ast`, so neither `machine` nor the firmware is imported): the picture
cannot disagree with the firmware. `description(parts)` below is
the drawing's source, as data: one lane per part, each with the ESP32 pins it uses (named as PARTS keys),
schematic shapes in lane coordinates and a few lines of notes. Every pin in PARTS must be drawn, else this
tool refuses. Pure standard library; the output is deterministic (no timestamps), so --check is exact.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path
from xml.sax.saxutils import escape

REPO = Path(__file__).resolve().parents[1]
BOARD_FILE = REPO / "boards" / "esp32_devkitc.py"
OUT_FILE = REPO / "docs" / "wiring.svg"

# PARTS fields that are ESP32 pin numbers (the others are values, addresses, frequencies).
PIN_FIELDS = ("pin", "adc_pin", "power_pin", "sda", "scl", "dout_pin", "sck_pin")


def load_parts(path: Path = BOARD_FILE) -> dict:
    """The literal PARTS dict of a board module (evaluated with ast.literal_eval, no import)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "PARTS" for t in node.targets):
            return ast.literal_eval(node.value)
    raise SystemExit("%s: no PARTS = {...} assignment" % path)


def pins_in(parts: dict) -> dict:
    """{(part, field): pin number} for every pin field in PARTS."""
    return {(name, f): part[f] for name, part in parts.items() for f in PIN_FIELDS if f in part}


def ohms(v: int) -> str:
    """470 -> '470 Ω', 6800 -> '6.8 kΩ', 100000 -> '100 kΩ'."""
    if v >= 1000:
        k = v / 1000
        return ("%d kΩ" % k) if k == int(k) else ("%g kΩ" % k)
    return "%d Ω" % v


def db(atten: str) -> str:
    """'11dB' -> '11 dB' (an ADC attenuation as PARTS spells it)."""
    return atten.replace("dB", " dB")


# ------------------------------------------------------------------ the source description (data)
def description(parts: dict) -> dict:
    """The picture as data. Pins are ("part", "field") references into PARTS; the renderer looks them up."""
    s, m, h = parts["sensor"], parts["motor"], parts["haptic"]
    r_m, r_b = ohms(s["r_m_ohm"]), ohms(s["r_bleed_ohm"])
    idle_mv = round(3300 * s["r_m_ohm"] / (s["r_m_ohm"] + s["r_bleed_ohm"]))  # unloaded: R_B alone
    ratio = parts["battery"]["ratio"]
    return {
        "title": "acutrainer: wiring of the default build (boards/esp32_devkitc.py)",
        "board": ["ESP32-DevKitC V4", "WROOM-32, 4 MB flash", "MicroPython ESP32_GENERIC"],
        "lanes": [
            {
                "name": "Force sensor: FSR divider", "optional": False, "height": 170,
                "pins": [(("sensor", "adc_pin"), 85, "ADC1_CH6, input only, %s" % db(s["atten"])),
                         (("sensor", "power_pin"), 15, "pulse power (optional)")],
                "shapes": [
                    ("wire", [(0, 85), (150, 85)]),
                    ("dot", 150, 85),
                    ("wire", [(0, 15), (60, 15)], "dash"),
                    ("open", 60, 15),
                    ("rail", 150, 10, "3V3"),
                    ("wire", [(150, 10), (150, 25)]),
                    ("dot", 150, 25),
                    ("fsr", 150, 25, 150, 85, "FSR 402", "left"),
                    ("wire", [(150, 25), (220, 25)]),
                    ("wire", [(150, 85), (220, 85)]),
                    ("res", 220, 25, 220, 85, "R_B " + r_b, "right"),
                    ("res", 150, 85, 150, 145, "R_M " + r_m, "right"),
                    ("gnd", 150, 145),
                ],
                "notes": ["FSR from 3V3 to the ADC node; R_M %s (1 %%) from" % r_m,
                          "the node to GND; R_B %s soldered across the FSR" % r_b,
                          "at the sensor end of the cable (an idle sensor reads",
                          "~%d mV, so 0 V means unplugged: fault pattern)." % idle_mv,
                          "pulse_power: the FSR's top goes to GPIO%d instead" % s["power_pin"],
                          "of 3V3 (dashed); the driver powers it only to read."],
            },
            {
                "name": "Vibration motor: low-side MOSFET", "optional": False, "height": 190,
                "pins": [(("motor", "pin"), 120, "PWM %d kHz" % (m["pwm_hz"] // 1000))],
                "shapes": [
                    ("wire", [(0, 120), (30, 120)]),
                    ("res", 30, 120, 90, 120, "100 Ω", "above"),
                    ("wire", [(90, 120), (140, 120)]),
                    ("dot", 110, 120),
                    ("res", 110, 120, 110, 175, "100 kΩ", "left"),
                    ("gnd", 110, 175),
                    ("nmos", 140, 120, "AO3400"),
                    ("wire", [(175, 104), (175, 88)]),
                    ("dot", 175, 88),
                    ("motor", 175, 55, "ERM"),
                    ("wire", [(175, 71), (175, 88)]),
                    ("wire", [(175, 39), (175, 10)]),
                    ("dot", 175, 22),
                    ("rail", 175, 10, "3V3 / VBAT"),
                    ("wire", [(175, 22), (235, 22), (235, 30)]),
                    ("diode", 235, 30, 80, "1N4148"),
                    ("wire", [(235, 80), (235, 88), (175, 88)]),
                    ("wire", [(175, 136), (175, 175)]),
                    ("gnd", 175, 175),
                ],
                "notes": ["10 mm ERM coin motor (3 V, ~70 mA) in the handle,",
                          "against the palm. Gate via 100 Ω, 100 kΩ gate",
                          "pull-down (motor off while the ESP32 boots),",
                          "AO3400 (or 2N7000) switches the motor to GND;",
                          "1N4148 across the motor, cathode to the supply:",
                          "without it the motor's kick can reset the ESP32."],
            },
            {
                "name": "Status LED", "optional": False, "height": 75,
                "pins": [(("led", "pin"), 30, "PWM %d kHz" % (parts["led"]["pwm_hz"] // 1000))],
                "shapes": [
                    ("wire", [(0, 30), (30, 30)]),
                    ("res", 30, 30, 90, 30, "330 Ω", "above"),
                    ("wire", [(90, 30), (130, 30)]),
                    ("led", 130, 30, 170, "3 mm LED"),
                    ("wire", [(170, 30), (210, 30), (210, 45)]),
                    ("gnd", 210, 45),
                ],
                "notes": ["Anode via 330 Ω to the pin, cathode (short leg,",
                          "flat side) to GND."],
            },
            {
                "name": "Buzzer (optional)", "optional": True, "height": 75,
                "pins": [(("buzzer", "pin"), 30, "buzzer: true")],
                "shapes": [
                    ("wire", [(0, 30), (30, 30)]),
                    ("res", 30, 30, 90, 30, "100 Ω", "above"),
                    ("wire", [(90, 30), (130, 30)]),
                    ("piezo", 130, 30, 170, "piezo"),
                    ("wire", [(170, 30), (210, 30), (210, 45)]),
                    ("gnd", 210, 45),
                ],
                "notes": ["Passive piezo buzzer via 100 Ω to GND; enable it",
                          "with \"buzzer\": true in /cfg/settings.json."],
            },
            {
                "name": "Haptic driver DRV2605L (optional)", "optional": True, "height": 120,
                "pins": [(("haptic", "sda"), 30, "I2C%d SDA" % h["bus"]),
                         (("haptic", "scl"), 60, "I2C%d SCL" % h["bus"])],
                "shapes": [
                    ("wire", [(0, 30), (110, 30)]),
                    ("wire", [(0, 60), (110, 60)]),
                    ("chip", 110, 20, 150, 70, "DRV2605L",
                     [("SDA", 10), ("SCL", 40)], [("OUT+", 10), ("OUT−", 40)], [("VIN", 75)], [("GND", 110)]),
                    ("wire", [(185, 20), (185, 10)]),
                    ("rail", 185, 10, "3V3"),
                    ("wire", [(220, 90), (220, 100)]),
                    ("gnd", 220, 100),
                    ("wire", [(260, 30), (285, 30)]),
                    ("wire", [(260, 60), (285, 60)]),
                    ("text", 266, 82, "to ERM", "start", "small"),
                ],
                "notes": ["Breakout at I2C address 0x%02X, %d kHz, VIN 3V3." % (h["addr"], h["i2c_hz"] // 1000),
                          "Detected at boot; it then drives the ERM from",
                          "OUT+/OUT− and replaces the MOSFET stage."],
            },
            {
                "name": "Button: BOOT (on the board)", "optional": False, "height": 75,
                "pins": [(("button", "pin"), 30, "active low, pull-up")],
                "shapes": [
                    ("wire", [(0, 30), (60, 30)]),
                    ("switch", 60, 30, 110, "BOOT"),
                    ("wire", [(110, 30), (140, 30), (140, 45)]),
                    ("gnd", 140, 45),
                ],
                "notes": ["Already on the DevKitC: nothing to wire. Short =",
                          "start/pause/resume, double = skip, long = abort."],
            },
            {
                "name": "Battery sense (optional)", "optional": True, "height": 150,
                "pins": [(("battery", "adc_pin"), 70, "ADC1_CH7, 1/%d of VBAT" % ratio)],
                "shapes": [
                    ("rail", 150, 10, "VBAT (LiPo +, TP4056)"),
                    ("res", 150, 10, 150, 70, "100 kΩ", "right"),
                    ("wire", [(0, 70), (150, 70)]),
                    ("dot", 150, 70),
                    ("res", 150, 70, 150, 130, "100 kΩ", "right"),
                    ("gnd", 150, 130),
                ],
                "notes": ["1S LiPo with a TP4056 charger; the midpoint of a",
                          "100 k/100 k divider from VBAT to GND goes to the",
                          "pin. Without a battery set \"battery\": false."],
            },
        ],
    }


# ------------------------------------------------------------------ rendering
W = 980
BOARD_X, BOARD_W = 40, 230
LANE_X = 330          # where a lane's shapes start (the pin stub ends here)
NOTES_X = 650         # the notes column
TOP = 90
GAP = 14

STYLE = """
text { font-family: "DejaVu Sans", Arial, Helvetica, sans-serif; font-size: 12px; fill: #222; }
.title { font-size: 18px; font-weight: bold; }
.lane { font-size: 13px; font-weight: bold; }
.small { font-size: 10.5px; fill: #444; }
.pin { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12px; font-weight: bold; }
.w { fill: none; stroke: #1a1a1a; stroke-width: 2; stroke-linejoin: round; stroke-linecap: round; }
.dash { stroke-dasharray: 6 4; }
.opt .w { stroke: #555; stroke-dasharray: 6 4; }
.part { fill: #fff; stroke: #1a1a1a; stroke-width: 2; }
.fill { fill: #1a1a1a; stroke: #1a1a1a; stroke-width: 1; }
.board { fill: #1f4e79; stroke: #10304d; stroke-width: 2; }
.boardtext { fill: #fff; }
.sep { stroke: #ccc; stroke-width: 1; }
"""


def _poly(pts, cls="w"):
    return '<polyline class="%s" points="%s"/>' % (cls, " ".join("%s,%s" % p for p in pts))


def _line(x1, y1, x2, y2, cls="w"):
    return '<line class="%s" x1="%s" y1="%s" x2="%s" y2="%s"/>' % (cls, x1, y1, x2, y2)


def _text(x, y, s, anchor="start", cls=None):
    c = ' class="%s"' % cls if cls else ""
    a = ' text-anchor="%s"' % anchor if anchor != "start" else ""
    return '<text x="%s" y="%s"%s%s>%s</text>' % (x, y, a, c, escape(s))


def _label(x1, y1, x2, y2, label, where):
    mx, my = (x1 + x2) // 2, (y1 + y2) // 2
    if where == "above":
        return _text(mx, my - 12, label, "middle")
    if where == "left":
        return _text(mx - 14, my + 4, label, "end")
    return _text(mx + 14, my + 4, label)


def _res(x1, y1, x2, y2, label, where, variable=False):
    """A resistor (IEC box) between two points on a horizontal or vertical line."""
    out = []
    mx, my = (x1 + x2) // 2, (y1 + y2) // 2
    if x1 == x2:  # vertical
        out.append(_line(x1, y1, x1, my - 18))
        out.append(_line(x1, my + 18, x1, y2))
        out.append('<rect class="part" x="%s" y="%s" width="14" height="36"/>' % (x1 - 7, my - 18))
    else:
        out.append(_line(x1, y1, mx - 18, y1))
        out.append(_line(mx + 18, y1, x2, y2))
        out.append('<rect class="part" x="%s" y="%s" width="36" height="14"/>' % (mx - 18, y1 - 7))
    if variable:  # the FSR: a variable resistor, arrow through the box
        out.append(_line(mx - 14, my + 16, mx + 12, my - 14))
        out.append('<polygon class="fill" points="%s,%s %s,%s %s,%s"/>'
                   % (mx + 14, my - 17, mx + 6, my - 14, mx + 12, my - 8))
    out.append(_label(x1, y1, x2, y2, label, where))
    return out


def _shape(sh):
    kind = sh[0]
    if kind == "wire":
        return [_poly(sh[1], "w dash" if len(sh) > 2 and sh[2] == "dash" else "w")]
    if kind == "dot":
        return ['<circle class="fill" cx="%s" cy="%s" r="3.5"/>' % (sh[1], sh[2])]
    if kind == "open":
        return ['<circle class="part" cx="%s" cy="%s" r="4"/>' % (sh[1], sh[2])]
    if kind == "res":
        return _res(*sh[1:])
    if kind == "fsr":
        return _res(*sh[1:], variable=True)
    if kind == "gnd":
        x, y = sh[1], sh[2]
        return [_line(x, y, x, y + 6), _line(x - 10, y + 6, x + 10, y + 6), _line(x - 6, y + 10, x + 6, y + 10),
                _line(x - 2, y + 14, x + 2, y + 14)]
    if kind == "rail":
        x, y, label = sh[1], sh[2], sh[3]
        return [_line(x, y, x, y - 6), _line(x - 9, y - 6, x + 9, y - 6), _text(x + 13, y - 2, label, cls="small")]
    if kind == "diode":  # vertical, cathode (bar) at the top: blocks the supply, conducts the motor's kick
        x, y1, y2, label = sh[1:]
        my = (y1 + y2) // 2
        return [_line(x, y1, x, my - 8), _line(x, my + 8, x, y2),
                '<polygon class="fill" points="%s,%s %s,%s %s,%s"/>' % (x - 9, my + 8, x + 9, my + 8, x, my - 7),
                _line(x - 9, my - 8, x + 9, my - 8), _text(x + 14, my + 4, label)]
    if kind == "motor":
        cx, cy, label = sh[1:]
        return ['<circle class="part" cx="%s" cy="%s" r="16"/>' % (cx, cy), _text(cx, cy + 5, "M", "middle"),
                _text(cx - 22, cy + 4, label, "end")]
    if kind == "nmos":  # gate from the left at (gx, gy); drain up, source down at x = gx + 35
        gx, gy, label = sh[1:]
        cx, d = gx + 8, gx + 35
        return [_line(gx, gy - 15, gx, gy + 15), _line(cx, gy - 18, cx, gy + 18),
                _line(cx, gy - 16, d, gy - 16),
                _line(cx, gy + 16, d, gy + 16), _line(cx, gy, d, gy), _line(d, gy, d, gy + 16),
                '<polygon class="fill" points="%s,%s %s,%s %s,%s"/>' % (cx + 2, gy, cx + 10, gy - 4, cx + 10, gy + 4),
                _text(d + 10, gy + 4, label), _text(d + 10, gy - 14, "D", cls="small"),
                _text(d + 10, gy + 22, "S", cls="small"), _text(gx - 4, gy - 20, "G", "end", "small")]
    if kind == "led":  # horizontal, pointing right (anode left)
        x1, y, x2, label = sh[1:]
        mx = (x1 + x2) // 2
        return [_line(x1, y, mx - 8, y), _line(mx + 8, y, x2, y),
                '<polygon class="fill" points="%s,%s %s,%s %s,%s"/>' % (mx - 8, y - 9, mx - 8, y + 9, mx + 7, y),
                _line(mx + 8, y - 9, mx + 8, y + 9), _line(mx + 2, y - 12, mx + 10, y - 20),
                _line(mx + 8, y - 10, mx + 16, y - 18), _text(mx, y + 24, label, "middle", "small")]
    if kind == "piezo":
        x1, y, x2, label = sh[1:]
        mx = (x1 + x2) // 2
        return [_line(x1, y, mx - 6, y), _line(mx + 6, y, x2, y), _line(mx - 6, y - 12, mx - 6, y + 12),
                _line(mx + 6, y - 12, mx + 6, y + 12),
                '<rect class="part" x="%s" y="%s" width="8" height="20"/>' % (mx - 4, y - 10),
                _text(mx, y + 26, label, "middle", "small")]
    if kind == "switch":  # push button, normally open
        x1, y, x2, label = sh[1:]
        return ['<circle class="part" cx="%s" cy="%s" r="3"/>' % (x1 + 3, y),
                '<circle class="part" cx="%s" cy="%s" r="3"/>' % (x2 - 3, y),
                _line(x1 + 3, y - 10, x2 - 3, y - 10), _line((x1 + x2) // 2, y - 10, (x1 + x2) // 2, y - 20),
                _text((x1 + x2) // 2, y + 18, label, "middle", "small")]
    if kind == "chip":
        x, y, w, hgt, title, left, right, top, bottom = sh[1:]  # pins: (name, offset along that edge)
        out = ['<rect class="part" x="%s" y="%s" width="%s" height="%s" rx="4"/>' % (x, y, w, hgt),
               _text(x + w // 2, y + hgt // 2 + 5, title, "middle", "lane")]
        out += [_text(x + 6, y + dy + 4, name, cls="small") for name, dy in left]
        out += [_text(x + w - 6, y + dy + 4, name, "end", "small") for name, dy in right]
        out += [_text(x + dx, y + 14, name, "middle", "small") for name, dx in top]
        out += [_text(x + dx, y + hgt - 6, name, "middle", "small") for name, dx in bottom]
        return out
    if kind == "text":
        return [_text(*sh[1:])]
    raise ValueError("unknown shape %r" % (kind,))


def render(parts: dict) -> str:
    desc = description(parts)
    used = {ref for lane in desc["lanes"] for ref, _y, _n in lane["pins"]}
    missing = sorted(set(pins_in(parts)) - used)
    if missing:
        raise SystemExit("wiring: PARTS pins not drawn: %s (add them to description() in tools/wiring.py)"
                         % ", ".join("%s.%s" % m for m in missing))
    lanes_h = sum(lane["height"] for lane in desc["lanes"]) + GAP * (len(desc["lanes"]) - 1)
    height = TOP + lanes_h + 140
    body = [_text(W // 2, 34, desc["title"], "middle", "title"),
            _text(W // 2, 56, "Pins from PARTS in boards/esp32_devkitc.py (drawn by tools/wiring.py). "
                  "Dashed: optional parts. Details: docs/hardware.md", "middle", "small")]
    board_y, board_h = TOP - 10, lanes_h + 90  # room for its name below the pins
    body.append('<rect class="board" x="%d" y="%d" width="%d" height="%d" rx="10"/>'
                % (BOARD_X, board_y, BOARD_W, board_h))
    lines = desc["board"] + ["USB (micro-USB) to the laptop"]
    for i, line in enumerate(lines):  # at the bottom, clear of the pin labels
        body.append(_text(BOARD_X + 16, board_y + board_h - 16 - 18 * (len(lines) - 1 - i), line,
                          cls="boardtext lane" if i == 0 else "boardtext"))
    y = TOP
    for n, lane in enumerate(desc["lanes"]):
        if n:
            body.append(_line(BOARD_X + BOARD_W + 10, y - GAP // 2, W - 20, y - GAP // 2, "sep"))
        for ref, py, note in lane["pins"]:
            pin = parts[ref[0]][ref[1]]
            body.append(_line(BOARD_X + BOARD_W - 8, y + py, LANE_X, y + py,
                              "w dash" if lane["optional"] or ref[1] == "power_pin" else "w"))
            body.append('<circle class="part" cx="%d" cy="%d" r="4"/>' % (BOARD_X + BOARD_W - 8, y + py))
            body.append(_text(BOARD_X + BOARD_W - 18, y + py + 4, "GPIO%d" % pin, "end", "pin boardtext"))
            body.append(_text(BOARD_X + BOARD_W + 4, y + py - 6, note, cls="small"))
        g = ['<g transform="translate(%d,%d)"%s>' % (LANE_X, y, ' class="opt"' if lane["optional"] else "")]
        for sh in lane["shapes"]:
            g.extend(_shape(sh))
        g.append("</g>")
        body.extend(g)
        body.append(_text(NOTES_X, y + 14, lane["name"], cls="lane"))
        for i, note in enumerate(lane["notes"]):
            body.append(_text(NOTES_X, y + 32 + 15 * i, note, cls="small"))
        y += lane["height"] + GAP
    body.append(_text(W // 2, height - 24, "All GND symbols go to a GND pin of the board; 3V3 to its 3V3 pin. "
                      "Use ADC1 pins only (ADC2 stops working with Wi-Fi).", "middle", "small"))
    head = ['<?xml version="1.0" encoding="UTF-8"?>',
            '<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">'
            % (W, height, W, height),
            "<title>%s</title>" % escape(desc["title"]),
            "<desc>Generated by tools/wiring.py from boards/esp32_devkitc.py PARTS; do not edit by hand.</desc>",
            "<style>%s</style>" % STYLE,
            '<rect x="0" y="0" width="%d" height="%d" fill="#fff"/>' % (W, height)]
    return "\n".join(head + body + ["</svg>"]) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="draw docs/wiring.svg from boards/esp32_devkitc.py PARTS")
    ap.add_argument("--check", action="store_true", help="exit 1 if the file on disk is not up to date")
    ap.add_argument("--out", type=Path, default=OUT_FILE, help="file to write or check (default docs/wiring.svg)")
    args = ap.parse_args(argv)
    svg = render(load_parts())
    if args.check:
        try:
            current = args.out.read_bytes().decode("utf-8")
        except OSError:
            current = None
        if current != svg:
            print("%s is out of date: run python tools/wiring.py" % args.out, file=sys.stderr)
            return 1
        return 0
    args.out.write_text(svg, encoding="utf-8", newline="\n")
    print("wrote %s" % args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
