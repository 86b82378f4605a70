"""d2lutils.summary: the one table format all four frameworks print."""

from d2lutils.summary import LayerInfo, LayerSummary, wrong_input_error


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
                          "network (tried on one of their images). Layer 6 (MaxPool2d) cannot "
                          "take an input of shape (1, 256, 2, 2): output size is too small\n"
                          "The chapter's AlexNet takes 224x224 images: load them with "
                          "load_data_fashion_mnist(batch_size, resize=224).")
