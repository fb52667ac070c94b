"""The reliability suite (`make reliability`: python -m bench.reliability; docs/reliability.md).

One module per scenario: power (power cuts; power_check judges what the device holds, firmware builds the
deploys' variants), cable (cable pulls), year (a year of use), device_inputs (bad input from a device),
host_inputs (bad input on the host), security; common holds the simulator rig and what they share; suite
runs them, merges the figures into build/bench.json and prints the table.
"""
