# Step summaries a researcher can trust (issue 18): a session stopped while a step runs still logs that
# step's figures up to the stop, marked partial; steps without a pressure target (rest, breathe, timed)
# log no band figures (null), not time "in" a band they never had.
import fakeboard
from fakeboard import raw_for
from routine_samples import bedtime, mixed

from acu import logfmt, logger, logread, runner
from mpcompat import FakeClock


def _loop(app, clock, n):
    for _ in range(n):
        clock.advance(5)
        app.step(clock.ticks_ms())


def _start(app, clock):
    app.hw.button.down = True
    _loop(app, clock, 20)
    app.hw.button.down = False
    _loop(app, clock, 80)
    assert app.runner.state == runner.RUNNING


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def _last_session(app):
    return logread.decode_session(logread.split_sessions(_read(app.log.path))[-1][2])


def test_a_session_stopped_mid_step_logs_that_step_partial():
    app, clock, sensor = fakeboard.make_app(bedtime(), outputs=True)
    _start(app, clock)
    r = app.runner
    sensor.raw = raw_for(app, (r.band_lo_g + r.band_hi_g) // 2)
    _loop(app, clock, 4000)  # 20 s of a 60 s press step, held in its band
    assert r.state == runner.RUNNING and r.index == 0
    app.stop()  # the host takes the REPL
    d = _last_session(app)
    assert d["end"]["status"] == "interrupted" and not d["problems"]
    sm = d["steps"][0]["summary"]
    assert sm is not None, "the running step's summary was lost"
    assert sm["status"] == "interrupted" and sm["partial"] and not sm["reconstructed"]
    # what the device counted up to the stop: ~20 s in contact, most of it in the band
    contact = sm["under_ms"] + sm["in_ms"] + sm["over_ms"]
    assert 18000 <= contact <= 20500 and sm["in_ms"] >= 17000
    assert sm["dose_gs"] > 0 and sm["mean_g"] > 0
    assert sm["t_ms"] >= d["steps"][0]["begin"]["t_ms"] + 19000
    assert d["end"]["steps_done"] == 0


def test_a_finished_step_is_not_partial_and_a_new_session_closes_the_open_one():
    clock = FakeClock(0)
    d = fakeboard.flash_root() + "/logsum"
    lg = logger.Logger(d, clock, {})
    lg.stats = logger.StepStats()
    lg.begin_session("r", now_ms=0)
    lg.step_begin(0, "press", "HT7", "left", 3000, 5000, 10, now_ms=0)
    for _ in range(200):
        lg.stats.update(2, 4000, 5)
    lg.step_end(0, "done", lg.stats, now_ms=1000)
    lg.stats.reset()
    lg.step_begin(1, "press", "HT7", "right", 3000, 5000, 10, now_ms=1000)
    for _ in range(100):
        lg.stats.update(1, 2000, 5)
    lg.begin_session("r", now_ms=1500)  # a new session while one is open: the open step is kept, partial
    lg.end_session("completed", 2000)
    parts = logread.split_sessions(_read(lg.path))
    first = logread.decode_session(parts[-2][2])
    s0, s1 = first["steps"][0]["summary"], first["steps"][1]["summary"]
    assert s0["status"] == "done" and not s0["partial"] and s0["in_ms"] == 1000
    assert s1["status"] == "interrupted" and s1["partial"] and s1["under_ms"] == 500 and s1["in_ms"] == 0
    assert first["end"]["status"] == "interrupted"
    assert logread.decode_session(parts[-1][2])["steps"] == []


def test_rest_breathe_and_timed_steps_report_no_band_figures():
    app, clock, sensor = fakeboard.make_app(mixed(), outputs=True)
    _start(app, clock)
    # the hand presses all the time, also through the rest and the timed step (which have no target)
    sensor.raw = raw_for(app, 4000)
    n = 0
    while app.runner.active():
        _loop(app, clock, 100)
        n += 1
        assert n < 2000, "the routine never finished"
    d = _last_session(app)
    assert d["end"]["status"] == "completed" and not d["problems"]
    kinds = [st["begin"]["kind"] for st in d["steps"]]
    assert kinds == ["press", "rest", "timed", "press", "press"]
    for st in d["steps"]:
        sm = st["summary"]
        if st["begin"]["kind"] == "press":
            assert not sm["no_band"] and sm["in_ms"] > 0
        else:
            assert sm["no_band"], st
            assert [sm[k] for k in logread.BAND_FIELDS] == [None, None, None, None]
            assert sm["mean_g"] > 0  # the force itself is still known


def test_a_version_2_rest_step_has_its_band_figures_nulled_by_the_reader():
    # firmware before format 3 counted a rest against the default band (a 96.7 % in band for a rest)
    out = bytearray(logread.file_header(2))
    recs = [(logfmt.T_SESSION, logread.session_payload_v2(1, 1, 0, 0, 3000, 5000, 100, 20, "", "", "", "r", "",
                                                          "")),
            (logfmt.T_STEP_BEGIN, logread.step_begin_payload(0, 0, 0, 0, 30, "rest", "", "centre")),
            (logfmt.T_STEP_SUMMARY, logread.step_summary_payload(0, 30000, 1000, 29000, 0, 0, 0, 0, 4000, 4100,
                                                                116000, 0, 0, logfmt.STEP_DONE, version=2)),
            (logfmt.T_STEP_BEGIN, logread.step_begin_payload(1, 30000, 3000, 5000, 30, "press", "HT7", "left")),
            (logfmt.T_STEP_SUMMARY, logread.step_summary_payload(1, 60000, 1000, 29000, 0, 0, 0, 0, 4000, 4100,
                                                                116000, 0, 0, logfmt.STEP_DONE, version=2)),
            (logfmt.T_SESSION_END, logread.end_payload(60000, logfmt.END_COMPLETED, 2, 0, 0))]
    for seq, (rtype, payload) in enumerate(recs):
        out += logread.record(rtype, seq, payload)
    d = logread.decode_session(bytes(out))
    assert not d["problems"]
    rest, press = d["steps"][0]["summary"], d["steps"][1]["summary"]
    assert rest["no_band"] and rest["in_ms"] is None and rest["mean_g"] == 4000
    assert not press["no_band"] and press["in_ms"] == 29000 and not press["partial"]


def _hold(lg, clock, ms, force_g):
    for _ in range(ms // 5):
        lg.stats.update(2 if 3000 <= force_g <= 5000 else 1, force_g, 5)
        lg.sample(force_g, clock.now)
        lg.poll(clock.now)
        clock.advance(5)


def test_a_step_cut_by_a_power_cut_is_rebuilt_from_the_trace():
    d = fakeboard.flash_root() + "/logcut"
    clock = FakeClock(0)
    lg = logger.Logger(d, clock, {})
    lg.stats = logger.StepStats()
    lg.begin_session("r", now_ms=0)
    lg.step_begin(0, "press", "HT7", "left", 3000, 5000, 60, clock.now)
    _hold(lg, clock, 10000, 4000)
    lg.step_end(0, "done", lg.stats, clock.now)
    lg.stats.reset()
    lg.step_begin(1, "press", "HT7", "right", 3000, 5000, 60, clock.now)
    _hold(lg, clock, 12000, 2000)  # 12 s under the band, then 4 s in it
    _hold(lg, clock, 4000, 4200)
    lg.flush(clock.now)
    cut_ms = clock.now
    # the power goes: no summary, no end record; the next boot's recovery closes the session cut short
    lg2 = logger.Logger(d, clock, {})
    lg2.recover()
    dec = logread.decode_session(_read(lg.path))
    assert dec["end"]["status"] == "cut_short"
    s0, s1 = dec["steps"][0]["summary"], dec["steps"][1]["summary"]
    assert not s0["reconstructed"] and s0["status"] == "done"
    assert s1["reconstructed"] and s1["partial"] and s1["status"] == "cut_short"
    assert s1["t_ms"] == dec["end"]["t_ms"] and abs(s1["t_ms"] - cut_ms) <= 100
    # the trace holds 16 s of the step at 10 Hz: 12 s under the band, 4 s in it (one period either way)
    assert 11800 <= s1["under_ms"] <= 12200 and 3800 <= s1["in_ms"] <= 4200 and s1["over_ms"] == 0
    assert s1["too_hard_ms"] is None and s1["no_contact_ms"] == 0
    assert 2500 <= s1["mean_g"] <= 2600 and s1["peak_g"] == 4200
    assert 40000 <= s1["dose_gs"] <= 41000  # 12 s x 2000 g + 4 s x 4200 g = 40.8 kg·s


def test_a_rebuilt_step_without_trace_has_unknown_figures():
    out = bytearray(logread.file_header())
    recs = [(logfmt.T_SESSION, logread.session_payload(1, 1, 0, 0, 3000, 5000, 100, 20, "", "", "", "r", "", "")),
            (logfmt.T_STEP_BEGIN, logread.step_begin_payload(0, 100, 3000, 5000, 30, "press", "HT7", "left")),
            (logfmt.T_EVENT, logread.event_payload(900, logfmt.EV_CONTACT_LOST, 0)),
            (logfmt.T_SESSION_END, logread.end_payload(5000, logfmt.END_INTERRUPTED, 0, 0, 0))]
    for seq, (rtype, payload) in enumerate(recs):
        out += logread.record(rtype, seq, payload)
    sm = logread.decode_session(bytes(out))["steps"][0]["summary"]
    assert sm["reconstructed"] and sm["partial"] and sm["status"] == "interrupted" and sm["t_ms"] == 5000
    assert sm["in_ms"] is None and sm["dose_gs"] is None and sm["mean_g"] is None and sm["pauses"] == 1
