"""d2lutils.budget: full on a GPU, an announced short run on a CPU, one variable to override."""

import pytest

from d2lutils import budget

from .frameworks import NAMES, stored_pytorch_step_speeds, stored_speed


@pytest.fixture(autouse=True)
def no_override(monkeypatch):
    monkeypatch.delenv(budget.BUDGET_ENV_VAR, raising=False)


def test_full_budget_is_the_chapter_run():
    assert budget.FULL == budget.RunBudget("full", batch_size=128, lr=0.01, num_epochs=10,
                                           num_train=60_000, num_test=10_000)


def test_gpu_gets_the_full_budget(capsys):
    assert budget.choose_budget(has_gpu=True) is budget.FULL
    assert " ".join(capsys.readouterr().out.split()).startswith(
        "Full budget (a GPU was found): 10 epochs on 60,000 training and 10,000 test images")


def test_cpu_gets_the_short_budget_and_is_told_so(capsys):
    chosen = budget.choose_budget(has_gpu=False)
    assert chosen is budget.SHORT
    assert chosen.num_epochs == 1 and budget.QUICK.num_train < chosen.num_train < 60_000
    printed = capsys.readouterr().out
    assert max(len(line) for line in printed.splitlines()) <= 78  # wrapped for notebooks
    notice = " ".join(printed.split())
    assert notice.startswith("Short budget (no GPU was found): 1 epoch on 17,920 training "
                             "and 2,000 test images, batch size 128, learning rate 0.01.")
    assert "the full run sees 33 times as many images" in notice  # 600,000 / 17,920 = 33.5
    assert "set D2LUTILS_BUDGET=full" in notice


def test_the_short_budget_is_the_one_measured_to_learn():
    # The learning curves behind SHORT: every momentum run was above 0.7 at its end.
    import json
    from pathlib import Path

    result = json.loads((Path(__file__).resolve().parent.parent / "benchmarks" / "results"
                         / "learning_curve-cpu.json").read_text())
    assert (result["settings"]["batch_size"], result["settings"]["lr"]) == (
        budget.SHORT.batch_size, budget.SHORT.lr)
    momentum_runs = [run for run in result["runs"] if run["momentum"] == 0.9]
    assert len(momentum_runs) >= 2
    def accuracy_at_short_budget(run):
        return next(p["test_acc"] for p in run["points"] if p["images"] == budget.SHORT.num_train)
    for run in momentum_runs:
        assert accuracy_at_short_budget(run) >= 0.7, run["seed"]
    # ...and plain SGD, which the budget's comment says falls far short, did not.
    plain_runs = [run for run in result["runs"] if run["momentum"] == 0]
    assert len(plain_runs) >= 2
    assert (max(map(accuracy_at_short_budget, plain_runs))
            < min(map(accuracy_at_short_budget, momentum_runs)) - 0.1)


def test_quick_budget_says_it_learns_nothing(monkeypatch, capsys):
    monkeypatch.setenv(budget.BUDGET_ENV_VAR, "quick")
    chosen = budget.choose_budget(has_gpu=False)
    assert chosen is budget.QUICK
    notice = " ".join(capsys.readouterr().out.split())
    assert notice.startswith("QUICK BUDGET (D2LUTILS_BUDGET=quick): 1 epoch on 1,024 training")
    assert "says nothing about AlexNet" in notice


@pytest.mark.parametrize("setting, has_gpu, expected", [
    ("full", False, budget.FULL), ("quick", True, budget.QUICK), ("short", True, budget.SHORT),
    ("auto", True, budget.FULL), ("auto", False, budget.SHORT), (" Quick ", False, budget.QUICK),
    ("", True, budget.FULL),
])
def test_environment_variable_overrides(monkeypatch, setting, has_gpu, expected):
    monkeypatch.setenv(budget.BUDGET_ENV_VAR, setting)
    assert budget.choose_budget(has_gpu, announce=False) is expected


def test_forced_full_budget_on_cpu_warns_about_the_time(monkeypatch, capsys):
    monkeypatch.setenv(budget.BUDGET_ENV_VAR, "full")
    budget.choose_budget(has_gpu=False)
    notice = " ".join(capsys.readouterr().out.split())
    # The figures follow from the stored PyTorch benchmark and the other frameworks' stored runs.
    # train_ch6 runs PyTorch channels-last, in float32 or bfloat16.
    steps = [speed for setting, speed in stored_pytorch_step_speeds().items()
             if setting.endswith("channels-last")]
    others = [stored_speed(name) for name in NAMES if name != "torch"]
    images = budget.FULL.num_epochs * budget.FULL.num_train
    assert notice.endswith(
        f"Without a GPU this takes hours. On the project's 2-core CPU it would take "
        f"{images / max(steps) / 3600:.1f} to {images / min(steps) / 3600:.1f} of them in "
        f"PyTorch, whose training step ran at {min(steps):.0f} to {max(steps):.0f} images/s "
        f"there, and {images / max(others) / 3600:.0f} to {images / min(others) / 3600:.0f} "
        f"in the other frameworks, at the {min(others):.1f} to {max(others):.1f} images/s of "
        f"their stored short runs."), notice


def test_unknown_setting_is_refused(monkeypatch):
    monkeypatch.setenv(budget.BUDGET_ENV_VAR, "fast")
    with pytest.raises(ValueError, match=r"D2LUTILS_BUDGET='fast' is not a budget; use one "
                                         r"of auto, full, short, quick"):
        budget.choose_budget(has_gpu=True)
