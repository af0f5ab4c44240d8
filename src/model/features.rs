//! Numeric node features for the networks: ligand atoms and protein residues.
//!
//! Plain `f32` arrays (no tensors), so they can be computed once and cached.

use crate::chem::{Chirality, Hybridization, LigandAtom, Residue, Vec3};

/// Elements with their own one-hot channel (anything else shares the last channel).
const ELEMENTS: [u8; 9] = [6, 7, 8, 16, 9, 15, 17, 35, 53];

/// Width of a ligand atom's feature vector.
pub const LIGAND_FEATURES: usize = ELEMENTS.len() + 1 + 6 + 3 + 1 + 4 + 4 + 1 + 3;

/// The 20 standard amino acids, in the order of the residue one-hot channels.
pub const AMINO_ACIDS: [&str; 20] = [
    "ALA", "ARG", "ASN", "ASP", "CYS", "GLN", "GLU", "GLY", "HIS", "ILE", "LEU", "LYS", "MET", "PHE", "PRO", "SER",
    "THR", "TRP", "TYR", "VAL",
];

/// Width of a residue's feature vector (20 amino acids plus "other").
pub const RESIDUE_FEATURES: usize = AMINO_ACIDS.len() + 1;

/// Number of direction vectors per residue (N-CA, C-CA, side chain-CA).
pub const RESIDUE_VECTORS: usize = 3;

fn one_hot(out: &mut Vec<f32>, index: usize, width: usize) {
    out.extend((0..width).map(|i| if i == index { 1.0 } else { 0.0 }));
}

/// Features of one ligand atom: element, degree, formal charge, aromaticity, hybridisation,
/// hydrogen count, ring membership and chirality, all one-hot or binary.
pub fn ligand_atom_features(atom: &LigandAtom) -> Vec<f32> {
    let mut f = Vec::with_capacity(LIGAND_FEATURES);
    let element = ELEMENTS.iter().position(|&e| e == atom.element).unwrap_or(ELEMENTS.len());
    one_hot(&mut f, element, ELEMENTS.len() + 1);
    one_hot(&mut f, (atom.degree as usize).min(5), 6);
    one_hot(&mut f, (atom.formal_charge.clamp(-1, 1) + 1) as usize, 3);
    f.push(atom.aromatic as u8 as f32);
    let hyb = match atom.hybridization {
        Hybridization::Sp => 0,
        Hybridization::Sp2 => 1,
        Hybridization::Sp3 => 2,
        Hybridization::Other => 3,
    };
    one_hot(&mut f, hyb, 4);
    one_hot(&mut f, (atom.num_hs as usize).min(3), 4);
    f.push(atom.in_ring as u8 as f32);
    let chi = match atom.chirality {
        Chirality::None => 0,
        Chirality::Cw => 1,
        Chirality::Ccw => 2,
    };
    one_hot(&mut f, chi, 3);
    f
}

/// One-hot residue type (non-standard names share the last channel).
pub fn residue_features(residue: &Residue) -> Vec<f32> {
    let mut f = Vec::with_capacity(RESIDUE_FEATURES);
    let kind = AMINO_ACIDS.iter().position(|&n| n == residue.name).unwrap_or(AMINO_ACIDS.len());
    one_hot(&mut f, kind, RESIDUE_FEATURES);
    f
}

/// Direction vectors of a residue relative to its C-alpha (zero where an atom is missing):
/// backbone N, backbone C and the side-chain centroid.
pub fn residue_vectors(residue: &Residue) -> [Vec3; RESIDUE_VECTORS] {
    let ca = residue.ca.unwrap_or_else(Vec3::zeros);
    let rel = |p: Option<Vec3>| p.map(|p| p - ca).unwrap_or_else(Vec3::zeros);
    [rel(residue.n), rel(residue.c), rel(residue.side_chain)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ligand_feature_width_is_constant() {
        let atom = LigandAtom {
            element: 35,
            formal_charge: -2,
            aromatic: true,
            hybridization: Hybridization::Sp2,
            degree: 9,
            num_hs: 7,
            in_ring: true,
            chirality: Chirality::Ccw,
        };
        let f = ligand_atom_features(&atom);
        assert_eq!(f.len(), LIGAND_FEATURES);
        assert_eq!(f.iter().filter(|&&x| x == 1.0).count(), 8, "one channel per one-hot group plus the two flags");
    }
}
