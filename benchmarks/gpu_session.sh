#!/usr/bin/env bash
# One lent GPU session, in order of value, each step capped so that the next still runs:
#
#   OUT=/some/folder bash benchmarks/gpu_session.sh [SECONDS]     # default 560 s in all
#
# A. tests/test_cuda.py: the stacked trainer on CUDA against runs alone, graphs against eager
#    steps, CUDA against the CPU (numbers printed).
#    Includes the compiled fused update against the stack's own (tests/test_cuda.py, last test).
# B. benchmarks/step_time.py: the book's batch-norm stack (6 runs, Adam), us per step with the
#    stack's own update (off, the former path), the fused one eager, and compiled (compile time).
# C. the book profile through pytest, 3 seeds, as `tox -e gpu` runs it (without the report, which
#    needs WeasyPrint: render it elsewhere with `ablation-report` from the results folder): one
#    schedule across ablations (stacks of up to 64 runs that shrink as runs finish), fused update.
# D. the book profile's calibration: suite.flake on fresh base seeds, their runs stacked, with
#    whatever time is left; resumable (a second call continues in the same CAL folder).
# Expects the four FashionMNIST .gz files in .data (git-ignored; carry it). Everything lands in
# $OUT: logs, the run's folder and the calibration files as .tgz.
set -u
export PYTHONUNBUFFERED=1 ABLATION_DATA_DIR="$PWD/.data"
BUDGET=${1:-560}
CAL=${CAL:-/tmp/book-cal}
BASES=${BASES:-300-304}
START=$(date +%s)
left() { echo $(( BUDGET - ($(date +%s) - START) )); }
cap() { local want=$1 rest; rest=$(( $(left) - ${2:-0} )); (( rest < want )) && want=$rest; (( want < 1 )) && want=1; echo "$want"; }
stamp() { echo "== $1 at +$(( $(date +%s) - START )) s, $(left) s left"; }

{
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv
  python3 -c "import torch, sys; print(sys.version.split()[0], torch.__version__, torch.version.cuda, torch.cuda.get_device_name(), 'tf32', torch.backends.cuda.matmul.allow_tf32)"
  python3 -c "import pytest_benchmark, jinja2, seaborn; print('pytest-benchmark', pytest_benchmark.__version__)"
} >"$OUT/env.txt" 2>&1

stamp A | tee "$OUT/a-cuda-tests.log"
timeout "$(cap 100 400)" python3 -m pytest tests/test_cuda.py -s -q -p no:cacheprovider 2>&1 | tee -a "$OUT/a-cuda-tests.log"

stamp B | tee "$OUT/b-step.log"
timeout "$(cap 70 330)" python3 benchmarks/step_time.py --device cuda --data-dir .data 2>&1 | tee -a "$OUT/b-step.log"

stamp C | tee "$OUT/c-book.log"
rm -rf reports/gpu-book
timeout "$(cap 240 60)" python3 -m pytest suite/cases --ablation-profile book \
  --ablation-device cuda --ablation-run-id gpu-book -p no:cacheprovider -q 2>&1 | tee -a "$OUT/c-book.log"
tar czf "$OUT/c-book.tgz" reports/gpu-book 2>>"$OUT/c-book.log"

stamp D | tee "$OUT/d-cal.log"
mkdir -p "$CAL"
timeout "$(cap 1000 15)" python3 -m suite.flake --profile book --device cuda --base-seeds "$BASES" \
  --bases-per-process 5 -k optimizer,batch_norm,scaling,batch_size,lr_scaled,lr_raw,annealing,depth,dropout,l1,l2 \
  --out "$CAL" 2>&1 | tee -a "$OUT/d-cal.log"
tar czf "$OUT/d-cal.tgz" -C "$(dirname "$CAL")" "$(basename "$CAL")"
stamp end | tee -a "$OUT/d-cal.log"
