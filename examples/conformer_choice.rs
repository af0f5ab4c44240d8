//! Data for choosing which RDKit conformers to dock: for each complex of a split, K ETKDG
//! conformers (the seeds `--conformers` uses), each one's floor (RMSD to the crystal ligand
//! after conformer matching, [`conformer_floor`]) and the K × K matrix of torsion-free shape
//! distances between them ([`shape_distances`], what `--conformer-candidates` chooses by). A choice rule
//! that sees only the matrix (a medoid, the pair farthest apart) can then be scored by the
//! floors it would reach (`python3 scripts/conformer_choice.py choice.jsonl`).
//!
//! Run: `cargo run --release --example conformer_choice -- ../shared/data ../shared/data/splits/val.txt K [seed] > choice.jsonl`.

use anyhow::{Context, Result};
use disco_dock::bench::conformer_floor;
use disco_dock::chem::conformer::{prepare_conformers, shape_distances, ConformerOptions, PreparedLigand};
use disco_dock::geometry::ligand_automorphisms;
use disco_dock::io::dataset::{complex_files, read_split};
use disco_dock::io::ligand::read_ligand_file;
use rayon::prelude::*;
use std::path::Path;

/// One complex's conformers: floors (NaN where matching failed) and pairwise shape distances.
#[derive(serde::Serialize)]
struct Choice {
    id: String,
    atoms: usize,
    torsions: usize,
    floors: Vec<f64>,
    distances: Vec<Vec<f64>>,
}

/// The K conformers (in seed order; one RDKit cannot embed is left out) of one complex's
/// ligand and its crystal coordinates.
fn conformers(data: &Path, id: &str, k: usize, seed: u32) -> Result<(Vec<PreparedLigand>, Vec<disco_dock::chem::Vec3>)> {
    let files = complex_files(data, id)?;
    let records = read_ligand_file(&files.ligand)?;
    let record = records.first().context("no ligand record")?;
    let all = prepare_conformers(record, &ConformerOptions { seed, ..Default::default() }, k, 1)?;
    let crystal = all[0].reference.clone().context("no crystal coordinates")?;
    Ok((all, crystal))
}

fn choice(data: &Path, id: &str, k: usize, seed: u32) -> Result<Choice> {
    let (all, crystal) = conformers(data, id, k, seed)?;
    let autos = ligand_automorphisms(&all[0].ligand);
    let floors = all.iter().map(|l| conformer_floor(l, &crystal, &autos).unwrap_or(f64::NAN)).collect();
    let distances = shape_distances(&all);
    Ok(Choice { id: id.to_string(), atoms: crystal.len(), torsions: all[0].torsions.len(), floors, distances })
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    anyhow::ensure!(args.len() >= 3, "usage: conformer_choice DATA SPLIT K [seed]");
    let data = Path::new(&args[0]);
    let ids = read_split(Path::new(&args[1]))?;
    let k: usize = args[2].parse()?;
    let seed: u32 = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(0);
    let lines: Vec<String> = ids
        .par_iter()
        .map(|id| match choice(data, id, k, seed) {
            Ok(c) => serde_json::to_string(&c).map_err(Into::into),
            Err(e) => {
                eprintln!("{id}: {e:#}");
                Ok(String::new())
            }
        })
        .collect::<Result<_>>()?;
    for line in lines.iter().filter(|l| !l.is_empty()) {
        println!("{line}");
    }
    Ok(())
}
