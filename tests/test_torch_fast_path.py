"""d2lutils.torch.train_ch6's fast path: the speed-ups must not change what is computed."""

import contextlib

import pytest

torch = pytest.importorskip("torch", reason="PyTorch is not installed in this environment")
from torch.nn import functional as F

import d2lutils.torch as d2l
from tests import frameworks


def test_fast_path_computes_what_plain_float32_momentum_sgd_computes(fashion_dir, monkeypatch):
    # Channels-last layout and the fused SGD kernel change how, not what; with
    # bfloat16 switched off the weights must match a plain loop's.
    monkeypatch.setattr(d2l, "_cpu_has_bf16", lambda: False)
    train_iter, test_iter = d2l.load_data_fashion_mnist(32, num_train=96, num_test=32,
                                                        device="cpu", data_dir=fashion_dir)
    torch.manual_seed(0)
    fast = frameworks.small_cnn("torch")
    d2l.train_ch6(fast, train_iter, test_iter, num_epochs=2, lr=0.1, device="cpu")

    torch.manual_seed(0)  # same initial weights, same shuffles, in the same order
    plain = frameworks.small_cnn("torch")
    plain.apply(d2l._init_glorot)
    optimizer = torch.optim.SGD(plain.parameters(), lr=0.1, momentum=0.9)  # the default
    for _ in range(2):
        for X, y in train_iter:
            loss = F.cross_entropy(plain(X), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    for p_fast, p_plain in zip(fast.parameters(), plain.parameters()):
        torch.testing.assert_close(p_fast, p_plain, rtol=1e-4, atol=1e-5)
    assert fast[0].weight.is_contiguous(memory_format=torch.channels_last)


def test_cpu_computes_in_bfloat16_only_where_the_hardware_has_it(monkeypatch):
    cpu = torch.device("cpu")
    monkeypatch.setattr(d2l, "_cpu_has_bf16", lambda: False)
    assert d2l._choose_precision(cpu) == torch.float32
    assert isinstance(d2l._autocast(cpu, torch.float32), contextlib.nullcontext)
    monkeypatch.setattr(d2l, "_cpu_has_bf16", lambda: True)
    assert d2l._choose_precision(cpu) == torch.bfloat16
    with d2l._autocast(cpu, d2l._choose_precision(cpu)):
        product = torch.ones(4, 4) @ torch.ones(4, 4)
    assert product.dtype == torch.bfloat16


@pytest.mark.parametrize("gpu, capability, precision", [
    ("Tesla K80", (3, 7), torch.float32),
    ("Tesla P100", (6, 0), torch.float32),
    ("Tesla V100", (7, 0), torch.float16),
    ("Tesla T4 (Colab's free GPU)", (7, 5), torch.float16),
    ("A100", (8, 0), torch.bfloat16),
    ("L4", (8, 9), torch.bfloat16),
    ("H100", (9, 0), torch.bfloat16),
])
def test_gpu_precision_is_what_its_tensor_cores_do_natively(gpu, capability, precision):
    assert d2l._precision_for_gpu(capability) == precision, gpu


def test_training_report_names_the_precision(fashion_dir, monkeypatch, capsys):
    monkeypatch.setattr(d2l, "_cpu_has_bf16", lambda: False)
    train_iter, test_iter = d2l.load_data_fashion_mnist(32, num_train=32, num_test=32,
                                                        device="cpu", data_dir=fashion_dir)
    history = d2l.train_ch6(frameworks.small_cnn("torch"), train_iter, test_iter,
                            num_epochs=1, lr=0.1, device="cpu")
    assert history.precision == "float32"
    assert capsys.readouterr().out.splitlines()[-1].endswith(" examples/sec on cpu, float32")


def test_float16_training_scales_the_loss(fashion_dir, monkeypatch):
    # What a T4 gets. On a CPU autocast to float16 works too (slowly), so the loss
    # scaling path runs here: every step's loss is scaled before its backward pass
    # (float16 gradients this small would round to zero), and training still works.
    monkeypatch.setattr(d2l, "_choose_precision", lambda device: torch.float16)
    scalers = []

    class RecordingScaler(torch.amp.GradScaler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.scaled = 0
            scalers.append(self)

        def scale(self, outputs):
            self.scaled += 1
            return super().scale(outputs)

    monkeypatch.setattr(torch.amp, "GradScaler", RecordingScaler)
    train_iter, test_iter = d2l.load_data_fashion_mnist(64, num_train=512, num_test=64,
                                                        device="cpu", data_dir=fashion_dir)
    torch.manual_seed(0)
    history = d2l.train_ch6(frameworks.small_cnn("torch"), train_iter, test_iter,
                            num_epochs=2, lr=0.1, device="cpu")
    assert history.precision == "float16"
    [scaler] = scalers
    assert scaler.is_enabled() and scaler.scaled == 2 * 512 // 64
    assert history.points[-1][1] < 0.8 * history.points[0][1]


def test_cpu_bfloat16_check_survives_a_torch_without_it(monkeypatch):
    for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"):
        monkeypatch.delattr(torch.cpu, name, raising=False)
    assert d2l._cpu_has_bf16() is False


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_trains_in_its_native_precision():
    device = torch.device("cuda:0")
    precision = d2l._choose_precision(device)
    major, _ = torch.cuda.get_device_capability(device)
    assert precision == (torch.bfloat16 if major >= 8 else
                         torch.float16 if major == 7 else torch.float32)
    with d2l._autocast(device, precision):
        product = torch.ones(4, 4, device=device) @ torch.ones(4, 4, device=device)
    assert product.dtype == precision


@pytest.mark.parametrize("isa_cap, native", [("AVX2", False), ("avx512_core", False),
                                             ("AVX512_CORE_BF16", True), ("AVX512_CORE_AMX", True),
                                             ("ALL", True)])
def test_bfloat16_only_where_onednn_may_use_the_hardware_for_it(isa_cap, native, monkeypatch):
    # A processor with AVX-512 BF16 whose oneDNN is capped at AVX2 emulates bfloat16.
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: True, raising=False)
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", isa_cap)
    assert d2l._cpu_has_bf16() is native
