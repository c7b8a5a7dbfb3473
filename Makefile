# Two commands do all the set-up on a fresh machine:
#   make chat   install, build the index of corpus/ if needed, serve the web chat on 127.0.0.1:7860
#   make test   install (with Debian's chromium for the browser tests), lint, run every test
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export HF_HUB_OFFLINE := 1

.PHONY: chat test lint install install-dev browser

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

# Ray (builds on a cluster) is optional at run time; the tests build on a two-node cluster.
$(VENV)/.installed-dev: requirements-dev.txt requirements-ray.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-dev.txt -r requirements-ray.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# The browser tests drive Debian's chromium through pip's playwright (never `playwright install`);
# the PDF tests and bench.preserve typeset with Debian's DejaVu Sans (Arabic letters, U+FEFF).
browser:
	test -x /usr/bin/chromium -a -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf || \
		(apt-get update -qq && apt-get install -y -qq chromium fonts-dejavu-core)

chat: install
	$(PY) -m ui

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: install-dev browser lint
	$(PY) -m pytest
