#!/usr/bin/env bash
# Make, on a CUDA GPU, what the chapter stores from one, and copy each result into OUT_DIR:
#
#   bash scripts/gpu-outputs.sh OUT_DIR [STEP...]              every step, or those named
#   bash scripts/gpu-outputs.sh --rehearse OUT_DIR [STEP...]   the same steps on a CPU, tiny
#
#   benchmark  benchmarks/train_speed.py --full-run --compile --ablation --profile: both
#              training paths, torch.compile, ten epochs, the layout/precision ablation
#              and a profile (benchmarks/results/train_speed-<gpu>.json)
#   pytorch    notebooks/alexnet_pytorch.ipynb, executed at the full budget
#   hardware   notebooks/hardware.ipynb: this GPU's FLOP/s, and the PyTorch notebook's
#              measured speed, read from its stored output (so after pytorch)
#   paper      notebooks/alexnet_paper.ipynb, executed at the full budget (three ten-epoch runs)
#   command    the training command under torchrun (DDP, NCCL, one process), full budget;
#              its metrics.csv, from a new folder under runs/
#
# Notebooks are executed in place by scripts/execute-notebook.py. Everything printed goes to
# OUT_DIR/gpu-outputs.log too, each step with its time; the first failing step stops the run.
# Python: $PYTHON, else python3, with PyTorch built for CUDA, nbclient and ipykernel.
# Afterwards, on any machine: execute notebooks/features_vs_learning.ipynb (it quotes the
# PyTorch notebook's run), and check the prose that quotes these results.
#
# --rehearse tries every step on a machine without a GPU before GPU time is spent on it: the
# quick budget, a few benchmark steps, no ten-epoch run, results in OUT_DIR alone. It still
# executes the notebooks in place: rehearse in a scratch clone (git clone . /tmp/rehearsal).
set -euo pipefail
rehearse=
if [ "${1:-}" = "--rehearse" ]; then rehearse=1; shift; fi
if [ $# -lt 1 ] || [ "${1#-}" != "$1" ]; then
  echo "usage: bash scripts/gpu-outputs.sh [--rehearse] OUT_DIR [STEP...]" >&2; exit 2
fi
out=$1; shift
all_steps="benchmark pytorch hardware paper command"
steps=${*:-$all_steps}
for step in $steps; do
  case " $all_steps " in *" $step "*) ;; *)
    echo "unknown step '$step': the steps are $all_steps" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
out=$(cd "$out" && pwd)  # before leaving the caller's folder
PYTHON=${PYTHON:-python3}
cd "$(dirname "$0")/.."

# What every step needs is checked before any of them spends GPU time.
if ! "$PYTHON" -c 'import torch' 2>/dev/null; then
  echo "$PYTHON cannot import torch: install PyTorch, or name another Python with PYTHON=..." >&2
  exit 1
fi
case " $steps " in *" pytorch "*|*" hardware "*|*" paper "*)
  if ! "$PYTHON" -c 'import nbclient, ipykernel' 2>/dev/null; then
    echo "$PYTHON cannot import nbclient and ipykernel, which execute the notebooks:" \
         "pip install nbclient ipykernel" >&2
    exit 1
  fi ;;
esac
if [ -n "$rehearse" ]; then
  export D2LUTILS_BUDGET=quick
elif ! "$PYTHON" -c 'import sys, torch; sys.exit(not torch.cuda.is_available())'; then
  echo "$PYTHON finds no CUDA GPU (PyTorch built for CUDA, and a GPU it can use, are needed)." \
       "To try the steps on this machine first: bash scripts/gpu-outputs.sh --rehearse OUT_DIR" >&2
  exit 1
fi
log=$out/gpu-outputs.log
exec > >(tee -a "$log") 2>&1

step_benchmark() {
  if [ -n "$rehearse" ]; then
    "$PYTHON" benchmarks/train_speed.py --device cpu --steps 2 --warmup 1 --ablation \
      --ablation-precisions float32 --profile --out "$out/train_speed-rehearsal.json"
  else
    "$PYTHON" benchmarks/train_speed.py --full-run --compile --ablation --profile
    cp "$(ls -t benchmarks/results/train_speed-*.json | head -n 1)" "$out/"  # the one just written
  fi
}
notebook() {
  "$PYTHON" scripts/execute-notebook.py "notebooks/$1.ipynb"
  cp "notebooks/$1.ipynb" "$out/"
}
step_pytorch() { notebook alexnet_pytorch; }
step_hardware() { notebook hardware; }
step_paper() { notebook alexnet_paper; }
step_command() {
  local run_dir
  run_dir=runs/gpu-outputs-$(date -u +%Y%m%dT%H%M%S)
  if [ -n "$rehearse" ]; then
    "$PYTHON" -m torch.distributed.run --nproc-per-node=1 -m d2lutils.train --framework torch \
      --device cpu --run-dir "$run_dir"
  else
    "$PYTHON" -m torch.distributed.run --nproc-per-node=1 -m d2lutils.train --framework torch \
      --run-dir "$run_dir"
  fi
  cp "$run_dir/metrics.csv" "$out/"
}

echo "gpu-outputs ${rehearse:+(rehearsal) }$(date -u +%Y-%m-%dT%H:%M:%SZ), steps: $steps," \
     "budget: ${D2LUTILS_BUDGET:-auto}"
if [ -z "$rehearse" ]; then
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
fi
for step in $steps; do
  echo "== $step"
  start=$SECONDS
  "step_$step"
  echo "== $step done in $((SECONDS - start)) s"
done
