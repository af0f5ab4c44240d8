//! What docked poses' Vina-like energies are made of: for every pose in a confidence-training
//! pose cache (`train confidence --docking` writes `confidence_poses_*.jsonl`), the unweighted
//! sums of Vina's five terms between ligand and protein and within the ligand, with the pose's
//! RMSD label, docking rank, energy and population, and two counts Vina's terms lack: the
//! ligand's hydrogen-bond donors and acceptors buried in the protein (at least
//! [`BURIED_NEIGHBOURS`] protein heavy atoms within [`BURIED_REACH`]), and those of them without a partner
//! (no complementary protein atom within [`PARTNER_REACH`]): a buried polar group that makes no
//! hydrogen bond pays its desolvation for nothing, which Vina does not charge. Input for studies
//! of ranking rules (`scripts/term_study.py`, `scripts/extra_term_study.py`). Also reads the pose
//! cache a benchmark writes (`benchmark --poses-cache`). Given a pair potential
//! (`train potential`), a last column holds each pose's score under it.
//!
//! Run: `cargo run --release --example pose_terms -- ../shared/data runs/conf7/confidence_poses_val.jsonl [potential.json] > val_terms.csv`.

use anyhow::{Context, Result};
use disco_dock::chem::conformer::ConformerOptions;
use disco_dock::chem::Vec3;
use disco_dock::io::dataset::{complex_files, PrepareCache};
use disco_dock::chem::Protein;
use disco_dock::graph::CellList;
use disco_dock::physics::{protein_types, ContactAtoms, PairPotential, PocketBox, VinaLigand, VinaScorer, XsType, TERM_NAMES};
use disco_dock::train::confidence::{read_pose_cache, CachedComplex};
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// Protein heavy atoms within [`BURIED_REACH`] that make a ligand atom buried.
const BURIED_NEIGHBOURS: usize = 8;
/// Distance (Å) within which protein heavy atoms count towards burial.
const BURIED_REACH: f64 = 4.5;
/// Largest donor-acceptor distance (Å) that counts as a hydrogen-bond partner.
const PARTNER_REACH: f64 = 3.6;

/// The protein's heavy atoms in a cell list, with their XS types.
struct ProteinAtoms {
    cells: CellList,
    types: Vec<XsType>,
}

impl ProteinAtoms {
    fn new(protein: &Protein) -> Self {
        let coords: Vec<Vec3> = protein.atoms.iter().map(|a| a.coord).collect();
        ProteinAtoms { cells: CellList::new(&coords, BURIED_REACH), types: protein_types(protein) }
    }

    /// (buried donors/acceptors, of them without a partner) of a pose.
    fn buried_polar(&self, types: &[XsType], pose: &[Vec3]) -> (usize, usize) {
        let polar = |t: &XsType| t.is_donor() || t.is_acceptor();
        let mut counts = (0, 0);
        for (t, p) in types.iter().zip(pose).filter(|(t, _)| polar(t)) {
            let (mut near, mut partner) = (0, false);
            self.cells.for_each_within(p, BURIED_REACH, |j, d2| {
                near += 1;
                partner |= d2 <= PARTNER_REACH * PARTNER_REACH && t.hbond_pair(self.types[j]);
            });
            if near >= BURIED_NEIGHBOURS {
                counts.0 += 1;
                counts.1 += usize::from(!partner);
            }
        }
        counts
    }
}

/// CSV lines of one complex's poses.
fn complex_lines(data: &Path, cache: &PrepareCache, entry: &CachedComplex, potential: Option<&PairPotential>) -> Result<Vec<String>> {
    let files = complex_files(data, &entry.id)?;
    let (complex, _) = cache.get_or_prepare(&files, &ConformerOptions::default())?;
    let vina = VinaLigand::new(&complex.ligand.ligand, complex.ligand.torsions.len());
    let all: Vec<Vec3> = entry.poses.iter().flat_map(|p| p.coords.iter().copied()).collect();
    let scorer = VinaScorer::new(&complex.protein, &PocketBox::around(&all, 1.0), 1.0)?;
    let protein = ProteinAtoms::new(&complex.protein);
    let contacts = ContactAtoms::new(protein.cells.points(), protein.types.clone());
    let fmt = |v: Option<f64>| v.map_or(String::new(), |x| format!("{x:.4}"));
    entry
        .poses
        .iter()
        .map(|p| {
            let t = scorer.terms_exact(&vina, &p.coords)?;
            let terms: Vec<String> = t.inter.iter().chain(&t.intra).map(|v| format!("{v:.4}")).collect();
            let (buried, unpaired) = protein.buried_polar(&vina.types, &p.coords);
            let pmf = potential.map_or(String::new(), |pot| format!(",{:.4}", pot.score(&contacts, &vina.types, &p.coords)));
            Ok(format!(
                "{},{},{:.4},{},{},{},{},{},{buried},{unpaired}{pmf}",
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
    let usage = "usage: pose_terms DATA POSES.jsonl [POTENTIAL.json]";
    let data = PathBuf::from(args.first().context(usage)?);
    let path = PathBuf::from(args.get(1).context(usage)?);
    let entries = read_pose_cache(&path)?;
    let potential = args.get(2).map(|p| PairPotential::load(Path::new(p))).transpose()?;
    let cache = PrepareCache::new(PrepareCache::default_dir());
    let names: Vec<String> = TERM_NAMES.iter().map(|n| format!("inter_{n}")).chain(TERM_NAMES.iter().map(|n| format!("intra_{n}"))).collect();
    println!("id,rank,rmsd,energy,population,atoms,torsions,{},buried_polar,unpaired_polar{}", names.join(","), if potential.is_some() { ",pmf" } else { "" });
    let lines: Vec<Result<Vec<String>>> = entries.par_iter().map(|e| complex_lines(&data, &cache, e, potential.as_ref())).collect();
    for (entry, lines) in entries.iter().zip(lines) {
        match lines {
            Ok(lines) => lines.iter().for_each(|l| println!("{l}")),
            Err(e) => eprintln!("{}: skipped ({e:#})", entry.id),
        }
    }
    Ok(())
}
