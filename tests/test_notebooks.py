"""d2lutils.notebooks: a code cell found by its tag, and run."""

import json
from pathlib import Path

import pytest

from d2lutils.notebooks import run_tagged_cell, tagged_source

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


@pytest.mark.parametrize("tags, found", [([[], []], 0), ([["t"], ["t"]], 2)])
def test_refuses_a_tag_that_is_not_on_exactly_one_cell(tmp_path, tags, found):
    notebook = write_notebook(tmp_path / "n.ipynb", [code("a = 1", t) for t in tags])
    with pytest.raises(LookupError, match=f"has {found} code cells tagged 't'; exactly one"):
        tagged_source(notebook, "t")


@pytest.mark.parametrize("framework", ["pytorch", "tensorflow", "mxnet"])
def test_each_framework_notebook_tags_its_alexnet_definition(framework):
    source = tagged_source(NOTEBOOKS / f"alexnet_{framework}.ipynb", "alexnet-definition")
    assert source.startswith("def alexnet(num_classes=10):")
