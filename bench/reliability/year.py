"""A year of use: one session a day made by the device's own logger, `pull --delete` every few days; the
flash's use stays bounded and the archive holds every session once (docs/reliability.md)."""

from __future__ import annotations

import random
import subprocess
import time
from pathlib import Path

from host_tools.archive import Archive
from host_tools.pull import list_device_sessions, pull

from .common import BIN, Rig, archive_numbers, check_archive, make_sessions, one_line


def scenario_year(work: Path, days: int = 365, seed: int = 11, session_ms: int = 300000) -> dict:
    """One session a day for `days` days, made by the device's own logger with a synthetic clock (see
    docs/reliability.md), and `pull --delete` every 2-6 days; at the end the archive holds every session
    number the device handed out, once, and `acutrainer report` on it is timed."""
    rng = random.Random(seed)
    rig = Rig(work, "rel-year", seed=seed)
    f: dict = {}
    try:
        rig.start()
        rig.deploy()
        day, pulls, max_used, free0 = 0, 0, 0, None
        next_no = 1
        while day < days:
            n = min(rng.randint(2, 6), days - day)
            s = rig.session(10.0)
            try:
                mk = make_sessions(s, n, session_ms, 1735714800 + day * 86400)
                next_no = mk["next"]
                if mk["free"] is not None:  # None: LittleFS's count overflowed (acu.logrecover.flash_bytes)
                    free0 = mk["free"] if free0 is None else max(free0, mk["free"])
                    max_used = max(max_used, free0 - mk["free"])
                with Archive(rig.archive_path) as arc:
                    pull(s, arc, delete=True)
            finally:
                s.close(restart=False)
            day += n
            pulls += 1
        s = rig.session(10.0)
        try:
            listing = list_device_sessions(s)
            free_end = s.call("acu.logadmin", "info", "/log")["free_bytes"]
        finally:
            s.close(restart=True)
        with Archive(rig.archive_path) as arc:
            dups, gaps = check_archive(arc, listing, next_no)
            archived = len(set(archive_numbers(arc)))
        out = work / "year-report"
        t0 = time.monotonic()
        r = subprocess.run([str(BIN / "acutrainer"), "report", "--archive", str(rig.archive_path), "--out", str(out)],
                           capture_output=True, text=True, timeout=120)
        f["rel_year_report_s"] = round(time.monotonic() - t0, 2)
        f["rel_year_report_rc"] = r.returncode
        f["rel_year_days"] = days
        f["rel_year_pulls"] = pulls
        f["rel_year_sessions_archived"] = archived
        f["rel_year_sessions_lost"] = gaps + (days - (next_no - 1) if next_no - 1 < days else 0)
        f["rel_year_duplicates"] = dups
        f["rel_year_flash_max_used_bytes"] = max_used
        f["rel_year_flash_free_end_bytes"] = free_end
        f["rel_year_flash_bounded"] = int(free_end is not None and free0 is not None and free_end >= free0 - 4096)
        if r.returncode != 0:
            f["_notes_year"] = ["report: " + (r.stderr.strip().splitlines() or ["?"])[-1]]
    except Exception as e:  # noqa: BLE001 - a note, not an abort of the whole run
        f.setdefault("rel_year_sessions_lost", -1)
        f["_notes_year"] = ["year: " + one_line(e)]
    finally:
        rig.stop()
    return f
