"""book/_ext/framework_tabs.py: the side-by-side page is generated from the notebooks' tagged cells."""

import json
import re
import shutil
from pathlib import Path

import pytest

pytest.importorskip("sphinx", reason="the book's tools are not installed in this environment")
import framework_tabs  # noqa: E402  (book/_ext, put on the path by conftest)

from d2lutils.notebooks import cell_stdout, read_notebook, tagged_cell  # noqa: E402

from . import frameworks  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# In _toc.yml's order, with the labels the notebooks' titles give.
FRAMEWORKS = {frameworks.NOTEBOOK_OF[name].removeprefix("alexnet_"): frameworks.TAB_LABEL[name]
              for name in frameworks.NAMES}


def notebook(framework):
    return read_notebook(ROOT / "notebooks" / f"alexnet_{framework}.ipynb")


def tagged(framework, tag):
    return tagged_cell(notebook(framework), tag)


def test_definitions_tab_set_holds_each_notebooks_tagged_cell_in_reading_order():
    page = framework_tabs.framework_tabs(ROOT, "alexnet-definition")
    assert page.startswith("::::{tab-set}\n:sync-group: framework\n") and page.endswith("::::")
    positions = []
    for framework, label in FRAMEWORKS.items():
        source = "".join(tagged(framework, "alexnet-definition")["source"])
        assert "def alexnet(" in source
        block = f":::{{tab-item}} {label}\n:sync: {framework}\n\n```python\n{source.rstrip()}\n```"
        assert block in page
        positions.append(page.index(block))
    assert positions == sorted(positions)  # _toc.yml's order


def test_output_tab_set_holds_what_each_summary_cell_printed():
    page = framework_tabs.framework_tabs(ROOT, "alexnet-summary", output=True)
    for framework in FRAMEWORKS:
        printed = cell_stdout(tagged(framework, "alexnet-summary"))
        assert printed.rstrip().endswith("parameters: 46,764,746")
        assert f"```text\n{printed.rstrip()}\n```" in page
    assert page.count(":sync: ") == len(FRAMEWORKS)


def copy_of_the_book_sources(tmp_path):
    shutil.copy(ROOT / "_toc.yml", tmp_path)
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks",
                    ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return tmp_path


def test_a_tag_on_two_cells_of_one_notebook_is_refused(tmp_path):
    root = copy_of_the_book_sources(tmp_path)
    path = root / "notebooks" / "alexnet_tensorflow.ipynb"
    nb = read_notebook(path)
    for cell in nb["cells"][1:]:
        if cell["cell_type"] == "code":
            cell["metadata"].setdefault("tags", []).append("alexnet-definition")
            break
    path.write_text(json.dumps(nb))
    with pytest.raises(ValueError, match=r"alexnet_tensorflow\.ipynb has 2 code cells tagged "
                                         r"'alexnet-definition'"):
        framework_tabs.framework_tabs(root, "alexnet-definition")


def test_an_unknown_tag_is_refused():
    with pytest.raises(ValueError, match=r"no notebook in _toc\.yml has a code cell tagged "
                                         r"'alexnet-defnition'"):
        framework_tabs.framework_tabs(ROOT, "alexnet-defnition")


def test_the_page_uses_the_directive_not_a_copy():
    page = (ROOT / "book" / "alexnet_side_by_side.md").read_text()
    assert "```{framework-tabs} alexnet-definition\n```" in page
    assert "```{framework-tabs} alexnet-summary\n:output:\n```" in page
    assert "def alexnet(" not in page


def test_built_page_shows_every_framework(built_book):
    html = (built_book / "book" / "alexnet_side_by_side.html").read_text()
    for key, label in FRAMEWORKS.items():  # one tab in each of the two sets
        tabs = re.findall(rf'data-sync-id="{key}"[^>]*>\s*([^<]*?)\s*</label>', html)
        assert tabs == [label, label]
    assert html.count("alexnet</span><span class=\"p\">(</span><span class=\"n\">num_classes") \
        >= len(FRAMEWORKS)
    assert "output shape: (1, 54, 54, 96)" in html and "output shape: (1, 96, 54, 54)" in html
