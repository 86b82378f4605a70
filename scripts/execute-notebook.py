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
status 1; the notebook is written all the same, so a long run is never lost.
`--check` only checks, executing nothing.
"""

import argparse
import re
import sys
from pathlib import Path

# A file or folder of the machine that ran the notebook: a home, the scratch
# space, Colab's working folder, an installed package. Debian's data folder
# (/usr/share/datasets) names a package a reader can install, so it may stay.
LOCAL_PATH = re.compile(r"(?<![\w.~-])(?:/(?:home|root|tmp|work|content|Users)/|[A-Z]:\\Users\\)"
                        r"|site-packages|dist-packages")
ANSI_ESCAPE = re.compile(r"\x1b\[")


def output_text(output):
    """The text a reader sees in one output: a stream's, or a result's text forms."""
    if output["output_type"] == "stream":
        return "".join(output["text"])
    if output["output_type"] == "error":
        return "\n".join(output.get("traceback", []))
    data = output.get("data", {})
    return "".join("".join(data[kind]) for kind in ("text/plain", "text/markdown") if kind in data)


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
            if output["output_type"] == "error" and "raises-exception" not in tags:
                problems.append(f"{where}: raised {output.get('ename')}: {output.get('evalue')}")
            if ANSI_ESCAPE.search(text):
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
    """Run every cell of the notebook at `path` and write it back, outputs included."""
    import nbclient
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=None,
                                     resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute()
    finally:  # a failing cell's notebook is kept too, up to the error
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

    found = False
    for path in args.notebooks:
        if not args.check:
            print(f"executing {path} ...", flush=True)
            execute(path)
        notebook = nbformat.read(path, as_version=4)
        if not args.check and drop_removed_stderr(notebook):
            nbformat.write(notebook, path)
        for problem in stored_output_problems(notebook):
            print(f"{path}: {problem}")
            found = True
    if found:
        print("Fix the cells above (or what they run) and execute the notebook again.")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
