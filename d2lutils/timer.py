"""A stopwatch that remembers every interval it timed."""

import time


class Timer:
    """Time several intervals; report their sum, mean and count."""

    def __init__(self):
        self.times = []
        self._started = None

    def start(self):
        self._started = time.perf_counter()

    def stop(self):
        """Stop the interval started last and return its length in seconds."""
        if self._started is None:
            raise RuntimeError("Timer.stop() called before Timer.start().")
        self.times.append(time.perf_counter() - self._started)
        self._started = None
        return self.times[-1]

    def sum(self):
        return sum(self.times)

    def avg(self):
        return self.sum() / len(self.times) if self.times else 0.0
