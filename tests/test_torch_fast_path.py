"""d2lutils.torch.train_ch6's fast path: the speed-ups must not change what is computed."""

import contextlib

import pytest
import torch
from torch.nn import functional as F

import d2lutils.torch as d2l
from tests import frameworks


def test_fast_path_computes_what_plain_float32_sgd_computes(fashion_dir, monkeypatch):
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
    optimizer = torch.optim.SGD(plain.parameters(), lr=0.1)
    for _ in range(2):
        for X, y in train_iter:
            loss = F.cross_entropy(plain(X), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    for p_fast, p_plain in zip(fast.parameters(), plain.parameters()):
        torch.testing.assert_close(p_fast, p_plain, rtol=1e-4, atol=1e-5)
    assert fast[0].weight.is_contiguous(memory_format=torch.channels_last)


def test_bfloat16_only_where_the_hardware_has_it(monkeypatch):
    cpu = torch.device("cpu")
    monkeypatch.setattr(d2l, "_cpu_has_bf16", lambda: False)
    assert isinstance(d2l._mixed_precision(cpu), contextlib.nullcontext)
    monkeypatch.setattr(d2l, "_cpu_has_bf16", lambda: True)
    with d2l._mixed_precision(cpu):
        product = torch.ones(4, 4) @ torch.ones(4, 4)
    assert product.dtype == torch.bfloat16


def test_cpu_bfloat16_check_survives_a_torch_without_it(monkeypatch):
    for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"):
        monkeypatch.delattr(torch.cpu, name, raising=False)
    assert d2l._cpu_has_bf16() is False


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_trains_in_bfloat16():
    with d2l._mixed_precision(torch.device("cuda:0")):
        product = torch.ones(4, 4, device="cuda:0") @ torch.ones(4, 4, device="cuda:0")
    assert product.dtype == torch.bfloat16
