"""d2lutils.torch beyond the shared contract: what train_ch6 does when the network fails."""

import pytest

torch = pytest.importorskip("torch", reason="PyTorch is not installed in this environment")
from torch import nn  # noqa: E402

import d2lutils.torch as d2l  # noqa: E402
from tests import frameworks  # noqa: E402


class FailsWhileTraining(nn.Module):
    """A layer that fails in training mode only: a failure that the input's shape is not why."""

    def forward(self, X):
        if self.training:
            raise RuntimeError("not a matter of shapes")
        return X


def test_a_failure_the_shape_is_not_why_passes_through_unchanged(fashion_dir):
    # train_ch6 traces one image through the layers to see whether the batch's shape
    # is to blame; here every layer takes it, so the network's own error is raised.
    net = nn.Sequential(frameworks.small_cnn("torch"), FailsWhileTraining())
    train_iter, test_iter = d2l.load_data_fashion_mnist(8, num_train=8, num_test=8,
                                                        device="cpu", data_dir=fashion_dir)
    with pytest.raises(RuntimeError, match="^not a matter of shapes$"):
        d2l.train_ch6(net, train_iter, test_iter, num_epochs=1, lr=0.01, device="cpu")
    assert net.training  # the trace ran in evaluation mode; training mode is back
