#!/bin/bash
# GPU session 2: benchmarks of the GPU-trained models, 40 samples, several runs side by side.
# Carried in .dev/ with the CUDA binary, .dev/libs, the models in .dev/models/{m2,m0,cpu_v1} and the
# test_dev, val and dockgen_val complexes in .dev/data (never committed). Copy to .dev/eval.sh.
cd "$(dirname "$0")"
DEV=${DEV:-cuda}; T=${T:-250}; SMALL=${SMALL:-}
TL=$(python3 -c "import torch,os;print(os.path.join(os.path.dirname(torch.__file__),\"lib\"))" 2>/dev/null)
export LD_LIBRARY_PATH=$PWD/libs:$TL DISCO_DOCK_CACHE=/tmp/cache
R=/tmp/ev; mkdir -p $R
bench() { # name split pocket model limit extra...
  local name=$1 split=$2 pocket=$3 model=$4 limit=${SMALL:-$5}; shift 5
  timeout $T ./disco-dock --quiet benchmark --data data --split data/splits/$split.txt --pocket $pocket --samples ${SAMPLES:-40} \
    --device $DEV --threads 2 --model models/$model --limit $limit --out $R/$name.csv "$@" > $R/$name.txt 2>&1
  echo "== $name (exit $?)"; tail -n 4 $R/$name.txt
}
bench td_pocket_m2 test_dev crystal m2 60 --poses-out $R/td_pocket_m2_poses.csv &
bench td_pocket_m0 test_dev crystal m0 60 --poses-out $R/td_pocket_m0_poses.csv &
bench td_blind_m2 test_dev none m2 30 &
bench td_blind_m0 test_dev none m0 30 &
bench val_pocket_m2 val crystal m2 50 --poses-out $R/val_pocket_m2_poses.csv &
bench val_pocket_m2_norefine val crystal m2 50 --no-refine --poses-out $R/val_pocket_m2_norefine_poses.csv &
bench dg_pocket_m2 dockgen_val crystal m2 50 &
bench td_pocket_cpu_v1 test_dev crystal cpu_v1 60 &
wait
tar czf $OUT/results.tgz -C $R .
# second call: bench val_pocket_m0 val crystal m0 50 --poses-out $R/val_pocket_m0_poses.csv &
# second call: bench val_pocket_m0_norefine val crystal m0 50 --no-refine --poses-out $R/val_pocket_m0_norefine_poses.csv &
# second call: bench dg_pocket_m0 dockgen_val crystal m0 50 &
# second call: bench val_blind_m0 val none m0 30 &
# second call: bench val_blind_m2 val none m2 30 &
# second call: bench td_blind_m0_norefine test_dev none m0 30 --no-refine &
# second call: bench td_pocket_m0_norefine test_dev crystal m0 60 --no-refine &
