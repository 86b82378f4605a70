"""The table of layers and output shapes that every framework module prints, and the
error for an input that a layer cannot take."""

import contextlib
from typing import NamedTuple


class LayerInfo(NamedTuple):
    """One layer of a network, as layer_summary saw it."""
    name: str          # the layer's class name
    shape: tuple       # its output shape for the example input
    num_params: int    # the parameters it holds itself


class LayerSummary(NamedTuple):
    """Each layer's class name, output shape and parameter count, in order."""
    layers: list  # of LayerInfo

    @property
    def num_params(self):
        return sum(layer.num_params for layer in self.layers)

    def __str__(self):
        width = max([len(layer.name) for layer in self.layers] + [5])
        lines = [f"{layer.name:<{width}}  output shape: {layer.shape}" for layer in self.layers]
        lines.append(f"parameters: {self.num_params:,}")
        return "\n".join(lines)


def wrong_input_error(index, name, input_shape, error, *, batch_shape=None):
    """The error for the layer at `index` (counted from 0) that cannot take the shape it was given.

    batch_shape: where train_ch6 found that its training batches do not fit the
    network, their shape; the advice is then about the loader, not about
    layer_summary's input_shape.
    """
    where = (f"Layer {index + 1} ({name}) cannot take an input of shape "
             f"{tuple(input_shape)}: {error}")
    if batch_shape is None:
        return ValueError(f"{where}\nCheck the input_shape passed to layer_summary (batch, "
                          f"channels and size in the framework's layout).")
    return ValueError(f"The training batches, of shape {tuple(batch_shape)}, do not fit the "
                      f"network (tried on one of their images). {where}\nThe chapter's "
                      f"AlexNet takes 224x224 images: load them with "
                      f"load_data_fashion_mnist(batch_size, resize=224).")


@contextlib.contextmanager
def wrong_size_explained(errors, trace_one_image, net, X):
    """A with-block in which a failure of `net` on the training batch X (one of
    `errors`) is looked into: trace_one_image(net, X) passes one image of X through
    the network layer by layer and raises wrong_input_error, with X's shape, at the
    first layer that cannot take it. Where every layer takes it, X's shape is not
    why, and the failure passes through as it is. Nothing runs unless `net` fails.
    """
    try:
        yield
    except errors:
        trace_one_image(net, X)
        raise
