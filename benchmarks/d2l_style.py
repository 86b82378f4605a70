"""The reference pipelines: Fashion-MNIST resized image by image.

Each framework's version holds the 28x28 images in host memory and resizes
one image at a time on the CPU before batching: PIL in torchvision workers
and Gluon's transforms in DataLoader workers, as d2l's PyTorch and MXNet
loaders do, and a per-example tf.data map. (d2l's own TensorFlow loader
already resizes whole batches; the per-example map is the image-by-image
equivalent. d2l's JAX loader is its TensorFlow loader with the batches
turned into NumPy arrays, so JAX's reference is the same per-example map,
each batch then handed to JAX.) These are what the chapter's loaders (uint8
on the device, one resize per batch) are measured against.
"""

NUM_WORKERS = 4  # what d2l's get_dataloader_workers() returns


def torch_loader(images, labels, batch_size, size, num_workers=NUM_WORKERS):
    """A torch DataLoader of (float32 NCHW in [0, 1], int64) batches, resized per image by PIL."""
    import warnings

    import torch
    from PIL import Image
    from torchvision import transforms

    # d2l uses 4 workers whatever the machine; on 2 cores PyTorch warns about it.
    warnings.filterwarnings("ignore", message="This DataLoader will create")

    class PerImageResize(torch.utils.data.Dataset):
        def __init__(self):
            self.transform = transforms.Compose([transforms.Resize(size), transforms.ToTensor()])

        def __len__(self):
            return len(labels)

        def __getitem__(self, i):
            return self.transform(Image.fromarray(images[i])), int(labels[i])

    return torch.utils.data.DataLoader(PerImageResize(), batch_size, shuffle=True,
                                       num_workers=num_workers,
                                       persistent_workers=num_workers > 0)


def tensorflow_loader(images, labels, batch_size, size):
    """A tf.data pipeline of (float32 NHWC in [0, 1], int32) batches, resized per image."""
    import tensorflow as tf

    def resize_one(image, label):
        image = tf.cast(image[..., None], tf.float32) / 255
        return tf.image.resize(image, (size, size)), label

    return (tf.data.Dataset.from_tensor_slices((images, labels.astype("int32")))
            .shuffle(len(labels))
            .map(resize_one, num_parallel_calls=tf.data.AUTOTUNE)
            .batch(batch_size)
            .prefetch(tf.data.AUTOTUNE))


def jax_loader(images, labels, batch_size, size):
    """An iterable of (float32 NHWC in [0, 1], int32) JAX arrays, resized per image by tf.data."""
    import jax

    pipeline = tensorflow_loader(images, labels, batch_size, size)

    class NumPyBatchesToJAX:
        # As d2l's JAX loader does (tfds.as_numpy), each pass reads the tf.data
        # pipeline as NumPy arrays; here each batch is then put on JAX's device.
        def __iter__(self):
            for X, y in pipeline.as_numpy_iterator():
                yield jax.device_put(X), jax.device_put(y)

    return NumPyBatchesToJAX()


def mxnet_loader(images, labels, batch_size, size, num_workers=NUM_WORKERS):
    """A Gluon DataLoader of (float32 NCHW in [0, 1], float32) batches, resized per image."""
    from mxnet import gluon, nd
    from mxnet.gluon.data.vision import transforms

    dataset = gluon.data.ArrayDataset(nd.array(images[..., None], dtype="uint8"),
                                      labels.astype("float32"))
    transform = transforms.Compose([transforms.Resize(size), transforms.ToTensor()])
    return gluon.data.DataLoader(dataset.transform_first(transform), batch_size, shuffle=True,
                                 num_workers=num_workers)
