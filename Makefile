# Two commands on a fresh machine with Python 3.11 and make:
#   make book   build the site for the current wave into _build/html/
#   make test   everything CI checks
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt pyproject.toml | sha256sum | cut -c1-12)
PIP_TOOLS := pip-tools==7.6.2
# Kernels started by papermill and nbval must be this environment's python.
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: help venv book chapters html site test test-unit test-nbval test-build test-browser wave briefing serve bench lock clean

help:
	@echo "make book     create .venv, execute the chapters for the current wave, build _build/html/"
	@echo "make test     everything CI checks (unit tests, nbval, -W book build, browser tests)"
	@echo "make wave WAVE=2023 DATA=export.csv   publish a new survey wave"
	@echo "make lock     regenerate requirements.txt from requirements.in"

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip==25.3
	$(PY) -m pip install --quiet -r requirements.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

venv: $(STAMP)

chapters: $(STAMP)
	$(PY) scripts/run_chapters.py

html: $(STAMP)
	$(BIN)/jupyter-book build . -W -n --keep-going
	@echo "Open _build/html/index.html"

book: chapters html

# nbval: strict (outputs compared), in the environment pytest runs in, one notebook per worker.
NBVAL := $(PY) -m pytest --nbval --nbval-current-env -p no:cacheprovider -n 2 --dist loadscope -q chapters

test: $(STAMP)
	$(PY) -m pytest -q -m "not slow and not browser" tests
	$(NBVAL)
	$(PY) -m pytest -q -m "slow" tests

lock:
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet $(PIP_TOOLS)
	$(BIN)/pip-compile --quiet --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links \
		--output-file requirements.txt requirements.in
	echo "-e ." >> requirements.txt

clean:
	rm -rf _build
