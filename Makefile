# Two commands do all the set-up on a fresh machine with Python 3.11 and pip:
#   make quickstart   run the main job on embedded defaults
#   make test         run the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
QUICKSTART_DIR ?= out/quickstart
QUICKSTART_HOME ?= $(QUICKSTART_DIR)/home

.PHONY: quickstart test test-fast lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

quickstart: $(STAMP)
	@mkdir -p $(QUICKSTART_DIR)
	$(BIN)/risk-engine validate risk_engine/samples/shipments_sample.csv --rejects $(QUICKSTART_DIR)/sample_rejects.csv
	$(BIN)/risk-engine simulate --out $(QUICKSTART_DIR)/world --days 500 --arrivals-per-day 1000 --phases 4 --seed 7 --contraband-rate 0.01
	$(BIN)/risk-engine validate $(QUICKSTART_DIR)/world/shipments.parquet --rejects $(QUICKSTART_DIR)/world_rejects.csv
	RISK_ENGINE_HOME=$(QUICKSTART_HOME) $(BIN)/risk-engine train --shipments $(QUICKSTART_DIR)/world/shipments.parquet --outcomes $(QUICKSTART_DIR)/world/outcomes.parquet --until 2024-04-30 --truth $(QUICKSTART_DIR)/world/truth.parquet
	RISK_ENGINE_HOME=$(QUICKSTART_HOME) $(BIN)/risk-engine models
	$(BIN)/python -m training.arrivals $(QUICKSTART_DIR)/world/shipments.parquet $(QUICKSTART_DIR)/arrivals_day.parquet --since 2024-04-30 --until 2024-05-01
	RISK_ENGINE_HOME=$(QUICKSTART_HOME) $(BIN)/risk-engine screen $(QUICKSTART_DIR)/arrivals_day.parquet --out $(QUICKSTART_DIR)/ranked_day.csv --capacity 0.03 --report $(QUICKSTART_DIR)/screen_day.html --rejects $(QUICKSTART_DIR)/screen_day_rejects.csv
	$(BIN)/python -m training.arrivals $(QUICKSTART_DIR)/world/shipments.parquet $(QUICKSTART_DIR)/arrivals_year.parquet --since 2024-05-01 --until 2025-05-01
	RISK_ENGINE_HOME=$(QUICKSTART_HOME) $(BIN)/risk-engine screen $(QUICKSTART_DIR)/arrivals_year.parquet --out $(QUICKSTART_DIR)/ranked_year.parquet --capacity 0.03 --documentary 0.05 --report $(QUICKSTART_DIR)/screen_year.html --rejects $(QUICKSTART_DIR)/screen_year_rejects.csv --top 10

test: $(STAMP)
	$(BIN)/python -m pytest -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check risk_engine features models training serve tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/mypy

clean:
	rm -rf $(VENV) out
