# `import simrom` before the simulator's parts (host_tools/sim/rom: simsensors, ...): puts that folder on
# sys.path, under CPython (pytest, any working directory) and under the MicroPython runner (repo root).
import sys

try:
    _rom = __file__.rsplit("/", 1)[0] + "/../../host_tools/sim/rom"
except NameError:  # a port whose modules have no __file__
    _rom = "host_tools/sim/rom"
for _p in (_rom, "host_tools/sim/rom"):
    if _p not in sys.path:
        sys.path.append(_p)
