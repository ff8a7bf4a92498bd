#!/usr/bin/env bash
# Train the bundled-model candidates side by side on one GPU, then score each on the held-out
# tunes (benchmarks/bundle_splits.py) with `main.py evaluate --device cuda`.
#
#   benchmarks/train_bundle_gpu.sh prepare        # here: writes runs/gpu (about 21 MB)
#   benchmarks/train_bundle_gpu.sh MINUTES OUTDIR # on the GPU machine, runs/gpu carried along
#
# `prepare` copies music21's ABC corpus folders (and platformdirs) into runs/gpu/m21, where a
# stub package named music21 lets `--data celtic ...` find them on a machine with torch but
# without music21 (training never imports music21), and writes the held-out files.
# Used 2026-11-28 on an NVIDIA H200, 6 minutes, eight runs at a time; results in
# benchmarks/RESULTS.md ("The bundled model, retrained on real ABC").
set -u
if [ "${1:-}" = prepare ]; then
  python3 - <<'EOF'
import os, shutil, music21, platformdirs
base = os.path.join(os.path.dirname(music21.__file__), "corpus")
stub = "runs/gpu/m21/music21"
for folder in ["oneills1850", "ryansMammoth", "airdsAirs", "essenFolksong", "miscFolk",
               "nottingham-dataset"]:
    shutil.copytree(os.path.join(base, folder), os.path.join(stub, "corpus", folder),
                    dirs_exist_ok=True, ignore=lambda d, names: [
                        n for n in names if not (n.endswith(".abc") or os.path.isdir(os.path.join(d, n)))])
with open(os.path.join(stub, "__init__.py"), "w") as f:
    f.write('raise ImportError("a stub that only holds music21\'s ABC corpus")\n')
shutil.copytree(os.path.dirname(platformdirs.__file__), "runs/gpu/m21/platformdirs",
                dirs_exist_ok=True)
EOF
  for s in "celtic" "celtic miscfolk nottingham" "all"; do
    python3 benchmarks/bundle_splits.py --data $s --out runs/gpu/split-$(echo $s | tr ' ' '-')
  done
  exit
fi
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD/runs/gpu/m21
MIN=${1:-6}; O=${2:-runs/bundle}; W=$O/work; mkdir -p "$W"
U="celtic miscfolk nottingham"
common="--preset laptop --device cuda --quiet --seq-len 256 --batch-size 32 --eval-every 500
        --minutes $MIN --embedding-size 64 --lr 2e-3 --weight-decay 0.1"
declare -A CFG=(
  [u0]="--data $U --layers 2 --hidden-size 512 --dropout 0.4"
  [u2]="--data $U --transpose 2 --layers 2 --hidden-size 512 --dropout 0.4"
  [u5]="--data $U --transpose 5 --layers 2 --hidden-size 512 --dropout 0.4"
  [u5d3]="--data $U --transpose 5 --layers 2 --hidden-size 512 --dropout 0.3"
  [u5h640]="--data $U --transpose 5 --layers 2 --hidden-size 640 --dropout 0.4"
  [u5l3]="--data $U --transpose 5 --layers 3 --hidden-size 512 --dropout 0.4"
  [u11]="--data $U --transpose 11 --layers 2 --hidden-size 512 --dropout 0.4"
  [a5]="--data all --transpose 5 --layers 2 --hidden-size 512 --dropout 0.4"
)
for name in "${!CFG[@]}"; do
  # SIGINT past the time: training stops cleanly and saves its best snapshot
  timeout -s INT $(( ${MIN%.*} * 60 + 90 )) python3 main.py train ${CFG[$name]} $common \
    --out "$W/$name.safetensors" > "$W/$name.log" 2>&1 &
done
wait
S=runs/gpu
for name in "${!CFG[@]}"; do
  for split in celtic-miscfolk-nottingham celtic all; do
    for kind in heldout-real heldout-written; do
      f=$S/split-$split/$kind.abc
      echo "$name $split $kind $(timeout 120 python3 main.py evaluate --model "$W/$name.safetensors" \
        --data "$f" --device cuda --json 2>&1 | tail -1)"
    done
  done &
done > "$O/evals.txt"
wait
for name in "${!CFG[@]}"; do
  echo "== $name: ${CFG[$name]}"; grep -v "skipped:" "$W/$name.log"
  python3 main.py model-info "$W/$name.safetensors" --json > "$W/$name.info.json" 2>&1
done > "$O/summary.txt"
cat "$O/summary.txt" "$O/evals.txt"
