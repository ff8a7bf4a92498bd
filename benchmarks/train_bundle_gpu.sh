#!/usr/bin/env bash
# Train candidate bundled models side by side on one GPU, then score each on the validation
# split with `main.py evaluate` (same scoring as the reference's). Run from the repo root with
# runs/quality/train.abc and valid.abc written (see README, "The bundled model").
# Usage: benchmarks/train_bundle_gpu.sh MINUTES OUTDIR
# Round 1 (6.5 min, eval every 1000 steps): l2h512 dropout 0.4 best (1.5096), all runs
# over-fitted after about 2000 steps; round 2 (this list) regularises harder and evaluates often.
set -u
MIN=${1:-2.5}; OUT=${2:-runs/bundle}; mkdir -p "$OUT"
T=runs/quality/train.abc; V=runs/quality/valid.abc
common="--data $T --valid-data $V --preset laptop --minutes $MIN --device cuda --quiet --seq-len 256 --batch-size 32 --eval-every 250"
declare -A CFG=(
  [l2d5]="--layers 2 --hidden-size 512 --dropout 0.5 --lr 2e-3"
  [l2d4s]="--layers 2 --hidden-size 512 --dropout 0.4 --lr 1e-3"
  [l1d5]="--layers 1 --hidden-size 512 --dropout 0.5 --lr 3e-3"
  [l2d6]="--layers 2 --hidden-size 512 --dropout 0.6 --lr 2e-3"
)
for name in "${!CFG[@]}"; do
  python3 main.py train $common ${CFG[$name]} --out "$OUT/$name.safetensors" \
    > "$OUT/$name.log" 2>&1 &
done
wait
for name in "${!CFG[@]}"; do
  echo "== $name: ${CFG[$name]}"; cat "$OUT/$name.log"
  python3 main.py evaluate --model "$OUT/$name.safetensors" --data $V --json
done
