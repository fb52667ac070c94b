"""acutrainer doctor: a health check of the host, the link and the trainer, with what to do next.

Each check gives a Check(name, status, detail, fix). status is "ok", "info", "warn" (worth doing, the
trainer still works) or "fail" (a problem: the trainer cannot give correct guided sessions, or the host
cannot talk to it). The command exits 0 when nothing failed. Checks never stop at the first problem:
one that cannot run says so and the others go on.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

from host_tools import __version__, ports, strictjson, versions
from host_tools.errors import AcuError
from host_tools.termsafe import shown

OK, INFO, WARN, FAIL = "ok", "info", "warn", "fail"

CALIB_MAX_AGE_DAYS = 180  # FSRs drift under 5 % per decade of time under load; recalibrate twice a year
CLOCK_MAX_SKEW_S = 120  # more than this off the host's clock: session times are misleading
FLASH_WARN_FACTOR = 2  # warn when free space is under twice the logger's reserve


@dataclass
class Check:
    name: str
    status: str
    detail: str
    fix: str = ""


def healthy(checks: list[Check]) -> bool:
    return not any(c.status == FAIL for c in checks)


# ---------------------------------------------------------------- host side: ports
def check_ports(port_list: list[dict], sim_port: str | None) -> Check:
    """What serial ports exist and which look like an ESP32 board's USB-serial chip."""
    boards = [p for p in port_list if p.get("chip")]
    parts = ["%s (%s)" % (p["port"], p["chip"]) for p in boards]
    others = [p["port"] for p in port_list if not p.get("chip")]
    if sim_port:
        parts.insert(0, "%s (simulator)" % sim_port)
    if others:  # Linux lists many ttyS*: name a few
        parts.append(
            "other ports: "
            + ", ".join(others[:4])
            + (" +%d more" % (len(others) - 4) if len(others) > 4 else "")
        )
    if not boards and not sim_port:
        return Check(
            "ports",
            WARN,
            "no ESP32 USB-serial chip found" + ("; " + parts[-1] if others else ""),
            "plug the board in with a data USB cable (charge-only cables show nothing), or start "
            "the simulator: acutrainer sim start (docs/troubleshooting.md: no board found)",
        )
    return Check("ports", INFO, "; ".join(parts))


# ---------------------------------------------------------------- device side
def _iso_to_epoch(text: str) -> int | None:
    """'2025-01-02T03:04:05Z' -> epoch seconds (UTC), None if it is not that format."""
    try:
        return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))
    except (TypeError, ValueError):
        return None


def check_micropython(
    ver: dict, mpy_cross_abi: Callable[[], tuple[int, int]], deployed_format: str | None
) -> list[Check]:
    from host_tools.deploy import board_abi

    out = []
    mp = str(ver.get("micropython", "?"))
    series = versions.micropython_series()
    if versions.is_tested_micropython(mp):
        out.append(Check("micropython", OK, "MicroPython %s (tested: %s.x)" % (mp, series)))
    else:
        out.append(
            Check(
                "micropython",
                WARN,
                "MicroPython %s, but the firmware is tested on %s.x" % (mp, series),
                "flash MicroPython %s: make flash PORT=... (docs/versions.md)" % series,
            )
        )
    have = board_abi(int(ver.get("mpy") or 0))
    try:
        want = mpy_cross_abi()
    except AcuError as e:
        out.append(Check("mpy", WARN, "cannot run mpy-cross: %s" % e,
                         "install acutrainer again (make setup in a checkout)"))
        return out
    if have[0] == want[0]:
        out.append(Check("mpy", OK, ".mpy v%d.%d, the same as mpy-cross" % have))
    elif deployed_format == "source":
        out.append(
            Check(
                "mpy",
                WARN,
                "board .mpy v%d.%d, mpy-cross v%d.%d: only --source deploys work" % (have + want),
                "flash MicroPython %s: make flash PORT=..." % series,
            )
        )
    else:
        out.append(
            Check(
                "mpy",
                FAIL,
                "board .mpy v%d.%d but mpy-cross emits v%d.%d" % (have + want),
                "flash MicroPython %s (make flash PORT=...), or deploy with --source" % series,
            )
        )
    return out


def check_app(
    ver: dict,
    version_json: dict | None,
    planned: Callable[[str, Any], dict[str, bytes]] | None,
    host_version: str = __version__,
) -> list[Check]:
    """The firmware on the board against the host tools and against this checkout's device/ files."""
    out = []
    fw = ver.get("firmware")
    if version_json is None:
        out.append(
            Check(
                "deploy",
                FAIL,
                "no /cfg/version.json: the firmware was not deployed by acutrainer",
                "acutrainer deploy",
            )
        )
    elif fw != host_version:
        out.append(
            Check(
                "app",
                FAIL,
                "firmware %s on the board, host tools %s" % (fw, host_version),
                "acutrainer deploy (puts this checkout's firmware on the board)",
            )
        )
    else:
        out.append(
            Check(
                "app",
                OK,
                "firmware %s (board %s, deployed as %s)"
                % (fw, version_json.get("board"), version_json.get("format", "?")),
            )
        )
    if version_json is not None and planned is not None:
        board = str(version_json.get("board") or ver.get("board") or "")
        fmt = version_json.get("format")
        source: bool | set[str] = fmt == "source"
        if fmt == "mixed":  # some modules as .py: the version file's paths say which
            source = {
                p.rsplit("/", 1)[-1][:-3]
                for p in version_json.get("files") or {}
                if p.startswith("/lib/") and p.endswith(".py")
            }
        try:
            want = {p: hashlib.sha256(d).hexdigest() for p, d in planned(board, source).items()}
        except AcuError as e:
            out.append(Check("files", WARN, "cannot compare with this checkout: %s" % e))
            return out
        have = version_json.get("files") or {}
        differ = sorted(p for p in want if have.get(p) != want[p])
        if differ:
            out.append(
                Check(
                    "files",
                    WARN,
                    "%d file(s) changed in this checkout since the last deploy (%s)"
                    % (len(differ), ", ".join(differ[:3]) + (", ..." if len(differ) > 3 else "")),
                    "acutrainer deploy (copies only what changed)",
                )
            )
        else:
            out.append(Check("files", OK, "the deployed files match this checkout"))
    return out


def _version_file_shape(loaded) -> dict | None:
    """/cfg/version.json as deploy writes it, or None: a hand-edited or damaged file (a list, nested values,
    numbers where names belong) is reported as missing rather than crashing the checks that read it."""
    if not isinstance(loaded, dict):
        return None
    files = loaded.get("files", {})
    if not isinstance(files, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
        return None
    for key in ("board", "format", "version"):
        if key in loaded and not isinstance(loaded[key], str):
            return None
    return loaded


def _count(v) -> int:
    return v if isinstance(v, int) and not isinstance(v, bool) and v > 0 else 0


def check_flash(st: dict) -> Check:
    raw_log = st.get("log")
    log: dict = raw_log if isinstance(raw_log, dict) else {}
    free = st.get("free_bytes")
    total = st.get("flash_bytes")
    reserve = int(log.get("reserve_bytes") or 65536)
    writes = _count(log.get("write_errors"))
    if writes:
        # a refused write is a practice not (wholly) logged: full or failing flash, or a /log the firmware
        # could not use; the free count alone can be wrong (a full LittleFS's wraps)
        return Check("flash", FAIL, "%d log write%s failed since the board started: the flash is full or failing, "
                     "practices are not being recorded" % (writes, "" if writes == 1 else "s"),
                     "acutrainer pull --delete, then restart the board (its boot check moves a file found "
                     "in place of /log aside); if writes still fail, the flash is failing")
    if free is None:
        return Check("flash", WARN, "the board could not tell its free space (its count overflowed, or an older "
                     "firmware): a failed log write would still be reported here")
    if not isinstance(free, int) or (isinstance(total, int) and not 0 <= free <= total):
        return Check("flash", WARN, "the board did not report a believable free space (%s bytes)" % (free,))
    detail = "%d KB free of %s KB" % (free // 1024, total // 1024 if total else "?")
    if log.get("flash_low") or free < reserve:
        return Check(
            "flash",
            FAIL,
            detail + ": too little to record sessions",
            "acutrainer pull --delete (archive the sessions, then free their space)",
        )
    if free < FLASH_WARN_FACTOR * reserve:
        return Check("flash", WARN, detail + ": nearly full", "acutrainer pull --delete")
    return Check("flash", OK, detail)


def check_calibration(st: dict, now_s: float) -> Check:
    if not st.get("calibrated"):
        return Check(
            "calibration",
            FAIL,
            "not calibrated: forces come from the %s sensor's nominal curve "
            "(off by up to 25 %%)" % st.get("sensor", "?"),
            "acutrainer calibrate (with a kitchen scale, docs/user-guide.md); on the simulator: "
            "acutrainer calibrate --auto",
        )
    created = st.get("calib_created")
    t = _iso_to_epoch(created) if isinstance(created, str) else None
    if t is None:
        return Check(
            "calibration",
            WARN,
            "calibrated (%s) but its date is unknown" % st.get("calib_id"),
            "acutrainer calibrate, to know how old it is",
        )
    age_d = int((now_s - t) // 86400)
    if age_d > CALIB_MAX_AGE_DAYS:
        return Check(
            "calibration",
            WARN,
            "%s is %d days old: the sensor drifts" % (st.get("calib_id"), age_d),
            "acutrainer calibrate (every %d days)" % CALIB_MAX_AGE_DAYS,
        )
    return Check("calibration", OK, "%s, %d day(s) old" % (st.get("calib_id"), max(age_d, 0)))


def check_clock(st: dict, now_s: float) -> Check:
    w = st.get("wall_s")
    if not w:
        return Check(
            "clock",
            WARN,
            "not set since the last power-up: session times are reconstructed at pull",
            "acutrainer sync",
        )
    skew = int(w - now_s)
    if abs(skew) > CLOCK_MAX_SKEW_S:
        return Check("clock", WARN, "%+d s off the host's clock" % skew, "acutrainer sync")
    return Check("clock", OK, "set (%+d s from the host)" % skew)


def check_battery(st: dict, days: str | None = None) -> Check:
    """days: the estimate of the days left (host_tools.battery_days), shown after the charge."""
    from host_tools import battery

    mv = st.get("battery_mv")
    text = battery.describe(mv) + ("; %s" % days if days else "")
    if not isinstance(mv, int) or isinstance(mv, bool) or mv < 2500:
        return Check("battery", INFO, text)
    if mv < battery.LOW_MV:
        return Check("battery", WARN, text, "charge the trainer (USB-C on the charger)")
    return Check("battery", OK, text)


def _days_left(st: dict, archive_path) -> str | None:
    from host_tools import battery_days

    return battery_days.from_archive(st, archive_path)


def check_routine(st: dict) -> Check:
    r = st.get("routine")
    if not r:
        return Check(
            "routine",
            FAIL,
            "no routine selected: the button starts nothing",
            "acutrainer routine push bedtime --select",
        )
    steps = (st.get("runner") or {}).get("steps")
    return Check("routine", OK, "%s selected%s" % (r, " (%s steps)" % steps if steps else ""))


def check_sensor(sample: dict) -> Check:
    from host_tools.paths import ensure_device_importable

    ensure_device_importable()
    from acu import sensors

    code = int(sample.get("fault") or 0)
    if code:
        name = sensors.FAULT_NAMES[code] if 0 <= code < len(sensors.FAULT_NAMES) else str(code)
        return Check(
            "sensor",
            FAIL,
            "sensor fault: %s (raw %s)" % (name, sample.get("raw_median")),
            "check the sensor's wiring and connector (docs/user-guide.md, docs/troubleshooting.md)",
        )
    return Check("sensor", OK, "reading (raw %s, %s g)" % (sample.get("raw_median"), sample.get("grams")))


NOISE_READS = 20  # samples read on the idle sensor to measure its noise (sensitivity check)


def check_sensitivity(calib: dict, sample: dict | None) -> list[Check]:
    """Can the calibrated FSR tell 5 kg from 5.5 kg (host_tools/calibration/sensitivity.py)? Nothing for a
    load cell or a calibration without points; the noise is measured on the idle sensor when it can be."""
    from host_tools.calibration import sensitivity as sens

    kind, knots = calib.get("sensor"), calib.get("points")
    if not isinstance(knots, list) or not all(isinstance(k, list) and len(k) == 2 for k in knots):
        return []
    noise = sens.noise_from_sample(sample, NOISE_READS) if isinstance(sample, dict) else None
    basis = "measured on the idle sensor" if noise is not None else "the worst ESP32 ADC noise documented"
    a = sens.assess(str(kind), knots, sens.documented_noise_raw() if noise is None else noise)
    if a is None:
        return []
    if a["ok"]:
        return [Check("sensitivity", OK, "5 kg and 5.5 kg read %.0f ADC counts apart, %.1f x the noise (%.0f "
                      "counts, %s)" % (a["apart_raw"], a["apart_raw"] / a["noise_raw"], a["noise_raw"], basis))]
    return [Check("sensitivity", WARN, sens.warning(str(kind), a, basis),
                  "check R_M and the sensor (docs/hardware.md); for accurate forces build the load-cell "
                  "variant (docs/sensors.md)")]


def _sensitivity(session, st: dict) -> list[Check]:
    if not st.get("calibrated") or st.get("sensor") not in ("fsr402", "fsr406", "a201"):
        return []
    try:
        calib = strictjson.loads(session.read_file("/cfg/calib.json").decode("utf-8"))
    except ValueError:  # a damaged file: the boot-files check reports it
        return []
    if not isinstance(calib, dict):
        return []
    return check_sensitivity(calib, session.call("acu.api", "sample", NOISE_READS, 5))


def check_sessions(listing: list, archived: Callable[[str], bool] | None) -> Check:
    done = [e for e in listing if isinstance(e, dict) and not e.get("open")]
    waiting = [e for e in done if archived is None or not archived(str(e.get("sha256")))]
    if waiting:
        return Check(
            "sessions",
            WARN,
            "%d log file(s) on the board with sessions not in the archive yet" % len(waiting),
            "acutrainer pull",
        )
    return Check(
        "sessions", OK, "%d log file(s) on the board, all in the archive" % len(done) if done else "none waiting"
    )


# what to do about each boot file the firmware found bad (docs/troubleshooting.md, "Boot files set aside")
_BOOT_FILE_FIXES = (
    ("/cfg/settings.json", "edit /cfg/settings.json (each key and its range: docs/user-guide.md, Settings), or "
                           "remove it for the defaults"),
    ("/cfg/board.json", "acutrainer deploy --board NAME (rewrites it)"),
    ("/cfg/state.json", "nothing to do: the boot count goes on from the newest session's"),
    ("/cfg/calib.json", "acutrainer calibrate"),
    ("/cfg/selected", "acutrainer routine select NAME"),
    ("/routines/", "acutrainer routine push NAME --select (re-upload it)"),
    ("/cfg/programme.json", "acutrainer programme push NAME (starts it again from stage 1: the place was in the "
                            "damaged file)"),
    ("/programmes/", "acutrainer programme push NAME (re-upload it; the place is kept)"),
    ("/log/next", "acutrainer pull (the archive keeps the session numbers; the device numbers on from its "
                  "newest file)"),
    ("/log/", "acutrainer pull (a folder is never a session; it was renamed, its contents kept)"),
)


def boot_file_fix(path: str) -> str:
    for key, fix in _BOOT_FILE_FIXES:
        if path == key or (key.endswith("/") and path.startswith(key)):
            return fix
    return "acutrainer deploy"


def check_boot_files(st: dict) -> list[Check]:
    """The files the firmware found bad at this start (it runs on defaults: set aside or ignored), and the
    copies set aside at this or an earlier start (the `status` fields boot_problems and set_aside)."""
    raw = st.get("boot_problems")
    probs = [p for p in raw if isinstance(p, dict)] if isinstance(raw, list) else []
    raw_aside = st.get("set_aside")
    aside = [a for a in raw_aside if isinstance(a, str)] if isinstance(raw_aside, list) else []
    if "boot_problems" not in st:
        return [Check("boot files", INFO, "this firmware does not report its boot files",
                      "acutrainer deploy")]
    out = []
    for p in probs:
        path = str(p.get("file", "?"))
        out.append(Check("boot files", FAIL, "%s: %s" % (shown(path), shown(p.get("problem", "?"))),
                         boot_file_fix(path)))
    named = {str(p.get("set_aside")) for p in probs}
    older = [a for a in aside if a not in named]
    if older:
        listed = ", ".join(shown(a) for a in older[:6])
        out.append(Check("boot files", WARN, "set aside at an earlier start: %s" % listed
                         + (" +%d more" % (len(older) - 6) if len(older) > 6 else ""),
                         "the device runs without them; once fixed (%s), remove the .bad copies "
                         "(docs/troubleshooting.md)" % "; ".join(sorted({boot_file_fix(_bad_base(a))
                                                                          for a in older}))[:300]))
    more = st.get("boot_files_more")
    if isinstance(more, int) and more > 0:
        out.append(Check("boot files", WARN, "%d more bad boot file(s) or set-aside copies than listed" % more,
                         "fix the ones above, then run acutrainer doctor again"))
    if not out:
        out.append(Check("boot files", OK, "every file read at start-up is good"))
    return out


def check_app_fault(st: dict) -> Check | None:
    """The app's own last fault (the `status` field fault, docs/reliability.md "The app's own faults"): an
    exception that stopped the app, which then restarted, or, at its start on several boots in a row, did not.
    None from a firmware that does not report them."""
    if "fault" not in st:
        return None
    f = st.get("fault")
    if not isinstance(f, dict):
        return Check("app faults", OK, "the app has not stopped on a fault since this firmware was deployed")
    err = shown(str(f.get("error", "?")))
    boot = f.get("boot")
    boots = st.get("boots")
    when = "on boot %s" % boot
    if isinstance(boot, int) and isinstance(boots, int) and boots >= boot:
        when += " (%d boots ago)" % (boots - boot) if boots > boot else " (this boot)"
    up = f.get("uptime_ms")
    if isinstance(up, int):
        when += ", %d:%02d after the start" % (up // 60000, up // 1000 % 60)
    if f.get("restarted") is False:
        return Check("app faults", FAIL,
                     "the app failed at its start on %s boots in a row, last %s: %s; the board waits at its "
                     "REPL" % (f.get("early", "?"), when, err),
                     "acutrainer deploy (replaces a damaged firmware file), then reset the board; if it fails "
                     "again see docs/troubleshooting.md, 'The app stopped on a fault'")
    return Check("app faults", WARN, "the app stopped on a fault %s: %s; it restarted" % (when, err),
                 "the practice running then was ended and kept; if it happens again see "
                 "docs/troubleshooting.md, 'The app stopped on a fault'")


def _fault_on_flash(session, path: str) -> list[Check]:
    """The app's fault record read as a file, where the firmware cannot report its status (it cannot be
    imported, say): what the app did about it is still worth a line."""
    try:
        if not session.exists(path):
            return []
        rec = strictjson.loads(session.read_file(path).decode("utf-8"))
    except (AcuError, ValueError):
        return []  # no record to read: the checks above say what to do
    c = check_app_fault({"fault": rec if isinstance(rec, dict) else None})
    return [c] if c is not None and c.status != OK else []


def _bad_base(path: str) -> str:
    i = path.rfind(".bad")
    return path[:i] if i > 0 else path


def _guard(name: str, fn, *args) -> list[Check]:
    """Run one check; an error becomes a failed check instead of ending the doctor."""
    try:
        r = fn(*args)
    except AcuError as e:
        return [Check(name, FAIL, "could not check: %s" % e)]
    return r if isinstance(r, list) else [r]


def diagnose(
    session,
    archive_path: Path | None = None,
    now: Callable[[], float] = time.time,
    mpy_cross_abi: Callable[[], tuple[int, int]] | None = None,
    planned: Callable[[str, Any], dict[str, bytes]] | None = None,
    host_version: str = __version__,
) -> list[Check]:
    """All device checks through an open session (host_tools.session.DeviceSession or a fake)."""
    from host_tools import deploy

    mpy_cross_abi = mpy_cross_abi or deploy.mpy_cross_abi
    planned = planned or deploy.plan
    checks: list[Check] = []
    try:
        ver = session.call("acu.api", "version")
    except AcuError as e:
        return [
            Check("app", FAIL, "the board answers but our firmware does not (%s)" % e, "acutrainer deploy")
        ] + _fault_on_flash(session, deploy.FAULT_RECORD)
    version_json: dict | None = None
    version_damaged = False
    try:
        if session.exists("/cfg/version.json"):
            loaded = strictjson.loads(session.read_file("/cfg/version.json").decode("utf-8"))
            version_json = _version_file_shape(loaded)
            version_damaged = version_json is None
    except ValueError:  # UnicodeDecodeError and strictjson's refusals are ValueErrors
        version_damaged = True
    except AcuError:
        version_json = None
    fmt = version_json.get("format") if version_json is not None else None
    checks += check_micropython(ver, mpy_cross_abi, fmt)
    if version_damaged:
        checks.append(
            Check(
                "deploy",
                FAIL,
                "/cfg/version.json is damaged (not the record deploy writes): what is deployed is unknown",
                "acutrainer deploy (rewrites it)",
            )
        )
        checks += [c for c in check_app(ver, None, planned, host_version) if c.name != "deploy"]
    else:
        checks += check_app(ver, version_json, planned, host_version)
    try:
        st = session.call("acu.api", "status")
    except AcuError as e:
        checks.append(
            Check(
                "status",
                FAIL,
                "the firmware could not report its status (%s)" % e,
                "acutrainer deploy; if it persists see docs/troubleshooting.md",
            )
        )
        return checks + _fault_on_flash(session, deploy.FAULT_RECORD)
    now_s = now()
    checks += check_boot_files(st)
    fault = check_app_fault(st)
    if fault is not None:
        checks.append(fault)
    checks.append(check_flash(st))
    checks.append(check_calibration(st, now_s))
    checks.append(check_clock(st, now_s))
    checks.append(check_routine(st))
    checks += _guard("battery", lambda: [check_battery(st, _days_left(st, archive_path))])
    checks += _guard("sensor", lambda: check_sensor(session.call("acu.api", "sample", 5, 5)))
    checks += _guard("sensitivity", _sensitivity, session, st)

    def sessions():
        from host_tools.pull import list_device_sessions
        listing = list_device_sessions(session)
        from host_tools.archive import Archive, default_target
        from host_tools.archive_db import parse

        target = archive_path or default_target()  # a file, or a server URL (docs/study.md)
        kind, where = parse(target if isinstance(target, str) else Path(target))
        if kind == "sqlite" and not Path(where).exists():
            # no archive yet: every session is waiting (and the doctor creates nothing)
            return check_sessions(listing if isinstance(listing, list) else [], None)

        with Archive(target) as arc:
            return check_sessions(listing if isinstance(listing, list) else [], arc.has_sha)

    checks += _guard("sessions", sessions)
    return checks


def run(
    port: str | None = None,
    archive_path: Path | None = None,
    open_session=None,
    list_ports: Callable[[], list[dict]] | None = None,
    sim_port: Callable[[], str | None] | None = None,
    practice: str = "refuse",
    **kw,
) -> list[Check]:
    """Everything: the ports, finding the board, connecting, then diagnose()."""
    if open_session is None:
        from host_tools.session import open_session
    list_ports = list_ports or ports.all_ports
    sim_port = sim_port or ports.simulator_port
    checks = [check_ports(list_ports(), sim_port())]
    try:
        found = ports.find_port(port)
    except AcuError as e:
        checks.append(
            Check("board", FAIL, str(e), "plug the board in, or name it: acutrainer doctor --port PORT")
        )
        return checks
    checks.append(Check("board", OK, found))
    try:
        with open_session(found, practice=practice) as s:
            checks.append(Check("link", OK, "raw REPL on %s" % found))
            checks += diagnose(s, archive_path=archive_path, **kw)
    except AcuError as e:
        checks.append(
            Check(
                "link",
                FAIL,
                str(e),
                "see docs/troubleshooting.md (could not enter raw REPL, wrong port, permissions)",
            )
        )
    return checks


def as_json(checks: list[Check]) -> str:
    return json.dumps({"healthy": healthy(checks), "checks": [asdict(c) for c in checks]}, indent=1)
