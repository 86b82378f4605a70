"""d2lutils.hardware."""

import os
import platform
import re

from d2lutils import hardware
from d2lutils.hardware import cpu_description


def cpuinfo_model_name():
    """The first `model name` in /proc/cpuinfo, or None where there is none."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            names = re.findall(r"^model name\s*:\s*(.+?)\s*$", cpuinfo.read(), re.MULTILINE)
    except OSError:
        return None
    return names[0] if names else None


def test_cpu_description_names_the_model_and_usable_cores():
    description = cpu_description()
    cores = len(os.sched_getaffinity(0))
    assert re.fullmatch(rf"\S.*\S, {cores} cores", description), description
    model = cpuinfo_model_name()
    if model is not None:  # Linux on x86 names its CPU there
        assert description == f"{model}, {cores} cores"


def test_cpu_description_falls_back_to_the_platform_without_proc_cpuinfo(monkeypatch):
    def no_cpuinfo(*args, **kwargs):
        raise FileNotFoundError("/proc/cpuinfo")

    monkeypatch.setattr(hardware, "open", no_cpuinfo, raising=False)
    cores = len(os.sched_getaffinity(0))
    model = platform.processor() or platform.machine()
    assert cpu_description() == f"{model}, {cores} cores"
