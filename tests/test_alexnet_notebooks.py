"""The framework AlexNet notebooks: what their stored outputs must say, and the side-by-side page.

nbval checks that a fresh run reproduces the stored outputs; these tests check
that the stored outputs are the right ones in the first place.
"""

import math
import re
from pathlib import Path

import pytest

from d2lutils.notebooks import cell_stdout, read_notebook, tagged_cell, tagged_source

from .frameworks import CHANNELS_LAST, notebook_frameworks

ROOT = Path(__file__).resolve().parent.parent
# Found by the tag on their definition cell, as the side-by-side page finds them
# (tests/test_notebooks.py checks that all four are found).
FRAMEWORKS = notebook_frameworks()

# (channels, height, width) after each layer that changes the shape, for one
# 1x224x224 image; then the flattened and fully connected widths.
EXPECTED_CHW = [(96, 54, 54), (96, 26, 26), (256, 26, 26), (256, 12, 12), (384, 12, 12),
                (256, 12, 12), (256, 5, 5)]
EXPECTED_FLAT = [6400, 4096, 10]
VOLATILE = ("d2l.try_gpu()", "d2l.choose_budget(", "d2l.train_ch6(", "datetime")


def notebook(framework):
    return ROOT / "notebooks" / f"alexnet_{framework}.ipynb"


def printed(framework, tag):
    """What the framework notebook's cell tagged `tag` printed, as stored."""
    return cell_stdout(tagged_cell(notebook(framework), tag))


def sources(framework, cell_type):
    return ["".join(c["source"]) for c in read_notebook(notebook(framework))["cells"]
            if c["cell_type"] == cell_type]


def markdown_text(framework):
    return "\n".join(sources(framework, "markdown"))


def stored_shapes(framework):
    table = printed(framework, "alexnet-summary")
    shapes = [tuple(int(n) for n in re.findall(r"\d+", shape))
              for shape in re.findall(r"output shape: \(([\d, ]+)\)", table)]
    distinct = [s for i, s in enumerate(shapes) if i == 0 or s != shapes[i - 1]]
    return distinct, table.splitlines()[-1]


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_stored_shape_table_is_alexnet(framework):
    shapes, last_line = stored_shapes(framework)
    if framework in CHANNELS_LAST:  # Keras and Flax: (batch, height, width, channels)
        expected = [(1, h, w, c) for c, h, w in EXPECTED_CHW]
    else:
        expected = [(1, c, h, w) for c, h, w in EXPECTED_CHW]
    assert shapes == expected + [(1, n) for n in EXPECTED_FLAT]
    assert last_line == "parameters: 46,764,746"


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_input_size_is_counted_both_ways(framework):
    # The paper's 55x55 from a 224x224 input: cuda-convnet rounds up, frameworks down.
    counted = printed(framework, "conv-arithmetic")
    assert ("input 224: (n - 11) / 4 + 1 = 54.25; 11x11 stride 4 gives 54 rounding down, "
            "55 rounding up") in counted
    assert "input 227: (n - 11) / 4 + 1 = 55.00; 11x11 stride 4 gives 55 rounding down" in counted


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_only_machine_dependent_cells_escape_nbval(framework):
    for cell in read_notebook(notebook(framework))["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        ignored = "nbval-ignore-output" in cell["metadata"].get("tags", [])
        assert ignored == any(text in source for text in VOLATILE), source[:80]


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_notebook_says_which_budget_its_outputs_came_from(framework):
    provenance = printed(framework, "status")
    budget = re.match(r"(quick|short|full) budget: ", provenance).group(1)
    intro = sources(framework, "markdown")[0]
    assert f"with the {budget} budget" in intro
    if budget == "quick":
        assert "not how well AlexNet\nlearns" in intro
    if budget == "short":
        assert "they show AlexNet learning, not how far it gets" in intro
    assert re.search(r"\n\d{4}-\d\d-\d\d, (CPU: .+|.+ \((cuda|/GPU|gpu).*\)), ", provenance)


# The least test accuracy a stored run must show (chance is 0.1): a CPU reader's
# default short run must show a network that learns; the full run on a GPU must
# reach the chapter's target (benchmarks/train_speed.py's GPU_TARGETS).
LEARNED = {"short": 0.6, "full": 0.88}


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_stored_run_learned(framework):
    provenance = printed(framework, "status")
    budget, accuracy = re.match(r"(\w+) budget: .*test accuracy (\d\.\d+)", provenance).groups()
    if budget == "quick":
        pytest.skip("a quick run learns nothing, and the notebook's introduction says so "
                    "(test_notebook_says_which_budget_its_outputs_came_from)")
    assert float(accuracy) >= LEARNED[budget], provenance
    if budget == "short":
        # The prose explains why the test accuracy is above the training average.
        report = printed(framework, "alexnet-training")
        train_acc, test_acc = map(float, re.search(r"train acc (\S+), test acc (\S+)",
                                                   report).groups())
        assert "Both help explain why it is the higher of the two accuracies" in " ".join(
            markdown_text(framework).split())
        assert test_acc > train_acc


def test_pytorch_notebook_draws_the_stored_learning_curves():
    import json

    curves = json.loads((ROOT / "benchmarks" / "results" / "learning_curve-cpu.json").read_text())
    table = printed("pytorch", "learning-curve").splitlines()
    for run, row in zip(curves["runs"], table[1:]):
        at = {point["images"]: point["test_acc"] for point in run["points"]}
        assert row.split()[-5:] == [f"{at[n]:.3f}" for n in (5120, 10240, 15360, 17920, 20480)]
    assert len(table) == len(curves["runs"]) + 2  # header, one row per run, provenance
    # The ranges the prose quotes, at the short budget's 17,920 images.
    prose = markdown_text("pytorch")
    for momentum, quoted in ((0.9, "stood between {} and {} after 17,920"),
                             (0.0, "after 17,920 images was\nbetween {} and {}")):
        at_budget = [next(p["test_acc"] for p in run["points"] if p["images"] == 17920)
                     for run in curves["runs"] if run["momentum"] == momentum]
        # A range quoted to two decimals must contain the values: round outwards.
        low, high = f"{math.floor(min(at_budget) * 100) / 100:.2f}", \
            f"{math.ceil(max(at_budget) * 100) / 100:.2f}"
        assert quoted.format(low, high).replace("\n", " ") in " ".join(prose.split()), quoted


def test_features_notebook_quotes_the_stored_alexnet_run_and_says_what_it_shows():
    features = ROOT / "notebooks" / "features_vs_learning.ipynb"
    quoted = cell_stdout(tagged_cell(features, "alexnet-run-quoted"))
    stored = printed("pytorch", "status")
    assert [line.strip() for line in stored.strip().splitlines()] == [
        line.strip() for line in quoted.splitlines()[1:3]]
    pixels, hog, alexnet, budget = re.search(
        r"raw pixels (\S+), HOG (\S+) .* AlexNet (\S+) \((\w+) budget\)", quoted).groups()
    prose = tagged_source(features, "alexnet-run-discussed", "markdown")
    assert budget == "short" and "the short one a CPU gets" in prose
    assert "behind both linear classifiers" in prose
    assert float(alexnet) < min(float(pixels), float(hog))
