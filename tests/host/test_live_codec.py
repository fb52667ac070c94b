"""The live link's host codec (host_tools/link.py) against the device's (acu.link) and against
docs/protocol.md; the monitor's drawing; requests over a fake serial port."""
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from host_tools import link as H
from host_tools.commands import monitor
from host_tools.errors import DeviceError, LinkError
from host_tools.paths import ensure_device_importable

ensure_device_importable()
from acu import link as D  # noqa: E402

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"


@given(st.binary(max_size=200))
def test_host_and_device_crc_agree(data):
    assert H.crc(data) == D.crc16(data, 0, len(data))


def test_the_documents_example_frames_check():
    frames = re.findall(r"^(?:host|device): +(#[<>].*)$", DOC.read_text(), re.M)
    assert len(frames) >= 6
    for f in frames:
        body, crc = f[2:].rsplit("*", 1)
        assert int(crc, 16) == H.crc(body.encode()), f
    assert H.parse_line(frames[1].encode())[0] == "R"


def test_device_frames_parse_on_the_host_through_noise():
    buf = D.frame("R", '7 {"a": "x*y"}')
    n = D._seal(buf, len(buf) - 7)
    line = bytes(buf[:n]).rstrip(b"\r\n")
    assert H.parse_line(line) == ("R", '7 {"a": "x*y"}')
    # a boot banner before it, a torn frame before it on the same line
    assert H.parse_line(b"MPY: soft reboot" + line) == ("R", '7 {"a": "x*y"}')
    assert H.parse_line(b"#<F 1 2 3" + line) == ("R", '7 {"a": "x*y"}')
    assert H.parse_line(line[:-1] + b"0") is None or line.endswith(b"0")
    assert H.parse_line(b"just text") is None


def test_request_frames_are_what_the_device_accepts():
    f = H.request_frame(12, "stream", 50, 3000, "calib")
    assert f == b"#>12 stream 50 3000 calib*%04X\n" % H.crc(b"12 stream 50 3000 calib")
    with pytest.raises(ValueError):
        H.request_frame(1, "clock", "1*2")


class FakeSerial:
    """Answers requests like the device (R/E frames), can stay silent, sends samples when asked."""

    def __init__(self, answer=None):
        self.out = bytearray()
        self.inbox = bytearray()
        self.answer = answer
        self.timeout = 0.05
        self.port = "/dev/fake"

    @property
    def in_waiting(self):
        return len(self.out)

    def write(self, data):
        m = re.match(rb"#>(\d+) (\w+)(.*)\*([0-9A-F]{4})\n", bytes(data))
        assert m and int(m.group(4), 16) == H.crc(data[2:data.rindex(b"*")])
        if self.answer is not None:
            self.out += self.answer(int(m.group(1)), m.group(2).decode(), m.group(3).decode().split())

    def flush(self):
        pass

    def read(self, n=1):
        d = bytes(self.out[:n])
        del self.out[:n]
        return d


def frame(kind, body):
    b = ("%s %s" % (kind, body)).encode()
    return b"#<" + b + b"*%04X\r\n" % H.crc(b)


def test_requests_get_their_answer_and_samples_are_queued():
    def answer(rid, verb, args):
        out = frame("F", "5 100 30000 4000 2 3000 5000 1 0 1000 60000 0 1")
        out += frame("R", "%d 999" % (rid + 1))          # someone else's answer: ignored
        if verb == "hello":
            return out + frame("R", '%d {"proto": 1, "practice": null}' % rid)
        return out + frame("E", "%d no such thing" % rid)
    ln = H.LiveLink(FakeSerial(answer))
    assert ln.hello() == {"proto": 1, "practice": None}
    with pytest.raises(DeviceError, match="no such thing"):
        ln.request("bogus")
    got = ln.poll(0)
    assert len(got) == 2 and got[0].force_g == 4000 and got[0].state_name == "in" and got[0].logging


def test_no_answer_is_no_app_and_a_silent_request_fails_quickly():
    ln = H.LiveLink(FakeSerial(None))
    assert ln.hello() is None
    with pytest.raises(LinkError, match="no answer from the app"):
        ln.request("status", timeout_s=0.05, tries=2)


def test_an_app_speaking_another_protocol_is_named():
    ln = H.LiveLink(FakeSerial(lambda rid, verb, args: frame("R", '%d {"proto": 9}' % rid)))
    with pytest.raises(DeviceError, match="protocol 9"):
        ln.hello()


def test_lost_stream_frames_are_counted():
    ln = H.LiveLink(FakeSerial(None))
    for seq in (1, 2, 5):
        ln._dispatch(frame("F", "%d 0 0 0 0 3000 5000 0 -1 0 0 0 0" % seq).rstrip(), None)
    assert ln.lost == 2


def test_the_simulators_speed_scales_device_time():
    ln = H.LiveLink(FakeSerial(None), scale=60)
    assert ln.device_ms(0.05) == 3000 and H.LiveLink(FakeSerial(None)).device_ms(0.05) == 50


def test_the_plot_draws_the_force_and_the_band():
    rows = monitor.render_plot([0, 2000, 4000, 8000], 3000, 5000, width=4, height=4)
    assert len(rows) == 4 and all(len(r) == 4 for r in rows)
    assert rows[0][3] == "█" and rows[0][2] in " ·"        # 8 kg fills the column, 4 kg half of it
    assert rows[3][0] in " ·" and rows[3][1] == "█"
    cols = ["".join(r[i] for r in rows) for i in range(4)]
    assert cols[2].count("█") == 2
    assert "·" in rows[1] or "·" in rows[2]                 # the band's edges are drawn where empty


def test_the_monitor_keeps_the_latest_sample_and_a_window():
    def answer(rid, verb, args):
        return frame("R", '%d {"every_ms": 40}' % rid) + b"".join(
            frame("F", "%d %d 30000 %d 2 3000 5000 0 -1 0 0 0 0" % (i, 40 * i, 1000 * i)) for i in range(5))
    mon = monitor.Monitor(H.LiveLink(FakeSerial(answer)), rate_hz=25, window_s=1)
    got = mon.read(0.01)
    assert len(got) == 5 and mon.last.force_g == 4000 and list(mon.history)[-1] == 4000
    assert "IN BAND" in mon.line()
    from rich.console import Console
    c = Console(width=80, record=True)
    c.print(mon.render())
    assert "4.00 kg" in c.export_text()
