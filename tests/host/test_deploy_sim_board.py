# A simulator runs boards/sim.py only: deploying another board to it is refused before anything is sent.
import pytest

from host_tools import deploy as deploy_mod
from host_tools.errors import InputError
from host_tools.sim import control


class NothingSent:
    port = "/dev/pts/77"

    def exec(self, code):
        raise AssertionError("sent to the board: %r" % code[:60])


def test_another_board_on_a_simulators_port_is_refused_in_one_line(monkeypatch):
    monkeypatch.setattr(control, "running_port_names", lambda: {"/dev/pts/77": "default"})
    with pytest.raises(InputError) as e:
        deploy_mod.deploy(NothingSent(), board="m5stack_atom")
    msg = str(e.value)
    assert "\n" not in msg and "m5stack_atom" in msg and "use --board sim" in msg and "'default'" in msg
    deploy_mod.check_board_for_port("/dev/pts/77", "sim")  # the simulator's own board is fine


def test_a_port_that_is_no_simulator_takes_any_board(monkeypatch):
    monkeypatch.setattr(control, "running_port_names", lambda: {"/dev/pts/77": "default"})
    deploy_mod.check_board_for_port("/dev/ttyUSB0", "m5stack_atom")
    deploy_mod.check_board_for_port(None, "esp32_devkitc")
