"""The table of layers and output shapes that every framework module prints."""

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


def wrong_input_error(index, name, input_shape, error):
    """The error for the layer at `index` (counted from 0) that cannot take the shape it was given."""
    return ValueError(f"Layer {index + 1} ({name}) cannot take an input of shape "
                      f"{tuple(input_shape)}: {error}\nCheck the input_shape passed to "
                      f"layer_summary (batch, channels and size in the framework's layout).")
