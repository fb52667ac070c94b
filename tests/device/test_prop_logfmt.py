# Hypothesis: the decoder takes any bytes and never raises anything but LogFormatError.
from hypothesis import given, settings, strategies as st

from acu import logfmt, logread
from test_logfmt import _session_bytes

_VALID, _ENDS = _session_bytes(extra_unknown=True)


def _decode_ok(data):
    try:
        d = logread.decode_session(data)
    except logread.LogFormatError:
        return None
    assert isinstance(d["problems"], list)
    assert all(isinstance(p, str) and "\n" not in p for p in d["problems"])
    assert d["valid_end"] <= len(data)
    return d


@given(st.binary(max_size=3000))
@settings(max_examples=400, deadline=None)
def test_arbitrary_bytes(data):
    _decode_ok(data)


@given(st.binary(max_size=2000))
@settings(max_examples=400, deadline=None)
def test_valid_header_then_arbitrary_bytes(tail):
    d = _decode_ok(logread.file_header() + tail)
    assert d is not None


@given(st.lists(st.tuples(st.integers(0, len(_VALID) - 1), st.integers(0, 255)), min_size=1, max_size=8))
@settings(max_examples=400, deadline=None)
def test_mutated_log_keeps_undamaged_records(edits):
    data = bytearray(_VALID)
    for pos, val in edits:
        data[pos] = val
    d = _decode_ok(bytes(data))
    if d is None:
        return
    first_bad = min(p for p, _v in edits)
    # every record wholly before the first edit survives
    kept_before = len([e for e in _ENDS if e <= first_bad])
    assert d["records"] >= kept_before or first_bad < logfmt.FILE_HEADER_LEN


@given(st.integers(0, 20), st.lists(st.integers(-16000, 16000), max_size=300))
@settings(max_examples=200, deadline=None)
def test_trace_round_trip(t0, values_q):
    p = logread.trace_payload(t0, 100, 1, values_q)
    d = logread.decode_payload(logfmt.T_TRACE, p)
    assert d["values_g"] == values_q and d["problem"] is None


@given(st.lists(st.lists(st.integers(-16000, 16000), min_size=1, max_size=60), min_size=1, max_size=6))
@settings(max_examples=200, deadline=None)
def test_trace_chain_round_trip(parts):
    from test_logfmt import _chain
    d = logread.decode_session(_chain(parts))
    assert d["problems"] == []
    assert d["trace"][0]["values_g"] == [v * 20 for p in parts for v in p]
