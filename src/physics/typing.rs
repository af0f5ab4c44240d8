//! X-Score / AutoDock Vina atom typing of heavy atoms ("XS types").
//!
//! Carbon is polar when bonded to a heteroatom (anything but C and H, as in Vina), otherwise
//! hydrophobic. Nitrogen and oxygen are donors when they carry a hydrogen and acceptors when they
//! have a free lone pair (every O; N with fewer than three bonded atoms counting hydrogens, i.e.
//! AutoDock's `NA`). Halogens are hydrophobic, metals are donors. Protein atoms carry no
//! hydrogens, so their donors and acceptors come from residue and atom names.

use crate::chem::{Ligand, Protein};

/// An X-Score atom type as used by AutoDock Vina.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum XsType {
    /// Carbon bonded only to carbon and hydrogen (hydrophobic).
    CarbonHydrophobic,
    /// Carbon bonded to a heteroatom.
    CarbonPolar,
    /// Nitrogen that neither donates nor accepts.
    NitrogenPolar,
    /// Nitrogen donor.
    NitrogenDonor,
    /// Nitrogen acceptor.
    NitrogenAcceptor,
    /// Nitrogen donor and acceptor.
    NitrogenDonorAcceptor,
    /// Oxygen that neither donates nor accepts (water in the receptor).
    OxygenPolar,
    /// Oxygen donor (not produced by the rules here; kept for completeness).
    OxygenDonor,
    /// Oxygen acceptor.
    OxygenAcceptor,
    /// Oxygen donor and acceptor (hydroxyl).
    OxygenDonorAcceptor,
    /// Sulfur (and selenium).
    Sulfur,
    /// Phosphorus.
    Phosphorus,
    /// Fluorine.
    Fluorine,
    /// Chlorine.
    Chlorine,
    /// Bromine.
    Bromine,
    /// Iodine.
    Iodine,
    /// Metal ion (treated as a hydrogen-bond donor, as in Vina).
    Metal,
    /// Any other element (boron, silicon, ...): carbon-sized, no special interactions.
    Other,
}

impl XsType {
    /// Number of XS types; `index()` is below this.
    pub const COUNT: usize = 18;

    /// All types, in `index()` order.
    pub const ALL: [XsType; Self::COUNT] = [
        XsType::CarbonHydrophobic,
        XsType::CarbonPolar,
        XsType::NitrogenPolar,
        XsType::NitrogenDonor,
        XsType::NitrogenAcceptor,
        XsType::NitrogenDonorAcceptor,
        XsType::OxygenPolar,
        XsType::OxygenDonor,
        XsType::OxygenAcceptor,
        XsType::OxygenDonorAcceptor,
        XsType::Sulfur,
        XsType::Phosphorus,
        XsType::Fluorine,
        XsType::Chlorine,
        XsType::Bromine,
        XsType::Iodine,
        XsType::Metal,
        XsType::Other,
    ];

    /// Dense index in `0..COUNT`.
    pub fn index(self) -> usize {
        self as usize
    }

    /// Atomic number of an atom of this type (0 for metals and other elements, which name no
    /// one element).
    pub fn element(self) -> u8 {
        use XsType::*;
        match self {
            CarbonHydrophobic | CarbonPolar => 6,
            NitrogenPolar | NitrogenDonor | NitrogenAcceptor | NitrogenDonorAcceptor => 7,
            OxygenPolar | OxygenDonor | OxygenAcceptor | OxygenDonorAcceptor => 8,
            Sulfur => 16,
            Phosphorus => 15,
            Fluorine => 9,
            Chlorine => 17,
            Bromine => 35,
            Iodine => 53,
            Metal | Other => 0,
        }
    }

    /// Vina's van der Waals radius in Å.
    pub fn radius(self) -> f64 {
        use XsType::*;
        match self {
            CarbonHydrophobic | CarbonPolar | Other => 1.9,
            NitrogenPolar | NitrogenDonor | NitrogenAcceptor | NitrogenDonorAcceptor => 1.8,
            OxygenPolar | OxygenDonor | OxygenAcceptor | OxygenDonorAcceptor => 1.7,
            Sulfur => 2.0,
            Phosphorus => 2.1,
            Fluorine => 1.5,
            Chlorine => 1.8,
            Bromine => 2.0,
            Iodine => 2.2,
            Metal => 1.2,
        }
    }

    /// Whether the type takes part in the hydrophobic term.
    pub fn is_hydrophobic(self) -> bool {
        use XsType::*;
        matches!(self, CarbonHydrophobic | Fluorine | Chlorine | Bromine | Iodine)
    }

    /// Whether the type is a hydrogen-bond donor.
    pub fn is_donor(self) -> bool {
        use XsType::*;
        matches!(self, NitrogenDonor | NitrogenDonorAcceptor | OxygenDonor | OxygenDonorAcceptor | Metal)
    }

    /// Whether the type is a hydrogen-bond acceptor.
    pub fn is_acceptor(self) -> bool {
        use XsType::*;
        matches!(self, NitrogenAcceptor | NitrogenDonorAcceptor | OxygenAcceptor | OxygenDonorAcceptor)
    }

    /// Whether a pair of these types forms a donor-acceptor pair.
    pub fn hbond_pair(self, other: XsType) -> bool {
        (self.is_donor() && other.is_acceptor()) || (self.is_acceptor() && other.is_donor())
    }
}

/// Metals typed as `Metal` (Na, Mg, K, Ca, Mn, Fe, Co, Ni, Cu, Zn).
fn is_metal(element: u8) -> bool {
    matches!(element, 11 | 12 | 19 | 20 | 25..=30)
}

/// XS type of a heavy atom from its element, donor/acceptor flags and whether it is bonded to a
/// heteroatom (only read for carbon).
fn xs_type(element: u8, donor: bool, acceptor: bool, bonded_to_heteroatom: bool) -> XsType {
    use XsType::*;
    match element {
        6 if bonded_to_heteroatom => CarbonPolar,
        6 => CarbonHydrophobic,
        7 => match (donor, acceptor) {
            (true, true) => NitrogenDonorAcceptor,
            (true, false) => NitrogenDonor,
            (false, true) => NitrogenAcceptor,
            (false, false) => NitrogenPolar,
        },
        8 => match (donor, acceptor) {
            (true, true) => OxygenDonorAcceptor,
            (true, false) => OxygenDonor,
            (false, true) => OxygenAcceptor,
            (false, false) => OxygenPolar,
        },
        16 | 34 => Sulfur,
        15 => Phosphorus,
        9 => Fluorine,
        17 => Chlorine,
        35 => Bromine,
        53 => Iodine,
        e if is_metal(e) => Metal,
        _ => Other,
    }
}

/// XS types of the ligand's heavy atoms, from elements, bonds and attached hydrogen counts.
pub fn ligand_types(ligand: &Ligand) -> Vec<XsType> {
    let neighbours = ligand.neighbours();
    ligand
        .atoms
        .iter()
        .zip(&neighbours)
        .map(|(atom, nbrs)| {
            let hetero = nbrs.iter().any(|&j| ligand.atoms[j].element != 6);
            let donor = atom.num_hs > 0;
            let acceptor = match atom.element {
                8 => true,
                7 => atom.formal_charge <= 0 && nbrs.len() + (atom.num_hs as usize) < 3,
                _ => false,
            };
            xs_type(atom.element, donor, acceptor, hetero)
        })
        .collect()
}

/// Residue names of waters, whose oxygens get no hydrogen-bond role.
const WATERS: [&str; 3] = ["HOH", "WAT", "DOD"];

/// Donor/acceptor flags of a protein N or O atom from its residue and atom names.
fn protein_hbond_roles(residue: &str, atom: &str, element: u8) -> (bool, bool) {
    if WATERS.contains(&residue) {
        return (false, false);
    }
    match (element, residue, atom) {
        (8, "SER", "OG") | (8, "THR", "OG1") | (8, "TYR", "OH") => (true, true),
        (8, _, _) => (false, true),
        (7, "PRO", "N") => (false, false),
        (7, _, "N") => (true, false),
        (7, "HIS", "ND1" | "NE2") => (true, true),
        (7, "ASN", "ND2") | (7, "GLN", "NE2") | (7, "LYS", "NZ") | (7, "TRP", "NE1") => (true, false),
        (7, "ARG", "NE" | "NH1" | "NH2") => (true, false),
        _ => (false, false),
    }
}

/// Squared distance below which two atoms of one residue count as bonded (2.0 Å).
const RESIDUE_BOND_CUTOFF2: f64 = 4.0;

/// XS types of the protein's heavy atoms; bonds are inferred by distance within each residue.
pub fn protein_types(protein: &Protein) -> Vec<XsType> {
    protein
        .atoms
        .iter()
        .enumerate()
        .map(|(i, atom)| {
            let residue = protein.residues.get(atom.residue);
            let hetero = residue.is_some_and(|res| {
                res.atoms.clone().filter(|&j| j != i).filter_map(|j| protein.atoms.get(j)).any(|other| {
                    other.element != 6 && (other.coord - atom.coord).norm_squared() < RESIDUE_BOND_CUTOFF2
                })
            });
            let name = residue.map_or("", |r| r.name.as_str());
            let (donor, acceptor) = protein_hbond_roles(name, &atom.name, atom.element);
            xs_type(atom.element, donor, acceptor, hetero)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_matches_all() {
        for (i, t) in XsType::ALL.iter().enumerate() {
            assert_eq!(t.index(), i);
        }
    }

    #[test]
    fn protein_roles_follow_names() {
        assert_eq!(protein_hbond_roles("GLY", "N", 7), (true, false));
        assert_eq!(protein_hbond_roles("PRO", "N", 7), (false, false));
        assert_eq!(protein_hbond_roles("SER", "OG", 8), (true, true));
        assert_eq!(protein_hbond_roles("ASP", "OD1", 8), (false, true));
        assert_eq!(protein_hbond_roles("HOH", "O", 8), (false, false));
        assert_eq!(protein_hbond_roles("LEU", "CD1", 6), (false, false));
    }

    #[test]
    fn element_rules() {
        assert_eq!(xs_type(6, false, false, false), XsType::CarbonHydrophobic);
        assert_eq!(xs_type(6, false, false, true), XsType::CarbonPolar);
        assert_eq!(xs_type(30, false, false, false), XsType::Metal);
        assert!(XsType::Metal.is_donor());
        assert!(XsType::Chlorine.is_hydrophobic());
        assert!(XsType::OxygenAcceptor.hbond_pair(XsType::NitrogenDonor));
        assert!(!XsType::OxygenAcceptor.hbond_pair(XsType::OxygenAcceptor));
    }
}
