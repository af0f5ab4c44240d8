// Small C++ bridge for the RDKit calls rdkit-sys lacks: mol-block/Mol2 parsing with errors,
// hydrogens, ETKDG embedding, MMFF/UFF clean-up, conformer coordinates, atom and bond tables.
#pragma once
#include <memory>
#include <string>
#include "rust/cxx.h"
#include <GraphMol/ROMol.h>

namespace disco {
using RDKit::ROMol;

void quiet_rdkit_logs();
std::shared_ptr<ROMol> mol_from_molblock(const std::string &block, bool sanitize, bool remove_hs);
std::shared_ptr<ROMol> mol_from_mol2block(const std::string &block);
std::shared_ptr<ROMol> mol_from_smiles_checked(const std::string &smiles);
std::shared_ptr<ROMol> with_hydrogens(const std::shared_ptr<ROMol> &mol, bool add_coords);
std::shared_ptr<ROMol> without_hydrogens(const std::shared_ptr<ROMol> &mol);
int embed_etkdg(const std::shared_ptr<ROMol> &mol, int seed);
int force_field_cleanup(const std::shared_ptr<ROMol> &mol, int max_iters);
rust::Vec<double> conformer_coords(const std::shared_ptr<ROMol> &mol);
void set_conformer_coords(const std::shared_ptr<ROMol> &mol, rust::Slice<const double> coords);
rust::Vec<int32_t> atom_table(const std::shared_ptr<ROMol> &mol);
rust::Vec<int32_t> bond_table(const std::shared_ptr<ROMol> &mol);
rust::String molblock_kekule(const std::shared_ptr<ROMol> &mol);
rust::String mol_name(const std::shared_ptr<ROMol> &mol);
}  // namespace disco
