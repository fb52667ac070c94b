# Routine dicts shared by the routine and runner tests (both interpreters).


def bedtime():
    return {
        "format": "acu-routine", "version": 1, "name": "bedtime", "title": "Bedtime, 5 minutes",
        "description": "HT7 both wrists, Yin Tang, GB20, then deep breaths.", "weekly_goal": 5,
        "steps": [
            {"type": "press", "point": "HT7", "side": "left", "duration_s": 60},
            {"type": "press", "point": "HT7", "side": "right", "duration_s": 60},
            {"type": "press", "point": "YINTANG", "side": "centre", "duration_s": 60,
             "band_lo_g": 2000, "band_hi_g": 3500},
            {"type": "press", "point": "GB20", "side": "both", "duration_s": 120, "count": "dose",
             "max_s": 240},
            {"type": "breathe", "duration_s": 38, "pattern": "4-7-8"},
        ],
    }


def mixed():
    return {
        "format": "acu-routine", "version": 1, "name": "mixed",
        "steps": [
            {"type": "press", "point": "HT7", "side": "left", "duration_s": 10, "count": "dose"},
            {"type": "rest", "duration_s": 5},
            {"type": "timed", "duration_s": 30, "min_s": 20, "label": "mat"},
            {"type": "press", "point": "SP6", "side": "left", "duration_s": 5},
            {"type": "press", "point": "SP6", "side": "right", "duration_s": 5},
        ],
    }


def teach():
    """Format 2: one press step of each feedback schedule and a blind check."""
    return {
        "format": "acu-routine", "version": 2, "name": "teach",
        "steps": [
            {"type": "press", "point": "HT7", "side": "left", "duration_s": 25, "feedback": "faded",
             "feedback_pct": 30},
            {"type": "press", "point": "HT7", "side": "right", "duration_s": 10, "feedback": "bandwidth",
             "tolerance_pct": 10},
            {"type": "press", "point": "YINTANG", "side": "centre", "duration_s": 10, "feedback": "none"},
            {"type": "check", "target_g": 4000, "hold_s": 10, "point": "HT7", "side": "left"},
            {"type": "press", "point": "GB20", "side": "both", "duration_s": 10},
        ],
    }
