"""The table of layers and output shapes that every framework module prints."""

from typing import NamedTuple


class LayerSummary(NamedTuple):
    """Each layer's class name and output shape, in order, and the parameter count."""
    layers: list  # of (class name, output shape as a tuple of ints)
    num_params: int

    def __str__(self):
        width = max([len(name) for name, _ in self.layers] + [5])
        lines = [f"{name:<{width}}  output shape: {shape}" for name, shape in self.layers]
        lines.append(f"parameters: {self.num_params:,}")
        return "\n".join(lines)

    @property
    def shapes(self):
        return [shape for _, shape in self.layers]


def wrong_input_error(index, name, input_shape, error):
    """The error for the layer at `index` (counted from 0) that cannot take the shape it was given."""
    return ValueError(f"Layer {index + 1} ({name}) cannot take an input of shape "
                      f"{tuple(input_shape)}: {error}\nCheck the input_shape passed to "
                      f"layer_summary (batch, channels and size in the framework's layout).")
