"""The `{framework-tabs}` directive: one tab per framework, read from the notebooks' tagged cells.

    ```{framework-tabs} alexnet-definition
    ```

inserts a tab set with, for every notebook in _toc.yml that has a code cell
tagged `alexnet-definition`, that cell's source; with the option `:output:`,
what the cell printed instead. The tab's label is the framework's name from the
notebook's title ("AlexNet in PyTorch"), and every tab set on a page switches
together. So the side-by-side page shows exactly what the notebooks run, and a
new framework's notebook joins it by carrying the tags.
"""

from docutils.parsers.rst import directives

from d2lutils.notebooks import cell_stdout, notebook_title, read_notebook, tagged_cells
from notebook_status import GeneratedMarkdown, notebooks_in_toc  # same folder

TITLE_PREFIX = "AlexNet in "


def framework_cells(root, tag):
    """(label, sync key, cell) for each notebook in the TOC with a code cell tagged `tag`."""
    found = []
    for path in notebooks_in_toc(root):
        notebook = read_notebook(path)
        tagged = tagged_cells(notebook, tag)
        if not tagged:
            continue
        if len(tagged) > 1:
            raise ValueError(f"{path.name} has {len(tagged)} code cells tagged {tag!r}; "
                             f"the side-by-side tabs need exactly one.")
        title = notebook_title(notebook)
        if not title.startswith(TITLE_PREFIX):
            raise ValueError(f"{path.name} has a cell tagged {tag!r} but its title is "
                             f"{title!r}; a framework notebook's title reads "
                             f"'{TITLE_PREFIX}<framework>'.")
        found.append((title.removeprefix(TITLE_PREFIX), path.stem.removeprefix("alexnet_"),
                      tagged[0]))
    if not found:
        raise ValueError(f"no notebook in _toc.yml has a code cell tagged {tag!r}.")
    return found


def framework_tabs(root, tag, output=False):
    """The Markdown of a synced tab set: each framework's tagged cell (or its printout)."""
    lines = ["::::{tab-set}", ":sync-group: framework", ""]
    for label, key, cell in framework_cells(root, tag):
        text = cell_stdout(cell) if output else "".join(cell["source"])
        lines += [f":::{{tab-item}} {label}", f":sync: {key}", "",
                  "```text" if output else "```python", *text.rstrip("\n").splitlines(), "```",
                  ":::", ""]
    return "\n".join(lines + ["::::"])


class FrameworkTabs(GeneratedMarkdown):
    """Insert one tab per framework with the source (or output) of the tagged cell."""

    required_arguments = 1
    option_spec = {"output": directives.flag}

    def sources(self):
        return notebooks_in_toc(self.env.srcdir)

    def markdown(self):
        return framework_tabs(self.env.srcdir, self.arguments[0], "output" in self.options)


def setup(app):
    app.add_directive("framework-tabs", FrameworkTabs)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
