"""d2lutils.torch beyond the shared contract: accelerators other than CUDA, and what
train_ch6 does when the network fails."""

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


class AlwaysFails(nn.Module):
    """A layer that fails whatever it is given."""

    def forward(self, X):
        raise RuntimeError("not a matter of shapes")


# train_ch6 looks into a failure by passing one blank 224x224 image, then one of the
# batch's, through the layers: the size is blamed only where the first passes and the
# second does not.
@pytest.mark.parametrize("network, resize", [
    (lambda: nn.Sequential(d2l.alexnet(), FailsWhileTraining()), 224),  # both images pass
    (lambda: nn.Sequential(AlwaysFails(), d2l.alexnet()), None),  # 224x224 fails as well
], ids=["every-image-passes", "the-right-size-fails-too"])
def test_a_failure_the_image_size_is_not_why_passes_through_unchanged(network, resize,
                                                                      fashion_dir, monkeypatch):
    traced, trace_one_image = [], d2l._trace_one_image

    def watched(net, X, size=None):
        traced.append(size)
        return trace_one_image(net, X, size)

    monkeypatch.setattr(d2l, "_trace_one_image", watched)
    net = network()
    train_iter, test_iter = d2l.load_data_fashion_mnist(8, resize=resize, num_train=8,
                                                        num_test=8, device="cpu",
                                                        data_dir=fashion_dir)
    with pytest.raises(RuntimeError, match="^not a matter of shapes$"):
        d2l.train_ch6(net, train_iter, test_iter, num_epochs=1, lr=0.01, device="cpu")
    assert traced == ([224, None] if resize else [224])  # looked into, then let through
    assert net.training  # the trace ran in evaluation mode; training mode is back


# The machines here have no accelerator, so these borrow one: PyTorch's device modules
# report one device and its name, as torch.xpu and torch.backends.mps do on such machines.
def test_an_intel_gpu_is_named_and_trained_on_as_a_gpu(monkeypatch):
    monkeypatch.setattr(torch.xpu, "device_count", lambda: 1)
    monkeypatch.setattr(torch.xpu, "get_device_name",
                        lambda device=None: "Intel(R) Data Center GPU Max 1100")
    assert d2l.describe_device("xpu:0") == "Intel(R) Data Center GPU Max 1100 (xpu:0)"
    monkeypatch.delenv("D2LUTILS_BUDGET", raising=False)  # the suite's quick setting
    assert d2l.choose_budget("xpu:0").name == "full"
    with pytest.raises(ValueError, match="^PyTorch has no device 'xpu:1' here: it sees 1 xpu "
                                         "device\\."):
        d2l.describe_device("xpu:1")


def test_apples_gpu_is_named_where_pytorch_can_name_it(monkeypatch):
    monkeypatch.setattr(torch.mps, "device_count", lambda: 1)
    monkeypatch.setattr(torch.backends.mps, "get_name", lambda: "Apple M2", raising=False)
    assert d2l.describe_device("mps") == "Apple M2 (mps)"
    monkeypatch.delattr(torch.backends.mps, "get_name")  # releases that cannot name it
    assert d2l.describe_device("mps:0") == "MPS device (mps:0)"
    with pytest.raises(ValueError, match="^PyTorch has no device 'mps:1' here: it sees 1 mps"):
        d2l.describe_device("mps:1")


def test_initial_weights_do_not_depend_on_the_layout_they_are_drawn_into():
    """A network already channels-last (d2lutils.train wraps it so for DDP) starts from the
    same weights as a fresh one: random numbers fill a tensor in memory order."""
    nets = []
    for layout in (torch.contiguous_format, torch.channels_last):
        torch.manual_seed(0)
        net = d2l.alexnet().to(memory_format=layout)
        torch.manual_seed(1)
        net.apply(d2l._init_glorot)
        nets.append(net)
    first_convs = [next(m for m in net.modules() if isinstance(m, nn.Conv2d)) for net in nets]
    assert first_convs[1].weight.is_contiguous(memory_format=torch.channels_last)  # kept
    for fresh, channels_last in zip(nets[0].parameters(), nets[1].parameters()):
        torch.testing.assert_close(channels_last, fresh, rtol=0, atol=0)
    assert first_convs[0].bias.abs().sum() == 0 and first_convs[0].weight.std() > 0
