# Storecast: `make demo` runs the whole service on the embedded default; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint bench-fanout bench-orders bench-joins bench-inprocess bench-soak clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/storecast demo

test: $(STAMP)
	# Two workers: most of the suite waits on real processes, sockets and databases, so a
	# second worker overlaps those waits (docs/benchmarks.md has the measured times; three
	# workers on two cores were slower and timed out process tests).
	$(BIN)/python -m pytest -n 2

lint: $(STAMP)
	$(BIN)/ruff check server live orders attribution tests bench
	$(BIN)/ruff format --check server live orders attribution tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

bench-fanout: $(STAMP)
	$(BIN)/python -m bench.fanout
	$(BIN)/python -m bench.fanout --viewers 5000

bench-orders: $(STAMP)
	$(BIN)/python -m bench.orders

bench-joins: $(STAMP)
	$(BIN)/python -m bench.joins

bench-inprocess: $(STAMP)
	$(BIN)/python -m bench.inprocess

bench-soak: $(STAMP)
	$(BIN)/python -m bench.soak

clean:
	rm -rf var tests/artifacts
