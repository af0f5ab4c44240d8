//! Do docked poses twist their rotatable bonds into angles crystal ligands avoid? Learns, from
//! the crystal ligands of the training split, a histogram of each kind of rotatable bond's
//! dihedral angle (kind: element, hybridisation and aromaticity of the two bond atoms), then
//! writes for every pose of a pose cache its torsional surprise, −Σ ln(p(φ) / uniform) over its
//! rotatable bonds (0 for angles as common as chance, positive for rare ones). Vina charges
//! nothing for torsions, so this is information its energy lacks. Study input for
//! `scripts/extra_term_study.py --term torsion_surprise`.
//!
//! Run: `cargo run --release --example torsion_terms -- ../shared/data ../shared/data/splits/train.txt POSES.jsonl > terms.csv`.

use anyhow::{Context, Result};
use disco_dock::chem::conformer::ConformerOptions;
use disco_dock::chem::{Hybridization, Ligand, Torsion, Vec3};
use disco_dock::diffusion::pose::dihedral_reference;
use disco_dock::geometry::dihedral;
use disco_dock::io::dataset::{complex_files, read_split, PrepareCache};
use disco_dock::train::confidence::read_pose_cache;
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Bins of |φ| over 0–180°.
const BINS: usize = 12;
/// Pseudo-counts per bin.
const PSEUDO: f64 = 2.0;

type Kind = ((u8, u8), (u8, u8));

fn atom_kind(ligand: &Ligand, i: usize) -> (u8, u8) {
    let a = &ligand.atoms[i];
    let h = if a.aromatic {
        0
    } else {
        match a.hybridization {
            Hybridization::Sp2 => 1,
            Hybridization::Sp3 => 2,
            _ => 3,
        }
    };
    (a.element, h)
}

/// Kind and |φ| bin of each torsion of a pose.
fn torsion_bins(ligand: &Ligand, torsions: &[Torsion], pose: &[Vec3]) -> Vec<(Kind, usize)> {
    let neighbours = ligand.neighbours();
    torsions
        .iter()
        .filter_map(|t| {
            let (a, b) = t.axis;
            let (na, nb) = (dihedral_reference(&neighbours, a, b)?, dihedral_reference(&neighbours, b, a)?);
            let phi = dihedral(&pose[na], &pose[a], &pose[b], &pose[nb]).abs().to_degrees();
            let bin = ((phi / 180.0 * BINS as f64) as usize).min(BINS - 1);
            let (ka, kb) = (atom_kind(ligand, a), atom_kind(ligand, b));
            Some((if ka <= kb { (ka, kb) } else { (kb, ka) }, bin))
        })
        .collect()
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: torsion_terms DATA TRAIN_SPLIT POSES.jsonl";
    let data = PathBuf::from(args.first().context(usage)?);
    let train = read_split(Path::new(args.get(1).context(usage)?))?;
    let entries = read_pose_cache(Path::new(args.get(2).context(usage)?))?;
    let cache = PrepareCache::new(PrepareCache::default_dir());
    let load = |id: &str| complex_files(&data, id).and_then(|f| cache.get_or_prepare(&f, &ConformerOptions::default())).map(|c| c.0);
    let crystal_bins: Vec<(Kind, usize)> = train
        .par_iter()
        .filter_map(|id| load(id).ok())
        .flat_map(|c| c.ligand.reference.as_ref().map_or(Vec::new(), |x| torsion_bins(&c.ligand.ligand, &c.ligand.torsions, x)))
        .collect();
    let mut hist: HashMap<Kind, [f64; BINS]> = HashMap::new();
    for (kind, bin) in &crystal_bins {
        hist.entry(*kind).or_insert([0.0; BINS])[*bin] += 1.0;
    }
    eprintln!("{} crystal torsions of {} kinds", crystal_bins.len(), hist.len());
    let surprise = |kind: &Kind, bin: usize| -> f64 {
        let h = hist.get(kind).copied().unwrap_or([0.0; BINS]);
        let p = (h[bin] + PSEUDO) / (h.iter().sum::<f64>() + PSEUDO * BINS as f64);
        -(p * BINS as f64).ln()
    };
    println!("id,rank,rmsd,energy,torsion_surprise");
    for entry in &entries {
        let Ok(c) = load(&entry.id) else {
            eprintln!("{}: skipped", entry.id);
            continue;
        };
        for p in &entry.poses {
            let s: f64 = torsion_bins(&c.ligand.ligand, &c.ligand.torsions, &p.coords).iter().map(|(k, b)| surprise(k, *b)).sum();
            let fmt = |v: Option<f64>| v.map_or(String::new(), |x| format!("{x:.4}"));
            println!("{},{},{:.4},{},{s:.4}", entry.id, p.rank.map_or(String::new(), |r| r.to_string()), p.rmsd, fmt(p.energy));
        }
    }
    Ok(())
}
