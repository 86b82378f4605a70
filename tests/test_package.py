"""The installed d2lutils: one version number, set in one place."""

import importlib.metadata
from pathlib import Path

import d2lutils

ROOT = Path(__file__).resolve().parent.parent


def test_installed_version_is_the_packages_own():
    assert importlib.metadata.version("d2lutils") == d2lutils.__version__
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject
    assert '\nversion = {attr = "d2lutils.__version__"}' in pyproject
    assert pyproject.count("\nversion = ") == 1  # not also a literal number
