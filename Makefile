# Two commands on a fresh machine with Python 3.11 and make:
#   make book   build the current edition into _build/html/ and the site (every edition) into _build/site/
#   make test   everything CI checks
# Every target calls `kam` (kamsurvey/cli.py); `kam COMMAND --help` describes each command. Targets that write
# take the book's writer lock (_build/.lock): a second one fails at once, naming the first.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
KAM := $(BIN)/kam
STAMP := $(VENV)/.installed-$(shell cat requirements.txt pyproject.toml | sha256sum | cut -c1-12)
# Kernels started by papermill and nbval must be this environment's python.
export PATH := $(CURDIR)/$(BIN):$(PATH)

# Values given on the command line (make wave WAVE=… DATA=… ARGS=…, make serve PORT=…) are handed to kam in
# the environment exactly as typed: never expanded by make, never parsed by a shell (kam splits ARGS itself,
# with shlex, and checks every value).
unexport WAVE DATA ARGS PORT
wave bench serve: export KAM_WAVE = $(value WAVE)
wave bench serve: export KAM_DATA = $(value DATA)
wave bench serve: export KAM_ARGS = $(value ARGS)
serve: export PORT = $(value PORT)

.PHONY: help venv book chapters html site test wave briefing serve bench lock clean

help:
	@echo "make book     create .venv, execute the chapters for the current wave, build _build/html/ and _build/site/"
	@echo "make site     the website: every edition under _build/site/editions/<wave>/, the latest at the root"
	@echo "make test     everything CI checks (editions' archives, unit tests, nbval, -W book build, browser tests)"
	@echo "make wave WAVE=2023 DATA=export.csv   publish a new survey wave"
	@echo "make lock     regenerate requirements.txt, the one exact lock, from pyproject.toml's dependency groups"
	@echo "make briefing the briefing kit of the built edition (slide deck, print PDF, figures, key findings) in _build/briefing/"
	@echo "make serve    preview the built site at http://127.0.0.1:8000/ (PORT=8080 for another port)"
	@echo "make bench    time our path against plain jupyter-book, the no-op rebuild and waves up to 1,000,000 (_build/bench/)"

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "$$(grep -m1 '^pip==' requirements.txt)"
	$(PY) -m pip install --quiet -r requirements.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

venv: $(STAMP)

# Each step of `make book` runs only when its inputs changed since it last succeeded (kamsurvey/build/stamps.py:
# a hash of every input in _build/.stamps/<step>); on unchanged inputs `make book` re-executes and rebuilds nothing.
book: $(STAMP)
	$(KAM) book

chapters: $(STAMP)
	$(KAM) book chapters

html: $(STAMP)
	$(KAM) book html

# The website: the current edition (built in _build/html) at editions/<wave>/ and at the root; earlier
# editions from their archives in editions/ (checked against their manifests), never rebuilt.
site: $(STAMP)
	$(KAM) book html site

# Publish a new survey wave: import, validate, execute every chapter, build, archive, switch in (kam wave --help).
wave: $(STAMP)
	$(KAM) wave --from-environment

# nbval: strict (outputs compared), in the environment pytest runs in, one notebook per worker.
NBVAL := $(PY) -m pytest --nbval --nbval-current-env -p no:cacheprovider -n 2 --dist loadscope -q chapters

# axe-core for the browser tests' accessibility check, exactly as package-lock.json pins it.
NODE_MODULES := node_modules/.package-lock.json
$(NODE_MODULES): package.json package-lock.json
	@if command -v npm >/dev/null; then npm ci --ignore-scripts --no-audit --no-fund; \
	else echo "npm not found: the browser tests will skip (or fail with CI=true)"; fi

# The slow (build) tests and the browser tests share one book build (tests/conftest.py: site).
test: $(STAMP) $(NODE_MODULES)
	$(KAM) archive --check
	$(PY) -m pytest -q -m "not slow and not browser" tests
	$(NBVAL)
	$(PY) -m pytest -q -m "slow" tests
	$(PY) -m pytest -q -m "browser" tests

# Member briefing from the current edition as built: key findings (HTML, Markdown), figure PNGs, citation.
briefing: html
	$(KAM) briefing

# Preview the built site (_build/site if built, else _build/html) on this machine (PORT=8000 by default).
serve: $(STAMP)
	$(KAM) serve

# Benchmarks (not part of make test): our path beside plain jupyter-book, the no-op rebuild, synthetic waves
# of 112 to 1,000,000 respondents; results in _build/bench/ (kam bench --help; ARGS='--repeats 5').
bench: $(STAMP)
	$(KAM) bench --from-environment

# The one lock: runtime, test and dev groups of pyproject.toml, every package pinned exactly (pip-compile keeps
# the existing pins it can; move a pin by editing requirements.txt or with pip-compile --upgrade-package NAME).
lock: $(STAMP)
	$(BIN)/pip-compile --quiet --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links \
		--extra test --extra dev --output-file requirements.txt pyproject.toml
	echo "-e ." >> requirements.txt

# Under the writer lock, so that no run loses its files (without an environment no run can be going on).
clean:
	@if [ -x $(KAM) ]; then $(KAM) clean; else rm -rf _build; fi
