#!/usr/bin/python3
"""Writes the RDKit conformer disco-dock docks with (ETKDGv3, hydrogens added for the embedding,
500 MMFF iterations; src/chem/conformer.rs) of a ligand SDF, with its hydrogens, so that AutoDock
Vina can start from the same bond lengths, angles and rings as disco-dock instead of the crystal
ones. The ETKDG seed defaults to 0, the conformer `disco-dock benchmark` docks (its --seed);
training's conformers use 42. Usage: conformer.py IN.sdf OUT.sdf [SEED] (needs Debian's
python3-rdkit)."""
import sys
from rdkit import Chem
from rdkit.Chem import AllChem

mol = Chem.MolFromMolFile(sys.argv[1], removeHs=True)
if mol is None:
    sys.exit(f'{sys.argv[1]}: RDKit cannot read or sanitise the ligand')
mol = Chem.AddHs(mol)
params = AllChem.ETKDGv3()
params.randomSeed = int(sys.argv[3]) if len(sys.argv) > 3 else 0
if AllChem.EmbedMolecule(mol, params) < 0:
    params.useRandomCoords = True
    if AllChem.EmbedMolecule(mol, params) < 0:
        sys.exit(f'{sys.argv[1]}: embedding failed')
AllChem.MMFFOptimizeMolecule(mol, maxIters=500)
Chem.MolToMolFile(mol, sys.argv[2])
