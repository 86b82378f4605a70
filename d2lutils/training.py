"""What `train_ch6` does the same way in every framework: progress, plot, history, report.

The framework modules own the arithmetic (forward, backward, update); this
module owns everything a reader sees while it runs, so that every framework
prints and draws exactly alike.
"""

import math
import numbers
import sys
import time
from dataclasses import dataclass, field

from tqdm import tqdm

from .checkpoint import Checkpoint
from .plot import TrainingPlot, in_notebook


def check_hyperparameters(num_epochs, lr, momentum):
    """(num_epochs, lr, momentum) as train_ch6 uses them, or a ValueError naming the one
    out of range: the same rules in every framework, before anything is trained (left to
    the frameworks, Keras alone would refuse momentum=0 given as a whole number, and
    num_epochs=0 would fail only at the final report)."""
    if (isinstance(num_epochs, bool) or not isinstance(num_epochs, numbers.Integral)
            or num_epochs < 1):
        raise ValueError(f"num_epochs={num_epochs!r}: train for a whole number of epochs, "
                         f"1 or more.")
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not 0 < lr < math.inf:
        raise ValueError(f"lr={lr!r}: the learning rate must be a positive number "
                         f"(the chapter's AlexNet uses 0.01).")
    if (isinstance(momentum, bool) or not isinstance(momentum, numbers.Real)
            or not 0 <= momentum < 1):
        raise ValueError(f"momentum={momentum!r}: use a number from 0 (plain SGD) up to, but "
                         f"not including, 1 (the chapter uses the paper's 0.9).")
    return int(num_epochs), float(lr), float(momentum)


def check_checkpoint(checkpoint):
    """Refuse, before anything is trained, a `checkpoint` that is not a Checkpoint (a
    folder alone does not say which settings a resumed run must share)."""
    if checkpoint is not None and not isinstance(checkpoint, Checkpoint):
        raise TypeError(f"checkpoint={checkpoint!r}: pass a "
                        f"d2lutils.checkpoint.Checkpoint(folder, settings), which names "
                        f"the run's folder and the settings a resumed run must share.")


def check_labels_fit(num_outputs, build="alexnet(num_classes={})", **data_iters):
    """Refuse, before anything is trained, data with more classes than the network scores.

    num_outputs: the width of the network's last layer (None where it cannot be
    read; then the check is left to the framework). build: how the framework
    module's alexnet is called for a number of classes, which fills the {}.
    data_iters: the loaders by name; d2lutils's loaders know how many classes
    their labels name, others are not checked. Left to the frameworks, a label with no output is not
    always an error. PyTorch and TensorFlow refuse it on a CPU. On an NVIDIA GPU,
    PyTorch's loss trips a device-side assert, after which the process must be
    restarted to use the GPU again (CUDA's documentation of cudaErrorAssert), and
    TensorFlow's loss turns to NaN (its documentation of
    sparse_softmax_cross_entropy_with_logits). On a CPU, optax's loss is NaN and
    Gluon trains the label as the last class, without a word."""
    for name, data_iter in data_iters.items():
        num_classes = getattr(data_iter, "num_classes", None)
        if None not in (num_outputs, num_classes) and num_classes > num_outputs:
            raise ValueError(f"{name}'s labels go up to {num_classes - 1}, so the network needs "
                             f"{num_classes} outputs, one score per class, but it has "
                             f"{num_outputs}: build it with {build.format(num_classes)}.")


@dataclass
class TrainingHistory:
    """What one call of train_ch6 measured."""
    device: str
    precision: str = "float32"                     # the number format of the arithmetic
    points: list = field(default_factory=list)     # (epoch, train loss, train acc)
    test_acc: list = field(default_factory=list)   # one per epoch
    epochs: list = field(default_factory=list)     # (examples, seconds in training steps)

    @property
    def num_examples(self):
        """Training examples processed, over all epochs."""
        return sum(examples for examples, _ in self.epochs)

    @property
    def train_seconds(self):
        """Time spent in training steps (not evaluation), over all epochs."""
        return sum(seconds for _, seconds in self.epochs)

    @property
    def examples_per_sec(self):
        return self.num_examples / self.train_seconds if self.train_seconds else 0.0

    @property
    def final(self):
        """(train loss, train acc, test acc) at the end of training."""
        _, loss, acc = self.points[-1]
        return loss, acc, self.test_acc[-1]

    def report(self):
        loss, train_acc, test_acc = self.final
        return (f"loss {loss:.3f}, train acc {train_acc:.3f}, test acc {test_acc:.3f}\n"
                f"{self.examples_per_sec:.1f} examples/sec on {self.device}, {self.precision}")


class TrainingMonitor:
    """What a reader sees while train_ch6 runs, and the history it keeps.

    In a notebook: a progress bar and the live plot. Elsewhere: one line per
    epoch, and a progress bar too where stderr is a terminal.
    """

    def __init__(self, num_epochs, num_batches, device, precision="float32", points_per_epoch=5):
        self.num_epochs = num_epochs
        self.num_batches = num_batches
        self.report_every = max(1, num_batches // points_per_epoch)
        self.history = TrainingHistory(device=str(device), precision=precision)
        total = num_epochs * num_batches
        if in_notebook():
            self.plot, self.bar = TrainingPlot(num_epochs), NotebookProgressBar(total)
        else:
            self.plot = None
            # A bar on a terminal; in a log file it would only add noise, so there
            # the one line per epoch that record_epoch prints is all.
            self.bar = tqdm(total=total, unit="batch", file=sys.stderr, mininterval=1.0,
                            dynamic_ncols=True, disable=not sys.stderr.isatty())

    def resume(self, checkpoint):
        """Continue the run `checkpoint` holds, if it holds one (see d2lutils.checkpoint).

        Returns (the saved arrays, the number of epochs done), or (None, 0)
        where there is nothing to resume: then training starts afresh. Raises
        CheckpointMismatch where the folder holds a run this one cannot continue.
        """
        if checkpoint is None or not checkpoint.exists():
            return None, 0
        arrays, epochs_done = checkpoint.load(self.history)
        self.bar.update(min(epochs_done, self.num_epochs) * self.num_batches)
        if self.plot:
            for x, loss, acc in self.history.points:
                self.plot.add("train loss", x, loss)
                self.plot.add("train acc", x, acc)
            for epoch, test_acc in enumerate(self.history.test_acc, start=1):
                self.plot.add("test acc", epoch, test_acc)
        return arrays, epochs_done

    def batches(self, data_iter):
        """Iterate over `data_iter`, advancing the progress bar."""
        for batch in data_iter:
            yield batch
            self.bar.update()

    def is_due(self, batch_index):
        """Whether the running training metrics should be recorded after this batch.

        Reading them forces the device to finish its queued work, so this is
        done a few times per epoch, not after every batch.
        """
        return ((batch_index + 1) % self.report_every == 0
                or batch_index == self.num_batches - 1)

    def record_train(self, epoch, batch_index, loss_sum, num_correct, num_examples):
        """Record running sums over the current epoch so far."""
        x = epoch + (batch_index + 1) / self.num_batches
        loss, acc = loss_sum / num_examples, num_correct / num_examples
        self.history.points.append((x, loss, acc))
        if self.plot:
            self.plot.add("train loss", x, loss)
            self.plot.add("train acc", x, acc)
            self.plot.draw()

    def record_epoch(self, epoch, num_examples, seconds, test_acc):
        """Record the end of an epoch: examples seen, training time, test accuracy."""
        self.history.epochs.append((num_examples, seconds))
        self.history.test_acc.append(test_acc)
        _, loss, acc = self.history.points[-1]
        if self.plot:
            self.plot.add("test acc", epoch + 1, test_acc)
            self.plot.draw()
        else:
            self.bar.write(f"epoch {epoch + 1}/{self.num_epochs}: loss {loss:.3f}, "
                           f"train acc {acc:.3f}, test acc {test_acc:.3f}")

    def finish(self):
        """Close the progress bar, print the final report, return the history."""
        self.bar.close()
        print(self.history.report())
        return self.history


class NotebookProgressBar:
    """A text progress bar redrawn in place in a notebook cell's output.

    tqdm's own notebook bar needs ipywidgets, and its text bar appends a new
    output on every refresh; this keeps exactly one line, so a stored notebook
    shows only the final state.
    """

    def __init__(self, total, min_interval=1.0):
        from IPython.display import display

        self.total, self.n, self.min_interval = total, 0, min_interval
        self.start = self.last_drawn = time.perf_counter()
        self.display = display(self._text(), display_id=True)

    def update(self, n=1):
        self.n += n
        if time.perf_counter() - self.last_drawn >= self.min_interval:
            self._draw()

    def close(self):
        self._draw()

    def _draw(self):
        self.last_drawn = time.perf_counter()
        self.display.update(self._text())

    def _text(self):
        from IPython.display import Pretty

        elapsed = time.perf_counter() - self.start
        return Pretty(tqdm.format_meter(self.n, self.total, elapsed, ncols=72, unit="batch"))
