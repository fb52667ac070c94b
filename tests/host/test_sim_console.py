"""The simulated board's console ends lines as a board's does: text "\\n" becomes "\\r\\n", binary bodies and
lines a program ended with "\\r\\n" itself pass as they are."""
import os

from host_tools.sim.serial_link import Cooker


def cooked(*chunks):
    c = Cooker()
    return b"".join(c.cook(x) for x in chunks)


def test_text_lines_get_a_carriage_return():
    assert cooked(b"a\nb\n") == b"a\r\nb\r\n"
    assert cooked(b"a\r\nb\r\n") == b"a\r\nb\r\n"       # raw writes with their own CR LF (frames, banners)
    assert cooked(b"a\r", b"\nb\n") == b"a\r\nb\r\n"     # a CR LF split across reads
    assert cooked(b"\n\n") == b"\r\n\r\n"


def test_a_binary_download_body_passes_untouched():
    body = bytes(range(256)) * 4 + b"\n\n\r\n"
    out = cooked(b"ACUX %d 0 B\n" % len(body), body[:300], body[300:], b"\n#abc\n")
    assert out == b"ACUX %d 0 B\r\n" % len(body) + body + b"\r\n#abc\r\n"
    # a resumed download announces what it sends: size minus offset
    out = cooked(b"x\nACUX 10 4 B\n\n\n\n\n\n\nmore\n")
    assert out == b"x\r\nACUX 10 4 B\r\n\n\n\n\n\n\nmore\r\n"


def test_the_base64_mode_is_text():
    assert cooked(b"ACUX 3 0 A\nQUJD\n") == b"ACUX 3 0 A\r\nQUJD\r\n"


def test_random_chunking_changes_nothing():
    import random
    rnd = random.Random(3)
    data = b"hello\nworld\r\nACUX 20 0 B\n" + os.urandom(20) + b"\n#h\ntail\n"
    want = cooked(data)
    for _ in range(50):
        cuts = sorted(rnd.sample(range(1, len(data)), 5))
        parts = [data[i:j] for i, j in zip([0] + cuts, cuts + [len(data)], strict=True)]
        assert cooked(*parts) == want
