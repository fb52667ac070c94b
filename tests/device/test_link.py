# The live link (acu.link, docs/protocol.md) on a whole App with a fake console: requests answered between
# loop iterations, a running practice untouched by them, noise and torn frames ignored, the stream's
# lease, and the loop allocation-free with the stream on (heap_lock on the unix port).
import json
import os

import fakeboard
from fakeboard import raw_for
from mpcompat import heap_lock, heap_unlock, needs_heap_lock
from routine_samples import bedtime

from acu import band, link, logfmt


class Console:
    """Bytes the host sent (feed()) and every frame the app wrote (lines())."""

    def __init__(self):
        self.inbuf = bytearray(256)
        self.in_n = 0
        self.in_pos = 0
        self.out = bytearray(3072)
        self.out_n = 0

    def feed(self, data):
        n = len(data)
        self.inbuf[self.in_n:self.in_n + n] = data
        self.in_n += n

    def read_byte(self):
        if self.in_pos >= self.in_n:
            self.in_pos = 0
            self.in_n = 0
            return -1
        b = self.inbuf[self.in_pos]
        self.in_pos += 1
        return b

    def write(self, buf, n):
        if self.out_n + n <= len(self.out):  # a full buffer drops frames (like a UART nobody reads)
            out = self.out
            k = self.out_n
            for i in range(n):  # byte by byte: a slice would allocate under heap_lock
                out[k + i] = buf[i]
            self.out_n = k + n

    def lines(self):
        out = []
        start = 0
        for i in range(self.out_n - 1):
            if self.out[i] == 13 and self.out[i + 1] == 10:
                out.append(bytes(self.out[start:i]).decode())
                start = i + 2
        self.out_n = 0
        return out


def request(rid, body):
    words = "%d %s" % (rid, body)
    b = words.encode()
    return b"#>" + b + ("*%04X\n" % link.crc16(b, 0, len(b))).encode()


def parse(line):
    """(kind, body) of a device frame, checking its CRC."""
    assert line.startswith("#<"), line
    star = line.rindex("*")
    body = line[2:star].encode()
    assert int(line[star + 1:], 16) == link.crc16(body, 0, len(body)), line
    kind, _, rest = line[2:star].partition(" ")
    return kind, rest


def answers(con):
    out = {}
    for ln in con.lines():
        kind, rest = parse(ln)
        if kind in ("R", "E"):
            rid, _, payload = rest.partition(" ")
            out[int(rid)] = (kind, json.loads(payload) if kind == "R" else payload)
    return out


def make_app(with_routine=True):
    con = Console()
    app, clock, sensor = fakeboard.make_app(bedtime() if with_routine else None, con)
    return app, con, clock, sensor


def loop(app, clock, n, con=None):
    for _ in range(n):
        clock.advance(5)
        now = clock.ticks_ms()
        app.step(now)
        app.link.service(now)


def test_crc_is_ccitt_false():
    assert link.crc16(b"123456789", 0, 9) == 0x29B1  # the standard check value


def test_hello_status_and_unknown_requests_are_answered_between_iterations():
    app, con, clock, _ = make_app()
    con.feed(request(1, "hello"))
    con.feed(request(2, "nonsense"))
    loop(app, clock, 3)
    got = answers(con)
    assert got[1][0] == "R"
    h = got[1][1]
    assert h["proto"] == link.PROTO and h["boot_count"] == 7 and h["device_id"] == "0102"
    assert h["practice"] is None and h["board"] == "test"
    assert got[2][0] == "E" and "unknown request" in got[2][1]


def test_noise_torn_frames_and_bad_crc_are_ignored():
    app, con, clock, _ = make_app()
    good = request(5, "hello")
    con.feed(b"\r\x01garbage\n")           # a REPL client's bytes and noise between frames
    con.feed(good[:9] + good)               # a frame cut short, then a whole one: the torn part is dropped
    bad = bytearray(request(6, "hello"))
    bad[4] ^= 1                             # one bit flipped: its CRC fails
    con.feed(bytes(bad))
    loop(app, clock, 5)
    got = answers(con)
    assert list(got) == [5]
    assert app.link.bad_frames == 1


def test_a_practice_goes_on_while_the_host_asks_and_streams():
    app, con, clock, sensor = make_app()
    app.runner.start(clock.ticks_ms())
    sensor.raw = raw_for(app, 4000)
    loop(app, clock, 400)
    con.feed(request(1, "stream 50 5000"))
    con.feed(request(2, "status"))
    loop(app, clock, 200)   # 1 s: about 20 samples
    lines = con.lines()
    frames = [parse(ln) for ln in lines]
    samples = [b.split() for k, b in frames if k == "F"]
    assert 18 <= len(samples) <= 22, len(samples)
    s = [int(x) for x in samples[-1]]
    assert len(s) == 13
    seq, t_ms, raw, force_g, state, lo, hi, rstate, index, step_ms, goal_ms, fault, flags = s
    assert state == band.IN_BAND and 3500 < force_g < 4500 and (lo, hi) == (3000, 5000)
    assert rstate == 1 and index == 0 and step_ms > 0 and goal_ms > 0 and fault == 0
    assert flags & link.FLAG_LOGGING
    assert [int(x[0]) for x in samples] == list(range(int(samples[0][0]), int(samples[0][0]) + len(samples)))
    st = [json.loads(b.split(" ", 1)[1]) for k, b in frames if k == "R" and b.startswith("2 ")][0]
    assert st["practice"]["routine"] == "bedtime" and st["practice"]["step"] == 0
    assert app.runner.active() and app.log.active   # nothing ended the practice


def test_the_stream_stops_when_its_lease_runs_out_and_on_request():
    app, con, clock, _ = make_app()
    con.feed(request(1, "stream 20 500"))
    loop(app, clock, 200)   # 1 s, the lease is 0.5 s
    n = len([ln for ln in con.lines() if ln.startswith("#<F")])
    assert 23 <= n <= 27, n
    assert app.link.every_ms == 0
    con.feed(request(2, "stream 20 5000"))
    loop(app, clock, 20)
    con.feed(request(3, "stream 0"))
    loop(app, clock, 100)
    assert len([ln for ln in con.lines() if ln.startswith("#<F")]) <= 6
    assert app.link.every_ms == 0


def test_calibration_mode_logs_no_free_press_and_is_refused_during_a_practice():
    app, con, clock, sensor = make_app(with_routine=False)
    con.feed(request(1, "stream 50 60000 calib"))
    loop(app, clock, 2)
    sensor.raw = raw_for(app, 4000)
    loop(app, clock, 1000)  # 5 s pressed: a free press would have started a session after 2 s
    assert not app.log.active and not app.free_session
    flags = [int(parse(ln)[1].split()[-1]) for ln in con.lines() if ln.startswith("#<F")]
    assert flags and all(f & link.FLAG_CALIBRATING for f in flags)
    con.feed(request(2, "stream 50 1000 live"))
    loop(app, clock, 1000)
    assert app.free_session and app.log.active       # back to normal: the press is a free session
    app2, con2, clock2, _ = make_app()
    app2.runner.start(clock2.ticks_ms())
    con2.feed(request(3, "stream 50 1000 calib"))
    loop(app2, clock2, 2)
    got = answers(con2)
    assert got[3][0] == "E" and "practice is running" in got[3][1]


def test_stop_ends_the_practice_on_purpose_and_clock_sets_the_time():
    app, con, clock, sensor = make_app()
    app.runner.start(clock.ticks_ms())
    sensor.raw = raw_for(app, 4000)
    loop(app, clock, 100)
    con.feed(request(1, "clock 1800000000"))
    con.feed(request(2, "stop"))
    loop(app, clock, 3)
    con.feed(request(3, "clock 4294967295"))   # a wrapped or far-future clock is refused
    loop(app, clock, 3)
    got = answers(con)
    assert got[1][1]["wall_s"] == 1800000000
    assert got[3][0] == "E" and "2020-2099" in got[3][1]
    assert got[2] == ("R", {"stopped": "bedtime"})
    assert not app.runner.active() and not app.log.active
    name = sorted(n for n in os.listdir(app.log.root) if n.endswith(".acl"))[-1]
    with open(app.log.root + "/" + name, "rb") as f:
        data = f.read()
    from acu import logread
    d = logread.decode_session(logread.split_sessions(data)[-1][2])
    codes = [e["code"] for e in d["events"]]
    assert logfmt.EV_CLOCK_SET in codes and logfmt.EV_HOST_STOP in codes
    assert d["end"]["status"] == "aborted"


def test_sessions_lists_the_files_without_hashes():
    app, con, clock, sensor = make_app(with_routine=False)
    sensor.raw = raw_for(app, 4000)
    loop(app, clock, 1000)  # a free press: one session file
    con.feed(request(1, "sessions"))
    loop(app, clock, 2)
    got = answers(con)[1][1]
    assert got["total"] == 1 and got["files"][0][0].endswith(".acl") and got["files"][0][2] is True


def test_loop_with_stream_on_does_not_allocate():
    needs_heap_lock()  # (the behaviour is covered above)
    app, con, clock, sensor = make_app()
    app.runner.start(clock.ticks_ms())
    sensor.raw = raw_for(app, 4000)
    con.feed(request(1, "stream 20 600000"))
    loop(app, clock, 2000)   # into the step
    while app.log.last_flush_ms != clock.ticks_ms():  # start right after a log flush (those allocate)
        loop(app, clock, 1)
    con.lines()
    seq0 = app.link.seq
    errors = 0
    for i in range(1000):
        clock.advance(5)
        now = clock.ticks_ms()
        if (i & 63) == 0:
            con.out_n = 0
        heap_lock()
        try:
            app.step(now)
            app.link.service(now)
        except MemoryError:
            errors += 1
        heap_unlock()
    assert errors == 0, errors
    assert app.link.seq - seq0 >= 240   # the stream ran: a frame every 20 ms


def test_the_stdio_console_polls_and_writes_without_allocating():
    needs_heap_lock()
    from acu.console import StdioConsole
    con = StdioConsole()
    buf = bytearray(b"#<F 1*0000\r\n")
    con.read_byte()
    con.write(buf, 0)
    heap_lock()
    try:
        for _ in range(100):
            con.read_byte()   # whatever the runner's stdin holds (usually nothing): never blocks
            con.write(buf, 0)  # the length form of write: no slice object
    finally:
        heap_unlock()
