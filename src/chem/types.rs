//! Plain data types for molecules: ligands (atoms, bonds, conformer), proteins (residues, atoms)
//! and torsions. No RDKit objects and no tensors live here, so these types are `Send` and
//! serialisable into the preparation cache.

use nalgebra::Vector3;
use serde::{Deserialize, Serialize};

/// A 3D point or vector in Ångström.
pub type Vec3 = Vector3<f64>;

/// Orbital hybridisation of a ligand atom, as perceived by RDKit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Hybridization {
    /// sp
    Sp,
    /// sp2
    Sp2,
    /// sp3
    Sp3,
    /// sp3d / sp3d2 or anything else
    Other,
}

/// CIP-independent chirality tag of an atom (RDKit's CHI_TETRAHEDRAL_CW/CCW).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Chirality {
    /// Not a stereocentre.
    None,
    /// Clockwise tetrahedral.
    Cw,
    /// Counter-clockwise tetrahedral.
    Ccw,
}

/// One heavy atom of a ligand with the features the networks and the scoring function read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LigandAtom {
    /// Atomic number.
    pub element: u8,
    /// Formal charge.
    pub formal_charge: i8,
    /// Aromatic flag.
    pub aromatic: bool,
    /// Hybridisation.
    pub hybridization: Hybridization,
    /// Number of heavy-atom neighbours.
    pub degree: u8,
    /// Number of attached hydrogens (implicit + explicit).
    pub num_hs: u8,
    /// Whether the atom is in a ring.
    pub in_ring: bool,
    /// Chirality tag.
    pub chirality: Chirality,
}

/// Bond order as written in a Kekulé structure (aromatic bonds keep their Kekulé order too).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BondOrder {
    /// Single bond.
    Single,
    /// Double bond.
    Double,
    /// Triple bond.
    Triple,
    /// Aromatic bond.
    Aromatic,
}

/// A bond between two heavy atoms of a ligand.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LigandBond {
    /// Index of the first atom.
    pub begin: usize,
    /// Index of the second atom.
    pub end: usize,
    /// Bond order (aromatic where RDKit says so).
    pub order: BondOrder,
    /// Kekulé order (1, 2 or 3) used when writing files.
    pub kekule_order: u8,
    /// Whether the bond is in a ring.
    pub in_ring: bool,
    /// Whether the bond is conjugated.
    pub conjugated: bool,
}

/// A ligand: heavy atoms, bonds and one set of coordinates (a conformer or a pose).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ligand {
    /// Name from the input (SDF title, SMILES name, file stem).
    pub name: String,
    /// Heavy atoms.
    pub atoms: Vec<LigandAtom>,
    /// Bonds between heavy atoms.
    pub bonds: Vec<LigandBond>,
    /// Coordinates, one per atom, in Å.
    pub coords: Vec<Vec3>,
}

impl Ligand {
    /// Atomic numbers of the heavy atoms, in atom order (what element-aware overlaps and
    /// symmetry searches compare).
    pub fn elements(&self) -> Vec<u8> {
        self.atoms.iter().map(|a| a.element).collect()
    }

    /// Number of heavy atoms.
    pub fn len(&self) -> usize {
        self.atoms.len()
    }

    /// True when the ligand has no atoms.
    pub fn is_empty(&self) -> bool {
        self.atoms.is_empty()
    }

    /// Geometric centre of the coordinates.
    pub fn centroid(&self) -> Vec3 {
        centroid(&self.coords)
    }

    /// Neighbour lists (heavy atoms) built from the bonds.
    pub fn neighbours(&self) -> Vec<Vec<usize>> {
        let mut adj = vec![Vec::new(); self.atoms.len()];
        for b in &self.bonds {
            adj[b.begin].push(b.end);
            adj[b.end].push(b.begin);
        }
        adj
    }
}

/// Mean of a set of points (the origin for an empty set).
pub fn centroid(points: &[Vec3]) -> Vec3 {
    if points.is_empty() {
        return Vec3::zeros();
    }
    points.iter().fold(Vec3::zeros(), |a, p| a + p) / points.len() as f64
}

/// A rotatable bond and the atoms that move when its torsion angle changes.
///
/// Rotating by `angle` turns every atom in `moving` about the axis from `axis.0` to `axis.1`
/// (right-hand rule); `axis.1` lies on the moving side, `axis.0` on the fixed side.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Torsion {
    /// Atom indices (fixed side, moving side) of the rotatable bond.
    pub axis: (usize, usize),
    /// Atoms on the moving side (not including `axis.1`, which lies on the axis).
    pub moving: Vec<usize>,
}

/// One heavy atom of a protein (amino acids and kept HETATM groups such as metals and cofactors).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProteinAtom {
    /// Atom name (e.g. `CA`, `OG1`).
    pub name: String,
    /// Atomic number.
    pub element: u8,
    /// Coordinates in Å.
    pub coord: Vec3,
    /// Index of the residue (in `Protein::residues`) this atom belongs to.
    pub residue: usize,
    /// True for HETATM records.
    pub hetero: bool,
}

/// One residue (or HETATM group) of a protein.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Residue {
    /// Three-letter residue name (e.g. `ALA`, `HEM`, `ZN`).
    pub name: String,
    /// Chain identifier.
    pub chain: String,
    /// Residue sequence number.
    pub number: isize,
    /// Insertion code (empty when none).
    pub insertion: String,
    /// Range of this residue's atoms in `Protein::atoms`.
    pub atoms: std::ops::Range<usize>,
    /// C-alpha position for amino acids; `None` for HETATM groups and incomplete residues.
    pub ca: Option<Vec3>,
    /// Backbone N position, when present.
    pub n: Option<Vec3>,
    /// Backbone C position, when present.
    pub c: Option<Vec3>,
    /// Centroid of the side-chain heavy atoms (beyond CB included), when present.
    pub side_chain: Option<Vec3>,
}

/// A protein structure reduced to what docking needs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Protein {
    /// Name (file stem).
    pub name: String,
    /// Residues and HETATM groups in file order.
    pub residues: Vec<Residue>,
    /// Heavy atoms in file order.
    pub atoms: Vec<ProteinAtom>,
}

impl Protein {
    /// Indices of the amino-acid residues, i.e. those with a C-alpha: the nodes of the residue graph.
    pub fn amino_acids(&self) -> Vec<usize> {
        (0..self.residues.len()).filter(|&i| self.residues[i].ca.is_some()).collect()
    }
}
