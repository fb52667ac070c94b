"""acutrainer remind: the bedtime reminder (docs/user-guide.md, "Reminders"). `remind 21:45` sets the practice
time (every day, or the days kept from before), `--days mon-fri` the days, `--off` turns it off, `remind`
alone shows it and when the next one comes. The setting is a small file on the device (docs/remind.md): the
device arms its RTC timer for it each time it goes to sleep."""

from __future__ import annotations

from host_tools import remind
from host_tools.cli import add_port_arg
from host_tools.commands.status import read_status
from host_tools.errors import DeviceError
from host_tools.session import add_practice_args, connect


def register(sub):
    p = sub.add_parser("remind", help="the bedtime reminder: remind 21:45 [--days mon-fri], --off, or show it")
    p.add_argument("time", nargs="?", help="the practice time, HH:MM (24-hour, this computer's time zone)")
    p.add_argument("--days", help="the days: mon-fri, mon,wed,fri, sat-sun, daily, weekdays, weekends")
    p.add_argument("--off", action="store_true", help="no more reminders (the time is kept)")
    add_port_arg(p)
    add_practice_args(p)
    p.set_defaults(func=run)


def run(a):
    change = a.time is not None or a.days is not None or a.off
    if a.off and (a.time is not None or a.days is not None):
        from host_tools.errors import InputError
        raise InputError("remind: --off takes no time or days")
    # the arguments are checked before the device is touched: a typo costs nothing
    if a.time is not None:
        remind.parse_time(a.time)
    if a.days is not None:
        remind.parse_days(a.days)
    with connect(a.port) as c:
        st = read_status(c)
        cur = st.get("remind")
        if not isinstance(cur, dict):
            raise DeviceError("remind: the device's firmware has no reminders (acutrainer deploy)")
        if not change:
            print(remind.describe_status(cur, st.get("wall_s")))
            return 0
        old = ({k: cur[k] for k in ("at_min", "days", "utc_offset_min")} | {"on": bool(cur.get("on"))}
               if "at_min" in cur else None)
        new = remind.new_setting(old, a.time, a.days, a.off, remind.local_offset_min())
        if new["on"] and not st.get("wall_s"):
            raise DeviceError("remind: the device's clock is not set, so no reminder can come: acutrainer sync, "
                              "then acutrainer remind again (nothing was changed)")
        with c.repl(practice=a.practice) as s:
            s.makedirs("/cfg")
            s.write_file_atomic(remind.PATH, remind.encode(new), check=("acu.remind", "check_file"))
    if not new["on"]:
        print("reminder off (was %s %s)" % (remind.hhmm(new["at_min"]), remind.days_text(new["days"])))
    else:
        print("reminder set: %s %s (the device wakes for it from its sleep; not on a day with a session, nor once "
              "the week's goal is met)" % (remind.hhmm(new["at_min"]), remind.days_text(new["days"])))
    return 0
