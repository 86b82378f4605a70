"""d2lutils.notebooks: a code cell found by its tag, and run."""

import json
import re
from pathlib import Path

import pytest

from d2lutils.notebooks import (cell_stdout, notebook_title, read_notebook, run_tagged_cell,
                                tagged_cell, tagged_source)

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def write_notebook(path, cells):
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                                "nbformat_minor": 5}))
    return path


def code(source, tags=()):
    return {"cell_type": "code", "source": source, "metadata": {"tags": list(tags)},
            "outputs": [], "execution_count": None}


def test_finds_the_tagged_cell_whatever_its_text(tmp_path):
    notebook = write_notebook(tmp_path / "n.ipynb", [
        code("x = 1"), {"cell_type": "markdown", "source": "tagged", "metadata": {"tags": ["t"]}},
        code(["y = scale * 2\n", "z = y + 1"], tags=["t"])])
    assert tagged_source(notebook, "t") == "y = scale * 2\nz = y + 1"
    defined = run_tagged_cell(notebook, "t", scale=10)
    assert (defined["y"], defined["z"]) == (20, 21)


def test_reads_a_notebook_already_loaded_and_what_its_cell_printed():
    cell = code("print('a'); print('b')", tags=["shown"])
    cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["a\n", "b\n"]},
                       {"output_type": "stream", "name": "stderr", "text": "warning\n"},
                       {"output_type": "stream", "name": "stdout", "text": "c\n"}]
    notebook = {"cells": [code("x = 1"), cell]}
    assert tagged_cell(notebook, "shown") is cell
    assert cell_stdout(cell) == "a\nb\nc\n"  # stdout only, text as a list or a string
    with pytest.raises(LookupError, match="the notebook has 0 code cells tagged 'absent'"):
        tagged_cell(notebook, "absent")


@pytest.mark.parametrize("tags, found", [([[], []], 0), ([["t"], ["t"]], 2)])
def test_refuses_a_tag_that_is_not_on_exactly_one_cell(tmp_path, tags, found):
    notebook = write_notebook(tmp_path / "n.ipynb", [code("a = 1", t) for t in tags])
    with pytest.raises(LookupError, match=f"has {found} code cells tagged 't'; exactly one"):
        tagged_source(notebook, "t")


def test_each_framework_notebook_tags_its_alexnet_definition():
    from .frameworks import notebook_frameworks

    assert {"pytorch", "tensorflow", "jax", "mxnet"} <= set(notebook_frameworks())
    for framework in notebook_frameworks():
        source = tagged_source(NOTEBOOKS / f"alexnet_{framework}.ipynb", "alexnet-definition")
        assert re.search(r"^def alexnet\(num_classes=10\b", source, re.MULTILINE), framework


def make_checkout(folder):
    (folder / "_config.yml").write_text("title: x\n")
    (folder / "d2lutils").mkdir()
    (folder / "notebooks").mkdir()
    (folder / "benchmarks").mkdir()
    return folder


def test_chapter_file_reads_the_checkout_around_the_notebook(tmp_path):
    from d2lutils.notebooks import chapter_file

    checkout = make_checkout(tmp_path)
    (checkout / "benchmarks" / "r.json").write_text('{"a": 1}')
    assert chapter_file("benchmarks/r.json", start=checkout / "notebooks") == '{"a": 1}'


def test_chapter_file_missing_from_a_checkout_is_not_fetched_elsewhere(tmp_path, monkeypatch):
    from d2lutils import notebooks

    def no_download(url, timeout):
        raise AssertionError("downloaded although a checkout was found")
    monkeypatch.setattr(notebooks.urllib.request, "urlopen", no_download)
    checkout = make_checkout(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"benchmarks/r\.json is missing from the "
                                                r"checkout at .*git checkout -- benchmarks/r\.json"):
        notebooks.chapter_file("benchmarks/r.json", start=checkout / "notebooks")


def test_chapter_file_outside_a_checkout_and_offline_says_what_to_do(tmp_path, monkeypatch):
    import urllib.error

    from d2lutils import notebooks

    def offline(url, timeout):
        raise urllib.error.URLError("no network")
    monkeypatch.setattr(notebooks.urllib.request, "urlopen", offline)
    with pytest.raises(FileNotFoundError, match=r"not in a checkout of the chapter, and "
                                                r"https://raw\.githubusercontent\.com/.+/main/"
                                                r"benchmarks/r\.json could not be reached "
                                                r"\(no network\)\. Connect to the internet"):
        notebooks.chapter_file("benchmarks/r.json", start=tmp_path)


def test_chapter_file_not_in_the_repository_names_the_fork_script(tmp_path, monkeypatch):
    import urllib.error

    from d2lutils import notebooks

    def not_found(url, timeout):
        raise urllib.error.HTTPError(url, 404, "Not Found", None, None)
    monkeypatch.setattr(notebooks.urllib.request, "urlopen", not_found)
    with pytest.raises(FileNotFoundError, match=r"gave HTTP 404\. If you work in a fork, .*"
                                                r"scripts/set-repository\.py"):
        notebooks.chapter_file("benchmarks/r.json", start=tmp_path)


def test_package_names_the_configured_repository():
    import re

    from d2lutils import notebooks

    config = (NOTEBOOKS.parent / "_config.yml").read_text()
    assert notebooks.REPOSITORY == re.search(r"^  url: (\S+)$", config, re.MULTILINE).group(1)
    assert notebooks.BRANCH == re.search(r"^  branch: (\S+)$", config, re.MULTILINE).group(1)


def test_kernel_python_names_a_registered_kernels_python_or_none(tmp_path, monkeypatch):
    pytest.importorskip("jupyter_client", reason="Jupyter is not installed in this environment")
    from d2lutils.notebooks import kernel_python

    kernel = tmp_path / "kernels" / "other-env"
    kernel.mkdir(parents=True)
    (kernel / "kernel.json").write_text(json.dumps(
        {"argv": ["/envs/other/bin/python", "-m", "ipykernel_launcher", "-f",
                  "{connection_file}"], "display_name": "Other", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    assert kernel_python("other-env") == "/envs/other/bin/python"
    assert kernel_python("no-such-kernel") is None


def test_finds_prose_by_its_tag_and_reads_the_title(tmp_path):
    notebook = write_notebook(tmp_path / "n.ipynb", [
        {"cell_type": "markdown", "source": ["# AlexNet in Flax\n", "More."], "metadata": {}},
        {"cell_type": "markdown", "source": "## Summary", "metadata": {"tags": ["summary"]}},
        code("s = 1", tags=["summary"])])
    assert notebook_title(notebook) == "AlexNet in Flax"
    assert tagged_source(notebook, "summary", "markdown") == "## Summary"
    assert tagged_source(notebook, "summary") == "s = 1"  # code cells unless asked
    loaded = read_notebook(notebook)
    assert read_notebook(loaded) is loaded and loaded["cells"][1]["source"] == "## Summary"
