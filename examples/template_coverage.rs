//! How many complexes of a split find template ligands in a library, and how close the best
//! placed template ligand lands to the crystal ligand: for each complex, the templates found at
//! a given least sequence identity, the best template's identity and pocket RMSD, and the
//! template overlap of the crystal pose (1: the crystal ligand lies on a template atom of its
//! own element everywhere), and how many distant templates' ligands resemble the complex's own
//! enough to count as close ones ([`MIN_SIMILARITY`]).
//!
//! Run: `cargo run --release --example template_coverage -- data/models/default/templates.json.gz ../shared/data ../shared/data/splits/val.txt 0.3 > coverage.csv`.
//! With a fifth argument `json` it writes instead one JSON line per complex listing each
//! template (id, distant, identity, pocket RMSD, ligand similarity, atoms in the complex's
//! frame), for re-ranking docked poses offline.

use anyhow::{Context, Result};
use disco_dock::chem::centroid;
use disco_dock::chem::fingerprint::{morgan, tanimoto};
use disco_dock::dock::templates::{template_overlap, Template, TemplateLibrary, MIN_SIMILARITY};
use disco_dock::io::dataset::read_split;
use disco_dock::train::templates::crystal_complex;
use std::path::{Path, PathBuf};
use std::time::Instant;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (library, data, split, min_identity, json) = match args.as_slice() {
        [l, d, s, m] => (l, d, s, m, false),
        [l, d, s, m, j] if j == "json" => (l, d, s, m, true),
        _ => anyhow::bail!("usage: template_coverage <templates.json.gz> <data> <split.txt> <min identity> [json]"),
    };
    let library = TemplateLibrary::load(&PathBuf::from(library))?;
    let min_identity: f64 = min_identity.parse().context("min identity")?;
    if !json {
        println!("id,templates,best_identity,best_pocket_rmsd,crystal_overlap,site_distance,seconds,similar_distant,identities");
    }
    for id in read_split(&PathBuf::from(split))? {
        let (protein, ligand, coords) = match crystal_complex(Path::new(data), &id) {
            Ok(complex) => complex,
            Err(e) => {
                eprintln!("{id}: {e}");
                continue;
            }
        };
        let start = Instant::now();
        let found: Vec<_> = library.find_with(&protein, min_identity).into_iter().filter(|t| t.id != id).collect();
        let seconds = start.elapsed().as_secs_f64();
        let fingerprint = morgan(&ligand);
        if json {
            println!("{}", template_json(&id, &found, &fingerprint));
            continue;
        }
        let elements = ligand.elements();
        let overlap = template_overlap(&found, &elements, &coords);
        let best_identity = found.iter().map(|t| t.identity).fold(0.0, f64::max);
        let best_rmsd = found.first().map_or(f64::NAN, |t| t.pocket_rmsd);
        let site = found.iter().map(|t| (centroid(&t.atoms.iter().map(|a| a.1).collect::<Vec<_>>()) - centroid(&coords)).norm()).fold(f64::INFINITY, f64::min);
        let similar = found.iter().filter(|t| t.distant && tanimoto(&fingerprint, &t.fingerprint) >= MIN_SIMILARITY).count();
        let mut identities: Vec<f64> = found.iter().map(|t| t.identity).collect();
        identities.sort_by(|a, b| b.total_cmp(a));
        let identities: Vec<String> = identities.iter().map(|x| format!("{x:.2}")).collect();
        println!("{id},{},{best_identity:.3},{best_rmsd:.3},{overlap:.3},{site:.2},{seconds:.2},{similar},{}", found.len(), identities.join(";"));
    }
    Ok(())
}

/// One complex's templates as a JSON line: each template's id, whether distant, identity,
/// pocket RMSD, ligand similarity to the complex's own and atoms (element, x, y, z).
fn template_json(id: &str, found: &[Template], fingerprint: &[u32]) -> serde_json::Value {
    let templates: Vec<serde_json::Value> = found
        .iter()
        .map(|t| {
            let atoms: Vec<(u8, f64, f64, f64)> = t.atoms.iter().map(|(e, p)| (*e, p.x, p.y, p.z)).collect();
            serde_json::json!({"id": t.id, "distant": t.distant, "identity": t.identity, "pocket_rmsd": t.pocket_rmsd, "similarity": tanimoto(fingerprint, &t.fingerprint), "atoms": atoms})
        })
        .collect();
    serde_json::json!({"id": id, "templates": templates})
}
