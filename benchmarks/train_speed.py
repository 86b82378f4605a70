"""Training speed of the chapter's AlexNet: the d2l-style pipeline against ours, in one run.

    python benchmarks/train_speed.py               # GPU if there is one, else the CPU
    python benchmarks/train_speed.py --full-run    # also the full ten epochs (GPU)
    python benchmarks/train_speed.py --profile     # where our path spends its time
    python benchmarks/train_speed.py --ablation    # which of our choices pays here
    python benchmarks/train_speed.py --compile --ablation   # how the stored CPU result was made

Both paths train the same network (the cell tagged
`alexnet-definition` in notebooks/alexnet_pytorch.ipynb) from the same initialisation, at the same
batch size and learning rate, on the same machine:

(a) baseline, d2l's recipe: images resized one by one by PIL in 4 DataLoader
    workers, float32, channels-first, plain SGD, and the loss and accuracy read
    back to the host after every step (`float(...)`), which makes the CPU wait
    for the GPU each time;
(b) ours: `d2lutils.torch.train_ch6` with `load_data_fashion_mnist`, exactly
    what the notebooks run (uint8 images on the device, one resize per batch,
    channels-last, 16-bit autocast where the hardware has it natively, fused
    SGD with momentum, metrics summed on the device).

Each path runs `--warmup` steps untimed, then `--steps` timed steps. The
result, with the hardware and versions, goes to benchmarks/results/ as JSON;
the book's status page shows it. A run made differently from the stored one
(other settings, other options among --compile, --full-run, --profile and
--ablation, another number format, as on a CPU without AVX-512 BF16, or for a CPU
result another CPU) must name another file with --out: it is refused before it
starts. Its --ablation gives the fastest of three bare steps, whereas each path's
speed is an average over its timed steps; benchmarks/step_time.py times our path
and a bare step round by round, to compare like with like.
"""

import argparse
import itertools
import os
import platform
import re
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

import d2lutils.torch as d2l
from d2lutils import budget, data
from d2lutils.hardware import cpu_description
from d2lutils.notebooks import run_tagged_cell
from d2lutils.train import positive_float

sys.path.insert(0, str(Path(__file__).resolve().parent))
import d2l_style  # noqa: E402  (the reference pipelines, next to this file)
import report  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"

# Dense (no sparsity) bfloat16 tensor-core peaks from NVIDIA's data sheets, in FLOP/s.
BF16_PEAK = {"H200": 989e12, "H100 NVL": 835e12, "H100 PCIe": 756e12, "H100": 989e12,
             "A100": 312e12, "L4": 121e12}
# The targets for one H100 (see the closing note of issue 6).
GPU_TARGETS = {"ours_images_per_sec": 40_000, "speedup": 6.0, "full_run_train_seconds": 30.0,
               "full_run_test_acc": 0.88}


def chapter_alexnet():
    """The network the PyTorch notebook builds, taken from the notebook itself."""
    return run_tagged_cell(ROOT / "notebooks" / "alexnet_pytorch.ipynb", "alexnet-definition",
                           nn=nn)["alexnet"]()


def flop_per_training_image(net):
    """Floating-point operations of one forward and backward pass for one image, counted."""
    from torch.utils.flop_counter import FlopCounterMode

    net = net.to("cpu").train()
    counter = FlopCounterMode(display=False)
    with counter:
        loss = F.cross_entropy(net(torch.zeros(1, 1, 224, 224)), torch.zeros(1, dtype=torch.long))
        loss.backward()
    net.zero_grad(set_to_none=True)
    return counter.get_total_flops()


def bf16_peak(device):
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    return next((peak for key, peak in BF16_PEAK.items() if key in name), None)


def choose_device(setting):
    """The torch device for --device auto|cpu|cuda (auto: the first GPU if there is one)."""
    if setting == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA GPU is visible to PyTorch. Run on a GPU "
                         "machine, or use --device cpu.")
    if setting == "auto":
        return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    return torch.device("cuda:0" if setting == "cuda" else "cpu")


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def baseline(images, labels, args, device):
    """Images per second of the d2l-style loop over `args.steps` timed steps."""
    torch.manual_seed(0)
    net = chapter_alexnet()
    net.apply(d2l._init_glorot)
    net.to(device)
    optimizer = torch.optim.SGD(net.parameters(), lr=args.lr)
    loader = d2l_style.torch_loader(images, labels, args.batch_size, 224, args.workers)
    batches = itertools.chain.from_iterable(itertools.repeat(loader))  # as many epochs as needed
    metric = np.zeros(3)  # d2l's Accumulator: loss sum, correct, examples, on the host
    start = None
    for step, (X, y) in enumerate(itertools.islice(batches, args.warmup + args.steps)):
        if step == args.warmup:
            synchronize(device)
            start = time.perf_counter()
        X, y = X.to(device), y.to(device)
        y_hat = net(X)
        loss = F.cross_entropy(y_hat, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        with torch.no_grad():  # float() copies to the host: the CPU waits for the device
            metric += (float(loss) * len(y), float((y_hat.argmax(1) == y).sum()), len(y))
    synchronize(device)
    seconds = time.perf_counter() - start
    return {"images_per_sec": args.steps * args.batch_size / seconds, "seconds": seconds}


def ours(args, device, compile_net=False):
    """Images per second of d2lutils.torch.train_ch6: one warm-up epoch, then one timed epoch."""
    torch.manual_seed(0)
    net = chapter_alexnet()
    if compile_net:
        net = torch.compile(net)
    # An "epoch" here is --steps batches; the first one absorbs start-up costs
    # (cuDNN's kernel search, torch.compile), the second is timed.
    train_iter, test_iter = d2l.load_data_fashion_mnist(
        args.batch_size, resize=224, num_train=args.steps * args.batch_size,
        num_test=args.batch_size, device=device)
    history = d2l.train_ch6(net, train_iter, test_iter, 2, args.lr, device)
    (_, first_seconds), (examples, seconds) = history.epochs
    return {"images_per_sec": examples / seconds, "seconds": seconds,
            "first_epoch_seconds": first_seconds, "precision": history.precision}


def full_run(device):
    """The chapter's full budget (ten epochs, all of Fashion-MNIST) through train_ch6."""
    torch.manual_seed(0)
    full = budget.FULL  # read here, not at import, so a test can run it at a tiny size
    train_iter, test_iter = d2l.load_data_fashion_mnist(
        full.batch_size, resize=224, num_train=full.num_train, num_test=full.num_test,
        device=device)
    start = time.perf_counter()
    history = d2l.train_ch6(chapter_alexnet(), train_iter, test_iter, full.num_epochs,
                            full.lr, device)
    return {"epochs": full.num_epochs, "wall_seconds": time.perf_counter() - start,
            "train_seconds": history.train_seconds,
            "images_per_sec": history.examples_per_sec,
            "test_acc": history.final[2], "test_acc_per_epoch": history.test_acc}


def profile(args, device):
    """Print where our path spends its time over a few steps (torch.profiler)."""
    from torch.profiler import ProfilerActivity, profile as torch_profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    train_iter, test_iter = d2l.load_data_fashion_mnist(
        args.batch_size, resize=224, num_train=args.steps * args.batch_size,
        num_test=args.batch_size, device=device)
    net = chapter_alexnet()
    d2l.train_ch6(net, train_iter, test_iter, 1, args.lr, device)  # warm up
    with torch_profile(activities=activities) as prof:
        d2l.train_ch6(net, train_iter, test_iter, 1, args.lr, device)
    sort_by = "cuda_time_total" if device.type == "cuda" else "cpu_time_total"
    table = prof.key_averages().table(sort_by=sort_by, row_limit=20)
    print(table)
    return table


def ablation(args, device, repeats=3):
    """Images per second of one bare training step in each layout and precision.

    A fixed batch already on the device, so only the arithmetic differs: which
    of our path's choices pays on this hardware, and by how much. Each is the
    fastest of `repeats` steps, to compare the choices with one another; the
    whole paths are averages, compared with a step in benchmarks/step_time.py.
    """
    import contextlib

    X = torch.rand(args.batch_size, 1, 224, 224, device=device)
    y = torch.randint(0, 10, (args.batch_size,), device=device)
    speeds = {}
    for precision in args.ablation_precisions:
        for layout in (torch.contiguous_format, torch.channels_last):
            torch.manual_seed(0)
            net = chapter_alexnet().to(device, memory_format=layout)
            optimizer = torch.optim.SGD(net.parameters(), lr=args.lr, fused=True)
            autocast = (torch.autocast(device.type, dtype=torch.bfloat16)
                        if precision == "bfloat16" else contextlib.nullcontext())
            inputs = X.to(memory_format=layout)
            times = []
            for _ in range(repeats + 1):  # the first step warms up
                synchronize(device)
                start = time.perf_counter()
                with autocast:
                    loss = F.cross_entropy(net(inputs), y)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                synchronize(device)
                times.append(time.perf_counter() - start)
            name = f"{precision}, {'channels-last' if layout == torch.channels_last else 'NCHW'}"
            speeds[name] = args.batch_size / min(times[1:])
            print(f"    one step, {name:<24} {speeds[name]:>9,.1f} images/s")
    return speeds


def check_targets(result, device):
    """Each target with whether it was met, for the hardware this ran on."""
    if device.type != "cuda":  # on a CPU the only target: ours is no slower than the baseline
        return {"ours no slower than baseline": result["speedup"] >= 1.0}
    checks = {"ours >= 40,000 images/s":
              result["ours"]["images_per_sec"] >= GPU_TARGETS["ours_images_per_sec"],
              "ours >= 6x baseline": result["speedup"] >= GPU_TARGETS["speedup"]}
    if result["full_run"]:
        run = result["full_run"]
        checks["10 epochs in < 30 s of training"] = (run["train_seconds"]
                                                     < GPU_TARGETS["full_run_train_seconds"])
        checks["test accuracy >= 0.88"] = run["test_acc"] >= GPU_TARGETS["full_run_test_acc"]
    return checks


def isa_limits():
    """The CPU instruction-set caps in force, e.g. to measure an AVX2-only machine's
    code paths on a newer processor: {variable: value} of those that are set."""
    names = ("ONEDNN_MAX_CPU_ISA", "ATEN_CPU_CAPABILITY", "MKL_ENABLE_INSTRUCTIONS")
    return {name: os.environ[name] for name in names if os.environ.get(name)}


def describe_hardware(device):
    """The device's name; for a CPU, whether it has bfloat16 in hardware, or the
    instruction-set caps in force (either changes the speed)."""
    limits = isa_limits()
    if device.type == "cuda":
        return d2l.describe_device(device)
    if limits:
        caps = ", ".join(f"{name}={value}" for name, value in limits.items())
        return f"{d2l.describe_device(device)}, code paths limited by {caps}"
    with_or_without = "with" if d2l._cpu_has_bf16() else "without"
    return f"{d2l.describe_device(device)}, {with_or_without} AVX-512 BF16 or AMX"


def result_path(device):
    if device.type != "cuda":
        # Results under instruction-set caps never overwrite the plain CPU result.
        caps = "-".join(dict.fromkeys(value.lower() for value in isa_limits().values()))
        return RESULTS / (f"train_speed-cpu-{caps}.json" if caps else "train_speed-cpu.json")
    name = re.sub(r"[^a-z0-9]+", "-", torch.cuda.get_device_name(device).lower()).strip("-")
    return RESULTS / f"train_speed-{name}.json"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--steps", type=int, help="timed steps per path "
                        "(default: 200 on a GPU, 6 on a CPU)")
    parser.add_argument("--warmup", type=int, help="untimed steps first (default: 20 / 2)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=positive_float, default=0.01)
    parser.add_argument("--workers", type=int, default=d2l_style.NUM_WORKERS,
                        help="DataLoader workers of the baseline")
    parser.add_argument("--compile", action="store_true",
                        help="also time our path under torch.compile (its first epoch "
                             "includes compiling)")
    parser.add_argument("--full-run", action="store_true",
                        help="also train the full ten epochs with our path")
    parser.add_argument("--profile", action="store_true", help="profile our path and store the table")
    parser.add_argument("--ablation", action="store_true",
                        help="also time one bare step in float32/bfloat16 x NCHW/channels-last")
    parser.add_argument("--ablation-precisions", nargs="+", choices=["float32", "bfloat16"],
                        default=["float32", "bfloat16"],
                        help="precisions the ablation times (emulated bfloat16 takes minutes "
                             "per step)")
    parser.add_argument("--out", type=Path, help="where to write the JSON result "
                        "(default: benchmarks/results/train_speed-<device>.json)")
    args = parser.parse_args(argv)
    for name in ("steps", "warmup", "batch_size", "workers"):
        value = getattr(args, name)
        least = 0 if name in ("warmup", "workers") else 1
        if value is not None and value < least:
            parser.error(f"--{name.replace('_', '-')} must be "
                         f"{'positive' if least else '0 or more'}, got {value}")
    return args


def settings(args):
    """What the result records of how it was made."""
    return {"batch_size": args.batch_size, "steps": args.steps, "warmup": args.warmup,
            "baseline_workers": args.workers, "lr": args.lr}


def differences(args, train_precision, host_cpu=None):
    """How a run with `args` would differ from a stored result, for report.keep_stored_result:
    its settings, the number format train_ch6 computes in, which of the optional
    measurements it makes, and the CPU (`host_cpu`, given for a run on the CPU)."""
    ablation = [f"{precision}, {layout}" for precision in args.ablation_precisions
                for layout in ("NCHW", "channels-last")] if args.ablation else []

    def compare(stored):
        changes = report.changed_settings(stored, settings(args))
        changes += report.changed_precision((stored.get("ours") or {}).get("precision"),
                                            train_precision)
        if host_cpu:
            changes += report.changed_host_cpu(stored.get("host_cpu"), host_cpu)
        for option, key, made in (("--compile", "compiled", args.compile),
                                  ("--full-run", "full_run", args.full_run),
                                  ("--profile", "profile", args.profile)):
            if (stored.get(key) is not None) != made:
                changes.append(f"{option} {'not ' if made else ''}used for the stored result")
        if sorted(stored.get("ablation") or {}) != sorted(ablation):
            changes.append(f"ablation {sorted(stored.get('ablation') or {})} stored, "
                           f"{sorted(ablation)} now")
        return changes
    return compare


def main(argv=None):
    args = parse_args(argv)
    device = choose_device(args.device)
    on_gpu = device.type == "cuda"
    if args.full_run and not on_gpu:
        raise SystemExit("--full-run trains ten epochs of 60,000 images, many hours on a CPU; "
                         "run it on a GPU.")
    args.steps = args.steps or (200 if on_gpu else 6)
    args.warmup = args.warmup if args.warmup is not None else (20 if on_gpu else 2)
    out = args.out or result_path(device)
    # Also where --out names a file: one made differently is kept there too.
    report.keep_stored_result(out, differences(
        args, d2l._precision_name(d2l._choose_precision(device)),
        host_cpu=None if on_gpu else cpu_description()))

    fashion = data.load_fashion_mnist()
    count = args.steps * args.batch_size
    images, labels = fashion.train_images, fashion.train_labels
    if count > len(labels):
        raise SystemExit(f"--steps {args.steps} x --batch-size {args.batch_size} = {count:,} "
                         f"images; Fashion-MNIST has {len(labels):,} for training.")

    flop = flop_per_training_image(chapter_alexnet())
    print(f"{describe_hardware(device)}; {flop / 1e9:.2f} GFLOP per training image; "
          f"batch {args.batch_size}, {args.warmup} warm-up + {args.steps} timed steps")
    reference = baseline(images, labels, args, device)
    print(f"(a) baseline, d2l-style: {reference['images_per_sec']:,.0f} images/s")
    fast = ours(args, device)
    print(f"(b) ours, train_ch6:     {fast['images_per_sec']:,.0f} images/s")
    result = {
        "benchmark": "train_speed",
        "date": report.utc_now(),
        "hardware": describe_hardware(device), "host_cpu": cpu_description(),
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "numpy": np.__version__},
        "settings": settings(args),
        "flop_per_training_image": flop,
        "baseline": reference, "ours": fast,
        "speedup": fast["images_per_sec"] / reference["images_per_sec"],
        "bf16_peak_flops": bf16_peak(device), "share_of_bf16_peak": None,
        "compiled": None, "full_run": None, "profile": None, "ablation": None,
    }
    if result["bf16_peak_flops"]:
        result["share_of_bf16_peak"] = (fast["images_per_sec"] * flop
                                        / result["bf16_peak_flops"])
    if args.compile:
        result["compiled"] = ours(args, device, compile_net=True)
        print(f"(c) ours + torch.compile: {result['compiled']['images_per_sec']:,.0f} images/s "
              f"(first epoch, with compiling: {result['compiled']['first_epoch_seconds']:.1f} s)")
    if args.ablation:
        result["ablation"] = ablation(args, device)
    if args.full_run:
        result["full_run"] = full_run(device)
    if args.profile:
        result["profile"] = profile(args, device)
    result["targets"] = check_targets(result, device)

    print(f"speed-up: {result['speedup']:.2f}x")
    if result["share_of_bf16_peak"] is not None:
        limit = result["bf16_peak_flops"] / flop
        print(f"share of the bf16 limit ({limit:,.0f} images/s): "
              f"{result['share_of_bf16_peak']:.1%}")
    else:
        print("share of the bf16 limit: not computed (no known bf16 peak for this device)")
    if result["full_run"]:
        run = result["full_run"]
        print(f"full run: {run['epochs']} epochs, {run['train_seconds']:.1f} s training, "
              f"{run['wall_seconds']:.1f} s wall, test accuracy {run['test_acc']:.3f}")
    for target, met in result["targets"].items():
        print(f"target {target}: {'met' if met else 'MISSED'}")

    return report.write_json(result, out)


if __name__ == "__main__":
    main()
