"""The chapter's helpers for JAX and Flax NNX.

Same names, arguments and printed output as ``d2lutils.torch``,
``d2lutils.tensorflow`` and ``d2lutils.mxnet``; only what JAX itself does
differently differs. Images are NHWC (as in Keras), labels int32, devices are
``jax.Device`` objects. Randomness comes from explicit keys: the loader's
shuffling and ``train_ch6``'s initial weights each take a ``seed``, and the same
seed gives the same numbers. JAX arrays cannot be changed in place: Flax NNX
lets the training step read as if it updated the network in place, and
``nnx.jit`` turns it into a pure function of the weights, compiled by XLA once
per batch shape, whose results it writes back into the network after each call.
"""

import math
import textwrap

import numpy as np

from .installed import require

require(__name__, "JAX and Flax", ["jax", "flax", "optax"], "jax flax optax",
        "That is JAX's CPU build; https://docs.jax.dev/en/latest/installation.html gives "
        "the command for a GPU or TPU.")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import optax  # noqa: E402
from flax import nnx  # noqa: E402

from .budget import choose_budget as _choose_budget
from .checkpoint import check_state
from .data import check_batching, check_examples, fashion_mnist_splits
from .hardware import cpu_description
from .resize import bilinear_matrix
from .summary import (LayerInfo, LayerSummary, check_input_shape, check_not_empty,
                      image_batches, wrong_input_error, wrong_size_explained)
from .timer import Timer
from .training import (TrainingMonitor, check_checkpoint, check_hyperparameters,
                       check_labels_fit)

__all__ = ["try_gpu", "describe_device", "choose_budget", "load_data_fashion_mnist",
           "FashionMNISTBatches", "layer_summary", "evaluate_accuracy", "train_ch6", "alexnet"]

# The order of a batch's axes, as this framework's layers read them.
_BATCH_AXES = "batch, height, width, channels"


def try_gpu():
    """The first GPU if there is one, else the CPU (and a notice saying so).

    On a TPU machine, such as Colab's TPU runtime, the notice names the TPU and
    how to choose it; none of the chapter's stored runs was made on a TPU.
    """
    try:
        return jax.devices("gpu")[0]
    except RuntimeError:  # JAX has no GPU backend here
        pass
    default = jax.devices()[0]  # what JAX would use unasked: a TPU where there is one
    if default.platform == "tpu":
        print(textwrap.fill(
            f"No GPU found: running on the CPU. JAX also sees a TPU ({default.device_kind}), "
            f"on which this chapter has not been run; to try it, pass this device to the "
            f"loader and to train_ch6:", width=78))
        print("    device = jax.devices('tpu')[0]")
    else:
        print("No GPU found: running on the CPU.")
    return jax.devices("cpu")[0]


def describe_device(device):
    """The device's name, for saying where results came from."""
    if _device(device).platform == "cpu":
        return f"CPU: {cpu_description()}"
    return f"{device.device_kind} ({device})"  # a GPU or a TPU


def choose_budget(device):
    """The run budget for `device`: full on a GPU, short on a CPU (see d2lutils.budget)."""
    return _choose_budget(has_gpu=_device(device).platform == "gpu")


def _device(device):
    """`device`, after checking that it is a jax.Device (one JAX has: it makes no other)."""
    if not isinstance(device, jax.Device):
        raise ValueError(f"{device!r} is not a JAX device: pass one of jax.devices(), such as "
                         f"jax.devices()[0]. try_gpu() picks the first GPU where there is "
                         f"one, else the CPU.")
    return device


class FashionMNISTBatches:
    """Minibatches of images kept on `device` as uint8, then scaled and resized per batch.

    Yields (X, y): X float32 of shape (batch, size, size, 1) in [0, 1], y int32.
    The 28x28 originals stay on the device and a whole batch is resized at once
    there, so no image crosses from the host in a training step. On the
    project's 2-core CPU this loader delivered 1.1 times as many images per
    second as a tf.data pipeline resizing image by image, its batches handed to JAX
    (medians of three runs each, benchmarks/results/loader_speed-cpu-torch-tensorflow-jax.json;
    the two loaders' runs overlapped, so call them about as fast; the ratio varied
    most between benchmark runs: 1.9 times in the run of commit 0781914).
    With shuffle=True each pass draws a new order from a key split off
    jax.random.key(seed): the same seed gives the same sequence of orders.
    """

    def __init__(self, images, labels, batch_size, shuffle, resize=None, device=None, seed=0):
        check_batching(batch_size, resize)
        # Arrays from here on: a list of labels has no .astype, nor a list of images a .shape.
        images, labels = np.asarray(images), np.asarray(labels)
        # How many classes the labels name: train_ch6 checks the network scores them all.
        self.num_classes = check_examples(images, labels, resize)
        self.device = _device(device) if device is not None else jax.devices()[0]
        self.images = jax.device_put(images, self.device)
        self.labels = jax.device_put(labels.astype("int32"), self.device)
        self.resize_matrix = None
        if resize is not None:
            self.resize_matrix = jax.device_put(bilinear_matrix(images.shape[1], resize),
                                                self.device)
        self.batch_size, self.shuffle, self.resize = batch_size, shuffle, resize
        self.key = jax.device_put(jax.random.key(seed), self.device)

    def __len__(self):
        return math.ceil(len(self.labels) / self.batch_size)

    def __iter__(self):
        num_examples = len(self.labels)
        if self.shuffle:
            # A key is used once: split off a fresh one for this pass, keep the other.
            self.key, pass_key = jax.random.split(self.key)
            order = jax.random.permutation(pass_key, num_examples)
        else:
            order = jax.device_put(jnp.arange(num_examples), self.device)
        for start in range(0, num_examples, self.batch_size):
            indices = order[start:start + self.batch_size]
            yield self.prepare(self.images[indices]), self.labels[indices]

    def prepare(self, images):
        """uint8 (batch, 28, 28) -> float32 (batch, size, size, 1), scaled to [0, 1] once."""
        # Divided outside jit: compiled, XLA would multiply by 1/255 instead,
        # which is not exact (times 255 would not give back the bytes).
        X = images.astype(jnp.float32) / 255
        if self.resize_matrix is not None:
            X = _resize(X, self.resize_matrix)
        return X[..., jnp.newaxis]


@jax.jit  # one compiled function per batch shape
def _resize(X, R):
    # Bilinear resizing as two matrix products, rows then columns (see
    # d2lutils.resize); the same numbers as jax.image.resize(method="linear").
    # "highest": full float32, where GPUs from the A100 on would otherwise
    # multiply in TensorFloat-32 and round the pixels.
    rows = jnp.matmul(R, X, precision="highest")
    return jnp.matmul(rows, R.T, precision="highest")


def load_data_fashion_mnist(batch_size, resize=None, *, num_train=None, num_test=None,
                            device=None, data_dir=None, seed=0):
    """Fashion-MNIST as (train_iter, test_iter) of (batch, size, size, 1) float32, int32 labels.

    resize: side length to resize the 28x28 images to (224 for AlexNet).
    num_train, num_test: use only the first so many examples (all when None).
    device: where the data lives and is resized (by default JAX's own: the first GPU or
    TPU where there is one, else the CPU).
    seed: the key the training order is drawn from. The training batches are
    reshuffled every epoch; the test batches keep their order.
    """
    check_batching(batch_size, resize)  # before any data is looked for
    train, test = fashion_mnist_splits(num_train=num_train, num_test=num_test,
                                       data_dir=data_dir)  # (images, labels) each
    return (FashionMNISTBatches(*train, batch_size, shuffle=True, resize=resize, device=device,
                                seed=seed),
            FashionMNISTBatches(*test, batch_size, shuffle=False, resize=resize, device=device))


def layer_summary(net, input_shape):
    """Print each layer's name and output shape for one input, and the parameter count.

    `net` is an nnx.Sequential (nested ones are walked into) of Flax modules and
    plain functions (an activation, a pooling); a module is named by its class,
    a function by its own name. input_shape is (batch, height, width, channels).
    Returns the same as a LayerSummary.
    """
    check_input_shape(input_shape, _BATCH_AXES)
    summary = _trace_layers(net, jnp.zeros(input_shape))
    print(summary)
    return summary


def _trace_layers(net, X, batch_shape=None):
    """Pass X through `net` one layer at a time: a LayerSummary, or a ValueError naming
    the first layer that cannot take its input (see summary.wrong_input_error)."""
    layers = []
    for index, layer in enumerate(_leaf_layers(net)):
        try:
            output = layer(X)
        except (TypeError, ValueError) as error:
            raise wrong_input_error(index, _layer_name(layer), X.shape, error,
                                    batch_shape=batch_shape) from None
        check_not_empty(index, _layer_name(layer), X.shape, output.shape,
                        batch_shape=batch_shape)
        X = output
        layers.append(LayerInfo(_layer_name(layer), tuple(X.shape), _num_params(layer)))
    return LayerSummary(layers)


def _trace_one_image(net, X, size=None):
    """_trace_layers on one image, for summary.wrong_size_explained: the batch X's first,
    or a blank size x size one with X's channels. In evaluation mode: no dropout, so
    no random numbers are drawn; train_ch6 calls it in training mode, put back after."""
    image = (X[:1] if size is None
             else jnp.zeros((1, size, size, X.shape[-1]), X.dtype, device=X.device))
    net.eval()
    try:
        _trace_layers(net, image, batch_shape=tuple(X.shape))
    finally:
        net.train()


def evaluate_accuracy(net, data_iter, device):
    """The fraction of examples in `data_iter` that `net` classifies correctly."""
    device = _device(device)
    net.eval()  # dropout off
    num_correct = jax.device_put(jnp.zeros((), jnp.int32), device)
    num_examples = 0
    for X, y in image_batches(data_iter, _BATCH_AXES):
        num_correct += _count_correct(net, jax.device_put(X, device), jax.device_put(y, device))
        num_examples += len(y)
    return int(num_correct) / num_examples


@nnx.jit
def _count_correct(net, X, y):
    return (net(X).argmax(axis=1) == y).sum()


def train_ch6(net, train_iter, test_iter, num_epochs, lr, device, momentum=0.9, *,
              checkpoint=None, seed=0):
    """Train `net` with minibatch SGD on cross-entropy loss; return a TrainingHistory.

    Weights are re-initialised (Glorot/Xavier uniform, zero biases) from
    jax.random.key(seed) first, as in the other frameworks, so every call
    starts from scratch (unless `checkpoint` holds a run to continue). The update has the paper's momentum of 0.9
    (momentum=0 gives plain SGD); why, see d2lutils.torch.train_ch6. Dropout
    draws its masks from the random stream the network was built with.

    The arithmetic is float32 throughout (on GPUs from the A100 on, XLA's
    default lets float32 matrix products run in TensorFloat-32). Running sums
    stay on the device and are read only when the monitor asks.

    checkpoint: a d2lutils.checkpoint.Checkpoint, to save the run after every
    epoch and to resume the run it holds (the network's state, its dropout
    streams' keys and counters among it, the optimizer's, the history) instead
    of starting afresh; each epoch then shuffles with a key made from the
    checkpoint's seed for that epoch.
    """
    num_epochs, lr, momentum = check_hyperparameters(num_epochs, lr, momentum)
    check_checkpoint(checkpoint)
    check_labels_fit(_num_outputs(net), build="alexnet(num_classes={}, rngs=nnx.Rngs(0))",
                     train_iter=train_iter, test_iter=test_iter)
    device = _device(device)
    _init_glorot(net, jax.random.key(seed))
    nnx.update(net, jax.device_put(nnx.state(net), device))
    optimizer = nnx.Optimizer(net, optax.sgd(lr, momentum=momentum), wrt=nnx.Param)
    monitor = TrainingMonitor(num_epochs, len(train_iter), device)
    saved, first_epoch = monitor.resume(checkpoint)
    if saved is not None:
        _load_state(net, optimizer, saved, checkpoint.path, device)
    timer = Timer()
    for epoch in range(first_epoch, num_epochs):
        if checkpoint is not None:  # the key the loader's next shuffle is drawn from
            train_iter.key = jax.device_put(jax.random.key(checkpoint.epoch_seed(epoch)),
                                            train_iter.device)
        net.train()  # dropout on
        timer.start()
        sums = jax.device_put(jnp.zeros(3), device)  # loss sum, correct, examples
        for i, (X, y) in enumerate(monitor.batches(image_batches(train_iter, _BATCH_AXES))):
            X, y = jax.device_put(X, device), jax.device_put(y, device)
            # Images of the wrong size (no resize=224) fail with an error that says
            # so, naming the layer, instead of one from deep inside it.
            with wrong_size_explained((TypeError, ValueError), _trace_one_image, net, X):
                sums = _train_step(net, optimizer, X, y, sums)
            if monitor.is_due(i):
                monitor.record_train(epoch, i, *sums.tolist())
        seconds = timer.stop()  # the last batch was recorded, so the device is done
        monitor.record_epoch(epoch, int(sums[2]), seconds,
                             evaluate_accuracy(net, test_iter, device))
        if checkpoint is not None:
            checkpoint.save(_state(net, optimizer), epoch + 1, monitor.history)
    return monitor.finish()


@nnx.jit  # traced and compiled on the first call, reused for every batch of that shape
def _train_step(net, optimizer, X, y, sums):
    """One SGD step. It reads as if it changed `net` and `optimizer` in place;
    nnx.jit compiles it as a function returning the new weights, momentum, step
    count and dropout counters, and writes them back into `net` and `optimizer`
    when the call returns. The running sums come back as a new array."""
    def loss_fn(net):
        y_hat = net(X)
        return optax.softmax_cross_entropy_with_integer_labels(y_hat, y).mean(), y_hat

    (loss, y_hat), grads = nnx.value_and_grad(loss_fn, has_aux=True)(net)
    optimizer.update(net, grads)
    correct = (y_hat.argmax(axis=1) == y).sum()
    return sums + jnp.stack([loss * len(y), correct, len(y)])


def max_pool(X):
    """Overlapping pooling: a 3x3 window moved 2 pixels at a time."""
    return nnx.max_pool(X, window_shape=(3, 3), strides=(2, 2))


def flatten(X):
    """(batch, height, width, channels) -> (batch, height * width * channels)."""
    return X.reshape(X.shape[0], -1)


def alexnet(num_classes=10, *, rngs):
    """AlexNet (Krizhevsky et al., 2012), one tower, for 224x224x1 images.

    rngs: an nnx.Rngs, the source of the initial weights and the dropout masks.
    """
    features = nnx.Sequential(
        # A large window and stride 4: a 224x224 photo holds large objects,
        # and the first layer must shrink the image quickly (224 -> 54).
        nnx.Conv(1, 96, kernel_size=(11, 11), strides=4, padding="VALID", rngs=rngs),
        nnx.relu, max_pool,
        nnx.Conv(96, 256, kernel_size=(5, 5), padding=2, rngs=rngs), nnx.relu, max_pool,
        # Three 3x3 convolutions with no pooling between them.
        nnx.Conv(256, 384, kernel_size=(3, 3), padding=1, rngs=rngs), nnx.relu,
        nnx.Conv(384, 384, kernel_size=(3, 3), padding=1, rngs=rngs), nnx.relu,
        nnx.Conv(384, 256, kernel_size=(3, 3), padding=1, rngs=rngs), nnx.relu, max_pool)
    classifier = nnx.Sequential(
        nnx.Linear(5 * 5 * 256, 4096, rngs=rngs), nnx.relu, nnx.Dropout(0.5, rngs=rngs),
        nnx.Linear(4096, 4096, rngs=rngs), nnx.relu, nnx.Dropout(0.5, rngs=rngs),
        nnx.Linear(4096, num_classes, rngs=rngs))
    return nnx.Sequential(features, flatten, classifier)


def _num_outputs(net):
    """Scores per image: the width of the last layer, if it is a Linear one (else None)."""
    layer = net
    while isinstance(layer, nnx.Sequential) and layer.layers:
        layer = layer.layers[-1]
    return layer.out_features if isinstance(layer, nnx.Linear) else None


def _state(net, optimizer):
    """What a resumed run needs, as numpy arrays: the network's state (weights,
    and each dropout stream's key and counter) and the optimizer's (step and
    momentum)."""
    return {name: np.asarray(jax.random.key_data(value) if _is_key(value) else value)
            for name, value in _named_leaves(net, optimizer).items()}


def _load_state(net, optimizer, arrays, where, device):
    """Put what _state saved back into `net` and `optimizer`, checking that it fits."""
    current = _named_leaves(net, optimizer)
    check_state(arrays, {name: jax.random.key_data(value).shape if _is_key(value) else value.shape
                         for name, value in current.items()}, where)
    for prefix, module in (("net", net), ("optimizer", optimizer)):
        leaves, treedef = jax.tree_util.tree_flatten_with_path(nnx.state(module))
        values = []
        for path, value in leaves:
            saved = arrays[f"{prefix}/{jax.tree_util.keystr(path)}"]
            values.append(jax.random.wrap_key_data(saved, impl=jax.random.key_impl(value))
                          if _is_key(value) else jnp.asarray(saved, dtype=value.dtype))
        nnx.update(module, jax.device_put(jax.tree_util.tree_unflatten(treedef, values), device))


def _named_leaves(net, optimizer):
    """Every array in the state of `net` and `optimizer`, by its path: "net/['layers'][0]..."."""
    return {f"{prefix}/{jax.tree_util.keystr(path)}": value
            for prefix, module in (("net", net), ("optimizer", optimizer))
            for path, value in jax.tree_util.tree_leaves_with_path(nnx.state(module))}


def _is_key(value):
    """A typed random key: saved as its raw data (uint32), which numpy can hold."""
    return jax.dtypes.issubdtype(value.dtype, jax.dtypes.prng_key)


def _leaf_layers(net):
    if isinstance(net, nnx.Sequential):
        for layer in net.layers:
            yield from _leaf_layers(layer)
    else:
        yield net


def _layer_name(layer):
    if isinstance(layer, nnx.Module):
        return type(layer).__name__
    function = getattr(layer, "func", layer)  # a functools.partial names its function
    return getattr(function, "__name__", type(layer).__name__)


def _num_params(layer):
    if not isinstance(layer, nnx.Module):
        return 0  # a plain function holds no parameters
    return sum(int(p.size) for p in jax.tree.leaves(nnx.state(layer, nnx.Param)))


def _init_glorot(net, key):
    """Fresh Glorot-uniform kernels and zero biases in every Conv and Linear layer of `net`."""
    glorot_uniform = nnx.initializers.glorot_uniform()
    for _, module in net.iter_modules():
        if isinstance(module, (nnx.Conv, nnx.Linear)):
            key, layer_key = jax.random.split(key)
            module.kernel.value = glorot_uniform(layer_key, module.kernel.value.shape)
            if module.bias is not None:
                module.bias.value = jnp.zeros_like(module.bias.value)
