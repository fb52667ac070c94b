"""Finding the board: an explicit port, $ACUTRAINER_PORT, a running simulator, or the one USB-serial board."""

from __future__ import annotations

import os

import serial.tools.list_ports

from host_tools.errors import LinkError

# USB-serial chips found on ESP32 boards (VID, PID or None for any) -> what to call them
KNOWN_CHIPS = {
    (0x10C4, 0xEA60): "Silicon Labs CP210x (ESP32-DevKitC)",
    (0x1A86, 0x7523): "WCH CH340",
    (0x1A86, 0x55D4): "WCH CH9102 (M5Stack, newer DevKitC)",
    (0x0403, 0x6001): "FTDI FT232R",
    (0x0403, 0x6015): "FTDI FT231X",
    (0x303A, None): "Espressif native USB (ESP32-S2/S3/C3)",
}


def chip_name(vid: int | None, pid: int | None) -> str | None:
    if vid is None:
        return None
    return KNOWN_CHIPS.get((vid, pid)) or KNOWN_CHIPS.get((vid, None))


def usb_boards() -> list[dict]:
    """Serial ports whose USB chip is one an ESP32 board uses."""
    found = []
    for p in serial.tools.list_ports.comports():
        name = chip_name(p.vid, p.pid)
        if name:
            found.append({"port": p.device, "chip": name, "serial": p.serial_number, "desc": p.description})
    return found


def all_ports(comports=None) -> list[dict]:
    """Every serial port, each with its USB chip's name when it is one an ESP32 board uses (else None)."""
    listing = comports() if comports else serial.tools.list_ports.comports()
    out = []
    for p in sorted(listing, key=lambda p: p.device):
        out.append({"port": p.device, "chip": chip_name(p.vid, p.pid), "vid": p.vid, "pid": p.pid,
                    "serial": p.serial_number, "desc": p.description})
    return out


def running_simulator_port(name: str = "default") -> str | None:
    from host_tools.sim import control

    st = control.read_state(name)
    return st["port"] if st else None


def running_simulators() -> dict[str, str]:
    """name -> port of every running simulator."""
    from host_tools.sim import control

    return {name: port for port, name in control.running_port_names().items()}


def simulator_port() -> str | None:
    """The simulator a command without --port would use: 'default', else the only one running."""
    sim = running_simulator_port()
    if sim:
        return sim
    sims = running_simulators()
    return next(iter(sims.values())) if len(sims) == 1 else None


def find_port(port: str | None = None) -> str:
    """--port, else $ACUTRAINER_PORT, else the simulator 'default', else the one USB board, else the one
    simulator running under another name (docs/simulator.md: what `sim` commands find, too)."""
    if port:
        return port
    env = os.environ.get("ACUTRAINER_PORT")
    if env:
        return env
    sim = running_simulator_port()
    if sim:
        return sim
    boards = usb_boards()
    if len(boards) == 1:
        return boards[0]["port"]
    if not boards:
        sims = running_simulators()
        if len(sims) == 1:
            return next(iter(sims.values()))
        if sims:
            listing = "; ".join("%s (simulator %r)" % (p, n) for n, p in sorted(sims.items()))
            raise LinkError("several simulators running, choose one with --port: " + listing)
        raise LinkError("no board found: plug the trainer in (a data USB cable), or start the simulator with "
                        "'acutrainer sim start', or name the port with --port")
    listing = "; ".join("%s (%s)" % (b["port"], b["chip"]) for b in boards)
    raise LinkError("several boards found, choose one with --port: " + listing)
