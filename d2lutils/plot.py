"""Figures: a grid of images, and the training curves redrawn live (matplotlib only)."""

import math

import matplotlib.pyplot as plt
import numpy as np


def in_notebook():
    """Whether this code runs in a Jupyter kernel (where figures can be redrawn in place)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def show_images(images, titles=None, num_cols=8, scale=1.4):
    """Draw images in a grid, each under its title; return the figure.

    images: grayscale (N, H, W), drawn dark on light, or colour (N, H, W, 3)
    with values in [0, 1] (floats) or 0..255 (uint8).
    """
    images = np.asarray(images)
    colour = images.ndim == 4 and images.shape[-1] == 3
    if images.ndim != 3 and not colour:
        raise ValueError(f"show_images expects grayscale images (N, H, W) or colour images "
                         f"(N, H, W, 3), got shape {images.shape}; for a single image add "
                         f"a batch axis, for (N, 1, H, W) drop the channel axis.")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"show_images got {len(images)} images but {len(titles)} titles; "
                         f"pass one title per image (slice both the same way).")
    if num_cols < 1:
        raise ValueError(f"num_cols must be at least 1, got {num_cols}")
    num_rows = math.ceil(len(images) / num_cols)
    fig, axes = plt.subplots(num_rows, num_cols, squeeze=False,
                             figsize=(num_cols * scale, num_rows * (scale + 0.25)))
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            if colour:
                ax.imshow(images[i])
            else:
                ax.imshow(images[i], cmap="gray_r")
            if titles is not None:
                ax.set_title(titles[i], fontsize=8)
    fig.tight_layout()
    return fig


class TrainingPlot:
    """Train loss, train accuracy and test accuracy against epochs, redrawn in place."""

    def __init__(self, num_epochs):
        self.num_epochs = num_epochs
        self.curves = {"train loss": ([], []), "train acc": ([], []), "test acc": ([], [])}
        self.fig, self.ax = plt.subplots(figsize=(5, 3.2))
        # Closed at once so that the notebook does not show it a second time
        # at the end of the cell; display() still renders it.
        plt.close(self.fig)
        self._display = None

    def add(self, curve, epoch, value):
        xs, ys = self.curves[curve]
        xs.append(epoch)
        ys.append(value)

    def draw(self):
        from IPython.display import display

        self.ax.cla()
        # Test accuracy has one point per epoch: markers keep a single point visible.
        for (name, (xs, ys)), style in zip(self.curves.items(), ("-", "m--", "g-.o")):
            self.ax.plot(xs, ys, style, label=name)
        self.ax.set_xlabel("epoch")
        self.ax.set_xlim(0, self.num_epochs)
        self.ax.grid(True)
        self.ax.legend(loc="center right")
        if self._display is None:
            self._display = display(self.fig, display_id=True)
        else:
            self._display.update(self.fig)


def plot_metrics(path):
    """Draw a run's metrics file (python -m d2lutils.train writes one): train loss, train
    accuracy and test accuracy at the end of each epoch. Returns the figure."""
    from .checkpoint import read_metrics

    columns = read_metrics(path)
    fig, ax = plt.subplots(figsize=(5, 3.2))
    for name, style in (("train_loss", "-o"), ("train_acc", "m--o"), ("test_acc", "g-.o")):
        ax.plot(columns["epoch"], columns[name], style, label=name.replace("_", " "))
    ax.set_xlabel("epoch")
    ax.set_xlim(0, max(columns["epoch"], default=1))
    ax.grid(True)
    ax.legend(loc="center right")
    fig.tight_layout()
    return fig
