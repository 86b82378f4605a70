"""d2lutils.summary: the one table format all four frameworks print, and the errors for an
input a layer cannot take."""

import pytest

from d2lutils.summary import (BuiltForAnotherShapeError, LayerInfo, LayerSummary,
                              check_not_empty, wrong_input_error, wrong_size_explained)


def test_table_aligns_names_and_sums_parameters():
    summary = LayerSummary([LayerInfo("Conv2d", (1, 96, 54, 54), 11_712),
                            LayerInfo("MaxPool2d", (1, 96, 26, 26), 0)])
    assert str(summary) == ("Conv2d     output shape: (1, 96, 54, 54)\n"
                            "MaxPool2d  output shape: (1, 96, 26, 26)\n"
                            "parameters: 11,712")
    assert [layer.shape for layer in summary.layers] == [(1, 96, 54, 54), (1, 96, 26, 26)]
    assert summary.num_params == 11_712


def test_wrong_input_error_counts_layers_from_one():
    error = wrong_input_error(0, "Conv2d", (1, 3, 28, 28), "expected 1 channel")
    assert isinstance(error, ValueError)
    assert str(error).startswith("Layer 1 (Conv2d) cannot take an input of shape "
                                 "(1, 3, 28, 28): expected 1 channel")


def test_wrong_input_error_for_training_batches_names_the_batch_and_the_resize():
    error = wrong_input_error(5, "MaxPool2d", (1, 256, 2, 2), "output size is too small",
                              batch_shape=(256, 1, 28, 28))
    assert str(error) == ("The training batches, of shape (256, 1, 28, 28), do not fit the "
                          "network: a 224x224 image passes through every layer, one of theirs "
                          "does not. Layer 6 (MaxPool2d) cannot take an input of shape "
                          "(1, 256, 2, 2): output size is too small\n"
                          "Load the images at 224x224: "
                          "load_data_fashion_mnist(batch_size, resize=224).")


def tracer(fails_at, traced=None):
    """A stand-in for a framework's _trace_one_image: the images (by size; None for the
    batch's own) at which some layer refuses the input, and what else it raises. The
    sizes traced are appended to `traced`."""
    def trace_one_image(net, X, size=None):
        if traced is not None:
            traced.append(size)
        outcome = fails_at.get(size)
        if outcome == "shape":
            raise wrong_input_error(0, "Conv2d", (1, 1, 28, 28), "too small",
                                    batch_shape=(8, 1, 28, 28))
        if outcome is not None:
            raise outcome
    return trace_one_image


@pytest.mark.parametrize("fails_at, explained", [
    ({None: "shape"}, True),                     # only the batch's size fails: explained
    ({224: "shape", None: "shape"}, False),      # the right size fails too: not the size
    ({}, False),                                 # every image passes: not the size
    ({224: MemoryError("no memory")}, False),    # the check itself cannot run
    ({None: RuntimeError("device lost")}, False),  # an error that is not about shapes
])
def test_a_failure_is_put_down_to_the_image_size_only_where_that_size_alone_fails(
        fails_at, explained):
    original = RuntimeError("the framework's own error")
    traced = []
    with pytest.raises(ValueError if explained else RuntimeError) as raised:
        with wrong_size_explained(RuntimeError, tracer(fails_at, traced), net=None, X=None):
            raise original
    if explained:
        assert str(raised.value).startswith("The training batches, of shape (8, 1, 28, 28)")
        assert raised.value.__suppress_context__
        # The blank image first: Keras and Gluon shape a layer's weights at its first input.
        assert traced == [224, None]
    else:
        assert raised.value is original


def built_layer_refuses(net, X, size=None):
    """A stand-in trace in which a layer whose weights are already shaped refuses every
    image but those of the size in `net["passes"]` (None: the batch's own)."""
    if size != net["passes"]:
        raise wrong_input_error(14, "Dense", (1, 6400), "expected 1024 values",
                                batch_shape=(8, 1, 224, 224), built=True)


def test_a_network_shaped_by_an_earlier_input_is_the_reason_given():
    original = RuntimeError("the framework's own error")
    # The blank 224x224 image and the batch's are both refused by a layer shaped
    # before: that is why.
    with pytest.raises(BuiltForAnotherShapeError, match=r"^The training batches, of shape "
                                                        r"\(8, 1, 224, 224\), do not fit this "
                                                        r"network: its weights were shaped by "
                                                        r"the first input it was given"):
        with wrong_size_explained(RuntimeError, built_layer_refuses, {"passes": 0}, None):
            raise original
    # The network was built for the batch's size (a LeNet at 28x28): its images pass,
    # so the failure is not about sizes, and passes through as it is.
    with pytest.raises(RuntimeError) as raised:
        with wrong_size_explained(RuntimeError, built_layer_refuses, {"passes": None}, None):
            raise original
    assert raised.value is original
    # The blank image passed, so it was what shaped the weights (Gluon, at the first
    # input): then the batch's size is why, and the advice is the resize.
    with pytest.raises(ValueError) as raised:
        with wrong_size_explained(RuntimeError, built_layer_refuses, {"passes": 224}, None):
            raise original
    assert not isinstance(raised.value, BuiltForAnotherShapeError)
    assert str(raised.value).endswith("load_data_fashion_mnist(batch_size, resize=224).")


def test_an_error_the_block_does_not_expect_is_not_looked_into():
    with pytest.raises(KeyError):
        with wrong_size_explained(RuntimeError, tracer({None: "shape"}), net=None, X=None):
            raise KeyError("not a failure of the network")


@pytest.mark.parametrize("shape", [(1, 0, 0, 256), (1, 0)])
def test_an_empty_output_is_refused(shape):
    with pytest.raises(ValueError, match=r"^Layer 3 \(max_pool\) cannot take an input of "
                                         r"shape \(1, 2, 2, 256\): its output, of shape "):
        check_not_empty(2, "max_pool", (1, 2, 2, 256), shape)


@pytest.mark.parametrize("shape", [(1, 2, 2, 256), (0, 2, 2, 256)])  # an empty batch is no fault
def test_an_output_with_something_in_each_image_is_not_refused(shape):
    check_not_empty(2, "max_pool", (1, 5, 5, 256), shape)
