"""Where one training step of our path spends its time, timed step by step.

    python benchmarks/step_time.py               # GPU if there is one, else the CPU
    python benchmarks/step_time.py --rounds 32   # more rounds, a steadier mean

train_speed.py gives each whole path's speed as an average over its timed steps,
and its --ablation the fastest of three bare steps: two different statistics, which
differ most where one step's time varies most. This benchmark times, in each round:

(a) the next batch of `d2lutils.torch.load_data_fashion_mnist`, fetched and resized
    to 224x224 on the device and put in channels-last layout, as train_ch6 does;
(b) one training step on it as train_ch6 takes it: its number format, channels-last,
    the fused SGD update with momentum 0.9, the running sums kept on the device;
(c) the same step on a fixed random batch already in place: a bare step like the
    ablation's, but with (b)'s update and running sums, so that (a) is all that
    our path adds to it.

(b) and (c) take turns at going first, and interleaving them means a machine that
speeds up or slows down during the run affects both alike. Every step's time is
kept in the JSON, beside the mean and the fastest of each, so the spread from one
step to the next can be seen. On a GPU each part is timed to its end, waiting for
the device, which train_ch6 does not do inside a step: there the parts add up to
more than train_ch6 takes. The result goes to
benchmarks/results/step_time-<device>.json; the book's status page shows it.
"""

import argparse
import platform
import re
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

import d2lutils.torch as d2l
from d2lutils.hardware import cpu_description
from d2lutils.summary import image_batches
from d2lutils.train import positive_float

sys.path.insert(0, str(Path(__file__).resolve().parent))
import report  # noqa: E402
import train_speed  # noqa: E402  (the chapter's network, the device, the hardware's name)

PARTS = ("fetch and resize", "our step", "bare step")


def result_path(device):
    """benchmarks/results/step_time-<device>.json: a CPU is named by whether it has
    bfloat16 in hardware (or by the instruction-set caps in force), a GPU by its model."""
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
    elif train_speed.isa_limits():
        name = "cpu " + " ".join(dict.fromkeys(train_speed.isa_limits().values()))
    else:
        name = f"cpu {'with' if d2l._cpu_has_bf16() else 'without'} bf16"
    return train_speed.RESULTS / f"step_time-{re.sub(r'[^a-z0-9]+', '-', name.lower())}.json"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--rounds", type=int, help="timed rounds of (a), (b) and (c) "
                        "(default: 16 on a CPU, 200 on a GPU)")
    parser.add_argument("--warmup", type=int, help="untimed rounds first (default: 2 / 20)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=positive_float, default=0.01)
    parser.add_argument("--out", type=Path, help="where to write the JSON result "
                        "(default: benchmarks/results/step_time-<device>.json)")
    args = parser.parse_args(argv)
    for name, least in (("rounds", 1), ("warmup", 0), ("batch_size", 1)):
        value = getattr(args, name)
        if value is not None and value < least:
            parser.error(f"--{name.replace('_', '-')} must be "
                         f"{'positive' if least else '0 or more'}, got {value}")
    return args


def settings(args):
    """What the result records of how it was made."""
    return {"batch_size": args.batch_size, "rounds": args.rounds, "warmup": args.warmup,
            "lr": args.lr, "momentum": 0.9}


def differences(args, device, precision):
    """How a run with `args` here would differ from a stored result, for
    report.keep_stored_result: its settings, its number format, and on a CPU the CPU."""
    def compare(stored):
        changes = report.changed_settings(stored, settings(args))
        changes += report.changed_precision(stored.get("precision"), precision)
        if device.type == "cpu":
            changes += report.changed_host_cpu(stored.get("host_cpu"), cpu_description())
        return changes
    return compare


def summary(seconds):
    """The fastest, median, mean and slowest of a list of step times, in seconds."""
    return {"fastest": min(seconds), "median": statistics.median(seconds),
            "mean": statistics.mean(seconds), "slowest": max(seconds)}


def time_steps(args, device):
    """Every timed round's seconds for (a), (b) and (c), and the number format used."""
    precision = d2l._choose_precision(device)
    count = args.batch_size * (args.warmup + args.rounds)
    if count > 60_000:
        raise SystemExit(f"(--warmup {args.warmup} + --rounds {args.rounds}) x --batch-size "
                         f"{args.batch_size} = {count:,} images; Fashion-MNIST has 60,000 "
                         "for training.")
    train_iter, _ = d2l.load_data_fashion_mnist(args.batch_size, resize=224, num_train=count,
                                                num_test=args.batch_size, device=device)
    batches = iter(image_batches(train_iter, d2l._BATCH_AXES))
    fixed_X = torch.rand(args.batch_size, 1, 224, 224, device=device).to(
        memory_format=torch.channels_last)
    fixed_y = torch.randint(0, 10, (args.batch_size,), device=device)

    def prepared():
        """The chapter's network and train_ch6's update, on `device`."""
        torch.manual_seed(0)
        net = train_speed.chapter_alexnet()
        net.apply(d2l._init_glorot)
        net.to(device, memory_format=torch.channels_last)
        optimizer = torch.optim.SGD(net.parameters(), lr=args.lr, momentum=0.9,
                                    fused=device.type in ("cuda", "cpu"))
        scaler = torch.amp.GradScaler(device.type, enabled=precision == torch.float16)
        return net, optimizer, scaler, torch.zeros(3, device=device)

    def step(net, optimizer, scaler, sums, X, y):
        """One step of train_ch6's loop, copied statement for statement so that it can be
        timed apart from the batch (tests/test_benchmarks.py keeps the two equal)."""
        with d2l._autocast(device, precision):
            y_hat = net(X)
            loss = F.cross_entropy(y_hat, y)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        with torch.no_grad():
            sums[0] += loss * len(y)
            sums[1] += (y_hat.argmax(dim=1) == y).sum()
            sums[2] += len(y)

    def timed(work):
        train_speed.synchronize(device)
        start = time.perf_counter()
        result = work()
        train_speed.synchronize(device)
        return time.perf_counter() - start, result

    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # as train_ch6 sets it
    ours, bare = prepared(), prepared()
    seconds = {part: [] for part in PARTS}
    for round_ in range(args.warmup + args.rounds):
        if round_ % 2:  # every other round the bare step goes first
            bare_seconds, _ = timed(lambda: step(*bare, fixed_X, fixed_y))  # (c)
        # (a) as train_ch6 gets it: the loader resizes the batch as it hands it over.
        fetch, (X, y) = timed(lambda: next(batches))
        layout, (X, y) = timed(lambda: (d2l._channels_last(X, device), y.to(device)))
        ours_seconds, _ = timed(lambda: step(*ours, X, y))  # (b)
        if not round_ % 2:
            bare_seconds, _ = timed(lambda: step(*bare, fixed_X, fixed_y))  # (c)
        if round_ >= args.warmup:
            for part, value in zip(PARTS, (fetch + layout, ours_seconds, bare_seconds)):
                seconds[part].append(value)
    return seconds, d2l._precision_name(precision)


def main(argv=None):
    args = parse_args(argv)
    device = train_speed.choose_device(args.device)
    on_gpu = device.type == "cuda"
    args.rounds = args.rounds or (200 if on_gpu else 16)
    args.warmup = args.warmup if args.warmup is not None else (20 if on_gpu else 2)
    out = args.out or result_path(device)
    report.keep_stored_result(out, differences(
        args, device, d2l._precision_name(d2l._choose_precision(device))))
    print(f"{train_speed.describe_hardware(device)}; batch {args.batch_size}, "
          f"{args.warmup} warm-up + {args.rounds} timed rounds")

    seconds, precision = time_steps(args, device)
    summaries = {part: summary(values) for part, values in seconds.items()}
    batch = args.batch_size
    fetch, ours, bare = (summaries[part] for part in PARTS)
    result = {
        "benchmark": "step_time",
        "date": report.utc_now(),
        "hardware": train_speed.describe_hardware(device), "host_cpu": cpu_description(),
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "numpy": np.__version__},
        "settings": settings(args), "precision": precision,
        "seconds": summaries, "seconds_per_round": seconds,
        "images_per_sec": {
            "ours, mean (batch fetched and resized)": batch / (fetch["mean"] + ours["mean"]),
            "bare step, mean": batch / bare["mean"],
            "bare step, fastest": batch / bare["fastest"]},
        "fetch_share_of_our_time": fetch["mean"] / (fetch["mean"] + ours["mean"]),
    }
    print(f"{'seconds per round':<18}" + "".join(f"{name:>10}" for name in summary([0])))
    for part, values in summaries.items():
        print(f"{part:<18}" + "".join(f"{value:>10.3f}" for value in values.values()))
    for name, speed in result["images_per_sec"].items():
        print(f"{name}: {speed:,.1f} images/s")
    print(f"fetching and resizing: {result['fetch_share_of_our_time']:.1%} of our path's time "
          f"({precision})")
    return report.write_json(result, out)


if __name__ == "__main__":
    main()
