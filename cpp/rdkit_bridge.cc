#include "disco-dock/cpp/rdkit_bridge.h"

#include <stdexcept>
#include <GraphMol/GraphMol.h>
#include <GraphMol/RWMol.h>
#include <GraphMol/MolOps.h>
#include <GraphMol/Conformer.h>
#include <GraphMol/SubstanceGroup.h>
#include <GraphMol/FileParsers/FileParsers.h>
#include <GraphMol/SmilesParse/SmilesParse.h>
#include <GraphMol/DistGeomHelpers/Embedder.h>
#include <GraphMol/ForceFieldHelpers/MMFF/MMFF.h>
#include <GraphMol/ForceFieldHelpers/UFF/UFF.h>
#include <RDGeneral/RDLog.h>

namespace disco {
using namespace RDKit;

void quiet_rdkit_logs() { boost::logging::disable_logs("rdApp.*"); }

static std::shared_ptr<ROMol> own(RWMol *m, const char *what) {
  if (m == nullptr) throw std::runtime_error(what);
  return std::shared_ptr<ROMol>(static_cast<ROMol *>(m));
}

// Query atoms and bonds (ring or chain topology, "any" bonds: what query-aware tools write) make
// RDKit's substructure code, such as ETKDG's torsion patterns, fail on the molecule ("RingInfo
// not initialized"); keep their plain chemistry. Returns whether anything was replaced.
static bool drop_queries(RWMol &m) {
  bool changed = false;
  for (unsigned int i = 0; i < m.getNumBonds(); ++i) {
    Bond *bond = m.getBondWithIdx(i);
    if (!bond->hasQuery()) continue;
    Bond plain(bond->getBondType());
    plain.setIsAromatic(bond->getIsAromatic());
    plain.setBondDir(bond->getBondDir());
    m.replaceBond(i, &plain, true);
    changed = true;
  }
  for (unsigned int i = 0; i < m.getNumAtoms(); ++i) {
    Atom *atom = m.getAtomWithIdx(i);
    if (!atom->hasQuery()) continue;
    Atom plain(atom->getAtomicNum());
    plain.setFormalCharge(atom->getFormalCharge());
    plain.setIsotope(atom->getIsotope());
    plain.setNumExplicitHs(atom->getNumExplicitHs());
    plain.setNoImplicit(atom->getNoImplicit());
    plain.setChiralTag(atom->getChiralTag());
    plain.setIsAromatic(atom->getIsAromatic());
    m.replaceAtom(i, &plain, false, true);
    changed = true;
  }
  return changed;
}

std::shared_ptr<ROMol> mol_from_molblock(const std::string &block, bool sanitize, bool remove_hs) {
  auto mol = own(MolBlockToMol(block, sanitize, remove_hs, false), "RDKit could not read the mol block");
  RWMol *rw = static_cast<RWMol *>(mol.get());  // what MolBlockToMol made
  // SGroups (data fields, query annotations, brackets) carry nothing docking reads, but RDKit
  // keeps every hydrogen an SGroup names
  bool sgroups = !getSubstanceGroups(*rw).empty();
  getSubstanceGroups(*rw).clear();
  if (drop_queries(*rw) && sanitize) {
    MolOps::sanitizeMol(*rw);
    // the plain bonds lost their E/Z labels: read them (and chirality) from the 3D input again
    if (rw->getNumConformers() > 0 && rw->getConformer().is3D()) MolOps::assignStereochemistryFrom3D(*rw);
  }
  if (sgroups && remove_hs) MolOps::removeHs(*rw, false, false, sanitize);
  return mol;
}

std::shared_ptr<ROMol> mol_from_mol2block(const std::string &block) {
  return own(Mol2BlockToMol(block, true, true), "RDKit could not read the Mol2 block");
}

std::shared_ptr<ROMol> mol_from_smiles_checked(const std::string &smiles) {
  return own(SmilesToMol(smiles), "RDKit could not parse the SMILES");
}

std::shared_ptr<ROMol> with_hydrogens(const std::shared_ptr<ROMol> &mol, bool add_coords) {
  return std::shared_ptr<ROMol>(MolOps::addHs(*mol, false, add_coords));
}

std::shared_ptr<ROMol> without_hydrogens(const std::shared_ptr<ROMol> &mol) {
  return std::shared_ptr<ROMol>(MolOps::removeHs(*mol));
}

int embed_etkdg(const std::shared_ptr<ROMol> &mol, int seed) {
  DGeomHelpers::EmbedParameters params(DGeomHelpers::ETKDGv3);
  params.randomSeed = seed;
  int cid = DGeomHelpers::EmbedMolecule(*mol, params);
  if (cid < 0) {
    params.useRandomCoords = true;
    cid = DGeomHelpers::EmbedMolecule(*mol, params);
  }
  if (cid < 0) throw std::runtime_error("ETKDG embedding failed (no 3D conformer could be generated)");
  return cid;
}

int force_field_cleanup(const std::shared_ptr<ROMol> &mol, int max_iters) {
  auto res = MMFF::MMFFOptimizeMolecule(*mol, max_iters);
  if (res.first == -1) {
    res = UFF::UFFOptimizeMolecule(*mol, max_iters);
    return res.first == -1 ? -1 : 2 + res.first;
  }
  return res.first;
}

static const Conformer &conformer_of(const std::shared_ptr<ROMol> &mol) {
  if (mol->getNumConformers() == 0) throw std::runtime_error("the molecule has no 3D coordinates");
  return mol->getConformer();
}

rust::Vec<double> conformer_coords(const std::shared_ptr<ROMol> &mol) {
  const Conformer &conf = conformer_of(mol);
  rust::Vec<double> out;
  for (unsigned int i = 0; i < mol->getNumAtoms(); ++i) {
    const auto &p = conf.getAtomPos(i);
    out.push_back(p.x);
    out.push_back(p.y);
    out.push_back(p.z);
  }
  return out;
}

void set_conformer_coords(const std::shared_ptr<ROMol> &mol, rust::Slice<const double> coords) {
  if (coords.size() != 3 * mol->getNumAtoms()) throw std::runtime_error("coordinate count does not match the atoms");
  if (mol->getNumConformers() == 0) mol->addConformer(new Conformer(mol->getNumAtoms()), true);
  Conformer &conf = mol->getConformer();
  conf.set3D(true);
  for (unsigned int i = 0; i < mol->getNumAtoms(); ++i)
    conf.setAtomPos(i, RDGeom::Point3D(coords[3 * i], coords[3 * i + 1], coords[3 * i + 2]));
}

static int32_t hybridization_code(Atom::HybridizationType h) {
  switch (h) {
    case Atom::SP: return 1;
    case Atom::SP2: return 2;
    case Atom::SP3: return 3;
    default: return 0;
  }
}

static int32_t chirality_code(Atom::ChiralType c) {
  switch (c) {
    case Atom::CHI_TETRAHEDRAL_CW: return 1;
    case Atom::CHI_TETRAHEDRAL_CCW: return 2;
    default: return 0;
  }
}

rust::Vec<int32_t> atom_table(const std::shared_ptr<ROMol> &mol) {
  rust::Vec<int32_t> out;
  const RingInfo *rings = mol->getRingInfo();
  for (const Atom *a : mol->atoms()) {
    out.push_back(a->getAtomicNum());
    out.push_back(a->getFormalCharge());
    out.push_back(a->getIsAromatic() ? 1 : 0);
    out.push_back(hybridization_code(a->getHybridization()));
    out.push_back(static_cast<int32_t>(a->getDegree()));
    out.push_back(static_cast<int32_t>(a->getTotalNumHs(true)));
    out.push_back(rings->isInitialized() && rings->numAtomRings(a->getIdx()) > 0 ? 1 : 0);
    out.push_back(chirality_code(a->getChiralTag()));
  }
  return out;
}

static int32_t bond_code(Bond::BondType t) {
  switch (t) {
    case Bond::SINGLE: return 1;
    case Bond::DOUBLE: return 2;
    case Bond::TRIPLE: return 3;
    case Bond::AROMATIC: return 12;
    default: return 1;
  }
}

rust::Vec<int32_t> bond_table(const std::shared_ptr<ROMol> &mol) {
  RWMol kek(*mol);
  MolOps::Kekulize(kek, false);
  const RingInfo *rings = mol->getRingInfo();
  rust::Vec<int32_t> out;
  for (const Bond *b : mol->bonds()) {
    const Bond *k = kek.getBondWithIdx(b->getIdx());
    out.push_back(static_cast<int32_t>(b->getBeginAtomIdx()));
    out.push_back(static_cast<int32_t>(b->getEndAtomIdx()));
    out.push_back(bond_code(b->getBondType()));
    out.push_back(bond_code(k->getBondType()));
    out.push_back(rings->isInitialized() && rings->numBondRings(b->getIdx()) > 0 ? 1 : 0);
    out.push_back(b->getIsConjugated() ? 1 : 0);
  }
  return out;
}

rust::String molblock_kekule(const std::shared_ptr<ROMol> &mol) {
  return rust::String(MolToMolBlock(*mol, true, -1, true));
}

rust::String mol_name(const std::shared_ptr<ROMol> &mol) {
  std::string name;
  mol->getPropIfPresent(common_properties::_Name, name);
  return rust::String(name);
}
}  // namespace disco
