# Every target creates and uses the local virtualenv by itself.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: install peers run smsc check test format bench clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,fast]'
	touch $@

install: $(VENV)/.installed

## Independent SMPP peers for the interop tests (Kannel, node-smpp; smpplib comes with .[dev]).
peers:
	bash scripts/install-peers

## The main job: the whole service (API on 127.0.0.1:8080, the simulator as default route).
run: install
	$(VENV)/bin/marconi serve

## The built-in SMSC simulator alone, on port 2775.
smsc: install
	$(VENV)/bin/marconi smsc --port 2775

check: install
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks
	$(VENV)/bin/mypy

test: install peers
	$(VENV)/bin/pytest $(PYTEST_ARGS)

format: install
	$(VENV)/bin/ruff check --fix src tests benchmarks
	$(VENV)/bin/ruff format src tests benchmarks

bench: install
	$(PY) benchmarks/smpp_throughput.py

clean:
	rm -rf $(VENV) tests/interop/node/node_modules
