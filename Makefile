# Two commands do all the set-up on a fresh machine with Python 3.11+:
#   make demo   create .venv, install, run the seed story
#   make test   create .venv, install with test extras, run the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CHROMIUM ?= /usr/bin/chromium
APT_GET  ?= apt-get

.PHONY: demo test test-fast golden bench bench-pictures browser docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/placement demo

test: $(STAMP) browser
	$(BIN)/python -m pytest -n 2 tests

test-fast: $(STAMP) browser
	$(BIN)/python -m pytest -n 2 -m 'not slow' tests

# rewrite tests/golden/outputs after a deliberate output change (review the diff before committing)
golden: $(STAMP)
	$(BIN)/python -m tests.golden.regenerate

# The picture tests open every page in headless Chromium: Debian's package, installed where
# it is missing and apt-get can (as root); otherwise those tests are skipped, and this says so.
browser:
	@if [ -x $(CHROMIUM) ]; then \
	  echo "browser tests: $$($(CHROMIUM) --version 2>/dev/null)"; \
	elif command -v $(APT_GET) >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "browser tests: installing Debian's chromium ($(APT_GET) install chromium)"; \
	  { $(APT_GET) update -qq && DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y -qq chromium >/dev/null; } \
	    || echo "browser tests: $(APT_GET) install chromium FAILED: the browser tests will be SKIPPED"; \
	else \
	  echo "browser tests: $(CHROMIUM) is missing and cannot be installed here (needs $(APT_GET), as root):" \
	       "the browser tests will be SKIPPED"; \
	fi

# The README's pictures: the demo's story (docs/demo) and screenshots of its pages (docs/demo-*.png).
docs: $(STAMP) browser
	rm -rf docs/demo
	$(BIN)/placement demo --html docs/demo > /dev/null
	$(BIN)/python -m tests.screenshots docs/demo docs

# bench/scale.py first (issue 14's targets, the varied clusters, growth; bench/RESULTS-scale.md and
# the summary at the top of bench/RESULTS.md), then bench/run.py (the rest of bench/RESULTS.md)
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/scale.py
	$(BIN)/python bench/run.py

bench-pictures: $(STAMP) browser
	$(BIN)/python bench/pictures.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
