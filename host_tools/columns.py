"""The columns of every export, defined once (docs/export.md): the CSV/JSON step rows, the Parquet tables,
the REDCap instrument and its data dictionary are all built from these lists, so a column is named, typed
and described in one place.

kind: "int", "float", "str", "bool" or "utc" (a time: ISO 8601 text in CSV/JSON, a UTC timestamp in
Parquet, "YYYY-MM-DD HH:MM:SS" in REDCap); "strlist" (Parquet list<string>, JSON list) for the session's
problems.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    unit: str
    description: str


def _c(name, kind, unit, description):
    return Column(name, kind, unit, description)


# the host's recomputation of the device's score, beside it in the step and the session rows
SCORE_HOST = _c("score_host", "int", "", "the same computed by the host from the log (docs/score.md)")

# one row per step: the CSV/JSON export's steps (export.step_rows), in this order
STEP = (
    _c("session_id", "int", "", "the archive's number of the session (stable within one archive)"),
    _c("device_id", "str", "", "the device's id (hex of its chip id)"),
    _c("session_no", "int", "", "the device's own session number"),
    _c("start_utc", "utc", "", "session start (UTC); empty/null when the device clock was never set"),
    _c("time_source", "str", "", "where the start time came from: device, clock_set, same_boot, pull or unknown"),
    _c("routine", "str", "", "routine name (free: a free press)"),
    _c("session_status", "str", "", "completed, aborted, cut_short, interrupted or open"),
    _c("step", "int", "", "step index within the session, from 0"),
    _c("kind", "str", "", "press, rest, breathe, timed (and check, blind checks, when the firmware has them)"),
    _c("point", "str", "", "acupoint code, e.g. HT7"),
    _c("side", "str", "", "left, right, centre or both"),
    _c("band_lo_g", "int", "g", "lower edge of the step's target band"),
    _c("band_hi_g", "int", "g", "upper edge of the step's target band"),
    _c("target_s", "int", "s", "the step's planned duration"),
    _c("duration_s", "float", "s", "the step's actual duration"),
    _c("under_s", "float", "s", "time in contact below the band (empty: no band)"),
    _c("in_s", "float", "s", "time in the band (empty: no band)"),
    _c("over_s", "float", "s", "time above the band, too hard included (empty: no band)"),
    _c("too_hard_s", "float", "s", "the part of over_s above the too-hard limit (empty: no band)"),
    _c("no_contact_s", "float", "s", "time without contact"),
    _c("pct_in_band", "float", "%", "in_s / (under_s + in_s + over_s) x 100 (empty: no contact or no band)"),
    _c("mean_g", "int", "g", "time-weighted mean force while in contact"),
    _c("peak_g", "int", "g", "highest force"),
    _c("dose_kg_s", "float", "kg.s", "force x time while in contact"),
    _c("pauses", "int", "", "pauses and contact losses"),
    _c("skips", "int", "", "skips of this step"),
    _c("step_status", "str", "", "done, skipped, aborted, cut_short or interrupted"),
    _c("partial", "bool", "", "the step did not run to its end (figures up to the stop); empty: unknown"),
    _c("reconstructed", "bool", "", "rebuilt from the trace by the reader; empty: unknown"),
    # issue 19, the teaching fields (docs/feedback.md, docs/score.md); empty in rows archived before them
    _c("feedback", "str", "", "the step's feedback schedule: full, faded, bandwidth or none (empty: no band, "
       "or archived before schedules: full)"),
    _c("feedback_pct", "int", "%", "the schedule's figure: faded's on share, bandwidth's tolerance"),
    _c("silent_s", "float", "s", "contact time the schedule kept feedback off"),
    _c("silent_in_s", "float", "s", "the part of silent_s in the band"),
    _c("check_target_g", "int", "g", "a blind check's target force (empty: not a check)"),
    _c("check_measured_g", "int", "g", "a blind check's measured force"),
    _c("check_error_pct", "int", "%", "(measured - target) / target x 100, rounded; under < 0"),
    _c("check_grade", "int", "", "the result told: 0 accurate, -1..-3 under, +1..+3 over (docs/score.md)"),
    _c("check_accurate", "bool", "", "within +-15 % of the target (acu.score.check_accurate)"),
    _c("score", "int", "", "the session's score 0-100 the device logged (empty: none), on each of its rows"),
    SCORE_HOST,
)

# added by the study formats (Parquet, BIDS, REDCap) after device_id: who the session is attributed to
PARTICIPANT = _c("participant", "str", "", "the participant the session is attributed to (empty: none)")

# one row per session (the Parquet sessions table; the JSON export's session objects)
SESSION = (
    _c("session_id", "int", "", "the archive's number of the session"),
    _c("device_id", "str", "", "the device's id"),
    PARTICIPANT,
    _c("session_no", "int", "", "the device's own session number"),
    _c("start_utc", "utc", "", "session start (UTC); null when unknown"),
    _c("time_source", "str", "", "device, clock_set, same_boot, pull or unknown"),
    _c("routine", "str", "", "routine name (free: a free press)"),
    _c("routine_hash", "str", "", "SHA-256 of the routine file (hex)"),
    _c("routine_hash_truncated", "bool", "", "an old log kept only 63 hex digits of the hash"),
    _c("firmware", "str", "", "firmware version"),
    _c("board", "str", "", "board module"),
    _c("calib_id", "str", "", "id of the calibration in use"),
    _c("session_status", "str", "", "completed, aborted, cut_short, interrupted or open"),
    _c("duration_s", "float", "s", "session length"),
    _c("steps_done", "int", "", "steps completed"),
    _c("trace_stopped", "bool", "", "the trace stopped early (flash reserve reached)"),
    _c("problems", "strlist", "", "the log reader's messages about this session"),
    _c("score", "int", "", "the session score 0-100 the device logged (empty: none)"),
    SCORE_HOST,
)

# one row per trace sample (the Parquet traces table)
TRACE = (
    _c("session_id", "int", "", "the archive's number of the session"),
    _c("t_ms", "int", "ms", "time since the session start"),
    _c("force_g", "int", "g", "force, mean of the 100 ms window (docs/log-format.md, Trace encoding)"),
)


# one row per week of practice: the learning curve (host_tools.learning, export --learning)
LEARNING = (
    _c("week", "int", "", "week of practice from 1 (week 1 starts on the day of the first dated session)"),
    _c("from_date", "str", "", "the week's first day (UTC, YYYY-MM-DD)"),
    _c("sessions", "int", "", "sessions started in the week"),
    _c("fb_press_s", "float", "s", "press contact time with feedback on"),
    _c("fb_pct_in_band", "float", "%", "the part of fb_press_s in the band"),
    _c("fb_mae_g", "int", "g",
       "mean |force - band centre| of full and bandwidth press steps and of faded steps while on (trace)"),
    _c("silent_press_s", "float", "s", "press contact time a schedule kept feedback off (faded, none)"),
    _c("silent_pct_in_band", "float", "%", "the part of silent_press_s in the band"),
    _c("silent_mae_g", "int", "g",
       "mean |force - band centre| of press steps with schedule none and of faded steps while silent (trace)"),
    _c("checks", "int", "", "blind checks done"),
    _c("checks_accurate", "int", "", "of them within +-15 % of the target"),
    _c("check_accuracy_pct", "float", "%", "checks_accurate / checks x 100"),
    _c("check_mae_g", "int", "g", "mean |measured - target| of the blind checks"),
    _c("completed", "int", "", "sessions completed in the week (any routine)"),
    _c("goal", "int", "", "the week's sessions-a-week goal: the programme's its sessions logged, else "
       "--weekly-goal / the routine's (empty: none)"),
    _c("adherence_pct", "float", "%", "min(completed, goal) / goal x 100"),
    _c("programme_stage", "int", "", "the programme stage the week's last session logged (empty: none)"),
)


def names(cols) -> list[str]:
    return [c.name for c in cols]


def with_participant(cols) -> tuple:
    """cols with the participant column after device_id."""
    out = []
    for c in cols:
        out.append(c)
        if c.name == "device_id":
            out.append(PARTICIPANT)
    return tuple(out)
