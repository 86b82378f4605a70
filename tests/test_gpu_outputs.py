"""scripts/gpu-outputs.sh: the GPU runs' command refuses what would waste GPU time, runs its
steps in order and stops at a failure, and its rehearsal runs a step end to end on a CPU
without changing the checkout."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from d2lutils.notebooks import read_notebook

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "gpu-outputs.sh"


def run(*args, script=SCRIPT, cwd=ROOT, python=sys.executable, **env):
    return subprocess.run(["bash", str(script), *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, env={**os.environ, "PYTHON": python, **env}, timeout=600)


def without(tmp_path, *modules):
    """PYTHONPATH under which importing each of `modules` fails, as where it is not installed."""
    folder = tmp_path / "without"
    folder.mkdir()
    for module in modules:
        (folder / f"{module}.py").write_text(f"raise ImportError('no {module} here')\n")
    return str(folder)


def test_refuses_an_unknown_step_before_anything_runs(tmp_path):
    result = run(tmp_path / "out", "pytorch", "tensorflow")
    assert result.returncode == 2
    assert "unknown step 'tensorflow': the steps are benchmark pytorch hardware" in result.stderr
    assert not (tmp_path / "out").exists()


def test_refuses_without_an_output_folder():
    result = run("--rehearse")
    assert result.returncode == 2 and "usage: bash scripts/gpu-outputs.sh" in result.stderr


def test_a_python_without_torch_is_named(tmp_path):
    result = run(tmp_path / "out", "command", PYTHONPATH=without(tmp_path, "torch"))
    assert result.returncode == 1
    assert f"{sys.executable} cannot import torch" in result.stderr


def test_notebook_steps_need_a_kernel_before_the_benchmark_spends_time(tmp_path):
    pytest.importorskip("torch")
    result = run("--rehearse", tmp_path / "out", "benchmark", "paper",
                 PYTHONPATH=without(tmp_path, "nbclient"))
    assert result.returncode == 1
    assert "no nbclient here" in result.stderr  # the import's own error, then what to do
    assert "cannot execute a notebook that imports d2lutils.torch" in result.stderr
    assert not (tmp_path / "out" / "gpu-outputs.log").exists()  # nothing ran


def test_missing_data_is_named_before_any_step(tmp_path):
    pytest.importorskip("torch")
    result = run("--rehearse", tmp_path / "out", "command", D2LUTILS_DATA=str(tmp_path / "none"))
    assert result.returncode == 1
    assert "set D2LUTILS_DATA to a folder that holds it" in result.stderr
    assert not (tmp_path / "out" / "gpu-outputs.log").exists()


def test_without_a_gpu_points_to_the_rehearsal(tmp_path):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: the command would run for real")
    result = run(tmp_path / "out", "command")
    assert result.returncode == 1
    assert "finds no CUDA GPU" in result.stderr and "--rehearse OUT_DIR" in result.stderr


def pretend_python(tmp_path, notebook_status):
    """A Python whose scripts/execute-notebook.py ends with `notebook_status` at once."""
    wrapper = tmp_path / "python"
    wrapper.write_text(f"""#!/bin/sh
if [ "$1" = scripts/execute-notebook.py ]; then echo "pretending to execute $2"; exit {notebook_status}; fi
exec {sys.executable} "$@"
""")
    wrapper.chmod(0o755)
    return wrapper


def test_steps_run_in_order_and_a_failing_notebook_stops_the_run(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("nbclient")
    result = run("--rehearse", tmp_path / "out", "hardware", "pytorch",
                 python=pretend_python(tmp_path, 3))
    assert result.returncode == 3
    log = (tmp_path / "out" / "gpu-outputs.log").read_text()
    assert "steps: pytorch hardware," in log  # the order the hardware notebook needs
    assert "pretending to execute notebooks/alexnet_pytorch.ipynb" in log
    assert "== pytorch FAILED (exit status 3)" in log and "== hardware" not in log
    # What ran of it is kept, under a name no one commits by mistake.
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == [
        "alexnet_pytorch.failed.ipynb", "gpu-outputs.log"]


def test_outputs_that_need_attention_are_kept_and_the_run_goes_on(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("nbclient")
    result = run("--rehearse", tmp_path / "out", "pytorch", "paper",
                 python=pretend_python(tmp_path, 4))
    assert result.returncode == 0, result.stdout + result.stderr
    log = (tmp_path / "out" / "gpu-outputs.log").read_text()
    assert "-- notebooks/alexnet_paper.ipynb: its stored outputs need attention" in log
    assert "== paper done in" in log and "FAILED" not in log
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == [
        "alexnet_paper.ipynb", "alexnet_pytorch.ipynb", "gpu-outputs.log"]


def test_rehearses_a_notebook_step_without_touching_the_checkout(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("nbclient")
    stored = (ROOT / "notebooks" / "hardware.ipynb").read_text()
    result = run("--rehearse", "out", "hardware", cwd=tmp_path)  # a relative OUT_DIR
    assert result.returncode == 0, result.stdout + result.stderr
    assert (ROOT / "notebooks" / "hardware.ipynb").read_text() == stored
    log = (tmp_path / "out" / "gpu-outputs.log").read_text()
    assert "steps: hardware, budget: quick" in log and "== hardware done in" in log
    executed = read_notebook(tmp_path / "out" / "hardware.ipynb")
    assert [cell["source"] for cell in executed["cells"]] == [
        cell["source"] for cell in read_notebook(ROOT / "notebooks" / "hardware.ipynb")["cells"]]
    setup = executed["cells"][2]
    assert "setup" in setup["metadata"]["tags"]
    assert setup["metadata"]["execution"] != read_notebook(
        ROOT / "notebooks" / "hardware.ipynb")["cells"][2]["metadata"]["execution"]
