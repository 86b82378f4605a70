"""Checkpoints: a run interrupted and resumed ends where an uninterrupted one does (to 1e-6).

Every test runs once per framework (train_ch6's `checkpoint` keyword), on a small
network with dropout, so that the shuffle, the dropout masks, the momentum and
the history all have to come back for the two runs to agree. On the CPU, where
the same arithmetic gives the same bits.
"""

import numpy as np
import pytest

from d2lutils import checkpoint as ckpt

from . import frameworks

pytestmark = pytest.mark.parametrize("name", frameworks.PARAMS)

SETTINGS = {"network": "small_cnn_with_dropout", "batch_size": 16, "lr": 0.1}


def train(name, folder, num_epochs, fashion_dir, global_seed=0, interrupt_after=None):
    """Train small_cnn_with_dropout on 64 images with a checkpoint in `folder`.

    interrupt_after: raise KeyboardInterrupt when the loader prepares that many
    batches, as if the run were stopped in the middle of an epoch.
    """
    d2l = frameworks.module(name)
    frameworks.seed(name, global_seed)
    train_iter, test_iter = d2l.load_data_fashion_mnist(16, num_train=64, num_test=32,
                                                        device=frameworks.cpu(name),
                                                        data_dir=fashion_dir)
    if interrupt_after is not None:
        prepare, calls = train_iter.prepare, []

        def interrupting_prepare(images):
            calls.append(1)
            if len(calls) > interrupt_after:
                raise KeyboardInterrupt
            return prepare(images)
        train_iter.prepare = interrupting_prepare
    checkpoint = ckpt.Checkpoint(folder, SETTINGS, seed=7)
    return d2l.train_ch6(frameworks.small_cnn_with_dropout(name), train_iter, test_iter,
                         num_epochs, lr=0.1, device=frameworks.cpu(name), checkpoint=checkpoint)


def saved_arrays(folder):
    with np.load(folder / ckpt.CHECKPOINT_FILE) as stored:
        return {name: stored[name] for name in stored.files if name != "__run__"}


def test_resumed_run_ends_where_an_uninterrupted_one_does(name, fashion_dir, tmp_path):
    whole = train(name, tmp_path / "whole", 3, fashion_dir)
    with pytest.raises(KeyboardInterrupt):  # 4 batches per epoch: stopped in the second
        train(name, tmp_path / "resumed", 3, fashion_dir, interrupt_after=6)
    assert ckpt.read_metrics(tmp_path / "resumed" / ckpt.METRICS_FILE)["epoch"] == [1]
    first_epoch = saved_arrays(tmp_path / "resumed")
    # Another global seed: what the resumed run draws must come from the checkpoint.
    resumed = train(name, tmp_path / "resumed", 3, fashion_dir, global_seed=1)

    expected, actual = saved_arrays(tmp_path / "whole"), saved_arrays(tmp_path / "resumed")
    assert sorted(actual) == sorted(expected)
    for array_name in expected:
        np.testing.assert_allclose(actual[array_name], expected[array_name], rtol=0, atol=1e-6,
                                   err_msg=array_name)
    # The check can fail: two epochs of training moved the weights far beyond that.
    moved = max(np.abs(expected[n].astype(float) - first_epoch[n].astype(float)).max()
                for n in expected if n.startswith("net/") and expected[n].dtype.kind == "f")
    assert moved > 1e-3
    assert resumed.test_acc == pytest.approx(whole.test_acc, abs=1e-6)
    assert [point[0] for point in resumed.points] == [point[0] for point in whole.points]
    assert ckpt.read_metrics(tmp_path / "resumed" / ckpt.METRICS_FILE)["epoch"] == [1, 2, 3]


def test_checkpoint_of_other_settings_is_refused_and_kept(name, fashion_dir, tmp_path):
    train(name, tmp_path, 1, fashion_dir)
    before = (tmp_path / ckpt.CHECKPOINT_FILE).read_bytes()
    d2l = frameworks.module(name)
    train_iter, test_iter = d2l.load_data_fashion_mnist(16, num_train=64, num_test=32,
                                                        device=frameworks.cpu(name),
                                                        data_dir=fashion_dir)
    other = ckpt.Checkpoint(tmp_path, {**SETTINGS, "lr": 0.05}, seed=7)
    with pytest.raises(ckpt.CheckpointMismatch, match=r"lr: the checkpoint has 0\.1, this run "
                                                      r"asks for 0\.05"):
        d2l.train_ch6(frameworks.small_cnn_with_dropout(name), train_iter, test_iter, 2,
                      lr=0.05, device=frameworks.cpu(name), checkpoint=other)
    assert (tmp_path / ckpt.CHECKPOINT_FILE).read_bytes() == before


def test_checkpoint_of_another_network_is_refused(name, fashion_dir, tmp_path):
    train(name, tmp_path, 1, fashion_dir)
    d2l = frameworks.module(name)
    train_iter, test_iter = d2l.load_data_fashion_mnist(16, num_train=64, num_test=32,
                                                        device=frameworks.cpu(name),
                                                        data_dir=fashion_dir)
    same_settings = ckpt.Checkpoint(tmp_path, SETTINGS, seed=7)
    with pytest.raises(ckpt.CheckpointMismatch, match="does not fit this network"):
        d2l.train_ch6(frameworks.small_cnn(name), train_iter, test_iter, 2, lr=0.1,
                      device=frameworks.cpu(name), checkpoint=same_settings)
