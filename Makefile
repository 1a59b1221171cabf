# Two commands do all the set-up on a fresh machine with Python 3.11 and pip:
#   make quickstart   run the main job on embedded defaults
#   make test         run the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
QUICKSTART_DIR ?= out/quickstart

.PHONY: quickstart test test-fast lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

quickstart: $(STAMP)
	@mkdir -p $(QUICKSTART_DIR)
	$(BIN)/risk-engine validate risk_engine/samples/shipments_sample.csv --rejects $(QUICKSTART_DIR)/sample_rejects.csv
	$(BIN)/risk-engine simulate --out $(QUICKSTART_DIR)/world --days 120 --arrivals-per-day 600 --phases 4 --seed 7
	$(BIN)/risk-engine validate $(QUICKSTART_DIR)/world/shipments.parquet --rejects $(QUICKSTART_DIR)/world_rejects.csv

test: $(STAMP)
	$(BIN)/python -m pytest -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check risk_engine features models training serve tests benchmarks
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) out
