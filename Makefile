# The two commands the README documents. Each sets up what it needs first.
#   make test   every test: d2lutils' unit tests, the notebooks under nbval, the book build
#   make book   the HTML book, into _build/html
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: test book setup data browser clean

test: setup data browser
	$(BIN)/python -m pytest

book: setup
	$(BIN)/jupyter-book build . --warningiserror --nitpick --keep-going

# A virtual environment with the pinned packages; rebuilt when the pins change.
setup: $(VENV)/installed
$(VENV)/installed: constraints.txt requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -r requirements.txt
	touch $@

# Fashion-MNIST: Debian's package where apt is usable, else the official download.
data: setup
	PYTHON=$(BIN)/python sh scripts/get-fashion-mnist.sh

# Debian's Chromium and its driver, for the test that reads the book in a real browser.
browser:
	sh scripts/apt-install.sh chromium chromium-driver

clean:
	rm -rf _build .pytest_cache test-artifacts
