"""The Colab path: d2lutils installs on Colab's stock runtime without changing it.

Colab already has the frameworks and d2lutils' few dependencies. `%pip install
d2lutils` leaves an installed package alone when its version satisfies what
d2lutils asks for, and replaces it otherwise, so checking each requirement
against Colab's published versions (colab-versions.txt) is what pip's resolver
would decide there, without needing the network.
"""

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from d2lutils.notebooks import tagged_source

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
# The notebooks that run on Colab's stock runtime (MXNet's needs its own set-up).
COLAB_NOTEBOOKS = sorted(path for path in (ROOT / "notebooks").glob("*.ipynb")
                         if path.name != "alexnet_mxnet.ipynb")


def colab_versions():
    lines = (ROOT / "colab-versions.txt").read_text().splitlines()
    pins = [line.split("==") for line in lines if line and not line.startswith("#")]
    return {name.lower(): Version(version) for name, version in pins}


def requirements(extras):
    listed = PROJECT["dependencies"] + [r for e in extras
                                        for r in PROJECT["optional-dependencies"][e]]
    return [Requirement(r) for r in listed]


def test_colab_python_is_supported():
    assert Requirement(f"python{PROJECT['requires-python']}").specifier.contains(
        colab_versions()["python"])


@pytest.mark.parametrize("extras", [[], ["torch"], ["tensorflow"], ["jax"], ["story"]],
                         ids=["core", "torch", "tensorflow", "jax", "story"])
def test_installing_d2lutils_on_colab_changes_no_package(extras):
    colab = colab_versions()
    for requirement in requirements(extras):
        name = requirement.name.lower()
        assert name in colab, f"{name} is not on Colab: d2lutils would add it there"
        assert requirement.specifier.contains(colab[name], prereleases=True), (
            f"d2lutils asks for {requirement}, Colab has {name} {colab[name]}: "
            f"pip would replace it")


def test_the_check_has_teeth():
    colab = colab_versions()
    assert not Requirement("numpy<1.24").specifier.contains(colab["numpy"])
    assert "mxnet" not in colab  # the mxnet extra is not for Colab's stock runtime


@pytest.mark.parametrize("notebook", COLAB_NOTEBOOKS, ids=lambda path: path.name)
def test_colab_setup_installs_d2lutils_and_nothing_else(notebook):
    setup = tagged_source(notebook, "setup")
    installs = re.findall(r"%pip install (.*)", setup)
    assert len(installs) == 1 and re.fullmatch(r'--quiet "d2lutils @ git\+\S+"', installs[0]), (
        f"{notebook.name}: the Colab set-up must install d2lutils alone, got {installs}")
