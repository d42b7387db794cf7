# Two commands do all the set-up: `make repro` (the pipeline) and `make test` (the suite).
# Both create .venv on first use; the stamp file makes later runs skip the install.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.lce-installed
export DVC_NO_ANALYTICS := 1
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: install repro test test-fast lint clean-venv

install: $(STAMP)

$(STAMP): pyproject.toml requirements-offline.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -r requirements-offline.txt
	@touch $(STAMP)

repro: $(STAMP)
	$(BIN)/dvc repro
	@echo
	@echo "Results: warehouse/lce.duckdb (query it with: $(BIN)/lce query \"select * from models\")"
	@echo "Artifacts: data/probe/<name> (probe sets), data/dissect/<model>/<probe>/units.parquet (unit profiles)"

# `make test` runs the whole suite (CI's .ci/run); `make test-fast` is the developer loop: every
# package's unit tests, CLI commands run in-process, without the tests marked slow (dvc runs, new
# interpreters, training beyond seconds), spread over one pytest-xdist worker per core, each
# with one thread (small tensors: oversubscribed threads cost more than they bring). pytest
# exits 5 when it collected no tests: treat that as a failure too.
test-fast: MARKERS := -m "not slow"
test-fast: WORKERS := -n $(shell nproc) --dist worksteal
test-fast: export OMP_NUM_THREADS := 1
test-fast: export MKL_NUM_THREADS := 1
test-fast: export OPENBLAS_NUM_THREADS := 1
test-fast: export NUMBA_NUM_THREADS := 1
test test-fast: $(STAMP)
	@$(BIN)/python -m pytest $(MARKERS) $(WORKERS) $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "Error: pytest ran no tests" >&2; exit 1; fi; exit $$rc

lint: $(STAMP)
	$(BIN)/ruff check lce stages tests benchmarks

clean-venv:
	rm -rf $(VENV)
