"""notebooks/two_gpus.ipynb: the prose says what the stored outputs show.

nbval re-runs the notebook (its asserts check the model split and the three
data-parallel steps on every run); these tests check the sentences that quote
the outputs.
"""

import re
from pathlib import Path

import nbformat

from d2lutils.notebooks import cell_stdout

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = nbformat.read(ROOT / "notebooks" / "two_gpus.ipynb", as_version=4)
PROSE = " ".join(" ".join(c.source for c in NOTEBOOK.cells if c.cell_type == "markdown").split())


def printed(text):
    """What the code cell containing `text` printed."""
    return cell_stdout(next(c for c in NOTEBOOK.cells
                            if c.cell_type == "code" and text in c.source))


def test_traffic_between_the_towers_is_quoted_and_an_eighth_of_an_all_reduce():
    out = printed("to_first, to_second")
    per_image = re.search(r"([\d,]+) numbers per image each way", out).group(1)
    model_mb, = map(int, re.findall(r"(\d+) MB each way", out))
    all_reduce_mb = int(re.search(r"numbers, (\d+) MB", out).group(1))
    assert f"exchanged {per_image} numbers per image each way" in PROSE
    assert "an eighth of what data parallelism would have to" in PROSE
    assert 1 / 9 < model_mb / all_reduce_mb < 1 / 7


def test_every_engine_matched_the_single_device_step():
    # The stored run had all three engines, and each matched far below its step size.
    for text, name in (("ddp_gap = ", "DDP"), ("mirrored_gap = ", "MirroredStrategy"),
                       ("def mxnet_python(", "Gluon")):
        out = printed(text)
        step = float(re.search(r"largest weight change in the step: +(\S+)", out).group(1))
        gap = float(re.search(rf"{name} .*: (\S+)$", out, re.MULTILINE).group(1))
        assert gap < 1e-6 < step, (name, gap, step)
    alone = float(re.search(r"no all-reduce: +(\S+)", printed("ddp_gap = ")).group(1))
    assert alone > 1e-4  # the comparison can fail: a lone replica is off by a step


def test_fully_connected_share_is_as_the_prose_says():
    out = printed("def multiply_adds(")
    arithmetic, parameters = map(float, re.search(
        r"fully connected layers: (\S+)% of the arithmetic, (\S+)% of the parameters",
        out).groups())
    assert arithmetic < 10 and parameters > 90
    assert "hold more than 90% of the gradients but do a few percent of the arithmetic" in PROSE


def test_scaling_sentences_quote_the_table():
    rows = {int(line.split()[0]): line for line in printed("h100_peak = ").splitlines()[1:]}
    numbers = {n: [float(x) for x in re.findall(r"(\d+\.\d+)", row)] for n, row in rows.items()}
    transfer2, compute_peak, compute_30, speedup2_peak, _ = numbers[2]
    transfer64, *_, speedup64_peak, speedup64_30 = numbers[64]
    assert (f"takes {compute_peak} ms at peak and {compute_30} ms at 30%, while its 187 MB of "
            f"gradients take {transfer2} ms to cross PCIe between two GPUs and {transfer64} ms "
            f"to go round a ring of 64") in PROSE
    assert speedup2_peak < 1 and "Two GPUs on PCIe would be slower than one at peak speed" in PROSE
    assert numbers[8][3] == 8.0 and "eight GPUs in one NVLink server keep up" in PROSE
    assert f"do the work of {round(speedup64_peak)} to {round(speedup64_30)}" in PROSE


def test_the_2012_sentences_quote_their_figures():
    out = printed("gtx580_peak = ")
    step = float(re.search(r"at 30% of peak: (\S+) s", out).group(1))
    model_ms, all_reduce_ms = map(int, re.findall(r"MB (\d+) ms", out))
    assert step > 0.5 and "busy for more than half a second" in PROSE
    assert max(model_ms, all_reduce_ms) / 1000 / step <= 0.055
    assert "would have cost at most about 5% of the step" in PROSE
