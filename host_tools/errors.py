"""Errors the host tools raise. The CLI turns each into one line and a non-zero exit."""


class AcuError(Exception):
    """A problem the user can act on; str(e) is the one-line message."""

    exit_code = 1


class InputError(AcuError):
    """A bad file or argument from the user (routine, calibration points, press profile...)."""

    exit_code = 2


class DeviceError(AcuError):
    """The device refused or failed a request (its own message is included)."""

    exit_code = 3


class LinkError(AcuError):
    """The serial link failed: no board, port busy, cable pulled, timeout."""

    exit_code = 4
