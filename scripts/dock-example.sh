#!/usr/bin/env bash
# The main job on the shipped example and model: docks imatinib (SMILES) into Abl kinase
# (examples/1iep) in the box of AutoDock Vina's test configuration (examples/1iep/conf.txt).
# Installs what the build needs on first use.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
cargo build --release
exec ./target/release/disco-dock dock \
  --protein examples/1iep/protein.pdbqt.gz \
  --ligand examples/1iep/imatinib.smi \
  --center 11 90.5 57.5 --size 22 24 28 \
  --samples "${SAMPLES:-10}" --out disco-dock-out/example "$@"
