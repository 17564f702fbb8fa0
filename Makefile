# The two commands of the README: `make notebooks` (the main job) and `make test`.
# Both create .venv with plain `python3 -m venv` + pip when it is missing or pyproject.toml changed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXTRAS := notebooks,test,scale
PYTEST_ARGS ?=
LAB_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: notebooks test test-slow lab student bench bench-quick clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	touch $(STAMP)

notebooks: $(STAMP)
	$(BIN)/python -m workbench._report

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow $(PYTEST_ARGS)

lab: $(STAMP)
	$(BIN)/jupyter lab --no-browser --ip=127.0.0.1 --ServerApp.root_dir=notebooks $(LAB_ROOT)

student: $(STAMP)
	$(BIN)/python -m workbench._report --student

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

bench-quick: $(STAMP)
	$(BIN)/python benchmarks/run_all.py --quick

clean:
	rm -rf reports student .pytest_cache
