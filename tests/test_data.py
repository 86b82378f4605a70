"""d2lutils.data: finding, verifying and parsing the real Fashion-MNIST."""

import functools
import gzip
import hashlib
import http.server
import re
import shutil
import threading

import numpy as np
import pytest

from d2lutils import data


def test_loads_the_official_arrays(fashion_dir):
    ds = data.load_fashion_mnist(fashion_dir)
    assert ds.train_images.shape == (60000, 28, 28) and ds.train_images.dtype == np.uint8
    assert ds.test_images.shape == (10000, 28, 28) and ds.test_images.dtype == np.uint8
    # Fashion-MNIST is balanced: 6,000 training and 1,000 test images per class.
    assert np.bincount(ds.train_labels).tolist() == [6000] * 10
    assert np.bincount(ds.test_labels).tolist() == [1000] * 10
    # The first training labels, as published: ankle boot, t-shirt, t-shirt, dress.
    assert data.text_labels(ds.train_labels[:4]) == ["ankle boot", "t-shirt/top",
                                                     "t-shirt/top", "dress"]
    assert ds.train_images.min() == 0 and ds.train_images.max() == 255


def test_arrays_are_read_only(fashion_dir):
    ds = data.load_fashion_mnist(fashion_dir)
    with pytest.raises(ValueError):
        ds.train_images[0, 0, 0] = 1


def test_files_match_the_md5_of_the_decompressed_bytes(fashion_dir):
    for spec in data.FILES.values():
        raw = gzip.decompress(data._find_file(fashion_dir, spec.name).read_bytes())
        assert hashlib.md5(raw).hexdigest() == spec.md5


def test_splits_take_the_first_examples(fashion_dir):
    (train_x, train_y), (test_x, test_y) = data.fashion_mnist_splits(num_train=100, num_test=30,
                                                                 data_dir=fashion_dir)
    full = data.load_fashion_mnist(fashion_dir)
    assert train_x.shape == (100, 28, 28) and test_y.shape == (30,)
    np.testing.assert_array_equal(train_y, full.train_labels[:100])
    np.testing.assert_array_equal(test_x, full.test_images[:30])


@pytest.mark.parametrize("kwargs, message", [
    ({"num_train": 0}, "num_train must be an integer from 1 to 60,000, got 0"),
    ({"num_train": 60001}, "num_train must be an integer from 1 to 60,000, got 60001"),
    ({"num_test": 2.5}, "num_test must be an integer from 1 to 10,000, got 2.5"),
])
def test_splits_refuse_impossible_counts(fashion_dir, kwargs, message):
    with pytest.raises(ValueError, match=message):
        data.fashion_mnist_splits(data_dir=fashion_dir, **kwargs)
    # Before the data is looked for: no download for a request that cannot be met.
    with pytest.raises(ValueError, match=message):
        data.fashion_mnist_splits(data_dir=fashion_dir / "not-there", **kwargs)


@pytest.mark.parametrize("batch_size, resize, message", [
    (0, None, "batch_size must be a positive integer, got 0"),
    (True, None, "batch_size must be a positive integer, got True"),
    (128, "224", "resize must be None .* got '224'"),
    (128, -1, "resize must be None .* got -1"),
])
def test_check_batching(batch_size, resize, message):
    with pytest.raises(ValueError, match=message):
        data.check_batching(batch_size, resize)
    data.check_batching(128, 224)  # and a sensible request passes


# --- where the files are found ------------------------------------------------

def test_argument_beats_environment_variable(fashion_copy, tmp_path, monkeypatch):
    monkeypatch.setenv(data.DATA_ENV_VAR, str(tmp_path / "elsewhere"))
    assert data.find_data_dir(fashion_copy) == fashion_copy


def test_environment_variable_beats_cache_and_system(fashion_copy, no_data_anywhere,
                                                     monkeypatch):
    monkeypatch.setenv(data.DATA_ENV_VAR, str(fashion_copy))
    assert data.find_data_dir(download=False) == fashion_copy


def test_cache_beats_system_folder(fashion_copy, no_data_anywhere, monkeypatch):
    shutil.copytree(fashion_copy, data.cache_dir())
    monkeypatch.setattr(data, "SYSTEM_DIR", fashion_copy)
    assert data.find_data_dir(download=False) == data.cache_dir()


def test_system_folder_is_the_last_resort(fashion_copy, no_data_anywhere, monkeypatch):
    monkeypatch.setattr(data, "SYSTEM_DIR", fashion_copy)
    assert data.find_data_dir(download=False) == fashion_copy


def test_decompressed_files_are_accepted(fashion_copy):
    for path in list(fashion_copy.iterdir()):
        path.with_suffix("").write_bytes(gzip.decompress(path.read_bytes()))
        path.unlink()
    ds = data.load_fashion_mnist(fashion_copy)
    assert ds.test_labels.shape == (10000,)


# --- what goes wrong, and what the reader is told ------------------------------

def test_missing_everywhere_offline_says_how_to_get_it(no_data_anywhere):
    with pytest.raises(data.DataError) as error:
        data.load_fashion_mnist(download=False)
    message = str(error.value)
    assert "Fashion-MNIST was not found" in message
    assert "apt-get install dataset-fashion-mnist" in message
    assert f"set {data.DATA_ENV_VAR}=" in message
    assert str(data.cache_dir()) in message


def test_named_folder_that_is_empty(tmp_path):
    with pytest.raises(data.DataError, match="lacks train-images-idx3-ubyte.gz, "
                       "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, "
                       "t10k-labels-idx1-ubyte.gz"):
        data.load_fashion_mnist(tmp_path)


def test_environment_variable_naming_a_missing_folder(no_data_anywhere, monkeypatch):
    monkeypatch.setenv(data.DATA_ENV_VAR, str(no_data_anywhere / "typo"))
    with pytest.raises(data.DataError, match=r"typo \(from the D2LUTILS_DATA environment "
                                             r"variable\) does not exist"):
        data.load_fashion_mnist()


def test_truncated_file_is_named_and_kept(fashion_copy):
    victim = fashion_copy / "train-labels-idx1-ubyte.gz"
    damaged = victim.read_bytes()[:1000]
    victim.write_bytes(damaged)
    with pytest.raises(data.DataError) as error:
        data.load_fashion_mnist(fashion_copy)
    assert f"{victim} is not a complete gzip file" in str(error.value)
    assert "Nothing was changed" in str(error.value)
    assert victim.read_bytes() == damaged  # not deleted, not "repaired"


def test_short_file_reports_expected_size(fashion_copy):
    victim = fashion_copy / "t10k-labels-idx1-ubyte.gz"
    victim.write_bytes(gzip.compress(gzip.decompress(victim.read_bytes())[:-8]))
    with pytest.raises(data.DataError, match="decompresses to 10,000 bytes; the official "
                                             "t10k-labels-idx1-ubyte has 10,008"):
        data.load_fashion_mnist(fashion_copy)


def test_changed_content_is_caught_by_the_checksum(fashion_copy):
    victim = fashion_copy / "t10k-images-idx3-ubyte.gz"
    raw = bytearray(gzip.decompress(victim.read_bytes()))
    raw[5000] ^= 0xFF  # one pixel changed, size unchanged
    victim.write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(data.DataError, match="right size but the wrong content"):
        data.load_fashion_mnist(fashion_copy)


def test_an_unchanged_folder_is_read_once(fashion_dir):
    assert data.load_fashion_mnist(fashion_dir) is data.load_fashion_mnist(fashion_dir)


def test_a_file_changed_since_it_was_loaded_is_verified_again(fashion_copy):
    data.load_fashion_mnist(fashion_copy)  # now cached
    victim = fashion_copy / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(gzip.decompress(victim.read_bytes()))
    raw[8] ^= 1  # the first test label: 9 (ankle boot) becomes 8 (bag)
    victim.write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(data.DataError, match="right size but the wrong content"):
        data.load_fashion_mnist(fashion_copy)


def test_the_corruption_exercise_as_written(fashion_copy):
    # fashion_mnist.ipynb's exercise: decompress one file of a copy, delete its .gz,
    # change one byte. The .gz has to go because the loader reads it where both are.
    compressed = fashion_copy / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(gzip.decompress(compressed.read_bytes()))
    raw[8] ^= 1
    decompressed = fashion_copy / "t10k-labels-idx1-ubyte"
    decompressed.write_bytes(bytes(raw))
    assert data.load_fashion_mnist(fashion_copy).test_labels[0] == 9  # the .gz's label
    compressed.unlink()
    with pytest.raises(data.DataError, match=re.escape(f"{decompressed} has the right size "
                                                       "but the wrong content")):
        data.load_fashion_mnist(fashion_copy)


# --- downloading (from a server on this machine; the real mirrors are remote) --

@pytest.fixture
def mirror(tmp_path):
    """An HTTP server on 127.0.0.1 serving a folder; yields (folder, base URL)."""
    folder = tmp_path / "mirror"
    folder.mkdir()
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_download_goes_to_the_cache_and_verifies(fashion_copy, mirror, no_data_anywhere,
                                                 monkeypatch):
    folder, url = mirror
    for path in fashion_copy.iterdir():
        shutil.copy(path, folder)
    dead_mirror = "http://127.0.0.1:9/"  # nothing listens there: the next mirror is tried
    monkeypatch.setattr(data, "MIRRORS", (dead_mirror, url))
    ds = data.load_fashion_mnist()
    assert data.find_data_dir(download=False) == data.cache_dir()
    assert sorted(p.name for p in data.cache_dir().iterdir()) == sorted(
        spec.name + ".gz" for spec in data.FILES.values())
    assert np.bincount(ds.test_labels).tolist() == [1000] * 10


def test_corrupt_download_leaves_nothing_behind(fashion_copy, mirror, no_data_anywhere,
                                                monkeypatch):
    folder, url = mirror
    for path in fashion_copy.iterdir():
        shutil.copy(path, folder)
    served = folder / "train-images-idx3-ubyte.gz"
    served.write_bytes(served.read_bytes()[:100_000])  # a download cut short
    monkeypatch.setattr(data, "MIRRORS", (url,))
    with pytest.raises(data.DataError, match="train-images-idx3-ubyte.gz is not a complete "
                                             "gzip file"):
        data.load_fashion_mnist()
    assert not (data.cache_dir() / "train-images-idx3-ubyte.gz").exists()
    assert not [p for p in data.cache_dir().iterdir() if p.name.startswith(".download")]


def test_unreachable_mirrors_say_how_to_get_it(no_data_anywhere, monkeypatch):
    monkeypatch.setattr(data, "MIRRORS", ("http://127.0.0.1:9/",))
    with pytest.raises(data.DataError, match="Could not download train-images-idx3-ubyte.gz"
                                             "(.|\n)*apt-get install dataset-fashion-mnist"):
        data.load_fashion_mnist()


def test_a_cache_that_cannot_be_written_says_what_to_do(no_data_anywhere, monkeypatch):
    # Here a file stands where the cache folder should go (as root, permissions
    # cannot be made to refuse); a read-only home fails the same way.
    blocked = no_data_anywhere / "cache"
    blocked.write_text("not a folder")
    monkeypatch.setattr(data, "MIRRORS", ("http://127.0.0.1:9/",))
    with pytest.raises(data.DataError, match=r"Could not save Fashion-MNIST into .*cache.*: "
                                             r"(.|\n)*XDG_CACHE_HOME(.|\n)*apt-get install"):
        data.load_fashion_mnist()
    with pytest.raises(SystemExit, match="error: Could not save Fashion-MNIST"):
        data.main([])
    assert blocked.read_text() == "not a folder"


def test_command_line_reports_the_folder(fashion_dir, capsys, monkeypatch):
    monkeypatch.setenv(data.DATA_ENV_VAR, str(fashion_dir))
    data.main(["--no-download"])
    assert capsys.readouterr().out == (f"Fashion-MNIST verified in {fashion_dir}: 60,000 "
                                       f"training and 10,000 test images.\n")


def test_command_line_fails_with_the_instructions(no_data_anywhere):
    with pytest.raises(SystemExit, match="error: Fashion-MNIST was not found"):
        data.main(["--no-download"])
