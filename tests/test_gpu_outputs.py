"""scripts/gpu-outputs.sh: the GPU runs' command refuses what would waste GPU time, and its
rehearsal runs a step end to end on a CPU, in a scratch copy of the chapter."""

import os
import shutil
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


def test_notebook_steps_need_nbclient_before_the_benchmark_spends_time(tmp_path):
    pytest.importorskip("torch")
    result = run("--rehearse", tmp_path / "out", "benchmark", "paper",
                 PYTHONPATH=without(tmp_path, "nbclient"))
    assert result.returncode == 1
    assert "cannot import nbclient and ipykernel" in result.stderr
    assert not (tmp_path / "out" / "gpu-outputs.log").exists()  # nothing ran


def test_without_a_gpu_points_to_the_rehearsal(tmp_path):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: the command would run for real")
    result = run(tmp_path / "out", "command")
    assert result.returncode == 1
    assert "finds no CUDA GPU" in result.stderr and "--rehearse OUT_DIR" in result.stderr


def test_rehearses_a_notebook_step_in_a_scratch_copy(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("nbclient")
    chapter = tmp_path / "chapter"  # what the hardware notebook reads: itself, the PyTorch one
    for part in ("scripts", "notebooks", "d2lutils"):
        shutil.copytree(ROOT / part, chapter / part,
                        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copy(ROOT / "_config.yml", chapter)
    result = run("--rehearse", "out", "hardware", script=chapter / "scripts" / "gpu-outputs.sh",
                 cwd=tmp_path, PYTHONPATH=str(chapter))
    assert result.returncode == 0, result.stdout + result.stderr
    log = (tmp_path / "out" / "gpu-outputs.log").read_text()
    assert "steps: hardware, budget: quick" in log and "== hardware done in" in log
    executed = read_notebook(tmp_path / "out" / "hardware.ipynb")
    assert executed == read_notebook(chapter / "notebooks" / "hardware.ipynb")
    stored = read_notebook(ROOT / "notebooks" / "hardware.ipynb")
    assert executed["cells"][2]["metadata"]["execution"] != stored["cells"][2]["metadata"]["execution"]
