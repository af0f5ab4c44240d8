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

/// Writes serialisable rows (a header from the first one's field names, then a line each) to a
/// CSV file; errors name the file.
pub fn write_csv<T: serde::Serialize>(path: &Path, rows: &[T]) -> Result<()> {
    let csv_error = |e: csv::Error| Error::io(path, std::io::Error::other(e.to_string()));
    let mut writer = csv::Writer::from_path(path).map_err(csv_error)?;
    rows.iter().try_for_each(|row| writer.serialize(row).map_err(csv_error))?;
    writer.flush().map_err(|e| Error::io(path, e))
}

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
