#!/usr/bin/env bash
# The main job on the shipped example and model: docks examples/ligand into examples/protein.
# Installs what the build needs on first use.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
cargo build --release
exec ./target/release/disco-dock dock \
  --protein examples/1iep/protein.pdbqt.gz \
  --ligand examples/1iep/imatinib.smi \
  --autobox-ligand examples/1iep/ligand.pdbqt \
  --samples "${SAMPLES:-10}" --out disco-dock-out/example "$@"
