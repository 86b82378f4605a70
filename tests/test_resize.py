"""d2lutils.resize: the bilinear resize matrix against PyTorch's, TensorFlow's and JAX's own resize."""

import numpy as np
import pytest

from d2lutils import data
from d2lutils.resize import bilinear_matrix


@pytest.mark.parametrize("in_size, out_size", [(28, 224), (28, 227), (28, 28), (28, 9), (5, 13)])
def test_matrix_resizes_as_torch_interpolate_does(in_size, out_size, fashion_dir):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed in this environment")
    from torch.nn import functional as F

    images = data.load_fashion_mnist(fashion_dir).train_images[:8, :in_size, :in_size]
    images = images.astype(np.float32) / 255
    R = bilinear_matrix(in_size, out_size)
    ours = R @ images @ R.T
    theirs = F.interpolate(torch.from_numpy(images)[:, None], size=(out_size, out_size),
                           mode="bilinear", align_corners=False)[:, 0].numpy()
    np.testing.assert_allclose(ours, theirs, atol=1e-5)  # float32 rounding of positions


def test_matrix_rows_are_two_weights_summing_to_one():
    R = bilinear_matrix(28, 224)
    assert R.shape == (224, 28) and R.dtype == np.float32
    np.testing.assert_allclose(R.sum(axis=1), 1, atol=1e-6)
    assert ((R > 0).sum(axis=1) <= 2).all()


def test_matrix_refuses_an_empty_size():
    with pytest.raises(ValueError, match="sizes must be positive, got in_size=28, out_size=0"):
        bilinear_matrix(28, 0)


def test_matrix_resizes_as_tensorflow_resize_does(fashion_dir):
    tf = pytest.importorskip("tensorflow",
                             reason="TensorFlow is not installed in this environment")

    images = data.load_fashion_mnist(fashion_dir).train_images[:8].astype(np.float32) / 255
    R = bilinear_matrix(28, 224)
    theirs = tf.image.resize(images[..., None], (224, 224), method="bilinear").numpy()[..., 0]
    np.testing.assert_allclose(R @ images @ R.T, theirs, atol=1e-5)


def test_matrix_resizes_as_jax_image_resize_does(fashion_dir):
    jax = pytest.importorskip("jax", reason="JAX is not installed in this environment")

    images = data.load_fashion_mnist(fashion_dir).train_images[:8].astype(np.float32) / 255
    R = bilinear_matrix(28, 224)
    # Enlarging, so jax.image.resize's antialiasing (a wider filter when shrinking) plays no part.
    theirs = np.asarray(jax.image.resize(images, (8, 224, 224), method="linear"))
    np.testing.assert_allclose(R @ images @ R.T, theirs, atol=1e-5)
