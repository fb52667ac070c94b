"""A device's traceback becomes one line; a board without our firmware is named as such."""

from host_tools.errors import DeviceError, device_error


def test_bare_micropython_is_not_our_firmware():
    e = device_error("Traceback (most recent call last):\n  File \"<stdin>\", line 1, in <module>\n"
                      "ImportError: no module named 'acu'\n")
    assert isinstance(e, DeviceError)
    assert "not our firmware" in str(e) and "acutrainer deploy" in str(e)
    assert "\n" not in str(e)
    assert "not our firmware" in str(device_error("ImportError: no module named 'acu.logger'"))


def test_other_errors_keep_their_last_line():
    assert str(device_error("Traceback:\nValueError: bad session name")) == "device: bad session name"
    assert str(device_error("ImportError: no module named 'foo'")) == "device: ImportError: no module named 'foo'"
    assert str(device_error("")) == "device: unknown error"


def test_a_failed_open_releases_the_port():
    """A board that never answers: the LinkError comes, and the port is free again at once (even while
    the exception, and so the half-made session, is still referenced)."""
    import os

    import pytest

    from host_tools.errors import LinkError
    from host_tools.session import DeviceSession

    master, slave = os.openpty()
    name = os.ttyname(slave)
    try:
        with pytest.raises(LinkError) as first:
            DeviceSession(name, timeout_s=0.2)
        with pytest.raises(LinkError) as second:  # would be "is another program using it?" if still held
            DeviceSession(name, timeout_s=0.2)
        assert "another program" not in str(second.value)
        assert first.value is not None
    finally:
        os.close(master)
        os.close(slave)
