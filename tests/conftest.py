"""Shared fixtures. The tests use the real Fashion-MNIST, never stand-ins.

The suite runs once in each environment (see the Makefile): the readers'
environment has PyTorch, TensorFlow and JAX, the frozen one MXNet. A test that needs
a framework skips, saying so, where that framework is not installed.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from d2lutils import budget, data

# Notebooks run under the quick budget in the tests (nbval's kernels inherit this
# process's environment): it checks that every cell runs, in about a minute per
# notebook, where the short run a CPU reader gets would take several. A value
# already set wins.
os.environ.setdefault(budget.BUDGET_ENV_VAR, "quick")


@pytest.fixture(scope="session")
def fashion_dir():
    """The folder the real Fashion-MNIST is read from (the set-up put it there)."""
    return data.find_data_dir(download=False)


@pytest.fixture
def fashion_copy(fashion_dir, tmp_path):
    """A private copy of the four .gz files, for tests that damage one."""
    folder = tmp_path / "fashion-copy"
    folder.mkdir()
    for spec in data.FILES.values():
        source = data._find_file(fashion_dir, spec.name)
        shutil.copy(source, folder / source.name)
    return folder


@pytest.fixture
def no_data_anywhere(tmp_path, monkeypatch):
    """A machine without Fashion-MNIST: empty cache, empty system folder, no variable."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(data.DATA_ENV_VAR, raising=False)
    monkeypatch.setattr(data, "SYSTEM_DIR", tmp_path / "no-system-copy")
    return tmp_path


ROOT = Path(__file__).resolve().parent.parent
# The book's own extension reads _toc.yml; the tests use the same reading.
sys.path.insert(0, str(ROOT / "book" / "_ext"))


@pytest.fixture(scope="session")
def built_book(tmp_path_factory):
    """The book built from this checkout with warnings as errors; its _build/html folder."""
    out = tmp_path_factory.mktemp("book")
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    result = subprocess.run(
        [str(jupyter_book), "build", str(ROOT), "--path-output", str(out),
         "--warningiserror", "--nitpick", "--keep-going"],
        capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out / "_build" / "html"
