"""scripts/set-repository.py: one command moves every Colab link and install line to a fork."""

import importlib.util
import shutil
from pathlib import Path

import pytest

from d2lutils.notebooks import tagged_source

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("set_repository",
                                              ROOT / "scripts" / "set-repository.py")
set_repository = importlib.util.module_from_spec(spec)
spec.loader.exec_module(set_repository)


@pytest.fixture
def checkout(tmp_path, monkeypatch):
    """A copy of the configuration and the notebooks for the script to change."""
    shutil.copy(ROOT / "_config.yml", tmp_path)
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks",
                    ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (tmp_path / "d2lutils").mkdir()
    shutil.copy(ROOT / "d2lutils" / "notebooks.py", tmp_path / "d2lutils")
    monkeypatch.setattr(set_repository, "ROOT", tmp_path)
    return tmp_path


def test_moves_the_config_and_every_notebook_to_the_fork(checkout, capsys):
    old = "https://github.com/d2lutils/alexnet-chapter"
    fork = "https://github.com/reader/alexnet-fork"
    set_repository.main([fork, "book"])
    config = (checkout / "_config.yml").read_text()
    assert f"  url: {fork}\n" in config and "  branch: book\n" in config
    for notebook in (checkout / "notebooks").glob("*.ipynb"):
        text = notebook.read_text()
        assert old not in text
        assert f"git+{fork}" in tagged_source(notebook, "setup"), notebook.name
    package = (checkout / "d2lutils" / "notebooks.py").read_text()
    assert f'REPOSITORY = "{fork}"\n' in package and 'BRANCH = "book"\n' in package
    assert "alexnet_pytorch.ipynb" in capsys.readouterr().out


def test_refuses_an_address_that_is_not_a_github_repository(checkout):
    with pytest.raises(SystemExit, match="usage: python scripts/set-repository.py"):
        set_repository.main(["github.com/reader"])
    assert (checkout / "_config.yml").read_text() == (ROOT / "_config.yml").read_text()


def test_refuses_to_change_anything_when_the_package_disagrees(checkout):
    package = checkout / "d2lutils" / "notebooks.py"
    package.write_text(package.read_text().replace("d2lutils/alexnet-chapter", "someone/else"))
    before = {path: path.read_text() for path in checkout.rglob("*") if path.is_file()}
    with pytest.raises(SystemExit, match=r"does not name https://github\.com/d2lutils/"
                                         r"alexnet-chapter as its REPOSITORY"):
        set_repository.main(["https://github.com/reader/alexnet-fork"])
    assert {path: path.read_text() for path in before} == before
