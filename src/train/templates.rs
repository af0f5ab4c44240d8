//! The template library: every complex of a split as a [`TemplateEntry`] (sequence, pocket
//! C-alphas, crystal ligand), so docking can find the ligands of homologous proteins.

use crate::chem::conformer::{prepare_ligand, ConformerOptions};
use crate::chem::{Ligand, Protein, Vec3};
use crate::dock::templates::{TemplateEntry, TemplateLibrary};
use crate::error::{Error, Result};
use crate::io::dataset::complex_files;
use crate::io::ligand::read_ligand_file;
use crate::io::protein::read_protein;
use rayon::prelude::*;
use std::path::Path;

/// One complex of `data` as read: its protein, its crystal ligand and that ligand's heavy-atom
/// coordinates (no conformer is generated).
pub fn crystal_complex(data: &Path, id: &str) -> Result<(Protein, Ligand, Vec<Vec3>)> {
    let files = complex_files(data, id)?;
    let protein = read_protein(&files.protein)?;
    let records = read_ligand_file(&files.ligand)?;
    let record = records.first().ok_or_else(|| Error::invalid(files.ligand.display().to_string(), "no ligand record"))?;
    let ligand = prepare_ligand(record, &ConformerOptions { generate: false, ..Default::default() })?;
    let coords = ligand.reference.unwrap_or_else(|| ligand.ligand.coords.clone());
    Ok((protein, ligand.ligand, coords))
}

/// The library entry of one complex of `data`: its protein and crystal ligand as read.
fn entry(data: &Path, id: &str) -> Result<TemplateEntry> {
    let (protein, ligand, coords) = crystal_complex(data, id)?;
    Ok(TemplateEntry::new(id, &protein, &ligand, &coords))
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
