//! Chemistry: molecule types, elements, the RDKit bridge, conformers and rotatable bonds.

pub mod conformer;
pub mod elements;
pub mod rdkit;
pub mod torsion;
pub mod types;

pub use types::*;
