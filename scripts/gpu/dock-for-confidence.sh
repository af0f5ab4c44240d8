#!/bin/bash
# GPU machine as a 16-core docking farm: docks the training complexes in todo.txt for the
# confidence model (8 processes x 2 threads, networks on CUDA), poses back in $OUT/poses.jsonl.gz
# (the lines of <run>/confidence_poses_train.jsonl; append them to a run's cache here).
# Carried in .dev/ (git-ignored) with the CUDA binary (build-against-pytorch.sh), the RDKit and
# Boost libraries in .dev/libs, todo.txt (ids) and crop_raw.tar.xz: the complexes cut to the
# residues within 24.5 Å of the ligand centroid by crop_pockets.py (training crops are 20 Å around
# a centre jittered by at most 3.5 Å, so nothing the docking sees is lost), PDBs uncompressed and
# xz'd together to fit the 64 MiB carry limit (1246 complexes: 25 MB). Copy to .dev/run.sh.
# Measured (fifth session, H100 machine): 1243 complexes in 640 s, 3.3 s per complex per process.
# Rerunning resumes: complexes already in a chunk's cache are not docked again. --evaluate-only
# docks and caches without training, so best/ keeps the shipped networks.
cd "$(dirname "$0")"
T0=$(date +%s); LIMIT=${LIMIT:-500}; N=${N:-8}
TL=$(python3 -c "import torch,os;print(os.path.join(os.path.dirname(torch.__file__),'lib'))" 2>/dev/null)
export LD_LIBRARY_PATH=$PWD/libs:$TL DISCO_DOCK_CACHE=/tmp/cache
nproc; nvidia-smi -L; ldd ./disco-dock | grep "not found"
# a rerun on the same warm machine finds the complexes unpacked already
[ -d /tmp/d/complexes ] || { mkdir -p /tmp/d && xz -T16 -dc crop_raw.tar.xz | tar xf - -C /tmp/d && find /tmp/d -name '*.pdb' | xargs -P16 -n 40 gzip -1; }
echo "unpacked $(ls /tmp/d/complexes | wc -l) complexes after $(( $(date +%s) - T0 )) s"
chunk() { # k device
  local left=$(( LIMIT - ($(date +%s) - T0) ))
  timeout $left ./disco-dock --quiet train confidence --docking --data /tmp/d --train-split /tmp/chunk$1.txt --val-split /tmp/chunk$1.txt \
    --val-complexes 0 --complexes 100000 --samples 12 --search-steps 30 --threads 2 --device $2 --evaluate-only --run /tmp/r$1 >> /tmp/r$1.out 2>&1
}
for k in $(seq 0 $((N-1))); do
  awk -v k=$k -v n=$N 'NR%n==k' todo.txt > /tmp/chunk$k.txt; rm -rf /tmp/r$k/best; mkdir -p /tmp/r$k; cp -r ../data/models/default /tmp/r$k/best
  ( chunk $k cuda; rc=$?; if [ $rc -ne 0 ] && [ $rc -ne 124 ]; then echo "chunk $k: cuda run failed ($rc), cpu"; chunk $k cpu; fi ) &
done
wait
echo "docking ended after $(( $(date +%s) - T0 )) s"
cat /tmp/r*/confidence_poses_train.jsonl | gzip > $OUT/poses.jsonl.gz
for k in $(seq 0 $((N-1))); do echo "chunk $k: $(grep -c . /tmp/r$k/confidence_poses_train.jsonl) docked"; grep "docked" /tmp/r$k/train.log | tail -n 1; done
tail -n 5 /tmp/r0.out
tar czf $OUT/logs.tgz /tmp/r*.out /tmp/r*/train.log
