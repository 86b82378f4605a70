"""d2lutils.timer."""

import time

import pytest

from d2lutils.timer import Timer


def test_sums_and_averages_intervals():
    timer = Timer()
    for _ in range(2):
        timer.start()
        time.sleep(0.02)
        assert timer.stop() >= 0.02
    assert len(timer.times) == 2
    assert timer.sum() >= 0.04 and timer.avg() == pytest.approx(timer.sum() / 2)


def test_stop_without_start_is_an_error():
    with pytest.raises(RuntimeError, match="before Timer.start"):
        Timer().stop()
