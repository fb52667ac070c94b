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


def device_error(traceback_text: str) -> DeviceError:
    """A MicroPython traceback from the board as one line: its last line is the message worth showing."""
    lines = [ln.strip() for ln in traceback_text.strip().splitlines() if ln.strip()]
    last = lines[-1] if lines else "unknown error"
    if last.startswith("ImportError: no module named 'acu"):  # a bare MicroPython or another project's board
        return DeviceError("device: not our firmware (no acu package on the board): "
                           "install it with 'acutrainer deploy'")
    for prefix in ("ValueError: ", "RuntimeError: "):  # our firmware's refusals: the message is enough
        if last.startswith(prefix):
            last = last[len(prefix):]
    return DeviceError("device: " + last)
