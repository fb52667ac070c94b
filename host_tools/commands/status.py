"""acutrainer status: what the device is doing (firmware, calibration, routine, practice, force, log).

Asked over the live link while the app runs (a practice goes on); from the raw REPL when the board sits at
its REPL (the app is started again afterwards)."""

from __future__ import annotations

import json

from host_tools import battery, battery_days, remind
from host_tools.session import connect, describe_practice
from host_tools.termsafe import shown


def register(sub):
    p = sub.add_parser("status", help="the device's status: firmware, board, calibration, routine, force, log")
    p.add_argument("--port")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def read_status(c) -> dict:
    if c.app_running:
        return c.live.status()
    with c.repl() as s:
        return s.call("acu.api", "status")


def _programme(st: dict) -> list[str]:
    """Where the user is in a programme (docs/programmes.md): the programme, stage, week, day, sessions this
    week against the goal, and the next stage with what unlocks it."""
    if "programme" not in st:
        return ["unknown (an older firmware)"]
    from host_tools.programmes import describe_place
    return describe_place(st.get("programme"))


def run(a):
    with connect(a.port) as c:
        st = read_status(c)
    if a.json:
        print(json.dumps(st, indent=1))
        return 0
    rs = st.get("runner") or {}
    log = st.get("log") or {}
    practice = st.get("practice")
    rows = [
        ("device", "%s, board %s, firmware %s" % (st.get("unique_id"), st.get("board"), st.get("firmware"))),
        ("sensor", "%s, %s (%s)" % (st.get("sensor"), "calibrated" if st.get("calibrated") else "UNCALIBRATED",
                                    st.get("calib_id") or "nominal curve")),
        ("force", "%d g (raw %d), %s" % (st.get("force_g", 0), st.get("raw", 0), st.get("state"))),
        ("routine", "%s (selected): %s" % (st.get("routine"), rs.get("state"))),
        ("practice", describe_practice(practice) if practice else "none running"),
    ]
    lines = _programme(st)
    rows += [("programme" if i == 0 else "", ln) for i, ln in enumerate(lines)]
    rows += [
        ("clock", "set" if st.get("wall_s") else "not set (acutrainer sync)"),
        ("flash", "%s bytes free" % st.get("free_bytes") if st.get("free_bytes") is not None
         else "free space unknown (the board's count overflowed, or an older firmware)"),
        ("log", ", ".join("%s %s" % (k, v) for k, v in sorted(log.items())) if isinstance(log, dict) else log),
        ("boots", st.get("boots")),
        ("battery", battery.describe(st.get("battery_mv"))),
    ]
    days = battery_days.from_archive(st)
    if days:
        rows.append(("charge", days))  # the days left at the user's own practice rate
    rows.append(("remind", remind.describe_status(st.get("remind"), st.get("wall_s"))))
    # boot files the firmware found bad (it runs on defaults; acutrainer doctor says what to do)
    probs = st.get("boot_problems")
    for p in probs if isinstance(probs, list) else []:
        if isinstance(p, dict):
            rows.append(("BAD FILE", "%s: %s" % (shown(p.get("file")), shown(p.get("problem")))))
    aside = st.get("set_aside")
    if isinstance(aside, list) and aside:
        rows.append(("set aside", ", ".join(shown(a) for a in aside)))
    fault = st.get("fault")
    if isinstance(fault, dict):  # the app's own last fault (docs/reliability.md): doctor says what to do
        rows.append(("last fault", "boot %s: %s (acutrainer doctor)" % (shown(fault.get("boot")),
                                                                      shown(fault.get("error")))))
    failed = log.get("write_errors") if isinstance(log, dict) else 0
    if isinstance(failed, int) and not isinstance(failed, bool) and failed > 0:
        rows.insert(0, ("WARNING", "%d log write%s failed since the board started: practices are not being "
                        "recorded (flash full or failing; acutrainer doctor)" % (failed, "" if failed == 1 else "s")))
    for k, v in rows:  # device strings (routine, ids, log entries) escaped for the terminal
        print("%-8s %s" % (k, shown(v)))
    return 0
