"""A stopwatch for the time spent in training steps."""

import time


class Timer:
    """start(), then stop() returns the seconds in between."""

    def __init__(self):
        self._started = None

    def start(self):
        self._started = time.perf_counter()

    def stop(self):
        """Stop the interval started last and return its length in seconds."""
        if self._started is None:
            raise RuntimeError("Timer.stop() called before Timer.start().")
        seconds = time.perf_counter() - self._started
        self._started = None
        return seconds
