//! Input and output: proteins (PDB, mmCIF, PDBQT, gzip), ligands (SDF, MOL2, PDBQT, SMILES),
//! SDF and PDB writers, and PDBBind-style datasets.

pub mod dataset;
pub mod ligand;
pub mod pdbqt;
pub mod protein;
pub mod sdf;

use crate::error::{Error, Result};
use std::io::Read;
use std::path::Path;

/// Reads a text file, transparently decompressing `.gz`; invalid UTF-8 is an error naming the file.
pub fn read_text(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let bytes = if path.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .map_err(|e| Error::parse(path, None, format!("not a valid gzip file: {e}")))?;
        out
    } else {
        bytes
    };
    String::from_utf8(bytes).map_err(|_| Error::parse(path, None, "not a text file (invalid UTF-8; binary data?)"))
}
