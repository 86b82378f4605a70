"""d2lutils.training: the progress, history and report shared by the four train_ch6."""

import io
import sys

import pytest

from d2lutils.training import (TrainingHistory, TrainingMonitor, check_hyperparameters,
                               check_labels_fit)


def test_records_a_few_points_per_epoch_and_always_the_last_batch():
    monitor = TrainingMonitor(num_epochs=1, num_batches=12, device="cpu")
    assert [i for i in range(12) if monitor.is_due(i)] == [1, 3, 5, 7, 9, 11]
    monitor = TrainingMonitor(num_epochs=1, num_batches=3, device="cpu")
    assert [i for i in range(3) if monitor.is_due(i)] == [0, 1, 2]


def test_history_and_final_report(capsys):
    monitor = TrainingMonitor(num_epochs=2, num_batches=2, device="cuda:0")
    for epoch in range(2):
        for i, batch in enumerate(monitor.batches(["b0", "b1"])):
            monitor.record_train(epoch, i, loss_sum=2.0 * (i + 1) / (epoch + 1),
                                 num_correct=3 * (i + 1), num_examples=4 * (i + 1))
        monitor.record_epoch(epoch, num_examples=8, seconds=0.5, test_acc=0.6 + 0.1 * epoch)
    history = monitor.finish()
    assert [x for x, _, _ in history.points] == [0.5, 1.0, 1.5, 2.0]
    assert history.final == (0.25, 0.75, pytest.approx(0.7))
    assert history.examples_per_sec == 16.0
    assert history.epochs == [(8, 0.5), (8, 0.5)]
    out = capsys.readouterr()
    # Outside a notebook each epoch gets a line, then the two closing lines.
    assert out.out.splitlines() == [
        "epoch 1/2: loss 0.500, train acc 0.750, test acc 0.600",
        "epoch 2/2: loss 0.250, train acc 0.750, test acc 0.700",
        "loss 0.250, train acc 0.750, test acc 0.700",
        "16.0 examples/sec on cuda:0, float32"]
    assert out.err == ""  # not a terminal: no progress bar


class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("stderr, shows_bar", [(Terminal(), True), (io.StringIO(), False)])
def test_progress_bar_only_on_a_terminal(stderr, shows_bar, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stderr", stderr)
    monitor = TrainingMonitor(num_epochs=1, num_batches=4, device="cpu")
    for i, _ in enumerate(monitor.batches(range(4))):
        monitor.record_train(0, i, loss_sum=1.0, num_correct=1, num_examples=2)
    monitor.record_epoch(0, num_examples=8, seconds=0.5, test_acc=0.5)
    monitor.finish()
    assert ("4/4" in stderr.getvalue()) is shows_bar  # the bar reached the end
    # The line per epoch is printed either way.
    assert "epoch 1/1: loss 0.500" in capsys.readouterr().out


def test_empty_history_reports_zero_speed():
    assert TrainingHistory(device="cpu").examples_per_sec == 0.0


def test_notebook_progress_bar_redraws_one_line(monkeypatch):
    import IPython.display

    from d2lutils.training import NotebookProgressBar

    class Handle:  # what display(..., display_id=True) returns in a notebook
        def __init__(self, shown):
            self.shown = [shown]

        def update(self, obj):
            self.shown.append(obj)

    handles = []
    monkeypatch.setattr(IPython.display, "display",
                        lambda obj, display_id: handles.append(Handle(obj)) or handles[-1])
    bar = NotebookProgressBar(total=8, min_interval=3600)  # no redraw until close()
    for _ in range(8):
        bar.update()
    bar.close()
    assert len(handles) == 1  # one output, updated in place
    first, final = [str(shown.data) for shown in handles[0].shown]
    assert first.startswith("  0%|") and "0/8" in first
    assert final.startswith("100%|") and "8/8" in final


def test_hyperparameters_come_back_as_numbers_of_one_kind():
    values = check_hyperparameters(2, 1, 0)  # momentum 0 as a whole number: plain SGD
    assert values == (2, 1.0, 0.0) and [type(v) for v in values] == [int, float, float]


@pytest.mark.parametrize("num_epochs, lr, momentum, named", [
    (0, 0.01, 0.9, "num_epochs=0"), (2.5, 0.01, 0.9, "num_epochs=2.5"),
    (True, 0.01, 0.9, "num_epochs=True"), (1, 0, 0.9, "lr=0"), (1, -0.1, 0.9, "lr=-0.1"),
    (1, float("nan"), 0.9, "lr=nan"), (1, "0.01", 0.9, "lr='0.01'"),
    (1, 0.01, 1, "momentum=1"), (1, 0.01, -0.5, "momentum=-0.5"), (1, 0.01, None, "momentum=None")])
def test_hyperparameters_out_of_range_are_named(num_epochs, lr, momentum, named):
    with pytest.raises(ValueError, match=f"^{named}: "):
        check_hyperparameters(num_epochs, lr, momentum)


class _Batches(list):
    """A loader that, like d2lutils's, knows how many classes its labels name."""
    num_classes = 10


@pytest.mark.parametrize("num_outputs, loader, refused", [
    (10, _Batches(), False),          # one output per class
    (1000, _Batches(), False),        # unused outputs do no harm
    (9, _Batches(), True),            # label 9 has no output
    (None, _Batches(), False),        # the network's width could not be read
    (9, [("X", "y")], False),         # a loader of the reader's own is not inspected
])
def test_labels_must_fit_the_outputs(num_outputs, loader, refused):
    if refused:
        with pytest.raises(ValueError, match=r"^data's labels go up to 9, so the network needs "
                                             r"10 outputs, one score per class, but it has 9: "):
            check_labels_fit(num_outputs, data=loader)
    else:
        check_labels_fit(num_outputs, data=loader)
