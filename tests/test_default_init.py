"""The side-by-side page's row on default initialisation, held to what each
framework actually draws when nothing is asked for.

If a framework changes its defaults, the row goes stale; this catches it.
"""

import math
from pathlib import Path

import numpy as np
import pytest

from . import frameworks

ROOT = Path(__file__).resolve().parent.parent
COLUMNS = ["torch", "tensorflow", "jax", "mxnet"]  # the table's order: PyTorch, Keras, Flax, Gluon


def table_row(label):
    page = (ROOT / "book" / "alexnet_side_by_side.md").read_text()
    row = next(line for line in page.splitlines() if line.startswith(f"| {label} |"))
    cells = [cell.strip() for cell in row.strip().strip("|").split("|")][1:]
    return dict(zip(COLUMNS, cells))


def uniform_in(values, bound):
    """Uniform in ±bound: inside it, reaching close to both ends, and, where there
    are enough draws to tell (the weights, not the 300 biases), with the standard
    deviation of a uniform distribution, bound/√3."""
    spread_fits = values.size < 10_000 or abs(values.std() / (bound / math.sqrt(3)) - 1) < 0.05
    return (np.abs(values).max() <= bound * (1 + 1e-6)
            and values.min() < -0.95 * bound and values.max() > 0.95 * bound and spread_fits)


def check_pytorch(weights, biases, fan_in, fan_out):
    bound = 1 / math.sqrt(fan_in)
    return uniform_in(weights, bound) and uniform_in(biases, bound)


def check_keras(weights, biases, fan_in, fan_out):
    return uniform_in(weights, math.sqrt(6 / (fan_in + fan_out))) and not biases.any()


def check_flax(weights, biases, fan_in, fan_out):
    # Variance 1/fan-in, and a truncated normal: a normal cut at two of its own
    # standard deviations and rescaled to this one ends at 2.27 of them, and with this
    # many draws comes close to that end. An untruncated normal would pass four; a
    # uniform distribution of the same variance ends at √3 = 1.73.
    std = weights.std()
    return (abs(std**2 * fan_in - 1) < 0.05
            and 2.2 * std < np.abs(weights).max() < 2.3 * std
            and not biases.any())


def check_gluon(weights, biases, fan_in, fan_out):
    return uniform_in(weights, 0.07) and not biases.any()


RULES = {
    "torch": ("weights and biases uniform in ±1/√fan-in", check_pytorch),
    "tensorflow": ("Glorot-uniform weights, zero biases", check_keras),
    "jax": ("truncated-normal weights of variance 1/fan-in (LeCun), zero biases", check_flax),
    "mxnet": ("none until `initialize()`; then uniform in ±0.07, zero biases", check_gluon),
}


@pytest.mark.parametrize("name", frameworks.PARAMS)
def test_default_initialisation_is_what_the_side_by_side_page_says(name):
    said, holds = RULES[name]
    assert table_row("default initialisation")[name] == said
    for weights, biases, fan_in, fan_out in frameworks.default_layers(name):
        assert holds(weights, biases, fan_in, fan_out), (name, weights.shape)


def test_every_framework_of_the_page_has_a_rule():
    assert set(table_row("default initialisation")) == set(RULES) == set(frameworks.NAMES)
