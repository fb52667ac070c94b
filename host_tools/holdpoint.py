"""Named points of a pull where a test can hold the process, to kill it exactly there (docs/study.md, "Concurrent
pulls"; tests/integration/test_study_e2e.py). A kill at a random moment lands wherever it lands; a kill at a
named point proves what a pull leaves behind when it dies mid-transfer, mid-transaction or between deletes.

$ACUTRAINER_HOLD = "POINT:N:FILE": the N-th time this process reaches POINT it writes its pid into FILE (whole,
by a rename) and waits there until it is killed. Unset (always, outside the tests), reached() does nothing.

Points:
- transfer.read: a log file's download has begun (its first bytes are in, the rest still on the link)
- archive.store: a session's rows are sent inside its transaction, not yet committed
- pull.stored: a session was committed (the device still holds it)
- pull.delete: every file of the pull is stored; a file is about to be deleted from the device
"""

from __future__ import annotations

import os
import signal

ENV_VAR = "ACUTRAINER_HOLD"
POINTS = ("transfer.read", "archive.store", "pull.stored", "pull.delete")
_seen: dict[str, int] = {}


def reached(point: str) -> None:
    spec = os.environ.get(ENV_VAR)
    if not spec:
        return
    name, n, path = spec.split(":", 2)
    if name != point:
        return
    _seen[point] = _seen.get(point, 0) + 1
    if _seen[point] != int(n):
        return
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(os.getpid()))
    os.replace(tmp, path)
    while True:  # held: the test kills this process here
        signal.pause()
