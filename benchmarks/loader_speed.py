"""Loader speed: Fashion-MNIST at 224x224, resized per image vs per batch (ours).

    .venv/bin/python benchmarks/loader_speed.py          # PyTorch, TensorFlow and JAX
    .venv-mxnet/bin/python benchmarks/loader_speed.py    # MXNet, in its own environment
    python benchmarks/loader_speed.py --frameworks tensorflow --batches 20

For each framework installed in the environment it runs in, both loaders
deliver `--batches` batches of 128 images enlarged to 224x224, and we count
images per second, with each batch made ready on the device (no training, so
only the data path is timed). The two loaders take turns `--repeats` times;
the result keeps every run and the median of each loader's runs, as speeds on
two shared cores vary from run to run. It goes to
benchmarks/results/loader_speed-cpu-<frameworks>.json; a run made differently
from the result stored there must name another file with --out.

JAX's reference pipeline reads the images with tf.data, as d2l's JAX loader
does, so JAX is measured only where TensorFlow is installed too.
"""

import argparse
import importlib.util
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import d2l_style  # noqa: E402  (the reference pipelines, next to this file)
import report  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FRAMEWORKS = ("torch", "tensorflow", "jax", "mxnet")
WARMUP_BATCHES = 2  # fetched untimed before each timed run


def loaders(framework, images, labels, batch_size):
    """(per-image loader, our loader) for one framework, with a function that waits for a batch."""
    import importlib

    d2l = importlib.import_module(f"d2lutils.{framework}")
    if framework == "torch":
        import torch
        per_image = d2l_style.torch_loader(images, labels, batch_size, 224)
        wait = (lambda X: torch.cuda.synchronize()) if torch.cuda.is_available() else (lambda X: None)
    elif framework == "tensorflow":
        per_image = d2l_style.tensorflow_loader(images, labels, batch_size, 224)
        wait = lambda X: X.numpy()  # noqa: E731  (forces the value to exist)
    elif framework == "jax":
        per_image = d2l_style.jax_loader(images, labels, batch_size, 224)
        wait = lambda X: X.block_until_ready()  # noqa: E731  (JAX dispatches asynchronously)
    else:
        per_image = d2l_style.mxnet_loader(images, labels, batch_size, 224)
        wait = lambda X: X.wait_to_read()  # noqa: E731  (MXNet computes asynchronously)
    ours, _ = d2l.load_data_fashion_mnist(batch_size, resize=224, num_train=len(labels),
                                          num_test=batch_size)
    return per_image, ours, wait


def images_per_sec(loader, wait, num_batches, warmup):
    """Images per second over `num_batches` batches, after `warmup` untimed ones."""
    count, start = 0, None
    batches = iter(loader)
    for i in range(warmup + num_batches):
        try:
            X, y = next(batches)
        except StopIteration:  # short dataset: start another epoch
            batches = iter(loader)
            X, y = next(batches)
        wait(X)
        if i == warmup - 1:
            start = time.perf_counter()
        elif i >= warmup:
            count += len(y)
    return count / (time.perf_counter() - start)


def median_speeds(per_image, ours, wait, num_batches, repeats):
    """Both loaders timed in turn `repeats` times: every run's images/s and each loader's
    median; the speed-up is the ratio of the two medians."""
    runs = {"per_image": [], "ours": []}
    for _ in range(repeats):
        for name, loader in (("per_image", per_image), ("ours", ours)):
            runs[name].append(images_per_sec(loader, wait, num_batches, warmup=WARMUP_BATCHES))
    speeds = {name: statistics.median(values) for name, values in runs.items()}
    speeds["speedup"] = speeds["ours"] / speeds["per_image"]
    speeds["runs"] = runs
    return speeds


def measurable():
    """The frameworks installed here that can be measured: JAX only next to TensorFlow."""
    def installed(name):
        return importlib.util.find_spec(name) is not None
    return [name for name in FRAMEWORKS
            if installed(name) and (name != "jax" or installed("tensorflow"))]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = measurable()
    parser.add_argument("--frameworks", nargs="+", choices=FRAMEWORKS, default=here,
                        help=f"default: those measurable here ({', '.join(here) or 'none'})")
    parser.add_argument("--batches", type=int, default=40, help="timed batches per loader")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per loader")
    parser.add_argument("--out", type=Path, help="JSON result (default: "
                        "benchmarks/results/loader_speed-cpu-<frameworks>.json)")
    args = parser.parse_args(argv)
    if args.batches < 1 or args.batch_size < 1 or args.repeats < 1:
        parser.error("--batches, --batch-size and --repeats must be positive")
    missing = [name for name in args.frameworks if importlib.util.find_spec(name) is None]
    # JAX asked for, or the only framework here: its reference needs TensorFlow.
    wants_jax = "jax" in args.frameworks or (not args.frameworks
                                             and importlib.util.find_spec("jax") is not None)
    if not missing and wants_jax and importlib.util.find_spec("tensorflow") is None:
        parser.error("JAX's reference pipeline is a per-image tf.data map, as TensorFlow's: "
                     "install tensorflow next to jax, or leave jax out of --frameworks")
    if missing or not args.frameworks:
        parser.error(f"not installed in this environment: {', '.join(missing) or 'any framework'}"
                     f"; run the benchmark with the Python of an environment that has it "
                     f"(.venv for torch, tensorflow and jax, .venv-mxnet for mxnet)")

    from d2lutils import data
    from d2lutils.hardware import cpu_description

    frameworks = sorted(args.frameworks, key=FRAMEWORKS.index)
    settings = {"batch_size": args.batch_size, "batches": args.batches, "size": 224,
                "repeats": args.repeats, "per_image_workers": d2l_style.NUM_WORKERS}
    out = args.out or (ROOT / "benchmarks" / "results"
                       / f"loader_speed-cpu-{'-'.join(frameworks)}.json")
    if args.out is None:
        report.keep_stored_result(out, lambda stored: report.changed_settings(stored, settings))
    fashion = data.load_fashion_mnist()
    count = min(len(fashion.train_labels), (WARMUP_BATCHES + args.batches) * args.batch_size)
    images, labels = fashion.train_images[:count], fashion.train_labels[:count]
    result = {"benchmark": "loader_speed",
              "date": report.utc_now(),
              "hardware": f"CPU: {cpu_description()}", "python": platform.python_version(),
              "versions": {}, "settings": settings, "frameworks": {}}
    for framework in frameworks:
        per_image, ours, wait = loaders(framework, images, labels, args.batch_size)
        speeds = median_speeds(per_image, ours, wait, args.batches, args.repeats)
        result["frameworks"][framework] = speeds
        result["versions"][framework] = sys.modules[framework].__version__
        print(f"{framework:<10} per image {speeds['per_image']:>9,.0f} images/s   "
              f"ours {speeds['ours']:>9,.0f} images/s   {speeds['speedup']:.1f}x   "
              f"(median of {args.repeats})")
    return report.write_json(result, out)


if __name__ == "__main__":
    main()
