"""How fast the chapter's AlexNet learns: test accuracy against images seen, per recipe and seed.

    python benchmarks/learning_curve.py                      # both recipes, seeds 0 1 2
    python benchmarks/learning_curve.py --momentum 0.9 --seeds 0 --images 10240 --out curve.json

The evidence behind the chapter's training recipe. Each run trains the
network of notebooks/alexnet_pytorch.ipynb (its cell tagged `alexnet-definition`) from a
fresh Glorot initialisation with minibatch SGD, batch size 128, learning rate
0.01, on the first `--images` Fashion-MNIST training images seen once in a
seeded random order, resized to 224x224, in the precision `train_ch6` picks for
the device. Every `--eval-every` images it measures the accuracy on the first
`--test-images` test images. The only difference between the recipes is the
momentum of the update (0: plain SGD, as d2l trains; 0.9: the paper's).

The curves, with the hardware and versions, go to benchmarks/results/ as JSON;
the PyTorch notebook draws them. A run made differently from the stored one
must name another file with --out: it is refused before it starts, not after.
"""

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

import d2lutils.torch as d2l
from d2lutils.hardware import cpu_description
from d2lutils.train import momentum_value, positive_float, positive_int, seed_value

sys.path.insert(0, str(Path(__file__).resolve().parent))
import report  # noqa: E402
from train_speed import RESULTS, chapter_alexnet, choose_device  # noqa: E402


def learning_curve(momentum, seed, args, device):
    """Train one network; return its test accuracy every `args.eval_every` images."""
    torch.manual_seed(seed)  # the initial weights and the order of the images
    net = chapter_alexnet()
    net.apply(d2l._init_glorot)
    net.to(device, memory_format=torch.channels_last)
    precision = d2l._choose_precision(device)
    optimizer = torch.optim.SGD(net.parameters(), lr=args.lr, momentum=momentum,
                                fused=device.type in ("cuda", "cpu"))
    # Loss scaling for float16 (T4, V100), as in train_ch6; a no-op otherwise.
    scaler = torch.amp.GradScaler(device.type, enabled=precision == torch.float16)
    train_iter, test_iter = d2l.load_data_fashion_mnist(
        args.batch_size, resize=224, num_train=args.images, num_test=args.test_images,
        device=device)
    points = [{"images": 0, "train_loss": None,
               "test_acc": d2l.evaluate_accuracy(net, test_iter, device)}]
    images_seen, loss_sum, loss_images, train_seconds = 0, 0.0, 0, 0.0
    start = time.perf_counter()
    for X, y in train_iter:
        net.train()
        X = X.to(memory_format=torch.channels_last)
        with d2l._autocast(device, precision):
            loss = F.cross_entropy(net(X), y)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        images_seen += len(y)
        loss_sum, loss_images = loss_sum + loss.item() * len(y), loss_images + len(y)
        if images_seen % args.eval_every == 0 or images_seen == args.images:
            train_seconds += time.perf_counter() - start
            test_acc = d2l.evaluate_accuracy(net, test_iter, device)
            # The training loss is the mean over the images since the last point.
            points.append({"images": images_seen, "train_loss": loss_sum / loss_images,
                           "test_acc": test_acc})
            print(f"  momentum {momentum:g}, seed {seed}: {images_seen:>6,} images, "
                  f"loss {loss_sum / loss_images:.3f}, test acc {test_acc:.3f}", flush=True)
            loss_sum, loss_images = 0.0, 0
            start = time.perf_counter()
    return {"momentum": momentum, "seed": seed, "points": points,
            "train_seconds": train_seconds, "precision": d2l._precision_name(precision)}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--momentum", type=momentum_value, nargs="+", default=[0.9, 0.0],
                        help="momentum values to compare (default: 0.9 and 0)")
    parser.add_argument("--seeds", type=seed_value, nargs="+", default=[0, 1, 2])
    parser.add_argument("--images", type=positive_int, default=20_480,
                        help="training images per run, each seen once (default 20,480)")
    parser.add_argument("--eval-every", type=positive_int, default=2_560,
                        help="measure test accuracy after every so many images")
    parser.add_argument("--test-images", type=positive_int, default=2_000)
    parser.add_argument("--batch-size", type=positive_int, default=128)
    parser.add_argument("--lr", type=positive_float, default=0.01)
    parser.add_argument("--out", type=Path, help="where to write the JSON result "
                        "(default: benchmarks/results/learning_curve-<device>.json)")
    args = parser.parse_args(argv)
    if args.eval_every % args.batch_size:
        parser.error(f"--eval-every {args.eval_every} is not a multiple of --batch-size "
                     f"{args.batch_size}; accuracy is measured between batches.")
    if args.images > 60_000:
        parser.error(f"--images must be between 1 and 60,000 (Fashion-MNIST's training set), "
                     f"got {args.images}")
    if args.test_images > 10_000:
        parser.error(f"--test-images must be between 1 and 10,000 (Fashion-MNIST's test set), "
                     f"got {args.test_images}")
    return args


def settings(args):
    """What the result records of how it was made."""
    return {"batch_size": args.batch_size, "lr": args.lr, "images": args.images,
            "eval_every": args.eval_every, "test_images": args.test_images,
            "init": "Glorot uniform, zero biases"}


def differences(args, train_precision, host_cpu=None):
    """How a run with `args` would differ from a stored result, for report.keep_stored_result:
    its settings, its runs, the number format it trains in, and the CPU (`host_cpu`,
    given for a run on the CPU: the README quotes its training time)."""
    planned = [(momentum, seed) for momentum in args.momentum for seed in args.seeds]

    def compare(stored):
        changes = report.changed_settings(stored, settings(args))
        for stored_precision in sorted({run.get("precision") for run in stored.get("runs", [])
                                        if run.get("precision")}):
            changes += report.changed_precision(stored_precision, train_precision)
        if host_cpu:
            changes += report.changed_host_cpu(stored.get("host_cpu"), host_cpu)
        runs = [(run["momentum"], run["seed"]) for run in stored.get("runs", [])]
        if runs != planned:
            changes.append(f"runs (momentum, seed) {runs} stored, {planned} now")
        return changes
    return compare


def main(argv=None):
    args = parse_args(argv)
    device = choose_device(args.device)
    name = "cpu" if device.type == "cpu" else "gpu"
    out = args.out or RESULTS / f"learning_curve-{name}.json"
    # Also where --out names a file: one made differently is kept there too.
    report.keep_stored_result(out, differences(
        args, d2l._precision_name(d2l._choose_precision(device)),
        host_cpu=cpu_description() if device.type == "cpu" else None))
    print(f"{d2l.describe_device(device)}; momentum {args.momentum}, seeds {args.seeds}, "
          f"{args.images:,} images each")
    start = time.perf_counter()
    runs = [learning_curve(momentum, seed, args, device)
            for momentum in args.momentum for seed in args.seeds]
    wall_seconds = time.perf_counter() - start
    result = {
        "benchmark": "learning_curve",
        "date": report.utc_now(),
        "hardware": d2l.describe_device(device), "host_cpu": cpu_description(),
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "numpy": np.__version__},
        "settings": settings(args),
        "runs": runs, "wall_seconds": wall_seconds,
    }
    return report.write_json(result, out)


if __name__ == "__main__":
    main()
