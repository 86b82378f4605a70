"""d2lutils.jax beyond the shared contract: JAX's explicit seeds make runs repeatable,
and an accelerator is named whatever its platform."""

import numpy as np
import pytest

pytest.importorskip("jax", reason="JAX is not installed in this environment")

import d2lutils.jax as d2l  # noqa: E402

from . import frameworks  # noqa: E402


def labels_in_order(train_iter):
    return np.concatenate([np.asarray(y) for _, y in train_iter])


def test_the_same_seed_gives_the_same_orders_and_another_seed_others(fashion_dir):
    def epochs(seed):
        train_iter, _ = d2l.load_data_fashion_mnist(50, num_train=200, num_test=10,
                                                    data_dir=fashion_dir, seed=seed)
        return [labels_in_order(train_iter) for _ in range(2)]

    first, again, other = epochs(0), epochs(0), epochs(1)
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.array_equal(first[0], other[0])


def test_train_ch6_starts_from_its_seed(fashion_dir):
    def train(seed):
        train_iter, test_iter = d2l.load_data_fashion_mnist(32, num_train=64, num_test=32,
                                                            data_dir=fashion_dir)
        net = frameworks.small_cnn("jax")
        d2l.train_ch6(net, train_iter, test_iter, num_epochs=1, lr=0.05,
                      device=d2l.try_gpu(), seed=seed)
        return np.asarray(net.layers[0].kernel.value)

    first, again, other = train(0), train(0), train(1)
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)


def test_train_ch6_reinitialises_glorot_uniform_with_zero_biases(fashion_dir, monkeypatch):
    # Stop right after the initialisation: the optimizer is built next.
    class Stop(Exception):
        pass

    def stop(*args, **kwargs):
        raise Stop
    monkeypatch.setattr(d2l.nnx, "Optimizer", stop)
    net = frameworks.small_cnn("jax")
    conv, linear = net.layers[0], net.layers[3].layers[1]
    conv.bias.value = conv.bias.value + 1.0
    train_iter, test_iter = d2l.load_data_fashion_mnist(32, num_train=32, num_test=32,
                                                        data_dir=fashion_dir)
    with pytest.raises(Stop):
        d2l.train_ch6(net, train_iter, test_iter, 1, 0.1, d2l.try_gpu())
    for layer, fan_in, fan_out in ((conv, 5 * 5 * 1, 5 * 5 * 6), (linear, 1176, 10)):
        limit = np.sqrt(6 / (fan_in + fan_out))
        kernel = np.asarray(layer.kernel.value)
        assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.9 * limit
        np.testing.assert_array_equal(np.asarray(layer.bias.value), 0)


def test_dropout_is_on_in_training_and_off_in_evaluation(fashion_dir, monkeypatch):
    from flax import nnx

    train_iter, test_iter = d2l.load_data_fashion_mnist(32, num_train=64, num_test=64,
                                                        data_dir=fashion_dir)
    rngs = nnx.Rngs(0)
    dropout = nnx.Dropout(0.5, rngs=rngs)
    net = nnx.Sequential(lambda X: X.reshape(len(X), -1), nnx.Linear(784, 10, rngs=rngs),
                         dropout)
    # Every training step, in every epoch (each epoch ends with an evaluation that
    # switches dropout off), must find dropout on.
    modes, train_step = [], d2l._train_step
    monkeypatch.setattr(d2l, "_train_step",
                        lambda net, *args: modes.append(dropout.deterministic)
                        or train_step(net, *args))
    device = d2l.try_gpu()
    net.eval()  # as a reader's network is after evaluate_accuracy or the shape table
    d2l.train_ch6(net, train_iter, test_iter, num_epochs=2, lr=0.1, device=device)
    assert modes == [False] * 4  # two epochs of two batches
    # Left in evaluation mode: the same predictions every time.
    assert dropout.deterministic
    X, _ = next(iter(test_iter))
    np.testing.assert_array_equal(np.asarray(net(X)), np.asarray(net(X)))
    net.train()  # dropout on: a new mask each call, about half the outputs zeroed
    first, second = np.asarray(net(X)), np.asarray(net(X))
    assert not np.array_equal(first, second)
    assert 0.4 < (first == 0).mean() < 0.6


class BorrowedTPU:
    """What describe_device reads of a Colab TPU: the machines here have none."""
    platform, device_kind = "tpu", "TPU v5 lite"

    def __str__(self):
        return "TPU_0(host=0,(0,0,0,0))"


def test_a_tpu_is_named_not_called_a_cpu(monkeypatch):
    monkeypatch.setattr(d2l, "_device", lambda device: device)  # let the stand-in through
    assert d2l.describe_device(BorrowedTPU()) == "TPU v5 lite (TPU_0(host=0,(0,0,0,0)))"


def test_on_a_tpu_machine_try_gpu_keeps_the_cpu_and_says_how_to_use_the_tpu(monkeypatch, capsys):
    cpu = d2l.jax.devices("cpu")[0]

    def devices(backend=None):  # JAX on Colab's TPU runtime: no GPU, a TPU by default
        if backend == "gpu":
            raise RuntimeError("Unknown backend: 'gpu' requested, but no platforms that are "
                               "instances of gpu are present. Platforms present are: tpu,cpu")
        return [cpu] if backend == "cpu" else [BorrowedTPU()]

    monkeypatch.setattr(d2l.jax, "devices", devices)
    assert d2l.try_gpu() is cpu
    out = capsys.readouterr().out
    assert " ".join(out.split()).startswith(
        "No GPU found: running on the CPU. JAX also sees a TPU (TPU v5 lite)")
    assert out.endswith("\n    device = jax.devices('tpu')[0]\n")  # a line to copy, unbroken
