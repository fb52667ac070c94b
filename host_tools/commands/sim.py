"""acutrainer sim ...: start/stop the simulated trainer and act on it (press, release, button, power cut)."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys

from host_tools.errors import AcuError, InputError
from host_tools.sim import control, profile, story


def register(sub):
    p = sub.add_parser("sim", help="the simulated trainer: start, stop, press, button, power-cut, trace")
    p.set_defaults(func=lambda a: p.print_help() or 0)
    ss = p.add_subparsers(dest="sim_cmd", metavar="ACTION")
    # every action but start acts on one running simulator
    which = argparse.ArgumentParser(add_help=False)
    which.add_argument("--name", help="which simulator (default: the one in use)")

    s = ss.add_parser("start", help="start a simulator (real micropython on a pseudo-terminal)")
    s.add_argument("--name", default="default")
    s.add_argument("--flash", help="LittleFS2 flash image file (default: in the data dir; kept across runs)")
    s.add_argument("--speed", type=float, default=1.0, help="virtual time runs N times faster (0: as fast as possible)")
    s.add_argument("--baud", type=int, default=0, help="emulate a serial link of this rate (0: unlimited)")
    s.add_argument("--latency-ms", type=float, default=0.0,
                   help="USB-serial bridge latency timer: a short reply reaches the host this late (FTDI: 16)")
    s.add_argument("--sensor", default="fsr402", choices=["fsr402", "fsr406", "a201", "loadcell"])
    s.add_argument("--seed", type=int, help="which simulated part (default: one per simulator, kept)")
    s.add_argument("--population", default="datasheet", choices=("datasheet", "wide"),
                   help="FSR parts: near the datasheet curve (default) or the wide population of published "
                        "measurements (docs/sensors.md); calibrate a wide part before trusting its force")
    s.add_argument("--haptic", default="", choices=["", "drv2605"], help="add a DRV2605L haptic driver")
    s.add_argument("--heapsize", default="192K",
                   help="firmware heap; the 64-bit unix port needs ~1.8x the ESP32 figure for the same objects")
    s.set_defaults(func=cmd_start)

    s = ss.add_parser("stop", parents=[which], help="stop the simulator")
    s.add_argument("--all", action="store_true")
    s.set_defaults(func=cmd_stop)

    s = ss.add_parser("reset", parents=[which],
                      help="make it a factory-fresh device: blank flash, erased ROM partition, RTC unset "
                           "(restarted with the same settings if it was running)")
    s.add_argument("--new-part", action="store_true", help="also draw a new simulated part (default: keep its seed)")
    s.set_defaults(func=cmd_reset)

    s = ss.add_parser("status", parents=[which], help="show the running simulator")
    s.set_defaults(func=cmd_status)

    s = ss.add_parser("press", parents=[which], help="press the tip with a force, e.g. 4.2kg")
    s.add_argument("force", help="4.2kg, 4200g or 41N")
    s.add_argument("--ramp", default="150ms")
    s.add_argument("--noise", default="0", help="hand tremor: 3%% or 100g")
    s.set_defaults(func=cmd_press)

    s = ss.add_parser("release", parents=[which], help="take the finger off")
    s.add_argument("--ramp", default="150ms")
    s.set_defaults(func=cmd_release)

    s = ss.add_parser("profile", parents=[which], help="play a press profile file (docs/press-profiles.md)")
    s.add_argument("file", help="a .profile file, or the name of one the tools ship (%s)" % ", ".join(
        profile.example_names()))
    s.add_argument("--no-wait", action="store_true",
                   help="return at once (default: wait until the board's virtual time has passed the profile's end)")
    s.add_argument("--wait", action="store_true", help=argparse.SUPPRESS)  # the default; valid for scripts
    s.add_argument("--timeout", type=float, metavar="S",
                   help="give up waiting after S real seconds (default: twice the profile at --speed, plus 15 s)")
    s.set_defaults(func=cmd_profile)

    s = ss.add_parser("button", parents=[which], help="press the button: short, double, long")
    s.add_argument("kind", choices=["short", "double", "long", "down", "up"])
    s.set_defaults(func=cmd_button)

    s = ss.add_parser("power-cut", parents=[which], help="cut the power at once (the board boots again after --off)")
    s.add_argument("--off", default="200ms")
    s.set_defaults(func=cmd_power_cut)

    s = ss.add_parser("unplug", parents=[which],
                      help="pull the USB cable for a while (the link drops; the board runs on)")
    s.add_argument("--for", dest="for_", default="2s")
    s.set_defaults(func=lambda a: control.SimControl.find(a.name).unplug(profile.parse_time_ms(a.for_, "--for")) or 0)

    s = ss.add_parser("fault", parents=[which],
                      help="simulate a wiring fault: the sensor open (unplugged) or short, a dead motor, a button "
                           "stuck pressed or dead, no bleed resistor; ok mends them all")
    s.add_argument("kind", choices=list(control.FAULTS))
    s.set_defaults(func=cmd_fault)

    s = ss.add_parser("trace", parents=[which],
                      help="what the board did, with virtual times: band states, cues, the hand, boots, power cuts")
    s.add_argument("--boot", type=int, help="only this boot (default: the current one)")
    s.add_argument("--all", action="store_true", help="every boot")
    s.add_argument("--since", metavar="WHEN",
                   help="leave out what came before: a virtual time (90s, 1.5min) or 'profile' (the last press "
                        "profile the board took)")
    fmt = s.add_mutually_exclusive_group()
    fmt.add_argument("--raw", action="store_true",
                     help="every record, output level changes (LED, motor, buzzer...) included")
    fmt.add_argument("--json", action="store_true", help="the records as JSON lines")
    s.set_defaults(func=cmd_trace)


def cmd_start(a):
    st = control.start(a.name, flash=a.flash, speed=a.speed, baud=a.baud, sensor=a.sensor, seed=a.seed,
                       haptic=a.haptic, heapsize=a.heapsize, latency_ms=a.latency_ms, population=a.population)
    print("simulator %r running: port %s" % (a.name, st["port"]))
    print("  flash %s, sensor %s (part %d), speed x%g, link %s" % (
        st["flash"], st["sensor"], st["seed"], st["speed"], "%d baud" % st["baud"] if st["baud"] else "unlimited"))
    print("  try: mpremote connect %s resume exec \"import os; print(os.listdir())\"" % st["port"])
    return 0


def cmd_stop(a):
    names = control.running() if a.all else [a.name or "default"]
    stopped = [n for n in names if control.stop(n)]
    print("stopped: %s" % (", ".join(stopped) if stopped else "nothing was running"))
    return 0


def cmd_reset(a):
    name = a.name
    if name is None:  # the simulator in use, as every other action finds it; else the default one
        try:
            name = control.running_port_names()[control.SimControl.find().port]
        except AcuError:
            name = "default"
    r = control.reset(name, new_part=a.new_part)
    print("reset simulator %r: blank flash %s%s; %s" % (
        name, r["flash"], ", erased ROM partition" if r["rom"] else "",
        ("a new part is drawn" if a.new_part else "the same part") + (" (seed %d)" % r["seed"] if r["seed"] else "")))
    if r["was_running"]:
        st = r["state"]
        print("running again: port %s (RTC unset; deploy the firmware: acutrainer deploy --port %s)" % (
            st["port"], st["port"]))
    else:
        print("it was not running: acutrainer sim start --name %s boots it" % name)
    return 0


def cmd_status(a):
    st = control.SimControl.find(a.name).status()
    st["name"] = control.running_port_names().get(st["port"])
    for k in ("name", "port", "boot", "running", "in_raw_repl", "t_ms", "flash", "sensor", "seed", "speed", "baud"):
        print("%-12s %s" % (k, st.get(k)))
    return 0


def cmd_press(a):
    g = profile.parse_force_g(a.force, "force")
    ramp = profile.parse_time_ms(a.ramp, "--ramp")
    noise = profile._noise_g(a.noise, g, "--noise")
    control.SimControl.find(a.name).press(g, ramp_ms=ramp, noise_g=noise)
    print("pressing %d g" % g)
    return 0


def cmd_release(a):
    control.SimControl.find(a.name).release(profile.parse_time_ms(a.ramp, "--ramp"))
    print("released")
    return 0


def cmd_profile(a):
    segs, buttons = profile.load_full(profile.resolve(a.file))  # a bad profile is named before any simulator
    sim = control.SimControl.find(a.name)
    ticket = sim.segments(segs, buttons)
    dur = ticket["duration_ms"]
    print("playing %s: %d segments, %d button press(es), %.1f s of virtual time" % (
        a.file, len(segs), len(buttons), dur / 1000), flush=True)
    if a.no_wait:
        return 0
    with _played_bar(dur) as bar:
        r = sim.wait_played(ticket, timeout_s=a.timeout, progress=bar)
    print("played: boot %d, virtual %.3f s to %.3f s" % (r["boot"], r["start_ms"] / 1000, r["end_ms"] / 1000))
    return 0


@contextlib.contextmanager
def _played_bar(total_ms: int):
    """Virtual seconds played, on a terminal (nothing in a pipe or a log)."""
    if not sys.stdout.isatty():
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn

    with Progress(TextColumn("  playing"), BarColumn(), TextColumn("{task.fields[v]}"), transient=True) as p:
        task = p.add_task("profile", total=max(total_ms, 1), v="")

        def update(done: int, total: int):
            p.update(task, completed=done, v="%.1f / %.1f s virtual" % (done / 1000, total / 1000))

        yield update


def cmd_button(a):
    control.SimControl.find(a.name).button(a.kind)
    return 0


def cmd_power_cut(a):
    control.SimControl.find(a.name).power_cut(profile.parse_time_ms(a.off, "--off"))
    print("power cut")
    return 0


def cmd_fault(a):
    control.SimControl.find(a.name).fault(a.kind)
    return 0


def cmd_trace(a):
    sim = control.SimControl.find(a.name)
    boot = None if a.all else (a.boot or sim.status()["boot"])
    recs = sim.trace(boot)
    since: int | None = None
    if a.since:
        if a.all:
            raise InputError("--since is a virtual time of one boot: use it without --all")
        if a.since.strip().lower() == "profile":
            starts = [r["t_ms"] for r in recs if r.get("kind") == "note" and r.get("name") == "profile"]
            if not starts:
                raise InputError("--since profile: the board took no press profile in boot %s" % boot)
            since = starts[-1]
        else:
            since = profile.parse_time_ms(a.since, "--since")
    if a.json or a.raw:  # the records themselves; the summary keeps earlier ones to pair inputs with notes
        recs = [r for r in recs if since is None or r.get("kind") == "boot" or r.get("t_ms", 0) >= since]
    if a.json:
        for r in recs:
            print(json.dumps(r))
        return 0
    if not recs:
        raise InputError("no trace records for boot %s" % boot)
    if not a.raw:
        print("\n".join(story.summarize(recs, since)))
        return 0
    for r in recs:
        if r["kind"] in ("level", "note"):
            print("boot %-3d %9.3f s  %-5s %-14s %s" % (r["boot"], r["t_ms"] / 1000, r["kind"], r["name"],
                                                       _describe(r)))
        else:
            print("boot %-3d %9.3f s  %s %s" % (r["boot"], r["t_ms"] / 1000, r["kind"],
                                                 r.get("mode", r.get("value", ""))))
    return 0


def _describe(r) -> str:
    v = r["value"]
    if r["name"] == "rgb":
        return "#%06x" % v
    if r["kind"] == "note" and r["name"] == "state":
        return story.state_name(v)
    if r["kind"] == "note" and r["name"] == "cue":
        return story.cue_name(v)
    return str(v)
