"""Code cells that other code runs, found in their notebook by a tag.

The notebooks are the source of the chapter's code: the parity check runs each
framework notebook's AlexNet definition, the training benchmark the PyTorch one.
Such a cell carries a tag (Jupyter's cell metadata, shown in the notebook's
property inspector), so it can be found however its text changes. Reads the
notebook as JSON: nothing to install beyond Python.
"""

import json
from pathlib import Path


def tagged_source(notebook, tag):
    """The source of the one code cell of `notebook` that is tagged `tag`."""
    cells = json.loads(Path(notebook).read_text())["cells"]
    sources = ["".join(cell["source"]) for cell in cells
               if cell["cell_type"] == "code" and tag in cell.get("metadata", {}).get("tags", [])]
    if len(sources) != 1:
        raise LookupError(f"{notebook} has {len(sources)} code cells tagged {tag!r}; "
                          f"exactly one was expected.")
    return sources[0]


def run_tagged_cell(notebook, tag, **names):
    """Run that cell with `names` already defined (its imports); return what it defines."""
    namespace = dict(names)
    exec(tagged_source(notebook, tag), namespace)
    return namespace
