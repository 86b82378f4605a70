"""Fashion-MNIST: find the four official IDX files, verify them, parse them.

Framework-free (numpy only). The framework modules turn these uint8 arrays
into batches; nothing here knows about PyTorch, TensorFlow, JAX or MXNet.

Where the files are looked for:

1. a folder the reader names, with the ``data_dir`` argument or else the
   ``D2LUTILS_DATA`` environment variable: it must exist and hold all four
   files, or an error says what is wrong there (nothing is looked up elsewhere);
2. otherwise the per-user cache, ``~/.cache/d2lutils/fashion-mnist`` (or under
   ``$XDG_CACHE_HOME``), then ``/usr/share/datasets/fashion-mnist``, where
   Debian's ``dataset-fashion-mnist`` package installs them.

If neither holds the files, they are downloaded into the cache (when the
network allows). Every file is checked against the SHA-256 of its
*decompressed* bytes, so a re-compressed copy (Debian rewrote the gzip
headers) is accepted and a truncated or corrupt one is refused by name.
"""

import functools
import gzip
import hashlib
import numbers
import os
import shutil
import tempfile
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np

DATA_ENV_VAR = "D2LUTILS_DATA"
SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")

# The ten classes, in label order, as published by Zalando Research
# (https://github.com/zalandoresearch/fashion-mnist#labels).
CLASS_NAMES = (
    "t-shirt/top", "trouser", "pullover", "dress", "coat",
    "sandal", "shirt", "sneaker", "bag", "ankle boot",
)

# Official download locations, tried in order.
MIRRORS = (
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
)


class IdxFile(NamedTuple):
    """What one official file must be once decompressed."""
    name: str
    shape: tuple  # the array it holds
    sha256: str   # of the decompressed bytes
    md5: str      # of the decompressed bytes


# The dataset publishes MD5 sums of its four .gz files, which a copy compressed
# again (Debian's package rewrites the gzip headers) no longer matches, so the
# sums below are of the decompressed bytes: the MD5s are those other projects'
# loaders check the unpacked files against, the SHA-256s were computed here from
# the same bytes, and tests/test_data.py checks both.
FILES = {
    "train_images": IdxFile(
        "train-images-idx3-ubyte", (60000, 28, 28),
        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "f4a8712d7a061bf5bd6d2ca38dc4d50a"),
    "train_labels": IdxFile(
        "train-labels-idx1-ubyte", (60000,),
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "9018921c3c673c538a1fc5bad174d6f9"),
    "test_images": IdxFile(
        "t10k-images-idx3-ubyte", (10000, 28, 28),
        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "8181f5470baa50b63fa0f6fddb340f0a"),
    "test_labels": IdxFile(
        "t10k-labels-idx1-ubyte", (10000,),
        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        "15d484375f8d13e6eb1aabb0c3f46965"),
}

HOW_TO_GET_IT = f"""\
How to get Fashion-MNIST (any one of these):
  * Debian/Ubuntu:  sudo apt-get install dataset-fashion-mnist
                    (installs the files into {SYSTEM_DIR})
  * With internet:  load the data again with no data_dir or {DATA_ENV_VAR} and
                    downloads allowed: the four files (about 30 MB) are
                    downloaded into {{cache}}
  * By hand:        put the four files {', '.join(f.name + '.gz' for f in FILES.values())}
                    into a folder and set {DATA_ENV_VAR}=/path/to/that/folder"""


class DataError(Exception):
    """Fashion-MNIST is missing, incomplete or corrupt; the message says how to fix it."""


class FashionMNIST(NamedTuple):
    """The whole dataset as read-only uint8 images (N, 28, 28) and labels (N,)."""
    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray


def cache_dir():
    """The per-user folder that downloads go into."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "d2lutils" / "fashion-mnist"


def load_fashion_mnist(data_dir=None, download=True):
    """Find, verify and parse Fashion-MNIST; return a `FashionMNIST` of uint8 arrays.

    data_dir: a folder holding the four files (``.gz`` or decompressed).
    download: whether to fetch the files when no folder holds them.
    """
    return _load_folder(find_data_dir(data_dir, download))


def fashion_mnist_splits(*, num_train=None, num_test=None, data_dir=None):
    """The first `num_train` training and `num_test` test examples (all when None).

    Returns (train_images, train_labels), (test_images, test_labels) as uint8
    arrays; the framework modules build their minibatches from these.
    """
    # Checked against the official sizes first: a wrong count is refused before
    # any data is looked for, let alone downloaded.
    num_train = _check_count("num_train", num_train, FILES["train_labels"].shape[0])
    num_test = _check_count("num_test", num_test, FILES["test_labels"].shape[0])
    data = load_fashion_mnist(data_dir)
    return ((data.train_images[:num_train], data.train_labels[:num_train]),
            (data.test_images[:num_test], data.test_labels[:num_test]))


def check_batching(batch_size, resize):
    """Refuse a batch size or resize target that no loader can honour."""
    if not _is_positive_int(batch_size):
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")
    if resize is not None and not _is_positive_int(resize):
        raise ValueError(f"resize must be None (keep the images' size) or a positive integer "
                         f"side length such as 224, got {resize!r}.")


def check_examples(images, labels, resize=None):
    """Refuse images or labels that a loader would mangle instead of batching.

    The loaders scale uint8 grey levels to [0, 1] themselves, so images must be
    uint8 (N, height, width), as load_fashion_mnist gives them, with N labels
    from 0 up; and square where they are to be resized: the loaders make
    size x size images, and the one matrix with which PyTorch's, TensorFlow's
    and JAX's resize both axes (d2lutils.resize) fits only a square (Gluon's
    OpenCV resize would stretch the image instead). Returns how many classes the
    labels name (the largest label + 1), which train_ch6 compares with the
    network's outputs (check_labels_fit)."""
    images, labels = np.asarray(images), np.asarray(labels)
    if images.dtype != np.uint8 or images.ndim != 3:
        raise ValueError(f"images must be a uint8 array (N, height, width) of grey levels "
                         f"0..255, as data.load_fashion_mnist() returns them; got "
                         f"{images.dtype} of shape {images.shape}. The loader scales them to "
                         f"[0, 1] and adds the channel axis itself.")
    height, width = images.shape[1:]
    if resize is not None and height != width:
        raise ValueError(f"resize={resize} makes {resize}x{resize} images from square ones, "
                         f"and these are {height}x{width} (height x width). Crop or pad them "
                         f"to a square first, or pass resize=None to keep their size.")
    if labels.ndim != 1 or len(labels) != len(images) or not np.issubdtype(labels.dtype,
                                                                           np.integer):
        raise ValueError(f"labels must be one integer per image, shape ({len(images)},); "
                         f"got {labels.dtype} of shape {labels.shape}.")
    if len(labels) == 0:
        raise ValueError("images and labels are empty: a loader needs at least one example.")
    if labels.min() < 0:
        raise ValueError(f"labels must be class indices 0, 1, 2, ...; got {labels.min()}.")
    return int(labels.max()) + 1


def _is_positive_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 1


def _check_count(name, value, available):
    if value is None:
        return available
    if not _is_positive_int(value) or value > available:
        raise ValueError(f"{name} must be an integer from 1 to {available:,}, got {value!r}.")
    return value


def text_labels(labels):
    """The class names for a sequence of integer labels."""
    return [CLASS_NAMES[int(label)] for label in labels]


def find_data_dir(data_dir=None, download=True):
    """The folder Fashion-MNIST will be read from, downloading it if needed."""
    # A folder the reader named must hold the files: quietly reading another
    # copy instead would hide a typo.
    if data_dir is not None:
        return _require_complete(Path(data_dir), "the data_dir argument")
    if os.environ.get(DATA_ENV_VAR):
        return _require_complete(Path(os.environ[DATA_ENV_VAR]),
                                 f"the {DATA_ENV_VAR} environment variable")
    for folder in (cache_dir(), SYSTEM_DIR):
        if not _missing_files(folder):
            return folder
    if not download:
        raise DataError("Fashion-MNIST was not found in "
                        f"{cache_dir()} or {SYSTEM_DIR}.\n"
                        + HOW_TO_GET_IT.format(cache=cache_dir()))
    return download_fashion_mnist(cache_dir())


def download_fashion_mnist(folder, mirrors=None):
    """Download the four files into `folder`, verify them, and return `folder`.

    Files already in `folder` are kept as they are. Each download lands in a
    temporary folder first and is moved into place only once verified, so a
    failed or corrupt download never leaves a broken file behind.
    """
    mirrors = MIRRORS if mirrors is None else mirrors
    folder = Path(folder)
    try:
        return _download_into(folder, mirrors)
    except OSError as error:  # a folder that cannot be created or written to
        raise DataError(f"Could not save Fashion-MNIST into {folder}: {error}. Download "
                        f"into a folder you can write to (without a folder named, that is "
                        f"the cache, which XDG_CACHE_HOME moves), or get the files another "
                        f"way.\n" + HOW_TO_GET_IT.format(cache=cache_dir())) from None


def _download_into(folder, mirrors):
    import pooch  # only needed when downloading

    folder.mkdir(parents=True, exist_ok=True)
    for spec in FILES.values():
        if _find_file(folder, spec.name) is not None:
            continue
        filename = spec.name + ".gz"
        with tempfile.TemporaryDirectory(dir=folder, prefix=".download-") as tmp:
            errors = []
            for mirror in mirrors:
                try:
                    path = pooch.retrieve(mirror + filename, known_hash=None,
                                          fname=filename, path=tmp, progressbar=False)
                    break
                except Exception as error:  # network errors come in many types
                    errors.append(f"  {mirror + filename}: {error}")
            else:
                raise DataError(f"Could not download {filename}:\n" + "\n".join(errors)
                                + "\n" + HOW_TO_GET_IT.format(cache=cache_dir()))
            _read_verified(Path(path), spec)  # raises DataError if corrupt
            shutil.move(path, folder / filename)
    return folder


def _load_folder(folder):
    return _load_files(_file_versions(folder))


def _file_versions(folder):
    # The cache's key: each file's path, inode, size and change time (which,
    # unlike the modification time, no copying tool can set back), so that a
    # file written or replaced since it was last read is read and verified again.
    versions = []
    for spec in FILES.values():
        path = _find_file(folder, spec.name).resolve()
        stat = path.stat()
        versions.append((path, stat.st_ino, stat.st_size, stat.st_ctime_ns))
    return tuple(versions)


@functools.lru_cache(maxsize=4)
def _load_files(versions):
    # Cached: decompressing and hashing 30 MB takes a second, and notebooks
    # and tests ask for the same data many times. The arrays are read-only
    # so that one caller cannot change what the next one gets.
    arrays = {}
    for (key, spec), (path, *_) in zip(FILES.items(), versions):
        arrays[key] = _read_verified(path, spec)
        arrays[key].flags.writeable = False
    return FashionMNIST(**arrays)


def _find_file(folder, name):
    for path in (folder / (name + ".gz"), folder / name):
        if path.is_file():
            return path
    return None


def _missing_files(folder):
    return [spec.name + ".gz" for spec in FILES.values()
            if _find_file(folder, spec.name) is None]


def _require_complete(folder, named_by):
    if not folder.is_dir():
        raise DataError(f"Fashion-MNIST folder {folder} (from {named_by}) does not exist.\n"
                        + HOW_TO_GET_IT.format(cache=cache_dir()))
    missing = _missing_files(folder)
    if missing:
        raise DataError(f"Fashion-MNIST folder {folder} (from {named_by}) lacks "
                        f"{', '.join(missing)}.\n" + HOW_TO_GET_IT.format(cache=cache_dir()))
    return folder


def _read_verified(path, spec):
    """Decompress (if gzipped), verify and parse one IDX file."""
    raw = path.read_bytes()
    if path.suffix == ".gz":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as error:
            raise DataError(f"{path} is not a complete gzip file ({error}). "
                            f"{_how_to_replace(path)}") from None
    expected_size = 4 + 4 * len(spec.shape) + int(np.prod(spec.shape))
    if len(raw) != expected_size:
        raise DataError(f"{path} decompresses to {len(raw):,} bytes; the official "
                        f"{spec.name} has {expected_size:,}. {_how_to_replace(path)}")
    digest = hashlib.sha256(raw).hexdigest()
    if digest != spec.sha256:
        raise DataError(f"{path} has the right size but the wrong content: its "
                        f"decompressed SHA-256 is {digest}, the official {spec.name} has "
                        f"{spec.sha256}. {_how_to_replace(path)}")
    return _parse_idx(raw, spec.shape)


def _parse_idx(raw, shape):
    # IDX: two zero bytes, a type code (0x08 = uint8), the number of
    # dimensions, each dimension as a big-endian uint32, then the data. The
    # checksum has already vouched for the header, so skip straight to it.
    header_size = 4 + 4 * len(shape)
    return np.frombuffer(raw, np.uint8, offset=header_size).reshape(shape).copy()


def _how_to_replace(path):
    return (f"Nothing was changed. Delete or move {path} and fetch a fresh copy.\n"
            + HOW_TO_GET_IT.format(cache=cache_dir()))


def main(argv=None):
    """`python -m d2lutils.data [--no-download]`: find or fetch the files, verify them, say where."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--no-download", action="store_true",
                        help="fail instead of downloading when no folder holds the files")
    args = parser.parse_args(argv)
    try:
        folder = find_data_dir(download=not args.no_download)
        data = _load_folder(folder)
    except DataError as error:
        raise SystemExit(f"error: {error}") from None
    print(f"Fashion-MNIST verified in {folder}: {len(data.train_labels):,} training and "
          f"{len(data.test_labels):,} test images.")


if __name__ == "__main__":
    main()
