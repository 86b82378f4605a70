"""The three framework modules side by side, for tests that hold them to one contract.

Each entry knows how to turn a batch into a NCHW numpy array and how to build
the same small LeNet-style network in its framework.
"""

import contextlib
import importlib
import importlib.util

import numpy as np
import pytest

NAMES = ["torch", "tensorflow", "mxnet"]


def installed(name):
    """Whether the framework can be imported in this environment."""
    return importlib.util.find_spec(name) is not None


# Parametrize with these: a framework that is not installed here is skipped, saying
# so, and tested in the environment that has it (see the Makefile).
PARAMS = [pytest.param(name, id=name, marks=pytest.mark.skipif(
    not installed(name), reason=f"{name} is not installed in this environment"))
    for name in NAMES]


def module(name):
    return importlib.import_module(f"d2lutils.{name}")


def to_nchw(name, X):
    """A batch of images as a numpy array in (batch, channels, height, width)."""
    X = to_numpy(name, X)
    return X.transpose(0, 3, 1, 2) if name == "tensorflow" else X


def to_numpy(name, tensor):
    if name == "torch":
        import torch
        if tensor.dtype == torch.bfloat16:  # numpy has no bfloat16
            tensor = tensor.float()
        return tensor.detach().cpu().numpy()
    return tensor.asnumpy() if name == "mxnet" else tensor.numpy()


def inference_precision(name, device):
    """The arithmetic the framework's evaluate_accuracy uses (PyTorch: bf16 where native)."""
    if name == "torch":
        import torch
        d2l = module(name)
        return d2l._autocast(torch.device(device), d2l._choose_precision(device))
    return contextlib.nullcontext()


def input_shape(name, size, channels=1):
    return (1, size, size, channels) if name == "tensorflow" else (1, channels, size, size)


def small_cnn(name):
    """Conv(6, 5x5, pad 2) - ReLU - MaxPool(2) - Flatten - Linear(10): 11,926 parameters."""
    if name == "torch":
        from torch import nn
        return nn.Sequential(nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.ReLU(),
                             nn.MaxPool2d(2), nn.Sequential(nn.Flatten(), nn.Linear(1176, 10)))
    if name == "tensorflow":
        import tensorflow as tf
        return tf.keras.Sequential([
            tf.keras.layers.Conv2D(6, kernel_size=5, padding="same"), tf.keras.layers.ReLU(),
            tf.keras.layers.MaxPool2D(2),
            tf.keras.Sequential([tf.keras.layers.Flatten(), tf.keras.layers.Dense(10)])])
    from mxnet.gluon import nn
    net, head = nn.Sequential(), nn.Sequential()
    head.add(nn.Flatten(), nn.Dense(10))
    net.add(nn.Conv2D(6, kernel_size=5, padding=2), nn.Activation("relu"), nn.MaxPool2D(2), head)
    net.initialize()
    return net


def small_cnn_shapes(name):
    shapes = [(1, 6, 28, 28), (1, 6, 28, 28), (1, 6, 14, 14), (1, 1176), (1, 10)]
    if name == "tensorflow":
        return [(s[0], s[2], s[3], s[1]) if len(s) == 4 else s for s in shapes]
    return shapes


def bilinear_reference(images, size):
    """Bilinear resize of (N, H, W) images, sampling at pixel centres (half-pixel offsets).

    The behaviour of torch's interpolate(align_corners=False), tf.image.resize
    and MXNet's BilinearResize2D(align_corners=False), written out in numpy.
    """
    def weights(n_in):
        src = np.clip((np.arange(size) + 0.5) * n_in / size - 0.5, 0, n_in - 1)
        lo = np.floor(src).astype(int)
        hi = np.minimum(lo + 1, n_in - 1)
        return lo, hi, src - lo

    images = images.astype(np.float64)
    r0, r1, wr = weights(images.shape[1])
    c0, c1, wc = weights(images.shape[2])
    rows = images[:, r0] * (1 - wr)[:, None] + images[:, r1] * wr[:, None]
    return rows[:, :, c0] * (1 - wc) + rows[:, :, c1] * wc


def seed(name, value):
    """Make initialisation and shuffling repeatable, so a test's outcome is too."""
    np.random.seed(value)
    if name == "torch":
        import torch
        torch.manual_seed(value)
    elif name == "tensorflow":
        import tensorflow as tf
        tf.keras.utils.set_random_seed(value)
    else:
        import mxnet as mx
        mx.random.seed(value)


def spy_on_optimizer(name, monkeypatch):
    """Record the learning rate and momentum of every SGD optimizer train_ch6 builds.

    Returns the list the records go to; the optimizer itself is built as usual.
    """
    built = []
    if name == "torch":
        import torch
        real_sgd = torch.optim.SGD

        def sgd(params, lr, momentum=0, **kwargs):
            built.append({"lr": lr, "momentum": momentum})
            return real_sgd(params, lr=lr, momentum=momentum, **kwargs)
        monkeypatch.setattr(torch.optim, "SGD", sgd)
    elif name == "tensorflow":
        import tensorflow as tf
        real_sgd = tf.keras.optimizers.SGD

        def sgd(learning_rate, momentum=0.0, **kwargs):
            built.append({"lr": learning_rate, "momentum": momentum})
            return real_sgd(learning_rate=learning_rate, momentum=momentum, **kwargs)
        monkeypatch.setattr(tf.keras.optimizers, "SGD", sgd)
    else:
        from mxnet import gluon
        real_trainer = gluon.Trainer

        def trainer(params, optimizer, optimizer_params, **kwargs):
            assert optimizer == "sgd"
            built.append({"lr": optimizer_params["learning_rate"],
                          "momentum": optimizer_params.get("momentum", 0.0)})
            return real_trainer(params, optimizer, optimizer_params, **kwargs)
        monkeypatch.setattr(gluon, "Trainer", trainer)
    return built
