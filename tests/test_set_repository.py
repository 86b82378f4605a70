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
    cloning = []
    for notebook in (checkout / "notebooks").glob("*.ipynb"):
        text = notebook.read_text()
        assert old not in text
        setup = tagged_source(notebook, "setup")
        assert f'git+{fork}@book"' in setup, notebook.name
        if "git clone" in setup:
            assert f"--branch book {fork} chapter" in setup, notebook.name
            cloning.append(notebook.name)
    assert sorted(cloning) == ["alexnet_parity.ipynb", "two_gpus.ipynb"]
    package = (checkout / "d2lutils" / "notebooks.py").read_text()
    assert f'REPOSITORY = "{fork}"\n' in package and 'BRANCH = "book"\n' in package
    assert "alexnet_pytorch.ipynb" in capsys.readouterr().out


def test_without_a_branch_the_configured_one_stays(checkout):
    fork = "https://github.com/reader/alexnet-fork"
    set_repository.main([fork])
    assert "  branch: main\n" in (checkout / "_config.yml").read_text()
    for notebook in (checkout / "notebooks").glob("*.ipynb"):
        assert f'git+{fork}@main"' in tagged_source(notebook, "setup"), notebook.name


@pytest.mark.parametrize("address, message", [
    ("github.com/reader", "usage: python scripts/set-repository.py"),
    ("https://github.com/reader/alexnet-fork.git",
     r"is a clone address; give the repository's page, https://github\.com/reader/alexnet-fork$"),
])
def test_refuses_an_address_that_is_not_a_github_repository(checkout, address, message):
    with pytest.raises(SystemExit, match=message):
        set_repository.main([address])
    assert (checkout / "_config.yml").read_text() == (ROOT / "_config.yml").read_text()


def test_a_config_without_the_repository_lines_is_named(checkout):
    config = checkout / "_config.yml"
    config.write_text(config.read_text().replace("  url: ", "  address: "))
    with pytest.raises(SystemExit, match="_config.yml has no `repository:` section"):
        set_repository.main(["https://github.com/reader/alexnet-fork"])


def test_refuses_to_change_anything_when_the_package_disagrees(checkout):
    package = checkout / "d2lutils" / "notebooks.py"
    package.write_text(package.read_text().replace("d2lutils/alexnet-chapter", "someone/else"))
    before = {path: path.read_text() for path in checkout.rglob("*") if path.is_file()}
    with pytest.raises(SystemExit, match=r"does not name https://github\.com/d2lutils/"
                                         r"alexnet-chapter as its REPOSITORY"):
        set_repository.main(["https://github.com/reader/alexnet-fork"])
    assert {path: path.read_text() for path in before} == before
