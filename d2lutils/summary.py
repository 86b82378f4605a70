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


# The side of the images the chapter's AlexNet takes, in pixels.
IMAGE_SIZE = 224


class InputShapeError(ValueError):
    """A layer cannot take the shape of the input it was given."""


class BuiltForAnotherShapeError(InputShapeError):
    """A layer's weights were shaped by an earlier input of another shape (Keras and
    Gluon shape them at a network's first input, and never again)."""


def image_batches(data_iter, axes):
    """The (X, y) batches of `data_iter`, each checked to hold images on four axes.

    axes: the framework's order, "batch, channels, height, width" or "batch,
    height, width, channels". A batch without its channel axis would otherwise
    fail deep inside a layer, or with advice about the image size. A loader
    that yields nothing is refused too: its accuracy would be 0 / 0."""
    num_batches = 0
    for X, y in data_iter:
        check_four_axes(tuple(X.shape), axes,
                        f"load_data_fashion_mnist(batch_size, resize={IMAGE_SIZE}) gives "
                        f"batches of {fashion_mnist_shape(axes)}")
        num_batches += 1
        yield X, y
    if num_batches == 0:
        raise ValueError("The data yielded no batches. Pass a loader such as "
                         "load_data_fashion_mnist() returns, which can be read again for "
                         "every epoch; a generator is used up after one pass.")


def fashion_mnist_shape(axes, batch="batch"):
    """The shape of a batch of Fashion-MNIST images at IMAGE_SIZE, in the order `axes`."""
    sizes = {"batch": batch, "channels": "1", "height": str(IMAGE_SIZE),
             "width": str(IMAGE_SIZE)}
    return "(" + ", ".join(sizes[axis] for axis in axes.split(", ")) + ")"


def check_input_shape(input_shape, axes):
    """Refuse a layer_summary input_shape that is not a batch of images on the four `axes`:
    the first layers would take one image without its batch axis, and the error would
    come layers later, blaming a layer that is not at fault."""
    check_four_axes(tuple(input_shape), axes, f"for one image of the chapter's size, pass "
                    f"input_shape={fashion_mnist_shape(axes, batch='1')}")


def check_four_axes(shape, axes, advice):
    """Refuse a `shape` that is not a batch of images on the four `axes`, ending with `advice`."""
    if len(shape) != 4:
        raise InputShapeError(f"Expected a batch of images ({axes}), got shape {shape}; "
                              f"{advice}.")


def wrong_input_error(index, name, input_shape, error, *, batch_shape=None, built=False):
    """The error for the layer at `index` (counted from 0) that cannot take the shape it was given.

    batch_shape: where train_ch6 found that its training batches do not fit the
    network, their shape; the advice is then about the loader, not about
    layer_summary's input_shape.
    built: whether the layer already had its weights: then they were shaped by an
    earlier input, and the advice is a fresh network for this shape.
    """
    where = (f"Layer {index + 1} ({name}) cannot take an input of shape "
             f"{tuple(input_shape)}: {error}")
    if built:
        if batch_shape is None:
            refusal = BuiltForAnotherShapeError(
                f"{where}\nIts weights were shaped by the first input this network was "
                f"given, which had another shape, and cannot change: check the input_shape "
                f"passed to layer_summary, or make a fresh network (alexnet()) for inputs "
                f"of this shape.")
        else:
            refusal = BuiltForAnotherShapeError(
                f"The training batches, of shape {tuple(batch_shape)}, do not fit this "
                f"network: its weights were shaped by the first input it was given, which "
                f"had another shape, and cannot change. {where}\nMake a fresh network "
                f"(alexnet()) for these images.")
        # What to say where the weights were shaped by size_error's own blank image.
        refusal.if_shaped_by_this_check = wrong_input_error(index, name, input_shape, error,
                                                             batch_shape=batch_shape)
        return refusal
    if batch_shape is None:
        return InputShapeError(f"{where}\nCheck the input_shape passed to layer_summary (batch, "
                               f"channels and size in the framework's layout).")
    return InputShapeError(
        f"The training batches, of shape {tuple(batch_shape)}, do not fit the network: a "
        f"{IMAGE_SIZE}x{IMAGE_SIZE} image passes through every layer, one of theirs does not. "
        f"{where}\nLoad the images at {IMAGE_SIZE}x{IMAGE_SIZE}: "
        f"load_data_fashion_mnist(batch_size, resize={IMAGE_SIZE}).")


def check_not_empty(index, name, input_shape, output_shape, *, batch_shape=None):
    """Raise wrong_input_error where a layer's output holds nothing: given a pooling
    window larger than its input, JAX and Keras's shape rules give an empty map
    (PyTorch and MXNet refuse it), and the error would come only layers later."""
    if 0 in tuple(output_shape)[1:]:  # an empty batch is not the layer's doing
        raise wrong_input_error(index, name, input_shape,
                                f"its output, of shape {tuple(output_shape)}, is empty",
                                batch_shape=batch_shape)


@contextlib.contextmanager
def wrong_size_explained(errors, trace_one_image, net, X):
    """A with-block in which a failure of `net` on the training batch X (one of
    `errors`) is looked into, in case the size of X's images is why.

    trace_one_image(net, X, size) passes one image through the network layer by
    layer and raises wrong_input_error at the first layer that cannot take it: a
    blank size x size image with X's channels, or, with size None, X's first image.
    Where a blank IMAGE_SIZE image passes every layer and X's image does not, that
    error is raised; otherwise the failure passes through as it is. Nothing runs
    unless the block fails.
    """
    try:
        yield
    except errors:
        error = size_error(trace_one_image, net, X)
        if error is not None:
            raise error from None
        raise


def size_error(trace_one_image, net, X):
    """The InputShapeError for X's first image, where the size of X's images is why
    the network fails on them; else None. The blank image goes first: Keras and
    Gluon give a layer its weights' shapes at its first input."""
    shaped_before = None  # the blank image refused by weights an earlier input shaped
    try:
        trace_one_image(net, X, IMAGE_SIZE)
    except BuiltForAnotherShapeError as error:
        shaped_before = error
    except Exception:  # even an image of the size the network is made for fails
        return None
    try:
        trace_one_image(net, X, None)
    except InputShapeError as error:
        if shaped_before is None:
            # The blank image went through, so any weights it met were shaped by it.
            error = getattr(error, "if_shaped_by_this_check", error)
        elif not isinstance(error, BuiltForAnotherShapeError):
            error = shaped_before
        return error.with_traceback(None)  # where in this check it was found is no help
    except Exception:  # something other than a shape: not for this check to say
        return None
    return None  # every layer takes X's image (the network was built for its size)
