#!/bin/bash
# GPU session: (optional) CUDA docking check, then m=2 and m=0 score training side by side, then the prior.
# Carried to the GPU machine in .dev/ with the CUDA binary (build-against-pytorch.sh), the RDKit
# and Boost shared libraries in .dev/libs, and residue-only packs of train and val:
#   disco-dock prepare --split .../train.txt --pack .dev/train.pack --pack-radius 23.5 --pack-residues-only
# Copy this file to .dev/run.sh and run it there (paths are relative to .dev/).
# Everything ends within BUDGET seconds of the start (default 540): the prior gets what is left.
cd "$(dirname "$0")"
T0=$(date +%s)
MIN=${MIN:-6}; DEV=${DEV:-cuda}; BUDGET=${BUDGET:-540}
# MATCH=1: train on conformers matched to the crystal ligands (--conformer-matching), score and prior alike
CM=${MATCH:+--conformer-matching}
# HEAD=dihedral: the torsion head that also reads each bond's dihedral (ninth session; default atom)
TH="--torsion-head ${HEAD:-atom}"
# INIT=1: warm start each run from init/m2 and init/m0 (model folders; --init loads the score
# network, a changed torsion head starts random, the encoder starts fresh). LR: peak learning rate.
LR=${LR:-1e-3}
# HIDDEN=64 LAYERS=4: a wider, deeper score network than the default 32 x 3 (start it without
# INIT: --init refuses another width). Run again on the still-warm machine with a larger MIN
# (and DOCK=0) to resume both runs from /tmp/runs and retrain the prior on the final encoder.
WIDTH="${HIDDEN:+--hidden $HIDDEN} ${LAYERS:+--layers $LAYERS}"
TL=$(python3 -c "import torch,os;print(os.path.join(os.path.dirname(torch.__file__),\"lib\"))" 2>/dev/null)
export LD_LIBRARY_PATH=$PWD/libs:$TL
nvidia-smi -L
ldd ./disco-dock | grep "not found"
R=/tmp/runs; mkdir -p $R
save() { tar czf $OUT/runs.tgz -C $R . ; }
if [ "${DOCK:-1}" != 0 ]; then
  /usr/bin/time -f "dock cuda: %e s wall, peak RSS %M KB" ./disco-dock --quiet dock --protein ../examples/1iep/protein.pdbqt.gz --ligand ../examples/1iep/imatinib.smi \
    --autobox-ligand ../examples/1iep/ligand.pdbqt --samples 40 --device $DEV --threads 16 --model ../data/models/default --out $R/dock_cuda 2>&1 | tail -15
  echo "dock done after $(( $(date +%s) - T0 )) s"
fi
for m in 2 0; do
  ./disco-dock --quiet train score --train-pack train.pack --val-pack val.pack --device $DEV --latents $m --minutes $MIN $CM $TH $WIDTH \
    ${INIT:+--init init/m$m} --lr $LR --batch-size 32 --val-complexes ${VALN:-24} --val-every ${VALE:-3} --threads 8 --run $R/m$m > $R/m$m.out 2>&1 &
done
wait
echo "score done after $(( $(date +%s) - T0 )) s"; for f in $R/m2/train.log $R/m0/train.log $R/m2.out; do tail -n 3 $f; done
save
LEFT=$(( BUDGET - ($(date +%s) - T0) ))
PMIN=$(python3 -c "print(max(0.1, min(0.75, ($LEFT - 60) / 60)))")
echo "prior: $PMIN min of training, $LEFT s left"
timeout $LEFT ./disco-dock --quiet train prior --train-pack train.pack --val-pack val.pack --device $DEV --run $R/m2 --minutes $PMIN $CM --threads 16 > $R/prior.out 2>&1; rc=$?
echo "prior done after $(( $(date +%s) - T0 )) s (exit $rc)"; tail -n 3 $R/m2/train.log
save
