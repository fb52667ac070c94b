"""The benches: `make bench` (bench/run.py) and `make reliability` (bench/reliability/)."""
