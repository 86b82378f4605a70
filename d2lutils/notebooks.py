"""What notebooks read from each other: tagged cells, and the chapter's stored files.

The notebooks are the source of the chapter's code: the parity check runs each
framework notebook's AlexNet definition, the training benchmark the PyTorch one.
Such a cell carries a tag (Jupyter's cell metadata, shown in the notebook's
property inspector), so it can be found however its text changes; so does
every cell whose stored output the book's pages, the status page or the tests
quote. Each notebook's first code cell, which prepares the run and ends by
naming the machine, is tagged `setup`. Reads the notebook as JSON:
nothing to install beyond Python.

Some notebooks also quote what another one stored (the features notebook quotes
the PyTorch notebook's training run) or a benchmark's result. `chapter_file`
reads such a file from the checkout the notebook runs in, or, on Colab, where
the notebook arrives alone, from the chapter's repository on GitHub.
"""

import json
import urllib.error
import urllib.request
from pathlib import Path

# The chapter's repository; scripts/set-repository.py rewrites it for a fork.
REPOSITORY = "https://github.com/d2lutils/alexnet-chapter"
BRANCH = "main"


def read_notebook(notebook):
    """A notebook as JSON (a dict with its "cells"), read from a path to an .ipynb file.

    A notebook already read is returned as it is, so every function here takes either.
    """
    if isinstance(notebook, (str, Path)):
        return json.loads(Path(notebook).read_text())
    return notebook


def notebook_title(notebook):
    """The first line of the notebook's first cell, without its "# " ("AlexNet in JAX/Flax")."""
    first = "".join(read_notebook(notebook)["cells"][0]["source"]).strip().splitlines()
    return first[0].removeprefix("# ") if first else ""


def tagged_cells(notebook, tag, cell_type="code"):
    """Every cell of `notebook` of the given type that is tagged `tag`, as dicts.

    `notebook`: a path to an .ipynb file, or a notebook already read as JSON.
    Code cells by default; cell_type="markdown" finds prose that others quote.
    """
    return [cell for cell in read_notebook(notebook)["cells"]
            if cell["cell_type"] == cell_type and tag in cell.get("metadata", {}).get("tags", [])]


def tagged_cell(notebook, tag, cell_type="code"):
    """The one cell of `notebook` tagged `tag` (see tagged_cells)."""
    tagged = tagged_cells(notebook, tag, cell_type)
    if len(tagged) != 1:
        name = notebook if isinstance(notebook, (str, Path)) else "the notebook"
        raise LookupError(f"{name} has {len(tagged)} {cell_type} cells tagged {tag!r}; "
                          f"exactly one was expected.")
    return tagged[0]


def tagged_source(notebook, tag, cell_type="code"):
    """The source of the one cell of `notebook` that is tagged `tag`."""
    return "".join(tagged_cell(notebook, tag, cell_type)["source"])


def cell_stdout(cell):
    """What a code cell printed, as stored with it (its stdout stream outputs, joined)."""
    return "".join("".join(output["text"]) for output in cell.get("outputs", [])
                   if output.get("output_type") == "stream" and output.get("name") == "stdout")


def run_tagged_cell(notebook, tag, **names):
    """Run that cell with `names` already defined (its imports); return what it defines."""
    namespace = dict(names)
    exec(tagged_source(notebook, tag), namespace)
    return namespace


def chapter_file(relative_path, start=None):
    """The text of a file of the chapter's repository, e.g. "benchmarks/results/x.json".

    Read from the checkout around `start` (by default the current folder: a
    notebook runs in notebooks/); outside a checkout (on Colab), downloaded
    from branch BRANCH of REPOSITORY on GitHub.
    """
    start = Path(start or Path.cwd()).resolve()
    checkout = next((folder for folder in (start, *start.parents)
                     if (folder / "_config.yml").exists() and (folder / "d2lutils").is_dir()),
                    None)
    if checkout is not None:
        path = checkout / relative_path
        if not path.exists():
            raise FileNotFoundError(f"{relative_path} is missing from the checkout at "
                                    f"{checkout}; restore it with `git checkout -- "
                                    f"{relative_path}`, or re-run what writes it.")
        return path.read_text()
    owner_and_name = REPOSITORY.removeprefix("https://github.com/")
    url = f"https://raw.githubusercontent.com/{owner_and_name}/{BRANCH}/{relative_path}"
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.read().decode()
    except urllib.error.HTTPError as error:
        raise FileNotFoundError(
            f"{relative_path} is not in {REPOSITORY} (branch {BRANCH}): downloading {url} "
            f"gave HTTP {error.code}. If you work in a fork, point the chapter at it with "
            f"scripts/set-repository.py.") from None
    except (urllib.error.URLError, TimeoutError) as error:
        reason = getattr(error, "reason", error)
        raise FileNotFoundError(
            f"{relative_path}: this notebook is not in a checkout of the chapter, and "
            f"{url} could not be reached ({reason}). Connect to the internet, or run the "
            f"notebook from a checkout's notebooks/ folder.") from None


def kernel_python(kernel_name):
    """The Python that the Jupyter kernel `kernel_name` starts, or None where there is none.

    A notebook that needs another environment (MXNet's, registered by the
    set-up as the kernel "alexnet-mxnet") runs a script with that Python.
    """
    # Imported here: jupyter_client is there wherever a notebook runs, and the
    # rest of this module needs nothing beyond Python.
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        return KernelSpecManager().get_kernel_spec(kernel_name).argv[0]
    except NoSuchKernel:
        return None
