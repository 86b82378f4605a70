"""The book: every notebook is in it, executed, installable on Colab, and it builds cleanly."""

import json
import re
from pathlib import Path

import pytest

pytest.importorskip("sphinx", reason="the book is built in the readers' environment")
import yaml  # noqa: E402
from notebook_status import toc_entries  # noqa: E402

from d2lutils import budget  # noqa: E402
from d2lutils.notebooks import (  # noqa: E402
    cell_stdout, read_notebook, tagged_cell, tagged_source)

from .frameworks import (  # noqa: E402
    NAMES, notebook_frameworks, stored_pytorch_step_speeds, stored_speed)

ROOT = Path(__file__).resolve().parent.parent
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_every_notebook_is_in_the_table_of_contents():
    listed = set(toc_entries(ROOT))
    assert NOTEBOOKS, "no notebooks found"
    for notebook in NOTEBOOKS:
        assert f"notebooks/{notebook.stem}" in listed, f"{notebook.name} missing from _toc.yml"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_outputs_are_stored(notebook):
    cells = [c for c in read_notebook(notebook)["cells"] if c["cell_type"] == "code"]
    unexecuted = [i for i, cell in enumerate(cells) if cell["execution_count"] is None]
    assert not unexecuted, f"code cells {unexecuted} of {notebook.name} were never executed"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.name)
def test_setup_cell_installs_from_the_configured_repository(notebook):
    setup = tagged_source(notebook, "setup")
    first_code = next(c for c in read_notebook(notebook)["cells"] if c["cell_type"] == "code")
    assert "".join(first_code["source"]) == setup, "the setup cell comes first"
    assert 'if "google.colab" in sys.modules:' in setup
    # The branch too: Colab installs the d2lutils of the branch the book launched from,
    # and a notebook that clones the repository clones that branch.
    url, branch = CONFIG["repository"]["url"], CONFIG["repository"]["branch"]
    assert f'git+{url}@{branch}"' in setup
    for line in setup.splitlines():
        if "git clone" in line:
            assert f"--branch {branch} {url} " in line, line


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.name)
def test_setup_cell_ends_by_naming_the_machine(notebook):
    # The status page's "on" column is this line.
    last = cell_stdout(tagged_cell(notebook, "setup")).strip().splitlines()[-1]
    assert re.search(r"\bon (CPU: .+, \d+ cores|.+ \((cuda|/GPU|gpu).*\))$", last), last


def test_intro_cpu_hours_follow_from_the_stored_runs():
    intro = " ".join((ROOT / "book" / "intro.md").read_text().split())
    # train_ch6 runs PyTorch channels-last, in float32 or bfloat16.
    steps = stored_pytorch_step_speeds()
    others = [stored_speed(name) for name in NAMES if name != "torch"]
    images = budget.FULL.num_epochs * budget.FULL.num_train
    float32, bfloat16 = steps["float32, channels-last"], steps["bfloat16, channels-last"]
    assert (f"2-core CPU that produced the stored outputs, PyTorch's training step, on the "
            f"channels-last images `train_ch6` gives it, ran at {float32:.0f} images per second in "
            f"float32 and {bfloat16:.0f} in bfloat16 in its benchmark, the fastest of three steps "
            f"({images / float32 / 3600:.1f} and {images / bfloat16 / 3600:.1f} hours at those "
            f"speeds), and the "
            f"TensorFlow, JAX and Gluon notebooks' stored runs at {min(others):.1f} to "
            f"{max(others):.1f} ({images / max(others) / 3600:.0f} to "
            f"{images / min(others) / 3600:.0f} hours); PyTorch's `train_ch6` computes in bfloat16 where "
            f"the CPU has it, as this one does.") in intro
    # "as this one does": the benchmark's own run of train_ch6's step chose bfloat16.
    benchmark = ROOT / "benchmarks" / "results" / "train_speed-cpu.json"
    assert json.loads(benchmark.read_text())["ours"]["precision"] == "bfloat16"


def test_hardware_prose_quotes_its_stored_shares_and_the_benchmark():
    hardware = ROOT / "notebooks" / "hardware.ipynb"
    flops = cell_stdout(tagged_cell(hardware, "network-flops"))
    (chapter_params, chapter_flops), (paper_params, paper_flops) = re.findall(
        r"convolutions hold (\d+)% of the [\d,]+ parameters and do (\d+)% of the arithmetic",
        flops)
    prose = " ".join(" ".join("".join(cell["source"]) for cell in read_notebook(hardware)["cells"]
                              if cell["cell_type"] == "markdown").split())
    assert (f"they hold {chapter_params}% of the chapter network's parameters and "
            f"{paper_params}% of the paper's, but do {chapter_flops}% and {paper_flops}% of the "
            f"arithmetic") in prose
    steps = stored_pytorch_step_speeds()
    gains = {f"{steps[f'bfloat16, {layout}'] / steps[f'float32, {layout}']:.1f}"
             for layout in ("NCHW", "channels-last")}
    assert len(gains) == 1 and f"ran {gains.pop()} times as fast in the stored benchmark" in prose


def test_imagenet_prose_quotes_the_drops_its_code_computes():
    cells = read_notebook(ROOT / "notebooks" / "data_imagenet.ipynb")["cells"]
    drops = cell_stdout(next(c for c in cells if "ILSVRC_WINNERS = [" in "".join(c["source"])))
    removed = dict(re.findall(r"^(.+?): [\d.]+ percentage points, (\d+)% of the error removed$",
                              drops, re.MULTILINE))
    prose = " ".join(" ".join("".join(c["source"]) for c in cells
                              if c["cell_type"] == "markdown").split())
    assert (f"removed {removed['2011 -> 2012']}% of the remaining error at once, or "
            f"{removed['2011 -> 2012, challenge data only']}% counting only") in prose
    assert (f"Against that year's runner-up, SuperVision removed "
            f"{removed['2012, second place -> first']}% of the error") in prose


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.name)
def test_colab_asks_for_a_gpu_where_the_notebook_uses_one(notebook):
    metadata = read_notebook(notebook)["metadata"]
    code = "\n".join("".join(cell["source"]) for cell in read_notebook(notebook)["cells"]
                     if cell["cell_type"] == "code")
    uses_a_gpu = bool(re.search(r"try_gpu|choose_budget|cuda", code))
    # MXNet's GPU wheels need CUDA 11 and cuDNN 8, which Colab no longer has.
    on_colab_gpus = metadata["kernelspec"]["name"] != "alexnet-mxnet"
    asks = metadata.get("accelerator") == "GPU"
    assert asks == (uses_a_gpu and on_colab_gpus), (
        f"{notebook.name}: set metadata.accelerator to 'GPU' exactly where the notebook "
        f"uses a GPU and Colab can give it one")


def test_book_builds_without_warnings(built_book):
    assert "AlexNet: the network that started deep learning" in (
        built_book / "book" / "intro.html").read_text()
    for notebook in NOTEBOOKS:
        page = (built_book / "notebooks" / f"{notebook.stem}.html").read_text()
        colab = (f"https://colab.research.google.com/github/"
                 f"{CONFIG['repository']['url'].removeprefix('https://github.com/')}"
                 f"/blob/{CONFIG['repository']['branch']}/notebooks/{notebook.name}")
        assert colab in page, f"{notebook.name}: no Colab launch link"


def test_status_page_lists_every_notebook_with_its_run(built_book):
    page = (built_book / "book" / "status.html").read_text()
    for notebook in NOTEBOOKS:
        assert f"{notebook.stem}</span></a>" in page
    assert page.count(" UTC</p></td>") == len(NOTEBOOKS)  # every notebook has a last run
    for framework in notebook_frameworks():  # the training notebooks' headline
        row = page[page.index(f"alexnet_{framework}</span>"):]
        assert re.search(r"(quick|short|full) budget: \d+ epoch\(s\) on [\d,]+ images, "
                         r"test accuracy \d\.\d{3}", row[:row.index("</tr>")])


def test_references_page_lists_the_sources(built_book):
    page = (built_book / "book" / "references.html").read_text().lower()
    for title in ("ImageNet Classification with Deep Convolutional Neural Networks",
                  "ImageNet Large Scale Visual Recognition Challenge",
                  "Fashion-MNIST: a Novel Image Dataset"):
        assert title.lower() in page


def test_every_link_inside_the_book_leads_somewhere(built_book):
    checked, broken = 0, []
    for page in built_book.rglob("*.html"):
        if "_static" in page.parts:
            continue
        for target in re.findall(r'(?:href|src)="([^"#?]+)', page.read_text(errors="ignore")):
            if re.match(r"[a-z]+:", target):  # https:, mailto:, data:, javascript:
                continue
            checked += 1
            if not (page.parent / target).resolve().exists():
                broken.append(f"{page.relative_to(built_book)} -> {target}")
    assert checked > 100 and broken == []


def test_hardware_summary_quotes_the_stored_estimate():
    hardware = ROOT / "notebooks" / "hardware.ipynb"
    estimate = cell_stdout(tagged_cell(hardware, "training-time-estimate"))
    days = re.search(r"at its conv2 speed: ([\d,]+) days", estimate).group(1)
    summary = tagged_source(hardware, "summary", "markdown")
    assert f"about {days} days at its measured conv2\n  speed" in summary, (
        "the hardware notebook's summary must quote its stored estimate")
