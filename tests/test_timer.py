"""d2lutils.timer."""

import time

import pytest

from d2lutils.timer import Timer


def test_measures_each_interval_on_its_own():
    timer = Timer()
    timer.start()
    time.sleep(0.05)
    first = timer.stop()
    timer.start()
    second = timer.stop()
    assert first >= 0.05 and 0 <= second < 0.05


def test_stop_without_start_is_an_error():
    timer = Timer()
    with pytest.raises(RuntimeError, match="before Timer.start"):
        timer.stop()
    timer.start()
    timer.stop()
    with pytest.raises(RuntimeError, match="before Timer.start"):  # each start, one stop
        timer.stop()
