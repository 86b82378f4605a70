"""d2lutils.training: the progress, history and report shared by the three train_ch6."""

import pytest

from d2lutils.training import TrainingHistory, TrainingMonitor


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
    out = capsys.readouterr()
    # Outside a notebook each epoch gets a line, then the two closing lines.
    assert out.out.splitlines() == [
        "epoch 1/2: loss 0.500, train acc 0.750, test acc 0.600",
        "epoch 2/2: loss 0.250, train acc 0.750, test acc 0.700",
        "loss 0.250, train acc 0.750, test acc 0.700",
        "16.0 examples/sec on cuda:0"]
    assert "4/4" in out.err  # the progress bar reached the end


def test_empty_history_reports_zero_speed():
    assert TrainingHistory(device="cpu").examples_per_sec == 0.0
