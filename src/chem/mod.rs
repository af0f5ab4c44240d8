//! Chemistry: molecule types, elements, the RDKit bridge, conformers, rotatable bonds and
//! fingerprints.

pub mod conformer;
pub mod elements;
pub mod fingerprint;
pub mod rdkit;
pub mod torsion;
pub mod types;

pub use types::*;
