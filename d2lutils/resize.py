"""Bilinear resizing as a matrix: enlarging an image is a linear map of its pixels.

Bilinear interpolation works on rows and columns separately, and each output
pixel is a weighted sum of (at most) two input pixels per axis. So resizing an
n x n image to m x m is ``R @ image @ R.T`` with an m x n matrix ``R`` of
interpolation weights. Every framework has matrix products on every device,
so ``d2lutils.torch``, ``d2lutils.tensorflow`` and ``d2lutils.jax`` enlarge
whole batches this way, with the same numbers as their own bilinear resize functions.
(``d2lutils.mxnet`` uses OpenCV's resize on a CPU instead. Same numbers, to
float32 rounding.)
"""

import numpy as np


def bilinear_matrix(in_size, out_size):
    """The (out_size, in_size) matrix R with resized = R @ image @ R.T (pixel centres).

    Output pixel o samples the input at (o + 0.5) * in_size / out_size - 0.5,
    clamped to the image, the convention of torch's ``align_corners=False``,
    TensorFlow's ``tf.image.resize`` and OpenCV. Each row holds the two
    weights of the input pixels either side of that point, summing to 1.
    """
    if in_size < 1 or out_size < 1:
        raise ValueError(f"sizes must be positive, got in_size={in_size}, out_size={out_size}")
    position = (np.arange(out_size) + 0.5) * in_size / out_size - 0.5
    position = np.clip(position, 0, in_size - 1)
    left = np.floor(position).astype(int)
    right = np.minimum(left + 1, in_size - 1)
    weight_right = (position - left).astype(np.float32)
    matrix = np.zeros((out_size, in_size), np.float32)
    rows = np.arange(out_size)
    matrix[rows, left] += 1 - weight_right
    matrix[rows, right] += weight_right
    return matrix
