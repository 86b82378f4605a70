"""The run budget: how much training a notebook does, decided in one place.

One PyTorch training step of AlexNet at 224x224, channels-last as train_ch6
runs it, ran at 73 to 140 images/s on the project's 2-core CPU (float32 to
bfloat16; benchmarks/results/train_speed-cpu.json), so one epoch of
Fashion-MNIST takes 7 to 14 minutes there and the full ten epochs 1.2 to 2.3
hours; the other frameworks' stored short runs went at 40.1 to 84.5 images/s.
On a GPU it takes minutes: Dive into Deep Learning's stored ten-epoch run
trained at 4,171 examples/s (cited in the framework notebooks), under three
minutes of training steps; no GPU run of this chapter is stored yet. So
a notebook asks for a budget once: the full one on a GPU; on a CPU a short run
that is long enough for the network to learn visibly (see SHORT).
``D2LUTILS_BUDGET`` overrides the choice; the test suite sets it to ``quick``,
which only checks that the code runs.
"""

import os
import textwrap
from typing import NamedTuple

BUDGET_ENV_VAR = "D2LUTILS_BUDGET"
BUDGET_SETTINGS = ("auto", "full", "short", "quick")


class RunBudget(NamedTuple):
    """How much to train: the hyperparameters and how many images to use."""
    name: str
    batch_size: int
    lr: float
    num_epochs: int
    num_train: int
    num_test: int


# The chapter's training run: all of Fashion-MNIST, ten epochs.
FULL = RunBudget("full", batch_size=128, lr=0.01, num_epochs=10, num_train=60_000, num_test=10_000)
# A CPU's run: one pass over the first 17,920 training images (140 steps) and
# accuracy on the first 2,000 test images. With the paper's momentum the
# chapter's AlexNet passed 0.7 test accuracy by 15,360 images in each of three
# seeds, and was at 0.74 to 0.77 by 17,920; with plain SGD it was far from it
# (benchmarks/results/learning_curve-cpu.json). Minutes on a CPU that computes
# in bfloat16, longer on one that does not.
SHORT = RunBudget("short", batch_size=128, lr=0.01, num_epochs=1, num_train=17_920, num_test=2_000)
# Enough to see every cell run end to end on a CPU in about a minute; far too
# little to learn anything, and the notice printed with it says so.
QUICK = RunBudget("quick", batch_size=128, lr=0.01, num_epochs=1, num_train=1_024, num_test=512)
BUDGETS = {budget.name: budget for budget in (FULL, SHORT, QUICK)}


def choose_budget(has_gpu, announce=True):
    """The full budget on a GPU, the short one on a CPU, unless D2LUTILS_BUDGET says otherwise."""
    setting = os.environ.get(BUDGET_ENV_VAR, "auto").strip().lower() or "auto"
    if setting not in BUDGET_SETTINGS:
        raise ValueError(f"{BUDGET_ENV_VAR}={os.environ[BUDGET_ENV_VAR]!r} is not a budget; "
                         f"use one of {', '.join(BUDGET_SETTINGS)} (or leave it unset for auto).")
    if setting == "auto":
        budget = FULL if has_gpu else SHORT
        reason = "a GPU was found" if has_gpu else "no GPU was found"
    else:
        budget = BUDGETS[setting]
        reason = f"{BUDGET_ENV_VAR}={setting}"
    if announce:
        print(textwrap.fill(describe_budget(budget, reason, has_gpu), width=78))
    return budget


def describe_budget(budget, reason, has_gpu):
    """The notice a notebook prints about the budget it runs under."""
    what = (f"{budget.num_epochs} epoch{'s' if budget.num_epochs > 1 else ''} on "
            f"{budget.num_train:,} training and {budget.num_test:,} test images, "
            f"batch size {budget.batch_size}, learning rate {budget.lr}")
    if budget.name == "full":
        text = f"Full budget ({reason}): {what}."
        if not has_gpu:
            text += (" Without a GPU this takes hours. On the project's 2-core CPU it would"
                     " take 1.2 to 2.3 of them in PyTorch, whose training step ran at 73 to"
                     " 140 images/s there, and 2 to 4 in the other frameworks, at the 40.1 to"
                     " 84.5 images/s of their stored short runs.")
        return text
    if budget.name == "short":
        ratio = (FULL.num_epochs * FULL.num_train) / (budget.num_epochs * budget.num_train)
        return (f"Short budget ({reason}): {what}. Enough to watch the network learn, "
                f"not to finish learning: the full run sees {ratio:.0f} times as many images. "
                f"Use a GPU for it, or set {BUDGET_ENV_VAR}=full to force it here.")
    return (f"QUICK BUDGET ({reason}): {what}. This only shows that the code runs; "
            f"the accuracy it reaches says nothing about AlexNet. For a run that learns "
            f"leave {BUDGET_ENV_VAR} unset (short on a CPU, full on a GPU).")
