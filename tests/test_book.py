"""The book: every notebook is in it, executed, installable on Colab, and it builds cleanly."""

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def toc_files(entries):
    for entry in entries:
        if "file" in entry:
            yield entry["file"]
        for key in ("chapters", "sections", "parts"):
            yield from toc_files(entry.get(key, []))


def test_every_notebook_is_in_the_table_of_contents():
    listed = set(toc_files(TOC["parts"]))
    assert NOTEBOOKS, "no notebooks found"
    for notebook in NOTEBOOKS:
        assert f"notebooks/{notebook.stem}" in listed, f"{notebook.name} missing from _toc.yml"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_outputs_are_stored(notebook):
    cells = [c for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code"]
    unexecuted = [i for i, cell in enumerate(cells) if cell.execution_count is None]
    assert not unexecuted, f"code cells {unexecuted} of {notebook.name} were never executed"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.name)
def test_setup_cell_installs_from_the_configured_repository(notebook):
    first_code = next(c for c in nbformat.read(notebook, as_version=4).cells
                      if c.cell_type == "code")
    assert 'if "google.colab" in sys.modules:' in first_code.source
    assert f"git+{CONFIG['repository']['url']}" in first_code.source


def test_book_builds_without_warnings(tmp_path):
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    result = subprocess.run(
        [str(jupyter_book), "build", str(ROOT), "--path-output", str(tmp_path),
         "--warningiserror", "--nitpick", "--keep-going"],
        capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    html = tmp_path / "_build" / "html"
    assert "AlexNet: the network that started deep learning" in (
        html / "book" / "intro.html").read_text()
    for notebook in NOTEBOOKS:
        page = (html / "notebooks" / f"{notebook.stem}.html").read_text()
        colab = (f"https://colab.research.google.com/github/"
                 f"{CONFIG['repository']['url'].removeprefix('https://github.com/')}"
                 f"/blob/{CONFIG['repository']['branch']}/notebooks/{notebook.name}")
        assert colab in page, f"{notebook.name}: no Colab launch link"
