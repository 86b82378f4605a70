"""d2lutils.plot: image grids and the live training plot."""

import matplotlib
import numpy as np
import pytest

from d2lutils import data, plot

matplotlib.use("Agg")


def test_show_images_draws_a_titled_grid(fashion_dir):
    ds = data.load_fashion_mnist(fashion_dir)
    fig = plot.show_images(ds.train_images[:10], data.text_labels(ds.train_labels[:10]),
                           num_cols=4)
    axes = fig.get_axes()
    assert len(axes) == 12  # 3 rows of 4; the last two stay empty
    assert [ax.get_title() for ax in axes[:2]] == ["ankle boot", "t-shirt/top"]
    np.testing.assert_array_equal(axes[0].get_images()[0].get_array(), ds.train_images[0])
    assert not axes[11].get_images()


def test_show_images_refuses_a_channel_axis():
    with pytest.raises(ValueError, match=r"got shape \(2, 1, 28, 28\); .* drop the channel"):
        plot.show_images(np.zeros((2, 1, 28, 28)))


def test_show_images_wants_one_title_per_image():
    # A reader who shows 16 images with the 8 titles of an earlier cell hears so,
    # instead of an IndexError from the drawing loop (or titles silently dropped).
    for num_titles in (8, 17):
        with pytest.raises(ValueError, match=f"got 16 images but {num_titles} titles"):
            plot.show_images(np.zeros((16, 28, 28)), ["shirt"] * num_titles)
    with pytest.raises(ValueError, match="num_cols must be at least 1, got 0"):
        plot.show_images(np.zeros((2, 28, 28)), num_cols=0)


def test_show_images_draws_colour_images_in_colour():
    rng = np.random.default_rng(0)
    photos = rng.integers(0, 256, size=(3, 5, 6, 3), dtype=np.uint8)
    fig = plot.show_images(photos, num_cols=3)
    drawn = fig.get_axes()[1].get_images()[0]
    np.testing.assert_array_equal(drawn.get_array(), photos[1])
    assert drawn.get_cmap().name != "gray_r"
    gray = plot.show_images(photos[..., 0], num_cols=3).get_axes()[1].get_images()[0]
    assert gray.get_cmap().name == "gray_r"


def test_outside_a_notebook():
    assert not plot.in_notebook()


def test_training_plot_draws_three_curves():
    live = plot.TrainingPlot(num_epochs=2)
    live.add("train loss", 0.5, 1.2)
    live.add("train acc", 0.5, 0.6)
    live.add("test acc", 1, 0.7)
    live.draw()
    lines = {line.get_label(): line.get_xydata().tolist() for line in live.ax.get_lines()}
    assert lines == {"train loss": [[0.5, 1.2]], "train acc": [[0.5, 0.6]],
                     "test acc": [[1.0, 0.7]]}
    assert live.ax.get_xlim() == (0, 2)


def test_plot_metrics_draws_each_epoch_of_a_run(tmp_path):
    from d2lutils.checkpoint import write_metrics
    from d2lutils.training import TrainingHistory

    history = TrainingHistory(device="cpu", points=[(0.5, 2.3, 0.1), (1.0, 2.0, 0.3),
                                                    (2.0, 1.5, 0.5)],
                              test_acc=[0.35, 0.55], epochs=[(64, 2.0), (64, 1.6)])
    write_metrics(tmp_path / "metrics.csv", history)
    lines = plot.plot_metrics(tmp_path / "metrics.csv").get_axes()[0].get_lines()
    assert [line.get_label() for line in lines] == ["train loss", "train acc", "test acc"]
    # The end of each epoch: its last running means, and its test accuracy.
    assert [list(line.get_ydata()) for line in lines] == [[2.0, 1.5], [0.3, 0.5], [0.35, 0.55]]
    assert list(lines[0].get_xdata()) == [1, 2]
