"""Execute notebooks in place, as their stored outputs are made:
`.venv/bin/python scripts/execute-notebook.py notebooks/NAME.ipynb [...]`.

The outputs stored in a notebook are part of the chapter's text, so they are
made one way: each notebook runs in the Jupyter kernel its metadata names
(`alexnet-mxnet` for Gluon, which `make setup` registers), from notebooks/,
where a reader's Jupyter starts it, under the budget that D2LUTILS_BUDGET
chooses (unset: the full one on a GPU, the short one on a CPU).

Then two things happen to what it stored. Cells tagged `remove-stderr` lose
their stderr: TensorFlow's C++ runtime logs a line the first time it compiles
with XLA (Keras does so for a grouped convolution on a CPU), whatever
TF_CPP_MIN_LOG_LEVEL says, and the book hides it for the same reason. And the
outputs are checked for what a reader should never see stored: log lines or
warnings on stderr, an error, terminal colour codes, a path on the machine
that ran it. Anything found is listed by cell, and the command ends with
status 4; the notebook is written all the same, so a long run is never lost.
A cell that fails stops its notebook, which is written up to that cell, and
the command goes on to the next one and ends with status 3; SIGTERM (a time
limit, say) does the same to the cell running. `--check` only checks,
executing nothing.
"""

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# A file or folder of the machine that ran the notebook: a home, the scratch
# space, Colab's working folder, a server's data and software folders, an
# installed package, this checkout. Debian's data folder (/usr/share/datasets)
# names a package a reader can install, so it may stay.
LOCAL_PATH = re.compile(
    r"(?<![\w.~-])(?:/(?:home|root|tmp|work|workspace|content|Users|opt|srv|mnt|var|private)/"
    r"|[A-Z]:[\\/]Users[\\/])|site-packages|dist-packages|" + re.escape(str(ROOT)))
ANSI_ESCAPE = re.compile(r"\x1b\[")
FAILED = 3  # exit status where a cell failed
NEEDS_ATTENTION = 4  # where every cell ran, but a stored output should not be stored
# (Python's own status for an error this script does not expect is 1.)


def output_text(output):
    """The text a reader sees in one output: a stream's, or a result's text forms."""
    if output["output_type"] == "stream":
        return "".join(output["text"])
    if output["output_type"] == "error":
        return "\n".join(output.get("traceback", []))
    data = output.get("data", {})
    return "".join("".join(data[kind]) for kind in ("text/plain", "text/markdown", "text/html")
                   if kind in data)


def stored_output_problems(notebook):
    """What a stored output must not hold, one line per finding ("cell 25: ...")."""
    problems = []
    for index, cell in enumerate(notebook["cells"]):
        tags = cell.get("metadata", {}).get("tags", [])
        for output in cell.get("outputs", []):
            text = output_text(output)
            first_line = next((line for line in text.splitlines() if line.strip()), "")[:100]
            where = f"cell {index}"
            if output["output_type"] == "stream" and output["name"] == "stderr":
                problems.append(f"{where}: printed to stderr: {first_line!r}")
            expected_error = output["output_type"] == "error" and "raises-exception" in tags
            if output["output_type"] == "error" and not expected_error:
                problems.append(f"{where}: raised {output.get('ename')}: {output.get('evalue')}")
            if ANSI_ESCAPE.search(text) and not expected_error:  # IPython colours tracebacks
                problems.append(f"{where}: terminal colour codes")
            for match in LOCAL_PATH.finditer(text):
                line = text[text.rfind("\n", 0, match.start()) + 1:].split("\n", 1)[0]
                problems.append(f"{where}: a path of the machine that ran it: {line.strip()[:100]!r}")
    return problems


def drop_removed_stderr(notebook):
    """Delete the stderr of cells tagged remove-stderr; how many outputs went."""
    dropped = 0
    for cell in notebook["cells"]:
        if "remove-stderr" in cell.get("metadata", {}).get("tags", []):
            kept = [output for output in cell.get("outputs", [])
                    if not (output["output_type"] == "stream" and output["name"] == "stderr")]
            dropped += len(cell.get("outputs", [])) - len(kept)
            cell["outputs"] = kept
    return dropped


def execute(path):
    """Run every cell of the notebook at `path` and write it back, outputs included.

    Whatever ran is written, also when a cell fails or SIGTERM stops the run (nbclient
    then shuts the kernel down, and the cell running fails); then the error is raised
    again."""
    import nbclient
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=None,
                                     resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute()
    finally:
        nbformat.write(notebook, path)
    return notebook


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--check", action="store_true",
                        help="only check the stored outputs; execute nothing")
    args = parser.parse_args(argv)
    missing = [str(path) for path in args.notebooks if not path.is_file()]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")
    import nbformat

    found = failed = False
    for path in args.notebooks:
        if not args.check:
            print(f"executing {path} ...", flush=True)
            try:
                execute(path)
            except Exception as error:  # nbclient's CellExecutionError, a kernel that died
                print(f"{path}: {type(error).__name__}: {error}\n"
                      f"{path}: the cells up to the failing one are stored")
                failed = True
        notebook = nbformat.read(path, as_version=4)
        if not args.check and drop_removed_stderr(notebook):
            nbformat.write(notebook, path)
        for problem in stored_output_problems(notebook):
            print(f"{path}: {problem}")
            found = True
    if found or failed:
        print("Fix the cells above (or what they run) and execute the notebook again.")
    return FAILED if failed else NEEDS_ATTENTION if found else 0


if __name__ == "__main__":
    sys.exit(main())
