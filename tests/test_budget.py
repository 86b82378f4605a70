"""d2lutils.budget: full on a GPU, an announced quick run on a CPU, one variable to override."""

import pytest

from d2lutils import budget


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


def test_cpu_gets_the_quick_budget_and_is_told_so(capsys):
    chosen = budget.choose_budget(has_gpu=False)
    assert chosen is budget.QUICK
    assert chosen.num_epochs == 1 and chosen.num_train < budget.FULL.num_train
    printed = capsys.readouterr().out
    assert max(len(line) for line in printed.splitlines()) <= 78  # wrapped for notebooks
    notice = " ".join(printed.split())
    assert notice.startswith("QUICK BUDGET (no GPU was found): 1 epoch on 1,024 training")
    assert "says nothing about AlexNet" in notice
    assert "set D2LUTILS_BUDGET=full" in notice


@pytest.mark.parametrize("setting, has_gpu, expected", [
    ("full", False, budget.FULL), ("quick", True, budget.QUICK),
    ("auto", True, budget.FULL), (" Quick ", False, budget.QUICK), ("", True, budget.FULL),
])
def test_environment_variable_overrides(monkeypatch, setting, has_gpu, expected):
    monkeypatch.setenv(budget.BUDGET_ENV_VAR, setting)
    assert budget.choose_budget(has_gpu, announce=False) is expected


def test_forced_full_budget_on_cpu_warns_about_the_time(monkeypatch, capsys):
    monkeypatch.setenv(budget.BUDGET_ENV_VAR, "full")
    budget.choose_budget(has_gpu=False)
    assert " ".join(capsys.readouterr().out.split()).endswith(
        "Without a GPU this takes many hours.")


def test_unknown_setting_is_refused(monkeypatch):
    monkeypatch.setenv(budget.BUDGET_ENV_VAR, "fast")
    with pytest.raises(ValueError, match=r"D2LUTILS_BUDGET='fast' is not a budget; use one "
                                         r"of auto, full, quick"):
        budget.choose_budget(has_gpu=True)
