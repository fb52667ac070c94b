# acutrainer: every target does its own set-up. Python 3.11+ is the only thing assumed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.installed
PORT   ?=
BOARD  ?= esp32_devkitc
FIRMWARE ?=
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup test test-device test-host demo sim bench reliability deploy flash lint wheel clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[sim,dev,study]'
	touch $(STAMP)

# Device logic runs twice: under CPython (pytest, hypothesis) and on the real MicroPython unix port. The
# runner gives every test file an interpreter of its own with a 512K heap. The firmware's own
# heap is guarded by tests/device/test_footprint.py and tests/host/test_romfs.py in heaps of their own.
test: setup
	$(BIN)/micropython -X heapsize=512K tools/mp_test_runner.py tests/device
	$(BIN)/pytest -p no:cacheprovider tests

test-device: setup
	$(BIN)/micropython -X heapsize=512K tools/mp_test_runner.py tests/device

test-host: setup
	$(BIN)/pytest -p no:cacheprovider tests/host

demo: setup
	$(PY) tools/demo.py

sim: setup
	$(BIN)/acutrainer sim start $(SIM_ARGS)

bench: setup
	mkdir -p build
	$(PY) bench/run.py --out build/bench.json

reliability: setup
	mkdir -p build
	$(PY) -m bench.reliability --out build/bench.json

deploy: setup
	$(BIN)/acutrainer deploy $(if $(PORT),--port $(PORT)) --board $(BOARD)

flash: setup
	$(PY) tools/flash.py --port "$(PORT)" --board "$(BOARD)" $(if $(FIRMWARE),--firmware $(FIRMWARE))

lint: setup
	$(BIN)/ruff check .
	$(PY) tools/lint_extra.py

# the installable package (README "Install (users)"): dist/acutrainer-<version>-py3-none-any.whl. build/lib goes
# first: setuptools keeps what an earlier build left there, and a deleted module must not ship.
wheel: setup
	rm -rf build/lib build/bdist.*
	$(BIN)/pip wheel -q --no-deps -w dist .

clean:
	-$(BIN)/acutrainer sim stop --all 2>/dev/null
	rm -rf build .pytest_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
