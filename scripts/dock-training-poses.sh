#!/usr/bin/env bash
# Docks training complexes with the shipped docking defaults (pocket given: the 25 Å crystal box)
# to make a confidence model's training poses, on the CPU, in chunks that survive interruption.
#
#   bash scripts/dock-training-poses.sh OUT [extra benchmark flags]
#
# The training split's ids (minus those in $EXCLUDE, a file of ids already docked elsewhere) are
# shuffled with a fixed seed and cut into chunks of $CHUNK; each chunk is one
# `disco-dock benchmark --poses-cache OUT/chunk_NN.jsonl` run. A chunk whose report
# OUT/chunk_NN.csv is complete is skipped on a rerun, so stopping and rerunning (in a later
# session too) loses at most the chunk under way. Train on what is there with
#   disco-dock train confidence --docking --train-poses OUT/chunk_*.jsonl --val-poses VAL.jsonl ...
# Settings: DATA (../shared/data), SAMPLES (20), CHUNK (100), THREADS (2), EXCLUDE (none),
# BIN (target/release/disco-dock). Measured (twenty-third session, 2 cores): 7.5 s per complex.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out=${1:?usage: dock-training-poses.sh OUT [extra benchmark flags]}
shift
data=${DATA:-$root/../shared/data}
bin=${BIN:-$root/target/release/disco-dock}
mkdir -p "$out"
python3 - "$data/splits/train.txt" "${EXCLUDE:-}" "${CHUNK:-100}" "$out" <<'PY'
import random, sys
split, exclude, chunk, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
done = set(l.strip() for l in open(exclude)) if exclude else set()
ids = [l.strip() for l in open(split) if l.strip() and l.strip() not in done]
random.Random(23).shuffle(ids)
for k in range(0, len(ids), chunk):
    open(f'{out}/chunk_{k // chunk:02d}.txt', 'w').write('\n'.join(ids[k:k + chunk]) + '\n')
PY
for ids in "$out"/chunk_*.txt; do
  name=${ids%.txt}
  # a complete report has a header and one row per id
  if [ -f "$name.csv" ] && [ "$(wc -l < "$name.csv")" -gt "$(wc -l < "$ids")" ]; then continue; fi
  "$bin" benchmark --quiet --data "$data" --split "$ids" --pocket crystal --samples "${SAMPLES:-20}" \
    --threads "${THREADS:-2}" --out "$name.csv" --poses-cache "$name.jsonl" "$@" > "$name.log" 2>&1
  echo "$(basename "$name"): $(($(wc -l < "$name.csv") - 1)) complexes docked ($(date +%H:%M))"
done
