# The two commands the README documents. Each sets up what it needs first.
#   make test   every test: d2lutils' unit tests in both environments, every notebook
#               under nbval (each in its own environment's kernel), the book build
#   make book   the HTML book, into _build/html
#
# Two environments (README, "Two environments"):
#   .venv         the readers' one: Python 3.13 and Colab's versions (constraints.txt)
#   .venv-mxnet   MXNet 1.9.1, frozen: Python 3.11, NumPy 1.23 (constraints-mxnet.txt)
PYTHON_READERS ?= $(shell sh scripts/find-python.sh 3.13 READERS)
PYTHON_MXNET ?= $(shell sh scripts/find-python.sh 3.11 MXNET)
VENV := .venv
BIN := $(VENV)/bin
MXNET_VENV := .venv-mxnet
MXNET_BIN := $(MXNET_VENV)/bin
# The MXNet environment as a Jupyter kernel that the readers' Jupyter can start:
# alexnet_mxnet.ipynb names it in its metadata, nbval and JupyterLab follow.
MXNET_KERNEL := $(VENV)/share/jupyter/kernels/alexnet-mxnet/kernel.json

.PHONY: test book setup data browser clean

test: setup data browser
	$(BIN)/python -m pytest --durations=12
	$(MXNET_BIN)/python -m pytest tests

book: $(VENV)/installed
	$(BIN)/jupyter-book build . --warningiserror --nitpick --keep-going

setup: $(VENV)/installed $(MXNET_VENV)/installed $(MXNET_KERNEL)

# Each environment is rebuilt when its pins change.
$(VENV)/installed: constraints.txt requirements.txt pyproject.toml
	@test -n "$(PYTHON_READERS)" || { echo "No Python 3.13 for the readers' environment (see above)." >&2; exit 1; }
	rm -rf $(VENV)
	$(PYTHON_READERS) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -r requirements.txt
	touch $@

$(MXNET_VENV)/installed: constraints-mxnet.txt requirements-mxnet.txt pyproject.toml
	@test -n "$(PYTHON_MXNET)" || { echo "No Python 3.11 for the MXNet environment (see above)." >&2; exit 1; }
	rm -rf $(MXNET_VENV)
	$(PYTHON_MXNET) -m venv $(MXNET_VENV)
	$(MXNET_BIN)/python -m pip install --quiet -c constraints-mxnet.txt -r requirements-mxnet.txt
	touch $@

$(MXNET_KERNEL): $(VENV)/installed $(MXNET_VENV)/installed
	mkdir -p $(dir $@)
	printf '{"argv": ["%s", "-m", "ipykernel_launcher", "-f", "{connection_file}"],\n "display_name": "Python 3 (MXNet 1.9.1)", "language": "python"}\n' \
		"$(CURDIR)/$(MXNET_BIN)/python" > $@

# Fashion-MNIST: Debian's package where apt is usable, else the official download.
data: $(VENV)/installed
	PYTHON=$(BIN)/python sh scripts/get-fashion-mnist.sh

# Debian's Chromium and its driver, for the test that reads the book in a real browser.
browser:
	sh scripts/apt-install.sh chromium chromium-driver

clean:
	rm -rf _build .pytest_cache test-artifacts
