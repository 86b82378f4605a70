"""d2lutils.tensorflow beyond the shared contract: the many spellings of a device's name.

TensorFlow, asked in eager mode for a device the machine lacks, runs the work on
another one without a word; the module parses the name to refuse such a device
(tested for every framework in test_framework_modules), so every spelling
TensorFlow takes must parse.
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


def test_a_name_that_is_no_device_is_refused():
    with pytest.raises(ValueError, match="'tpu:one' is not a TensorFlow device name"):
        d2l.describe_device("tpu:one")
