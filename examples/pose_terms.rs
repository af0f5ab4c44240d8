//! What docked poses' Vina-like energies are made of: for every pose in a confidence-training
//! pose cache (`train confidence --docking` writes `confidence_poses_*.jsonl`), the unweighted
//! sums of Vina's five terms between ligand and protein and within the ligand, with the pose's
//! RMSD label, docking rank, energy and population. Input for studies of ranking rules
//! (`scripts/term_study.py`).
//!
//! Run: `cargo run --release --example pose_terms -- ../shared/data runs/conf7/confidence_poses_val.jsonl > val_terms.csv`.

use anyhow::{Context, Result};
use disco_dock::chem::conformer::ConformerOptions;
use disco_dock::chem::Vec3;
use disco_dock::io::dataset::{complex_files, PrepareCache};
use disco_dock::physics::{PocketBox, VinaLigand, VinaScorer, TERM_NAMES};
use disco_dock::train::confidence::CachedComplex;
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// CSV lines of one complex's poses.
fn complex_lines(data: &Path, cache: &PrepareCache, entry: &CachedComplex) -> Result<Vec<String>> {
    let files = complex_files(data, &entry.id)?;
    let (complex, _) = cache.get_or_prepare(&files, &ConformerOptions::default())?;
    let vina = VinaLigand::new(&complex.ligand.ligand, complex.ligand.torsions.len());
    let all: Vec<Vec3> = entry.poses.iter().flat_map(|p| p.coords.iter().copied()).collect();
    let scorer = VinaScorer::new(&complex.protein, &PocketBox::around(&all, 1.0), 1.0)?;
    let fmt = |v: Option<f64>| v.map_or(String::new(), |x| format!("{x:.4}"));
    entry
        .poses
        .iter()
        .map(|p| {
            let t = scorer.terms_exact(&vina, &p.coords)?;
            let terms: Vec<String> = t.inter.iter().chain(&t.intra).map(|v| format!("{v:.4}")).collect();
            Ok(format!(
                "{},{},{:.4},{},{},{},{},{}",
                entry.id,
                p.rank.map_or(String::new(), |r| r.to_string()),
                p.rmsd,
                fmt(p.energy),
                p.population.map_or(String::new(), |n| n.to_string()),
                vina.len(),
                vina.num_torsions(),
                terms.join(",")
            ))
        })
        .collect()
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: pose_terms DATA POSES.jsonl";
    let data = PathBuf::from(args.first().context(usage)?);
    let path = PathBuf::from(args.get(1).context(usage)?);
    let text = std::fs::read_to_string(&path).with_context(|| path.display().to_string())?;
    let entries: Vec<CachedComplex> = text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let cache = PrepareCache::new(PrepareCache::default_dir());
    let names: Vec<String> = TERM_NAMES.iter().map(|n| format!("inter_{n}")).chain(TERM_NAMES.iter().map(|n| format!("intra_{n}"))).collect();
    println!("id,rank,rmsd,energy,population,atoms,torsions,{}", names.join(","));
    let lines: Vec<Result<Vec<String>>> = entries.par_iter().map(|e| complex_lines(&data, &cache, e)).collect();
    for (entry, lines) in entries.iter().zip(lines) {
        match lines {
            Ok(lines) => lines.iter().for_each(|l| println!("{l}")),
            Err(e) => eprintln!("{}: skipped ({e:#})", entry.id),
        }
    }
    Ok(())
}
