#!/usr/bin/env bash
# The README's CPU speed table: seconds per complex with 2 threads for 10 and 40 samples, pocket
# given and blind, on the first complexes of test_dev (shipped model, refinement on). Run on an
# otherwise idle machine. Usage: bash scripts/speed_table.sh [pocket_limit] [blind_limit]
set -euo pipefail
cd "$(dirname "$0")/.."
B=${B:-./target/release/disco-dock}; S=../shared/data/splits/test_dev.txt; out=${OUT:-runs/speed}
mkdir -p "$out"
$B --quiet prepare --data ../shared/data --split "$S" > /dev/null   # conformers cached first
for pocket in crystal none; do
  limit=$([ $pocket = crystal ] && echo "${1:-3}" || echo "${2:-2}")
  for n in 10 40; do
    /usr/bin/time -f "peak RSS %M KB" $B --quiet benchmark --data ../shared/data --split "$S" --pocket $pocket \
      --samples $n --threads 2 --limit "$limit" --out "$out/${pocket}_$n.csv" 2> "$out/${pocket}_$n.time" | tail -n 1
    echo "pocket=$pocket samples=$n: $(cat "$out/${pocket}_$n.time")"
  done
done
