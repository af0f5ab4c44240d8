//! Circular (Morgan, ECFP4-like) fingerprints of ligand graphs and their Tanimoto similarity:
//! how alike two ligands are, which tells how far a template ligand of a homologous complex is
//! likely to show the binding mode of the ligand being docked (ligands of one chemical series
//! bind alike).
//!
//! The fingerprint is the set of the hashed atom environments of radius 0 to [`RADIUS`] bonds,
//! computed from the heavy-atom graph alone, so that it needs no RDKit call and is the same
//! for a ligand read from any file format.

use super::{BondOrder, Ligand};

/// Bonds out from each atom that its environments reach (2: ECFP4).
pub const RADIUS: usize = 2;

/// One step of the FNV-1a hash (stable across runs and platforms, unlike std's hasher).
fn mix(hash: u32, value: u32) -> u32 {
    value.to_le_bytes().iter().fold(hash, |h, b| (h ^ *b as u32).wrapping_mul(0x0100_0193))
}

/// FNV-1a of a list of values.
fn hash(values: &[u32]) -> u32 {
    values.iter().fold(0x811c_9dc5, |h, v| mix(h, *v))
}

/// Code of a bond order in an environment hash.
fn bond_code(order: BondOrder) -> u32 {
    match order {
        BondOrder::Single => 1,
        BondOrder::Double => 2,
        BondOrder::Triple => 3,
        BondOrder::Aromatic => 4,
    }
}

/// Sorted, distinct environment hashes of `ligand` (radius 0 to [`RADIUS`]): atoms start from
/// their element, heavy degree, hydrogens, charge, ring membership and aromaticity (RDKit's
/// ECFP invariants), then each round hashes an atom's identifier with its bonds' orders and
/// neighbours' identifiers, in sorted order.
pub fn morgan(ligand: &Ligand) -> Vec<u32> {
    let mut ids: Vec<u32> = ligand
        .atoms
        .iter()
        .map(|a| hash(&[a.element as u32, a.degree as u32, a.num_hs as u32, (a.formal_charge as i32 + 8) as u32, a.in_ring as u32, a.aromatic as u32]))
        .collect();
    let mut neighbours: Vec<Vec<(u32, usize)>> = vec![Vec::new(); ligand.atoms.len()];
    for b in &ligand.bonds {
        neighbours[b.begin].push((bond_code(b.order), b.end));
        neighbours[b.end].push((bond_code(b.order), b.begin));
    }
    let mut features = ids.clone();
    for round in 1..=RADIUS {
        ids = neighbours
            .iter()
            .zip(&ids)
            .map(|(near, id)| {
                let mut pairs: Vec<(u32, u32)> = near.iter().map(|(order, j)| (*order, ids[*j])).collect();
                pairs.sort_unstable();
                let mut values = vec![round as u32, *id];
                values.extend(pairs.iter().flat_map(|(order, n)| [*order, *n]));
                hash(&values)
            })
            .collect();
        features.extend(&ids);
    }
    features.sort_unstable();
    features.dedup();
    features
}

/// Tanimoto similarity of two fingerprints (sorted, distinct hashes): shared over either's
/// features, 0 to 1; 0 when either is empty.
pub fn tanimoto(a: &[u32], b: &[u32]) -> f64 {
    let (mut i, mut j, mut shared) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                shared += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - shared;
    (union > 0).then(|| shared as f64 / union as f64).unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chem::conformer::{prepare_ligand, ConformerOptions};
    use crate::io::ligand::LigandText;

    fn fingerprint(smiles: &str) -> Vec<u32> {
        morgan(&prepare_ligand(&LigandText::smiles(smiles, "x"), &ConformerOptions::default()).unwrap().ligand)
    }

    #[test]
    fn a_molecule_is_itself_whatever_its_atom_order() {
        let a = fingerprint("CC(=O)Nc1ccc(O)cc1");
        let b = fingerprint("Oc1ccc(NC(C)=O)cc1");
        assert_eq!(a, b);
        assert_eq!(tanimoto(&a, &b), 1.0);
        assert!(a.windows(2).all(|w| w[0] < w[1]), "sorted and distinct");
    }

    #[test]
    fn analogues_are_more_alike_than_unrelated_molecules() {
        let paracetamol = fingerprint("CC(=O)Nc1ccc(O)cc1");
        let phenacetin = fingerprint("CCOc1ccc(NC(C)=O)cc1");
        let glucose = fingerprint("OCC1OC(O)C(O)C(O)C1O");
        let analogue = tanimoto(&paracetamol, &phenacetin);
        let unrelated = tanimoto(&paracetamol, &glucose);
        assert!(analogue > 0.3 && analogue < 1.0, "{analogue}");
        assert!(unrelated < 0.15, "{unrelated}");
    }

    #[test]
    fn tanimoto_counts_shared_features_over_the_union() {
        assert_eq!(tanimoto(&[1, 2, 3], &[2, 3, 4]), 0.5);
        assert_eq!(tanimoto(&[], &[1]), 0.0);
        assert_eq!(tanimoto(&[], &[]), 0.0);
    }
}
