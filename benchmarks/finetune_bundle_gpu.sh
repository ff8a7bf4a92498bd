#!/usr/bin/env bash
# Fine-tune the bundled model on the tunes as their books write them (issue 12 item 4), side by
# side on one GPU, and score each candidate on the held-out tunes as written.
#
#   benchmarks/finetune_bundle_gpu.sh prepare     # here: runs/g3 (about 22 MB, then carried)
#   benchmarks/finetune_bundle_gpu.sh MINUTES     # on the GPU machine (torch, no music21)
#
# `prepare` needs runs/gpu from `benchmarks/train_bundle_gpu.sh prepare` (music21's ABC corpus
# under a stub package, and the held-out files of benchmarks/bundle_splits.py), and takes the
# model to start from, f10 (the bundled model of commit ffb95c1), from git.
# Used 2026-11-28 20:14-20:31 UTC on an NVIDIA H200 at commit 9ac1949, where --keep-numbers
# kept every tune's X: number (today one in eight): a first round (performer annotations kept,
# X: numbers kept or not, several learning rates and batches, 6 minutes) then this one (headers
# as written too, 4 minutes) gave `hA`. Kept for every tune, `X:1` meant "the first tune of its
# book" (nearly all American), so hA was then fine-tuned 14 minutes on the CPU with today's
# one-in-eight numbers (commit 333cd0e), which made the bundled model:
#   python main.py train --data celtic miscfolk nottingham --from hA.safetensors \
#     --keep-annotations --keep-numbers --keep-headers --lr 5e-4 --batch-size 64 \
#     --seq-len 256 --eval-every 200 --weight-decay 0.1 --minutes 14 --out ceol-celtic.safetensors
# Results in benchmarks/RESULTS.md ("The bundled model, fine-tuned on the tunes as written").
set -u
if [ "${1:-}" = prepare ]; then
  mkdir -p runs/g3 && cp -r runs/gpu/m21 runs/g3/
  for f in heldout-real heldout-real-x1 heldout-written; do
    cp runs/gpu/split-celtic-miscfolk-nottingham/$f.abc runs/g3/
  done
  git show ffb95c1:resources/models/ceol-celtic.safetensors > runs/g3/f10.safetensors
  exit
fi
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD/runs/g3/m21
MIN=${1:-4}; O=${OUT:-/tmp/out}; W=/tmp/work; mkdir -p $O $W
common="--data celtic miscfolk nottingham --preset laptop --device cuda --quiet --seq-len 256
        --eval-every 250 --weight-decay 0.1 --keep-annotations --keep-numbers --keep-headers
        --minutes $MIN --from runs/g3/f10.safetensors"
declare -A CFG=([hA]="--lr 1e-3 --batch-size 64" [hE]="--lr 1e-3 --batch-size 32"
                [h5]="--lr 5e-4 --batch-size 64")
for name in "${!CFG[@]}"; do
  # SIGINT past the time: training stops cleanly and saves its best snapshot
  timeout -s INT $(( ${MIN%.*} * 60 + 55 )) python3 main.py train $common ${CFG[$name]} \
    --out $W/$name.safetensors > $W/$name.log 2>&1 &
done
wait
for name in "${!CFG[@]}"; do
  for f in heldout-real heldout-real-x1 heldout-written; do
    echo "$name $f $(timeout 50 python3 main.py evaluate --model $W/$name.safetensors \
      --data runs/g3/$f.abc --device cuda --json 2>&1 | tail -1)"
  done
  grep -v "skipped:" $W/$name.log
  cp $W/$name.safetensors $O/
done | tee $O/summary.txt
