//! The template library: every complex of a split as a [`TemplateEntry`] (sequence, pocket
//! C-alphas, crystal ligand), so docking can find the ligands of homologous proteins.

use crate::chem::conformer::{prepare_ligand, ConformerOptions};
use crate::dock::templates::{TemplateEntry, TemplateLibrary};
use crate::error::{Error, Result};
use crate::io::dataset::complex_files;
use crate::io::ligand::read_ligand_file;
use crate::io::protein::read_protein;
use rayon::prelude::*;
use std::path::Path;

/// The library entry of one complex of `data`: its protein and crystal ligand as read (no
/// conformer is generated).
fn entry(data: &Path, id: &str) -> Result<TemplateEntry> {
    let files = complex_files(data, id)?;
    let protein = read_protein(&files.protein)?;
    let records = read_ligand_file(&files.ligand)?;
    let record = records.first().ok_or_else(|| Error::invalid(files.ligand.display().to_string(), "no ligand record"))?;
    let ligand = prepare_ligand(record, &ConformerOptions { generate: false, ..Default::default() })?;
    let coords = ligand.reference.as_ref().unwrap_or(&ligand.ligand.coords);
    Ok(TemplateEntry::new(id, &protein, &ligand.ligand, coords))
}

/// The library of the complexes `ids` of `data`, in their order, with the complexes that could
/// not be read (id and error) beside it.
pub fn build_library(data: &Path, ids: &[String]) -> (TemplateLibrary, Vec<(String, Error)>) {
    let read: Vec<(String, Result<TemplateEntry>)> = ids.par_iter().map(|id| (id.clone(), entry(data, id))).collect();
    let mut library = TemplateLibrary::default();
    let mut failures = Vec::new();
    for (id, result) in read {
        match result {
            Ok(e) => library.entries.push(e),
            Err(e) => failures.push((id, e)),
        }
    }
    (library, failures)
}
