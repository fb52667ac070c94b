"""Calibration on the host (docs/calibration.md), by concern:

- `pointsfile`: reference loads and readings (CSV/JSON points files), the `Points` they make;
- `fit`: the fits, the checks that refuse a bad calibration, creep, building the /cfg/calib.json dict and
  the report printed before writing;
- `rigs`: the automatic capture procedure on a simulated part (CPython) or the simulator's board;
- `device`: writing, restoring and reading the calibration on a device (through a DeviceSession).

The live-stream wizard a person follows is host_tools/capture.py.
"""
