"""notebooks/two_gpus.ipynb: the prose says what the stored outputs show.

nbval re-runs the notebook (its asserts check the model split and the four
data-parallel steps on every run); these tests check the sentences that quote
the outputs.
"""

import re
from pathlib import Path

from d2lutils.notebooks import cell_stdout, read_notebook, tagged_cell

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = read_notebook(ROOT / "notebooks" / "two_gpus.ipynb")
PROSE = " ".join(" ".join("".join(c["source"]) for c in NOTEBOOK["cells"]
                          if c["cell_type"] == "markdown").split())


def printed(tag):
    """What the code cell tagged `tag` printed, as stored."""
    return cell_stdout(tagged_cell(NOTEBOOK, tag))


def test_traffic_between_the_towers_is_quoted_and_an_eighth_of_an_all_reduce():
    out = printed("tower-traffic")
    per_image = re.search(r"([\d,]+) numbers per image each way", out).group(1)
    model_mb, = map(int, re.findall(r"(\d+) MB each way", out))
    all_reduce_mb = int(re.search(r"numbers, (\d+) MB", out).group(1))
    assert f"exchange {per_image} numbers per image each way" in PROSE
    assert "an eighth of what data parallelism would have to" in PROSE
    assert 1 / 9 < model_mb / all_reduce_mb < 1 / 7


def test_every_engine_matched_the_single_device_step():
    # The stored run had all four engines, and each matched far below its step size.
    for tag, name in (("ddp-step", "DDP"), ("mirrored-step", "MirroredStrategy"),
                      ("gluon-step", "Gluon"), ("sharded-step", "sharded")):
        out = printed(tag)
        step = float(re.search(r"largest weight change in the step: +(\S+)", out).group(1))
        gap = float(re.search(rf"{name} .*: +(\S+)$", out, re.MULTILINE).group(1))
        assert gap < 1e-6 < step, (name, gap, step)
    # JAX's compiler put the all-reduce in the step itself, as the prose says.
    all_reduces = int(re.search(r"all-reduces XLA put in the step: (\d+)",
                                printed("sharded-step")).group(1))
    assert all_reduces >= 1 and "adds the all-reduce that the mean needs by itself" in PROSE
    alone = float(re.search(r"no all-reduce: +(\S+)", printed("ddp-step")).group(1))
    assert alone > 1e-4  # the comparison can fail: a lone replica is off by a step


def test_fully_connected_share_is_as_the_prose_says():
    out = printed("flops")
    arithmetic, parameters = map(float, re.search(
        r"fully connected layers: (\S+)% of the arithmetic, (\S+)% of the parameters",
        out).groups())
    assert arithmetic < 10 and parameters > 90
    assert "hold more than 90% of the gradients but do a few percent of the arithmetic" in PROSE


def test_scaling_sentences_quote_the_table():
    lines = printed("scaling").splitlines()
    rows = {int(line.split()[0]): [float(x) for x in re.findall(r"(\d+\.\d+)", line)]
            for line in lines[1:4]}
    transfer2, compute2_peak, _, speedup2_peak, speedup2_30 = rows[2]
    transfer8, compute8_peak, _, speedup8_peak, speedup8_30 = rows[8]
    transfer64, compute64_peak, _, speedup64_peak, speedup64_30 = rows[64]
    conv_transfer = float(re.search(r"all-reduce (\S+) ms", lines[4]).group(1))
    assert speedup2_peak < 1 and "two H100s would be slower than one at peak speed" in PROSE
    assert f"and {speedup2_30} times as fast at 30%" in PROSE
    assert f"gradients take {transfer2:.2f} ms to cross" in PROSE
    assert transfer2 > 2 / 3 * compute2_peak  # "longer than the backward pass"
    assert f"eight GPUs do the work of {speedup8_peak} and 64 the work of " \
           f"{round(speedup64_peak)}" in PROSE
    # The backward pass, two thirds of the arithmetic, hides that share of each transfer.
    assert compute8_peak == compute64_peak
    backward = 2 / 3 * compute8_peak
    assert f"hides about two thirds of NVLink's {transfer8:.2f} ms" in PROSE
    assert abs(backward / transfer8 - 2 / 3) < 0.05
    assert f"half of the network's {transfer64:.2f} ms" in PROSE
    assert abs(backward / transfer64 - 1 / 2) < 0.05
    assert (speedup8_30, speedup64_30) == (8.0, 64.0) and "hide all of it" in PROSE
    assert f"add up the rest in {conv_transfer:.2f} ms, well inside the backward pass" in PROSE
    assert conv_transfer < 2 / 3 * compute2_peak


def test_the_2012_sentences_quote_their_figures():
    out = printed("all-reduce-cost")
    step = float(re.search(r"at 30% of peak: (\S+) s", out).group(1))
    model_ms, all_reduce_ms = map(int, re.findall(r"MB (\d+) ms", out))
    assert step > 0.5 and "busy for more than half a second" in PROSE
    assert f"({model_ms} ms and {all_reduce_ms} ms against {step:.2f} s)" in PROSE
    assert model_ms / 1000 / step < 0.01 and "exchange would have taken under 1%" in PROSE
    assert 0.045 <= all_reduce_ms / 1000 / step < 0.055 and "all-reduce about 5%" in PROSE
    float32, bfloat16, nvlink, pcie5 = map(int, re.search(
        r"float32 arithmetic (\d+)x .* tensor cores (\d+)x; the link between two GPUs "
        r"(\d+)x over NVLink, (\d+)x over PCIe Gen5", out).groups())
    assert (f"about {float32} times in float32" in PROSE and f"{bfloat16} times in the "
            f"bfloat16" in PROSE and f"against {nvlink} times from PCIe 2.0 to NVLink and "
            f"{pcie5} times to PCIe Gen5" in PROSE)
    # NVLink kept pace with float32; no link kept pace with the tensor cores.
    assert bfloat16 > nvlink > float32 > pcie5


def test_figures_copied_from_the_hardware_notebook_are_its_stored_ones():
    hardware = ROOT / "notebooks" / "hardware.ipynb"
    assert "GTX 580 peak: 1.58 TFLOP/s" in cell_stdout(tagged_cell(hardware, "gtx580-peak"))
    flops = cell_stdout(tagged_cell(hardware, "network-flops"))
    assert "paper's network: 1.45 GFLOP per image forward" in flops
    assert "chapter's network: 1.88 GFLOP per image forward" in flops
    assert "forward: 1.88 GFLOP per image" in printed("flops")


def test_training_command_ran_as_two_processes_as_the_prose_says():
    out = printed("training-command")
    assert "2 processes" in out and "gloo instead of NCCL" in PROSE
    assert "The 2 replicas end with the same weights (checked)" in out
    assert re.search(r"epoch 2/2: loss [\d.]+", out)
    metrics = out.split("run/metrics.csv:\n")[1].splitlines()
    assert metrics[0].startswith("epoch,train_loss,train_acc,test_acc,examples")
    # Two epochs; each line counts the first process's half of the 256 images.
    assert [line.split(",")[0] for line in metrics[1:]] == ["1", "2"]
    assert [line.split(",")[4] for line in metrics[1:]] == ["128", "128"]
    assert "for two epochs on 256 images" in PROSE
    assert "the examples in the metrics file are the first process's share" in PROSE
