# tools/heap_probe.py --programme 1: a programme in use that runs the probe's routine (docs/programmes.md),
# so the practice measures the app reading the programme's state at the session's start and end. Its own
# module: the probe's code sits in the heap it measures, and the default run does not load this.


def write(root, routine_name):
    import os
    try:
        os.mkdir(root + "/programmes")
    except OSError:
        pass
    with open(root + "/programmes/probe.json", "w") as f:
        f.write('{"format": "acu-programme", "version": 1, "name": "probe", "stages": [{"weeks": 1, '
                '"routines": ["%s"], "sessions_per_week": 5}]}' % routine_name)
    with open(root + "/cfg/programme.json", "w") as f:
        f.write('{"format": "acu-programme-state", "version": 1, "programme": "probe", "digest": "", '
                '"week_days": 7, "stages": [[1, 5, 3, 0, 0, 0, 0, 0, 0, 0, ["%s"]]], '
                '"stage": 0, "week": 0, "held": 0, "week_start": -1, "start_day": -1, "day": 0, '
                '"sessions_week": 0, "sessions": 0, "short_weeks": 0, "checks": [], "move": "none", '
                '"finished": false, "tz_s": 0}' % routine_name)
