#!/usr/bin/env bash
# Make, on a CUDA GPU, what the chapter stores from one, and copy each result into OUT_DIR:
#
#   bash scripts/gpu-outputs.sh OUT_DIR [STEP...]              every step, or those named
#   bash scripts/gpu-outputs.sh --rehearse OUT_DIR [STEP...]   the same steps on a CPU, tiny
#
# The steps, always run in this order:
#   benchmark  benchmarks/train_speed.py --full-run --compile --ablation --profile: both
#              training paths, torch.compile, ten epochs, the layout/precision ablation
#              and a profile (benchmarks/results/train_speed-<gpu>.json), after a short
#              pass with the same options that fails fast if one of them cannot run here
#   pytorch    notebooks/alexnet_pytorch.ipynb, executed at the full budget
#   hardware   notebooks/hardware.ipynb: this GPU's FLOP/s, and the PyTorch notebook's
#              measured speed, read from its stored output (refused unless that ran on a GPU)
#   paper      notebooks/alexnet_paper.ipynb, executed at the full budget (three ten-epoch runs)
#   command    the training command as one process under torchrun: DDP over NCCL, full
#              budget; its metrics.csv, from a new folder under runs/
#
# Notebooks are executed in place by scripts/execute-notebook.py; one whose stored outputs
# need attention (its listing says why) is copied all the same and the run goes on, one that
# failed is copied as NAME.failed.ipynb with what ran, and the run stops. Everything
# printed goes to OUT_DIR/gpu-outputs.log too, each step with its time; a step that fails
# stops the run and says so. Python: $PYTHON, else python3, with PyTorch built for CUDA,
# nbclient and ipykernel; Fashion-MNIST where d2lutils.data finds it (e.g. $D2LUTILS_DATA).
# Afterwards, on any machine: execute notebooks/features_vs_learning.ipynb (it quotes the
# PyTorch notebook's run), and check the prose that quotes these results.
#
# --rehearse tries every step on a machine without a GPU before GPU time is spent on it:
# the quick budget, a few benchmark steps, no ten-epoch run, the command over gloo. It runs
# in a scratch copy of this checkout (deleted afterwards), so no stored output changes.
set -euo pipefail
rehearse=
if [ "${1:-}" = "--rehearse" ]; then rehearse=1; shift; fi
if [ $# -lt 1 ] || [ "${1#-}" != "$1" ]; then
  echo "usage: bash scripts/gpu-outputs.sh [--rehearse] OUT_DIR [STEP...]" >&2; exit 2
fi
out=$1; shift
all_steps="benchmark pytorch hardware paper command"
for step in "$@"; do
  case " $all_steps " in *" $step "*) ;; *)
    echo "unknown step '$step': the steps are $all_steps" >&2; exit 2 ;;
  esac
done
steps=
for step in $all_steps; do  # in the order above, whatever order they were named in
  case " ${*:-$all_steps} " in *" $step "*) steps="$steps $step" ;; esac
done
steps=${steps# }
mkdir -p "$out"
out=$(cd "$out" && pwd)  # before leaving the caller's folder
PYTHON=${PYTHON:-python3}
cd "$(dirname "$0")/.."
if [ -n "$rehearse" ]; then
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
  # What git would commit: tracked files and new ones it does not ignore.
  git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - | tar -xf - -C "$scratch"
  cd "$scratch"
  export D2LUTILS_BUDGET=quick
else
  export D2LUTILS_BUDGET=full
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1

# What the steps need is checked before any of them spends GPU time.
if ! "$PYTHON" -c 'import torch'; then
  echo "$PYTHON cannot import torch (above): install PyTorch, or name another Python" \
       "with PYTHON=..." >&2
  exit 1
fi
if [ -z "$rehearse" ] && ! "$PYTHON" -c 'import sys, torch; sys.exit(not torch.cuda.is_available())'; then
  echo "$PYTHON finds no CUDA GPU (PyTorch built for CUDA, and a GPU it can use, are needed)." \
       "To try the steps on this machine first: bash scripts/gpu-outputs.sh --rehearse OUT_DIR" >&2
  exit 1
fi
if ! "$PYTHON" -c 'from d2lutils import data; data.find_data_dir(download=False)'; then
  echo "Fashion-MNIST is needed (above); set D2LUTILS_DATA to a folder that holds it." >&2
  exit 1
fi
case " $steps " in *" pytorch "*|*" hardware "*|*" paper "*)
  # A one-cell notebook in the kernel the chapter's notebooks name: Jupyter, the kernel
  # and d2lutils all found, in seconds.
  if ! "$PYTHON" - <<'PY'
import nbclient, nbformat
cell = nbformat.v4.new_code_cell("import d2lutils.torch")
notebook = nbformat.v4.new_notebook(cells=[cell])
nbclient.NotebookClient(notebook, kernel_name="python3", timeout=120).execute()
PY
  then
    echo "$PYTHON cannot execute a notebook that imports d2lutils.torch (above); it needs" \
         "nbclient and ipykernel: pip install nbclient ipykernel" >&2
    exit 1
  fi ;;
esac

log=$out/gpu-outputs.log
exec > >(tee -a "$log") 2>&1
step=
trap 'status=$?; if [ $status != 0 ]; then echo "== ${step:-start} FAILED (exit status $status)"; fi
      if [ -n "$rehearse" ]; then rm -rf "$scratch"; fi' EXIT

step_benchmark() {
  if [ -n "$rehearse" ]; then
    "$PYTHON" benchmarks/train_speed.py --device cpu --steps 2 --warmup 1 --compile --ablation \
      --ablation-precisions float32 --profile --out "$out/train_speed-rehearsal.json"
    return
  fi
  local result
  result=$("$PYTHON" -c 'import sys, torch; sys.path.insert(0, "benchmarks")
import train_speed; print(train_speed.result_path(torch.device("cuda")))')
  echo "-- a short pass first: every option, two steps, nothing stored"
  "$PYTHON" benchmarks/train_speed.py --steps 2 --warmup 1 --compile --ablation --profile \
    --out "$out/train_speed-short-pass.json"
  rm "$out/train_speed-short-pass.json"
  echo "-- the run"
  "$PYTHON" benchmarks/train_speed.py --full-run --compile --ablation --profile --out "$result"
  cp "$result" "$out/"
}
notebook() {
  local status=0
  "$PYTHON" scripts/execute-notebook.py "notebooks/$1.ipynb" || status=$?
  case $status in
    0) cp "notebooks/$1.ipynb" "$out/" ;;
    4) cp "notebooks/$1.ipynb" "$out/"  # every cell ran; see its listing
       echo "-- notebooks/$1.ipynb: its stored outputs need attention (above)" ;;
    *) if [ -f "notebooks/$1.ipynb" ]; then cp "notebooks/$1.ipynb" "$out/$1.failed.ipynb"; fi
       return "$status" ;;  # a cell failed (3), or the script itself: stop here
  esac
}
step_pytorch() { notebook alexnet_pytorch; }
step_hardware() {
  if [ -z "$rehearse" ] && ! grep -q 'examples/sec on cuda' notebooks/alexnet_pytorch.ipynb; then
    echo "notebooks/alexnet_pytorch.ipynb holds no training run on a GPU, and the hardware" \
         "notebook quotes its speed: run the pytorch step first (in the same command, or" \
         "copy its executed notebook into this checkout)." >&2
    return 1
  fi
  notebook hardware
}
step_paper() { notebook alexnet_paper; }
step_command() {
  local run_dir
  run_dir=runs/gpu-outputs-$(date -u +%Y%m%dT%H%M%S)
  "$PYTHON" -m torch.distributed.run --standalone --nproc-per-node=1 -m d2lutils.train \
    --framework torch ${rehearse:+--device cpu} --run-dir "$run_dir"
  cp "$run_dir/metrics.csv" "$out/"
}

echo "gpu-outputs ${rehearse:+(rehearsal) }$(date -u +%Y-%m-%dT%H:%M:%SZ), steps: $steps," \
     "budget: $D2LUTILS_BUDGET"
if [ -z "$rehearse" ]; then
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
fi
for step in $steps; do
  echo "== $step"
  start=$SECONDS
  "step_$step"
  echo "== $step done in $((SECONDS - start)) s"
done
step=
