"""The Gluon half of alexnet_parity.ipynb, run by the MXNet environment's Python.

MXNet 1.9.1 needs NumPy 1.x and the notebook runs NumPy 2, so the two live in
different environments: the notebook saves the weights and images to a file,
runs this script with the MXNet environment's Python, and reads back the logits.

    python parity_gluon.py chapter|published INPUTS.npz LOGITS.npy

INPUTS.npz holds `images` (batch, channels, height, width) and arr_0, arr_1,
...: the weight and bias of each weighted layer in order, in PyTorch's layout,
which is also Gluon's.
"""

import sys
from pathlib import Path

import numpy as np

import d2lutils.mxnet  # noqa: F401  (before MXNet: it checks the NumPy MXNet needs)
from d2lutils.notebooks import run_tagged_cell
from mxnet import nd
from mxnet.gluon import nn

HERE = Path(__file__).resolve().parent


def chapter_network():
    """The AlexNet of alexnet_mxnet.ipynb, from its definition cell."""
    return run_tagged_cell(HERE / "alexnet_mxnet.ipynb", "alexnet-definition", nn=nn)["alexnet"]()


def published_network():
    """The network of 2012 from Gluon's own pieces: towers as groups=2, and LRN.

    MXNet's LRN, like PyTorch's, divides alpha by the window size: 5e-4 is the
    paper's 1e-4.
    """
    def lrn():
        return nn.HybridLambda(lambda F, x: F.LRN(x, alpha=5e-4, beta=0.75, knorm=2.0, nsize=5))

    net = nn.Sequential()
    net.add(nn.Conv2D(96, 11, strides=4), nn.Activation("relu"), lrn(), nn.MaxPool2D(3, 2),
            nn.Conv2D(256, 5, padding=2, groups=2), nn.Activation("relu"), lrn(),
            nn.MaxPool2D(3, 2),
            nn.Conv2D(384, 3, padding=1), nn.Activation("relu"),
            nn.Conv2D(384, 3, padding=1, groups=2), nn.Activation("relu"),
            nn.Conv2D(256, 3, padding=1, groups=2), nn.Activation("relu"),
            nn.MaxPool2D(3, 2), nn.Flatten(),
            nn.Dense(4096), nn.Activation("relu"), nn.Dropout(0.5),
            nn.Dense(4096), nn.Activation("relu"), nn.Dropout(0.5),
            nn.Dense(1000))
    return net


def main(network, inputs, output):
    exchange = np.load(inputs)
    images = exchange["images"]
    arrays = [exchange[f"arr_{i}"] for i in range(len(exchange.files) - 1)]
    net = chapter_network() if network == "chapter" else published_network()
    net.initialize()
    net(nd.zeros((1,) + images.shape[1:]))  # Gluon creates its parameters at the first input
    parameters = list(net.collect_params().values())
    if [p.shape for p in parameters] != [a.shape for a in arrays]:
        raise SystemExit(f"the {network} network's parameters have shapes "
                         f"{[p.shape for p in parameters]}, the file's arrays "
                         f"{[a.shape for a in arrays]}")
    for parameter, array in zip(parameters, arrays):
        parameter.set_data(nd.array(array))
    # Called outside autograd.record(): Gluon's dropout is off.
    np.save(output, net(nd.array(images)).asnumpy())


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("chapter", "published"):
        raise SystemExit(__doc__)
    main(*sys.argv[1:])
