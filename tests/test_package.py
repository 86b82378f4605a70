"""The installed d2lutils: one version number, set in one place; a missing framework named."""

import importlib
import importlib.metadata
from pathlib import Path

import pytest

import d2lutils

from . import frameworks

ROOT = Path(__file__).resolve().parent.parent


def test_installed_version_is_the_packages_own():
    assert importlib.metadata.version("d2lutils") == d2lutils.__version__
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject
    assert '\nversion = {attr = "d2lutils.__version__"}' in pyproject
    assert pyproject.count("\nversion = ") == 1  # not also a literal number


@pytest.mark.skipif(frameworks.installed("mxnet"), reason="MXNet is installed here")
def test_mxnet_module_without_mxnet_says_how_to_get_it():
    # Checked before NumPy's version: here that is 2.x, and "install numpy<2" would mislead.
    with pytest.raises(ImportError, match=r"^MXNet is not installed in this Python\. .*"
                                          r"\.venv-mxnet\): pip install mxnet 'numpy<2'\.$"):
        importlib.import_module("d2lutils.mxnet")
