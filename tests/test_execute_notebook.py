"""scripts/execute-notebook.py: outputs stored one way, and nothing stored that a reader
should not see (log lines, errors, colour codes, the paths of the machine that ran it)."""

import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from d2lutils.notebooks import read_notebook

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SCRIPT = ROOT / "scripts" / "execute-notebook.py"
spec = importlib.util.spec_from_file_location("execute_notebook", SCRIPT)
execute_notebook = importlib.util.module_from_spec(spec)
spec.loader.exec_module(execute_notebook)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_no_stored_output_holds_log_lines_errors_or_local_paths(path):
    assert execute_notebook.stored_output_problems(read_notebook(path)) == []


def stream(name, text):
    return {"output_type": "stream", "name": name, "text": [text]}


def code(source, outputs=(), tags=()):
    return {"cell_type": "code", "source": source, "metadata": {"tags": list(tags)},
            "outputs": list(outputs), "execution_count": None}


def notebook(*cells):
    cells = [{**cell, "id": f"cell-{index}"} for index, cell in enumerate(cells)]
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


@pytest.mark.parametrize("output, found", [
    (stream("stderr", "I0000 00:00:1795 device_compiler.h:196] Compiled cluster using XLA!\n"),
     "cell 0: printed to stderr: 'I0000 00:00:1795 device_compiler.h:196]"),
    ({"output_type": "error", "ename": "ValueError", "evalue": "bad shape", "traceback": []},
     "cell 0: raised ValueError: bad shape"),
    (stream("stdout", "\x1b[1mModel: sequential\x1b[0m\n"), "cell 0: terminal colour codes"),
    (stream("stdout", "Reading from /home/reader/.cache/d2lutils/fashion-mnist\n"),
     "a path of the machine that ran it: 'Reading from /home/reader/.cache"),
    (stream("stdout", "saved to /tmp/tmpk2j/checkpoint.npz\n"), "/tmp/tmpk2j/checkpoint.npz"),
    ({"output_type": "execute_result", "execution_count": 1, "metadata": {},
      "data": {"text/plain": ["'/usr/lib/python3/site-packages/torch'"]}}, "site-packages/torch"),
    (stream("stdout", "written to C:\\Users\\reader\\runs\n"), "C:\\\\Users\\\\reader"),
    (stream("stdout", "python /opt/torch/.venv/bin/python3\n"), "/opt/torch/.venv"),
    ({"output_type": "display_data", "metadata": {},
      "data": {"text/html": ["<img src='file:///home/reader/plot.png'>"]}}, "/home/reader/plot.png"),
    (stream("stdout", f"read {ROOT}/benchmarks/results/x.json\n"), "benchmarks/results/x.json"),
])
def test_names_each_kind_of_problem_and_its_cell(output, found):
    problems = execute_notebook.stored_output_problems(notebook(code("x", [output])))
    assert len(problems) == 1 and found in problems[0], problems


def test_lets_through_what_a_reader_may_see():
    cells = [code("print(...)", [stream("stdout", "Reading from /usr/share/datasets/fashion-mnist\n"
                                                  "see ./runs/alexnet-torch and ~/notes\n")]),
             code("1 / 0", [{"output_type": "error", "ename": "ZeroDivisionError",
                             "evalue": "division by zero",
                             "traceback": ["\x1b[31mZeroDivisionError\x1b[39m",
                                           "\x1b[32m----> 1\x1b[39m 1 / 0"]}],
                  tags=["raises-exception"])]  # meant to fail: its traceback as IPython shows it
    assert execute_notebook.stored_output_problems(notebook(*cells)) == []


def test_an_expected_errors_traceback_may_not_show_local_paths_either():
    traceback = ["\x1b[31mValueError\x1b[39m",
                 "File \x1b[32m/home/reader/.venv/lib/python3.13/site-packages/torch/nn.py\x1b[39m"]
    cell = code("net(x)", [{"output_type": "error", "ename": "ValueError", "evalue": "shape",
                            "traceback": traceback}], tags=["raises-exception"])
    problems = execute_notebook.stored_output_problems(notebook(cell))
    assert problems and all("a path of the machine that ran it" in line for line in problems)


def test_check_reads_without_executing(tmp_path, capsys):
    path = tmp_path / "logged.ipynb"
    path.write_text(json.dumps(notebook(code("print(1)", [stream("stderr", "W0000 noise\n")],
                                             tags=["remove-stderr"]))))
    before = path.read_text()
    assert execute_notebook.main(["--check", str(path)]) == 4
    assert "logged.ipynb: cell 0: printed to stderr: 'W0000 noise'" in capsys.readouterr().out
    assert path.read_text() == before  # --check changes nothing, not even removable stderr


def test_refuses_a_notebook_that_is_not_there(tmp_path, capsys):
    with pytest.raises(SystemExit):
        execute_notebook.main([str(tmp_path / "missing.ipynb")])
    assert "no such notebook:" in capsys.readouterr().err


def test_executes_in_place_and_drops_only_the_stderr_the_book_hides(tmp_path, capsys):
    pytest.importorskip("nbclient")
    path = tmp_path / "run.ipynb"
    path.write_text(json.dumps(notebook(
        code("import os, sys\nprint(os.getcwd() == %r)\nprint('log line', file=sys.stderr)"
             % str(tmp_path), tags=["remove-stderr"]),
        code("print('kept', 6 * 7)"))))
    assert execute_notebook.main([str(path)]) == 0, capsys.readouterr().out
    cells = read_notebook(path)["cells"]
    assert cells[0]["outputs"] == [stream("stdout", "True\n")]  # ran from the notebook's folder
    assert cells[1]["outputs"] == [stream("stdout", "kept 42\n")]


def test_executed_notebook_with_a_problem_is_written_and_named(tmp_path, capsys):
    pytest.importorskip("nbclient")
    path = tmp_path / "noisy.ipynb"
    path.write_text(json.dumps(notebook(code("import sys\nprint('warning!', file=sys.stderr)"),
                                        code("print('still ran')"))))
    assert execute_notebook.main([str(path)]) == 4
    out = capsys.readouterr().out
    assert "noisy.ipynb: cell 0: printed to stderr: 'warning!'" in out
    assert "execute the notebook again" in out
    cells = read_notebook(path)["cells"]
    assert cells[0]["outputs"] == [stream("stderr", "warning!\n")]  # kept for the reader to fix
    assert cells[1]["outputs"] == [stream("stdout", "still ran\n")]


def test_a_failing_cell_stops_its_notebook_what_ran_is_kept_and_the_next_one_runs(tmp_path,
                                                                                  capsys):
    pytest.importorskip("nbclient")
    failing, next_one = tmp_path / "failing.ipynb", tmp_path / "next.ipynb"
    failing.write_text(json.dumps(notebook(code("print('before')"), code("1 / 0"),
                                           code("print('never')"))))
    next_one.write_text(json.dumps(notebook(code("print('ran')"))))
    assert execute_notebook.main([str(failing), str(next_one)]) == 3
    out = capsys.readouterr().out
    assert "failing.ipynb: CellExecutionError:" in out and "ZeroDivisionError" in out
    assert "the cells up to the failing one are stored" in out
    cells = read_notebook(failing)["cells"]
    assert cells[0]["outputs"] == [stream("stdout", "before\n")]
    assert cells[1]["outputs"][0]["ename"] == "ZeroDivisionError"
    assert cells[2]["outputs"] == []
    assert read_notebook(next_one)["cells"][0]["outputs"] == [stream("stdout", "ran\n")]


def test_stopped_by_sigterm_it_stores_what_ran(tmp_path):
    pytest.importorskip("nbclient")
    path = tmp_path / "long.ipynb"
    path.write_text(json.dumps(notebook(
        code("print('first')"),
        code("import pathlib, time\npathlib.Path('sleeping').touch()\ntime.sleep(120)"),
        code("print('never')"))))
    process = subprocess.Popen([sys.executable, str(SCRIPT), str(path)], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while not (tmp_path / "sleeping").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    process.terminate()  # as a time limit would, in the second cell
    out, _ = process.communicate(timeout=60)
    assert process.returncode == 3, out
    assert "long.ipynb: the cells up to the failing one are stored" in out
    cells = read_notebook(path)["cells"]
    assert cells[0]["outputs"] == [stream("stdout", "first\n")]
    assert cells[1]["outputs"][0]["output_type"] == "error"
    assert cells[2]["outputs"] == []
