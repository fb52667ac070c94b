"""The bedtime reminder's setting as the host reads and writes it: `acutrainer remind 21:45 [--days mon-fri]`,
`--off`, and the `remind` row of `status`. The file on the device, /cfg/remind.json, is docs/remind.md; the
firmware's decision (which day, after a session, the weekly goal) is acu.remind's.
"""

from __future__ import annotations

import datetime
import json
import re

from host_tools.errors import InputError

PATH = "/cfg/remind.json"
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
EVERY_DAY = 127
_WORDS = {"daily": EVERY_DAY, "every": EVERY_DAY, "all": EVERY_DAY, "weekdays": 31, "weekends": 96}


def parse_time(text: str) -> int:
    """'21:45' (or '9:05') -> minutes after midnight; InputError for anything else."""
    m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", text or "")
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise InputError("remind: %r is not a time of day: give it as HH:MM, 24-hour (e.g. 21:45)" % text)
    return int(m.group(1)) * 60 + int(m.group(2))


def parse_days(text: str) -> int:
    """'mon-fri', 'mon,wed,fri', 'sat-mon' (wrapping), 'daily', 'weekdays', 'weekends' -> a bit mask (bit 0
    Monday .. bit 6 Sunday); InputError naming the bad part."""
    t = (text or "").strip().lower()
    if t in _WORDS:
        return _WORDS[t]
    mask = 0
    for part in t.split(","):
        ends = [p.strip()[:3] for p in part.split("-")]
        if len(ends) > 2 or not all(e in DAY_NAMES for e in ends) or any(len(p.strip()) < 3 for p in part.split("-")):
            raise InputError("remind --days: %r is not a day or a range of days (mon..sun, e.g. mon-fri or "
                             "mon,wed,fri; or daily, weekdays, weekends)" % part.strip())
        a, b = DAY_NAMES.index(ends[0]), DAY_NAMES.index(ends[-1])
        i = a
        while True:
            mask |= 1 << i
            if i == b:
                break
            i = (i + 1) % 7
    return mask


def days_text(mask: int) -> str:
    """A day mask for people: 'every day', 'mon-fri', 'mon,wed,fri', 'no day'."""
    if mask == EVERY_DAY:
        return "every day"
    days = [i for i in range(7) if mask >> i & 1]
    if not days:
        return "no day"
    if days == list(range(days[0], days[-1] + 1)) and len(days) > 2:
        return "%s-%s" % (DAY_NAMES[days[0]], DAY_NAMES[days[-1]])
    return ",".join(DAY_NAMES[i] for i in days)


def hhmm(at_min: int) -> str:
    return "%02d:%02d" % (at_min // 60, at_min % 60)


def local_offset_min(now: datetime.datetime | None = None) -> int:
    """This computer's offset from UTC now, in minutes (the device keeps UTC; the reminder is local time)."""
    d = (now or datetime.datetime.now().astimezone()).utcoffset()
    return int(d.total_seconds() // 60) if d is not None else 0


def new_setting(old: dict | None, at: str | None, days: str | None, off: bool, offset_min: int) -> dict:
    """The setting to write from the command's arguments and the device's present one (old)."""
    if off:
        if old is None:
            raise InputError("remind --off: no reminder is set on the device")
        return dict(old, on=False)
    if at is None and old is None:
        raise InputError("remind --days: no reminder time is set yet: give one, e.g. acutrainer remind 21:45 "
                         "--days %s" % days)
    at_min = parse_time(at) if at is not None else old["at_min"] if old is not None else 0  # (old: checked above)
    return {"at_min": at_min,
            "days": parse_days(days) if days is not None else (old["days"] if old else EVERY_DAY),
            "utc_offset_min": offset_min, "on": True}


def encode(setting: dict) -> bytes:
    return json.dumps(setting, sort_keys=True).encode()


def describe_status(r, wall_s) -> str:
    """The `remind` row of `status` from the firmware's answer ({"on", "at_min", "days", "next_s", "why"})."""
    if not isinstance(r, dict):
        return "unknown (an older firmware)"
    if not r.get("on") or "at_min" not in r:
        return "off (acutrainer remind HH:MM)" if "at_min" not in r else "off (was %s; acutrainer remind %s)" % (
            hhmm(r["at_min"]), hhmm(r["at_min"]))
    what = "%s %s" % (hhmm(r["at_min"]), days_text(r.get("days", 0)))
    if not wall_s or r.get("why") == "clock not set":
        return "%s: none will come, the device's clock is not set (acutrainer sync)" % what
    nxt = r.get("next_s")
    if isinstance(nxt, int):
        when = datetime.datetime.fromtimestamp(nxt).astimezone()
        return "%s, next %s" % (what, when.strftime("%a %d %b %H:%M"))
    return "%s, none in the coming week (%s)" % (what, r.get("why"))
