"""Loader speed: Fashion-MNIST at 224x224, resized per image vs per batch (ours).

    .venv/bin/python benchmarks/loader_speed.py          # PyTorch and TensorFlow
    .venv-mxnet/bin/python benchmarks/loader_speed.py    # MXNet, in its own environment
    python benchmarks/loader_speed.py --frameworks tensorflow --batches 20

For each framework installed in the environment it runs in, both loaders
deliver `--batches` batches of 128 images enlarged to 224x224, and we count
images per second, with each batch made ready on the device (no training, so
only the data path is timed). The result goes to
benchmarks/results/loader_speed-cpu-<frameworks>.json.
"""

import argparse
import importlib.util
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import d2l_style  # noqa: E402  (the reference pipelines, next to this file)
import report  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FRAMEWORKS = ("torch", "tensorflow", "mxnet")


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
    else:
        per_image = d2l_style.mxnet_loader(images, labels, batch_size, 224)
        wait = lambda X: X.wait_to_read()  # noqa: E731  (MXNet computes asynchronously)
    ours, _ = d2l.load_data_fashion_mnist(batch_size, resize=224, num_train=len(labels),
                                          num_test=batch_size)
    return per_image, ours, wait


def images_per_sec(loader, wait, num_batches, warmup=2):
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    installed = [name for name in FRAMEWORKS if importlib.util.find_spec(name) is not None]
    parser.add_argument("--frameworks", nargs="+", choices=FRAMEWORKS, default=installed,
                        help=f"default: those installed here ({', '.join(installed) or 'none'})")
    parser.add_argument("--batches", type=int, default=40, help="timed batches per loader")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--out", type=Path, help="JSON result (default: "
                        "benchmarks/results/loader_speed-cpu-<frameworks>.json)")
    args = parser.parse_args(argv)
    if args.batches < 1 or args.batch_size < 1:
        parser.error("--batches and --batch-size must be positive")
    missing = [name for name in args.frameworks if importlib.util.find_spec(name) is None]
    if missing or not args.frameworks:
        parser.error(f"not installed in this environment: {', '.join(missing) or 'any framework'}"
                     f"; run the benchmark with the Python of an environment that has it "
                     f"(.venv for torch and tensorflow, .venv-mxnet for mxnet)")

    from d2lutils import data
    from d2lutils.hardware import cpu_description

    fashion = data.load_fashion_mnist()
    count = min(len(fashion.train_labels), (args.batches + 2) * args.batch_size)
    images, labels = fashion.train_images[:count], fashion.train_labels[:count]
    result = {"benchmark": "loader_speed",
              "date": report.utc_now(),
              "hardware": f"CPU: {cpu_description()}", "python": platform.python_version(),
              "settings": {"batch_size": args.batch_size, "batches": args.batches, "size": 224,
                           "per_image_workers": d2l_style.NUM_WORKERS},
              "frameworks": {}}
    for framework in sorted(args.frameworks, key=FRAMEWORKS.index):
        per_image, ours, wait = loaders(framework, images, labels, args.batch_size)
        speeds = {"per_image": images_per_sec(per_image, wait, args.batches),
                  "ours": images_per_sec(ours, wait, args.batches)}
        speeds["speedup"] = speeds["ours"] / speeds["per_image"]
        result["frameworks"][framework] = speeds
        print(f"{framework:<10} per image {speeds['per_image']:>9,.0f} images/s   "
              f"ours {speeds['ours']:>9,.0f} images/s   {speeds['speedup']:.1f}x")
    default = ROOT / "benchmarks" / "results" / f"loader_speed-cpu-{'-'.join(result['frameworks'])}.json"
    return report.write_json(result, args.out or default)


if __name__ == "__main__":
    main()
