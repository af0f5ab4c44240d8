//! Flexible refinement of docked poses, for choosing its stiffness on val: every pose of a
//! benchmark pose cache (`benchmark --poses-cache`) is polished with every atom free under the
//! elastic model of `physics::flex`, at each stiffness factor given, and printed with its new
//! symmetry-corrected RMSD to the crystal ligand, Vina-like energy (inter + intra, exact) and
//! strain. Factor 0 means no flexible step: the pose as docked, rescored; a negative factor
//! re-refines it rigidly (translation, rotation, torsions) with the same exact scoring, the
//! control for the flexible step. The docking rule's
//! other terms (confidence, pair potential) come from the benchmark's `--poses-out` CSV, which
//! `scripts/flex_study.py` joins with this output.
//!
//! Run: `cargo run --release --example flex_rescore -- ../shared/data val60.jsonl 0,1,0.3,0.1 > flex.csv`.

use anyhow::{Context, Result};
use disco_dock::chem::conformer::ConformerOptions;
use disco_dock::chem::Vec3;
use disco_dock::geometry::{ligand_automorphisms, rmsd, symmetry_rmsd};
use disco_dock::io::dataset::{complex_files, PrepareCache};
use disco_dock::physics::{refine, refine_flexible, ElasticModel, PocketBox, RefineOptions, Stiffness, VinaLigand, VinaScorer};
use disco_dock::train::confidence::{read_pose_cache, CachedComplex};
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// CSV lines of one complex's poses at every stiffness factor.
fn complex_lines(data: &Path, cache: &PrepareCache, entry: &CachedComplex, factors: &[f64]) -> Result<Vec<String>> {
    let files = complex_files(data, &entry.id)?;
    let (complex, _) = cache.get_or_prepare(&files, &ConformerOptions::default())?;
    let prepared = &complex.ligand;
    let crystal = prepared.reference.as_ref().context("no crystal coordinates")?;
    let autos = ligand_automorphisms(&prepared.ligand);
    let vina = VinaLigand::new(&prepared.ligand, prepared.torsions.len());
    let all: Vec<Vec3> = entry.poses.iter().flat_map(|p| p.coords.iter().copied()).collect();
    let scorer = VinaScorer::new(&complex.protein, &PocketBox::around(&all, 4.0), 1.0)?;
    let options = RefineOptions { exact: true, ..Default::default() };
    let mut lines = Vec::new();
    for (n, pose) in entry.poses.iter().enumerate() {
        let rank = pose.rank.unwrap_or(n + 1);
        for &factor in factors {
            let (coords, energy, strain, steps) = if factor > 0.0 {
                let model = ElasticModel::new(&prepared.ligand, &prepared.torsions, &pose.coords, Stiffness::scaled(factor))?;
                let r = refine_flexible(&scorer, &vina, &model, &pose.coords, &options)?;
                (r.coords, r.energy, r.strain, r.steps)
            } else if factor < 0.0 {
                let r = refine(&scorer, &vina, &prepared.torsions, &pose.coords, &options)?;
                (r.coords, r.energy, 0.0, r.steps)
            } else {
                (pose.coords.clone(), scorer.score_exact(&vina, &pose.coords)?, 0.0, 0)
            };
            let moved = rmsd(&coords, &pose.coords);
            lines.push(format!(
                "{},{rank},{factor},{:.4},{:.4},{:.4},{:.4},{steps},{moved:.4}",
                entry.id,
                symmetry_rmsd(&coords, crystal, &autos),
                energy.objective(),
                energy.total,
                strain
            ));
        }
    }
    Ok(lines)
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: flex_rescore DATA POSES.jsonl FACTORS (comma-separated, 0 = as docked, -1 = rigid re-refinement)";
    let data = PathBuf::from(args.first().context(usage)?);
    let entries = read_pose_cache(Path::new(args.get(1).context(usage)?))?;
    let factors: Vec<f64> = args.get(2).context(usage)?.split(',').map(|f| f.trim().parse()).collect::<Result<_, _>>()?;
    let cache = PrepareCache::new(PrepareCache::default_dir());
    println!("id,rank,factor,rmsd,energy,affinity,strain,steps,moved");
    let lines: Vec<Result<Vec<String>>> = entries.par_iter().map(|e| complex_lines(&data, &cache, e, &factors)).collect();
    for (entry, lines) in entries.iter().zip(lines) {
        match lines {
            Ok(lines) => lines.iter().for_each(|l| println!("{l}")),
            Err(e) => eprintln!("{}: skipped ({e:#})", entry.id),
        }
    }
    Ok(())
}
