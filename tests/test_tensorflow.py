"""d2lutils.tensorflow beyond the shared contract: a device name that names no device here.

TensorFlow, asked in eager mode for a device the machine lacks, runs the work on
another one without a word; the module refuses such a name instead.
"""

import pytest

tf = pytest.importorskip("tensorflow", reason="TensorFlow is not installed in this environment")

import d2lutils.tensorflow as d2l  # noqa: E402


@pytest.mark.parametrize("device", ["/CPU:0", "/cpu:0", "CPU:0", "/device:CPU:0",
                                    "/job:localhost/replica:0/task:0/device:CPU:0"])
def test_every_spelling_of_a_device_it_has_is_accepted(device, monkeypatch):
    monkeypatch.delenv("D2LUTILS_BUDGET", raising=False)  # the suite's quick setting
    assert d2l.describe_device(device).startswith("CPU: ")
    assert d2l.choose_budget(device).name == "short"


def test_a_device_spec_is_taken_as_its_name():
    spec = tf.DeviceSpec(device_type="CPU", device_index=0)
    assert d2l.describe_device(spec).startswith("CPU: ")


def test_a_device_it_lacks_is_refused_everywhere_it_is_given(fashion_dir):
    missing = f"/GPU:{len(tf.config.list_logical_devices('GPU'))}"  # one past the last GPU
    for use in (d2l.describe_device, d2l.choose_budget,
                lambda device: d2l.load_data_fashion_mnist(8, num_train=8, num_test=8,
                                                           device=device, data_dir=fashion_dir),
                lambda device: d2l.train_ch6(None, [], [], 1, 0.01, device)):
        with pytest.raises(ValueError, match=rf"TensorFlow has no device '{missing}' here, "
                                             rf"only /CPU:0.*try_gpu\(\)"):
            use(missing)


def test_a_name_that_is_no_device_is_refused():
    with pytest.raises(ValueError, match="'tpu:one' is not a TensorFlow device name"):
        d2l.describe_device("tpu:one")
