# Finding the board without --port (host_tools/ports.find_port): $ACUTRAINER_PORT, the simulator 'default',
# the one USB board, the one simulator running under another name (docs/simulator.md), else one clear line.
import pytest

from host_tools import doctor, ports
from host_tools.errors import LinkError

BOARD = {"port": "/dev/ttyUSB0", "chip": "Silicon Labs CP210x (ESP32-DevKitC)"}


@pytest.fixture
def found(monkeypatch):
    """Set what is plugged in and running: found(usb=[...], sims={name: port})."""
    monkeypatch.delenv("ACUTRAINER_PORT", raising=False)

    def setup(usb=(), sims=None):
        sims = dict(sims or {})
        monkeypatch.setattr(ports, "usb_boards", lambda: list(usb))
        monkeypatch.setattr(ports, "running_simulators", lambda: dict(sims))
        monkeypatch.setattr(ports, "running_simulator_port", lambda name="default": sims.get(name))
    return setup


def test_an_explicit_port_and_the_environment_come_first(found, monkeypatch):
    found(usb=[BOARD], sims={"default": "/dev/pts/3"})
    assert ports.find_port("/dev/ttyACM7") == "/dev/ttyACM7"
    monkeypatch.setenv("ACUTRAINER_PORT", "/dev/ttyACM9")
    assert ports.find_port(None) == "/dev/ttyACM9"


def test_the_default_simulator_then_the_one_board(found):
    found(usb=[BOARD], sims={"default": "/dev/pts/3", "walk": "/dev/pts/4"})
    assert ports.find_port(None) == "/dev/pts/3"
    found(usb=[BOARD], sims={"walk": "/dev/pts/4"})
    assert ports.find_port(None) == "/dev/ttyUSB0"  # a board plugged in wins over a named simulator


def test_the_only_simulator_running_under_another_name_is_found(found):
    found(sims={"walk": "/dev/pts/4"})
    assert ports.find_port(None) == "/dev/pts/4"
    assert ports.simulator_port() == "/dev/pts/4"


def test_several_named_simulators_are_listed_in_one_line(found):
    found(sims={"walk": "/dev/pts/4", "bench": "/dev/pts/5"})
    with pytest.raises(LinkError) as e:
        ports.find_port(None)
    msg = str(e.value)
    assert "\n" not in msg and "--port" in msg
    assert "/dev/pts/5 (simulator 'bench'); /dev/pts/4 (simulator 'walk')" in msg
    assert ports.simulator_port() is None


def test_nothing_found_says_how_to_get_a_board(found):
    found()
    with pytest.raises(LinkError, match="no board found: plug the trainer in"):
        ports.find_port(None)
    assert ports.simulator_port() is None


def test_doctor_lists_the_simulator_it_will_use(found):
    found(sims={"walk": "/dev/pts/4"})
    checks = {c.name: c for c in doctor.run(None, list_ports=lambda: [], open_session=_no_link)}
    assert checks["ports"].detail.startswith("/dev/pts/4 (simulator)")
    assert checks["board"].status == doctor.OK and checks["board"].detail == "/dev/pts/4"


def _no_link(port, **kw):
    raise LinkError("could not open %s: test" % port)


def test_with_a_real_named_simulator_state(tmp_path, monkeypatch):
    # running_simulators reads the simulators' state files (pid alive, port): one named 'walk' is found
    import json
    import os

    monkeypatch.setenv("ACUTRAINER_HOME", str(tmp_path))
    monkeypatch.delenv("ACUTRAINER_PORT", raising=False)
    monkeypatch.setattr(ports, "usb_boards", lambda: [])
    d = tmp_path / "sim" / "walk"
    d.mkdir(parents=True)
    (d / "state.json").write_text(json.dumps({"pid": os.getpid(), "port": "/dev/pts/42"}))
    assert ports.running_simulators() == {"walk": "/dev/pts/42"}
    assert ports.find_port(None) == "/dev/pts/42"
