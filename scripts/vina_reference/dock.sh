#!/bin/bash
# AutoDock Vina itself (the reference program, Debian's autodock-vina 1.2.3) docking one complex
# of a PDBBind-style folder into a 25 Å box centred on the crystal ligand, as disco-dock's
# `benchmark --pocket crystal` does. Receptor and ligand PDBQT come from Open Babel (waters
# dropped, hydrogens added). Vina never changes the ligand's bond lengths, angles and rings: by
# default they are the crystal ligand's; with START=rdkit they are those of the RDKit conformer
# disco-dock docks with (conformer.py beside this script; Debian's python3-rdkit).
#
# Usage: DATA=../shared/data scripts/vina_reference/dock.sh ID OUT_DIR
#   env: EXH (exhaustiveness, default 8), CPU (threads, default 2), START (crystal or rdkit),
#   SEED (ETKDG seed of the rdkit start, default 0: the conformer `disco-dock benchmark` docks)
# Prints one line: id crystal_score local_rmsd local_score top1_rmsd best_rmsd_of_9 top1_score seconds
#   crystal_score: Vina's score of the crystal pose; local_*: after Vina's local optimisation of
#   it (both NA with START=rdkit);
#   RMSDs: heavy atoms, symmetry-corrected (obrms), against the crystal ligand.
# Needs: apt-get install autodock-vina openbabel
set -u
id=$1; out=$2/$id; mkdir -p "$out"; d=${DATA:-../shared/data}/complexes/$id
score() { awk -F: '/Estimated Free Energy/{split($2,a," "); print a[1]}'; }
zcat "$d/${id}_protein.pdb.gz" | grep -v HOH > "$out/rec.pdb"
obabel -ipdb "$out/rec.pdb" -xr -h -O "$out/rec.pdbqt" >/dev/null 2>&1
if [ "${START:-crystal}" = rdkit ]; then
  "$(dirname "$0")/conformer.py" "$d/${id}_ligand.sdf" "$out/lig_h.sdf" "${SEED:-0}" || exit 1
else
  obabel "$d/${id}_ligand.sdf" -h -O "$out/lig_h.sdf" >/dev/null 2>&1
fi
obabel "$out/lig_h.sdf" -O "$out/lig.pdbqt" >/dev/null 2>&1
obabel "$d/${id}_ligand.sdf" -d -O "$out/ref.sdf" >/dev/null 2>&1
read -r cx cy cz < <(awk 'NR==4{n=$1} NR>4 && NR<=4+n && $4!="H"{x+=$1;y+=$2;z+=$3;k++} END{printf "%.3f %.3f %.3f\n",x/k,y/k,z/k}' "$d/${id}_ligand.sdf")
box="--center_x $cx --center_y $cy --center_z $cz --size_x 25 --size_y 25 --size_z 25"
vina_="vina --receptor $out/rec.pdbqt --ligand $out/lig.pdbqt $box"
crystal=NA; local_score=NA; local_rmsd=NA
if [ "${START:-crystal}" = crystal ]; then
  crystal=$($vina_ --score_only 2>/dev/null | score)
  local_score=$($vina_ --local_only --out "$out/local.pdbqt" 2>/dev/null | score)
  obabel "$out/local.pdbqt" -d -O "$out/local.sdf" >/dev/null 2>&1
  local_rmsd=$(obrms -f "$out/ref.sdf" "$out/local.sdf" 2>/dev/null | head -1 | awk '{print $NF}')
fi
t0=$(date +%s.%N)
$vina_ --exhaustiveness "${EXH:-8}" --num_modes 9 --seed 1 --cpu "${CPU:-2}" --out "$out/dock.pdbqt" > "$out/dock.log" 2>&1
t1=$(date +%s.%N)
obabel "$out/dock.pdbqt" -d -O "$out/dock.sdf" >/dev/null 2>&1
obrms -f "$out/ref.sdf" "$out/dock.sdf" 2>/dev/null | awk '{print $NF}' > "$out/rmsd.txt"
top1=$(head -1 "$out/rmsd.txt"); best=$(sort -g "$out/rmsd.txt" | head -1)
top1_score=$(awk '/REMARK VINA RESULT/{print $4; exit}' "$out/dock.pdbqt")
echo "$id $crystal $local_rmsd $local_score $top1 $best $top1_score $(echo "$t1 - $t0" | bc)"
