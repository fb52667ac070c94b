# acu.fault: what the device does when the app itself fails (an exception out of acu.app.main): the record for
# doctor, the fault cue, the soft reset, and no boot loop. On both interpreters, with a fake board and machine.
import json

import fakeboard

from acu import app as app_mod
from acu import fault, feedback


class _Machine:
    def __init__(self):
        self.soft_resets = 0

    def soft_reset(self):
        self.soft_resets += 1


def _fail(app, clock, err, boot, root=None):
    """The app is `current` (as acu.app.main sets it) and fails with err `clock` ms after its board started."""
    m = _Machine()
    app_mod.current = app
    try:
        fault.handle(err, app.hw, boot, machine=m, root=root if root is not None else app.root)
    finally:
        app_mod.current = None
    return m.soft_resets


def _record(root):
    with open(root + fault.FAULT_PATH) as f:
        return json.load(f)


def test_describe_is_one_short_line():
    assert fault.describe(MemoryError("memory allocation failed,\nallocating 4097 bytes")) == \
        "MemoryError: memory allocation failed, allocating 4097 bytes"
    assert fault.describe(KeyError()) == "KeyError"
    assert len(fault.describe(ValueError("x" * 500))) == fault.TEXT_MAX


def test_early_faults_count_boots_in_a_row_and_stop_restarting():
    r1 = fault.record(None, 10, 2000, "E")
    assert (r1["early"], r1["restarted"]) == (1, True)
    r2 = fault.record(r1, 11, 500, "E")
    assert (r2["early"], r2["restarted"]) == (2, True)
    r3 = fault.record(r2, 12, 500, "E")
    assert (r3["early"], r3["restarted"]) == (fault.MAX_EARLY, False)
    # not in a row (a boot without a fault between), or late in a boot: not a fault of the start
    assert fault.record(r2, 14, 500, "E")["early"] == 1
    late = fault.record(r2, 12, fault.EARLY_MS + 1, "E")
    assert (late["early"], late["restarted"]) == (0, True)


def test_a_fault_mid_practice_closes_the_session_notes_it_cues_and_restarts():
    app, clock, sensor = fakeboard.make_app(outputs=True, boot_count=7)
    cues = []
    app.fb.annotate = lambda kind, v: cues.append(v) if kind == "cue" else None
    sensor.raw = fakeboard.raw_for(app, 4000)
    for _ in range(3000):  # 15 s of a free press: a session is being recorded
        app.step(clock.ticks_ms())
        clock.advance(5)
    assert app.log.active
    clock.advance(fault.EARLY_MS)
    assert _fail(app, clock, MemoryError("memory allocation failed, allocating 4097 bytes"), 7) == 1
    assert not app.log.active  # closed on the flash (as interrupted), never left for a recovery
    assert feedback.CUE_FAULT in cues
    hw = app.hw
    assert (hw.motor.level, hw.led.level, hw.buzzer.level) == (0, 0, 0)  # quiet after the cue
    rec = _record(app.root)
    assert rec["boot"] == 7 and rec["early"] == 0 and rec["restarted"] is True
    assert rec["error"] == "MemoryError: memory allocation failed, allocating 4097 bytes"
    assert fault.last(app.root) == rec


def test_three_early_faults_in_a_row_leave_the_board_at_its_repl():
    app, clock, sensor = fakeboard.make_app(outputs=True, boot_count=20)
    assert _fail(app, clock, ValueError("incompatible .mpy file"), 20) == 1
    assert _fail(app, clock, ValueError("incompatible .mpy file"), 21) == 1
    assert _fail(app, clock, ValueError("incompatible .mpy file"), 22) == 0  # no boot loop
    rec = _record(app.root)
    assert (rec["boot"], rec["early"], rec["restarted"]) == (22, 3, False)


def test_a_fault_before_the_app_was_built_is_noted_and_restarts():
    app, clock, sensor = fakeboard.make_app(outputs=True)
    root = fakeboard.flash_root()
    m = _Machine()
    fault.handle(ImportError("no module named 'acu.app'"), app.hw, 3, machine=m, root=root)  # current is None
    assert m.soft_resets == 1
    assert _record(root)["error"] == "ImportError: no module named 'acu.app'"


def test_a_damaged_record_is_no_record():
    root = fakeboard.flash_root()
    with open(root + fault.FAULT_PATH, "w") as f:
        f.write("{not json")
    assert fault.last(root) is None
    with open(root + fault.FAULT_PATH, "w") as f:
        f.write('["a list"]')
    assert fault.last(root) is None
