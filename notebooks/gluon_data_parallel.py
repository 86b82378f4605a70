"""One data-parallel training step with Gluon: several contexts and a KVStore.

Run by two_gpus.ipynb with the MXNet environment's Python (MXNet
1.9.1 needs NumPy 1.x; the notebook runs NumPy 2):

    python gluon_data_parallel.py BATCH_PER_CONTEXT RESULT.json

Gluon's own way to use several devices: the network keeps a copy of every
weight on each context (mx.gpu(0), mx.gpu(1), ... or, on a CPU, mx.cpu(0) and
mx.cpu(1)), each copy computes the gradients of its share of the batch, and the
Trainer's KVStore adds the copies' gradients up, makes the update itself (as
MXNet does by default with a "device" KVStore) and hands every copy the new
weights. This script makes one such step on two contexts with BATCH_PER_CONTEXT
images each, and one step on one context with the whole batch, from the same
weights, and writes how far apart the two results are.
"""

import json
import sys
from pathlib import Path

import numpy as np

import d2lutils.mxnet as d2l  # before MXNet: it checks the NumPy MXNet needs
from d2lutils.notebooks import run_tagged_cell
import mxnet as mx
from mxnet import autograd, gluon, init
from mxnet.gluon import nn

HERE = Path(__file__).resolve().parent


def alexnet_with_weights(weights, contexts):
    """The AlexNet of alexnet_mxnet.ipynb on `contexts`, holding `weights` (or fresh ones)."""
    net = run_tagged_cell(HERE / "alexnet_mxnet.ipynb", "alexnet-definition", nn=nn)["alexnet"]()
    mx.random.seed(0)
    net.initialize(init.Xavier(), ctx=contexts)
    net(mx.nd.zeros((1, 1, 224, 224), ctx=contexts[0]))  # Gluon creates weights at the first input
    if weights is not None:
        for parameter, array in zip(net.collect_params().values(), weights):
            parameter.set_data(mx.nd.array(array))  # the same values on every context
    return net


def switch_off_dropout(block):
    """Set the rate of every Dropout block in `block` to 0.

    Each context would draw its own dropout masks, so the two-context step could
    equal the one-context step only on average. (Recording in inference mode,
    autograd.record(train_mode=False), would switch dropout off too, but it is not
    the mode Gluon trains in; we keep training mode and set the rate to 0.)
    """
    if isinstance(block, nn.Dropout):
        block._rate = 0.0  # MXNet is frozen at 1.9.1: its private field is stable
    for child in block._children.values():
        switch_off_dropout(child)


def one_step(net, contexts, X, y):
    trainer = gluon.Trainer(net.collect_params(), "sgd",
                            {"learning_rate": 0.01, "momentum": 0.9}, kvstore="device")
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    X_parts = gluon.utils.split_and_load(X, contexts)  # one share of the batch per context
    y_parts = gluon.utils.split_and_load(y, contexts)
    with autograd.record():
        losses = [loss_fn(net(X_part), y_part) for X_part, y_part in zip(X_parts, y_parts)]
    for loss in losses:
        loss.backward()
    # The KVStore sums the contexts' gradients; step() divides by the whole batch.
    trainer.step(len(y))
    return [p.data(contexts[0]).asnumpy() for p in net.collect_params().values()]


def main(batch_per_context, result_path):
    two = [mx.cpu(0), mx.cpu(1)] if mx.context.num_gpus() < 2 else [mx.gpu(0), mx.gpu(1)]
    _, test_iter = d2l.load_data_fashion_mnist(2 * batch_per_context, resize=224, num_train=1,
                                               num_test=2 * batch_per_context, device=mx.cpu())
    X, y = next(iter(test_iter))

    start = [p.data().asnumpy() for p in alexnet_with_weights(None, [mx.cpu()])
             .collect_params().values()]
    nets = {len(contexts): alexnet_with_weights(start, contexts) for contexts in (two[:1], two)}
    for net in nets.values():
        switch_off_dropout(net)
    after_one = one_step(nets[1], two[:1], X, y)
    after_two = one_step(nets[2], two, X, y)
    result = {
        "contexts": [str(ctx) for ctx in two],
        "batch_per_context": batch_per_context,
        "largest_difference": float(max(np.abs(a - b).max()
                                        for a, b in zip(after_one, after_two))),
        "largest_update": float(max(np.abs(a - b).max() for a, b in zip(after_one, start))),
    }
    Path(result_path).write_text(json.dumps(result))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(int(sys.argv[1]), sys.argv[2])
