"""The `{notebook-status}` directive: when, where and with what result each notebook last ran.

Read from the notebooks themselves, so the status page cannot disagree with
them: the run's date and duration from the timing that Jupyter records in each
cell, the machine from the last line the cell tagged `setup` printed, and the headline
from the cells tagged `status`.
"""

from datetime import datetime
from pathlib import Path

import yaml
from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

from d2lutils.notebooks import cell_stdout, read_notebook, tagged_cell, tagged_cells


def notebook_status(path):
    """(last run date, minutes it took, machine line, headline lines) of one notebook."""
    notebook = read_notebook(path)
    cells = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    timing = [c["metadata"].get("execution", {}) for c in cells]
    starts = [_time(t["iopub.execute_input"]) for t in timing if "iopub.execute_input" in t]
    ends = [_time(t["shell.execute_reply"]) for t in timing if "shell.execute_reply" in t]
    if not starts or not ends:
        return None
    # Looked up by path, so that an error names the notebook.
    machine = cell_stdout(tagged_cell(path, "setup")).strip().splitlines()[-1:] or [
        "(not recorded)"]
    headline = [line for c in tagged_cells(path, "status")
                for line in cell_stdout(c).strip().splitlines()]
    return (max(ends).strftime("%Y-%m-%d %H:%M UTC"), (max(ends) - min(starts)).total_seconds(),
            machine[0], headline)


def toc_entries(root):
    """The pages named in _toc.yml, without suffix, the root page first, in reading order."""
    def files(entries):
        for entry in entries:
            if "file" in entry:
                yield entry["file"]
            for key in ("chapters", "sections", "parts"):
                yield from files(entry.get(key, []))

    toc = yaml.safe_load((Path(root) / "_toc.yml").read_text())
    return [toc["root"]] + list(files(toc.get("parts", [])))


def notebooks_in_toc(root):
    """The notebooks named in _toc.yml, in reading order."""
    return [Path(root) / f"{name}.ipynb" for name in toc_entries(root)
            if (Path(root) / f"{name}.ipynb").exists()]


def status_table(root):
    """The status of every notebook as a Markdown table."""
    rows = ["| notebook | last run | took | on | result |", "| --- | --- | --- | --- | --- |"]
    for path in notebooks_in_toc(root):
        status = notebook_status(path)
        link = f"[{path.stem}](../{path.relative_to(root).with_suffix('').as_posix()})"
        if status is None:
            rows.append(f"| {link} | never executed | | | |")
            continue
        when, seconds, machine, headline = status
        result = "<br>".join(headline) or "—"
        rows.append(f"| {link} | {when} | {seconds / 60:.1f} min | {machine} | {result} |")
    return "\n".join(rows)


def _time(stamp):
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


class GeneratedMarkdown(SphinxDirective):
    """A directive that inserts Markdown generated from files in the book's source."""

    def sources(self):
        """The files the Markdown is read from: the page is rebuilt when one changes."""
        raise NotImplementedError

    def markdown(self):
        raise NotImplementedError

    def run(self):
        for path in self.sources():
            self.env.note_dependency(str(path))
        lines = StringList(self.markdown().splitlines(), source=type(self).__name__)
        container = nodes.container()
        self.state.nested_parse(lines, self.content_offset, container)
        return container.children


class NotebookStatus(GeneratedMarkdown):
    """Insert the status table of the notebooks listed in _toc.yml."""

    def sources(self):
        return notebooks_in_toc(self.env.srcdir)

    def markdown(self):
        return status_table(self.env.srcdir)


def setup(app):
    app.add_directive("notebook-status", NotebookStatus)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
