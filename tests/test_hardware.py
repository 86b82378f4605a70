"""d2lutils.hardware."""

import os
import re

from d2lutils.hardware import cpu_description


def test_cpu_description_names_the_model_and_usable_cores():
    description = cpu_description()
    cores = len(os.sched_getaffinity(0))
    assert description.endswith(f", {cores} cores")
    assert re.match(r"\S", description)  # a model name comes first
