"""Who a session belongs to in a study: the study's settings, participants and enrolments as the archive
keeps them, and each session's participant.

An archive with study mode attributes every session it stores (its session dicts carry `participant`);
a session without that key (an archive from before study mode) is attributed here, in one place, by the
same rule: the enrolment of its device whose period holds the session's start (start_s <= start <
end_s, an open enrolment has no end). An undated session, or one outside every enrolment, belongs to
nobody (None).
"""

from __future__ import annotations


def study_info(archive) -> dict | None:
    """{name, weekly_goal, weeks, start_s}, or None with no study initialised (or an archive without
    study mode)."""
    fn = getattr(archive, "study_info", None)
    return fn() if fn else None


def participants(archive) -> list[dict]:
    fn = getattr(archive, "participants", None)
    return list(fn()) if fn else []


def enrolments(archive) -> list[dict]:
    fn = getattr(archive, "enrolments", None)
    return list(fn()) if fn else []


def enrolment_of(session: dict, enrols: list[dict]) -> dict | None:
    """The enrolment whose device and period hold this session's start (the latest-starting one if two
    overlap), or None."""
    start = session.get("wall_start_s")
    if start is None:
        return None
    best = None
    for e in enrols:
        if e["device_id"] != session["device_id"] or start < e["start_s"]:
            continue
        if e["end_s"] is not None and start >= e["end_s"]:
            continue
        if best is None or e["start_s"] > best["start_s"]:
            best = e
    return best


def attribute(sessions: list[dict], enrols: list[dict]) -> list[dict]:
    """The sessions, each with `participant` (str or None): the archive's own where it has one, else from
    the enrolments. The dicts given are not changed."""
    out = []
    for s in sessions:
        if "participant" not in s:
            e = enrolment_of(s, enrols)
            s = dict(s, participant=e["participant"] if e else None)
        out.append(s)
    return out
