//! Docking output: `poses.sdf` (all poses, best first, scores as SDF properties), `rank1.sdf`,
//! `complex_rank1.pdb` (protein with the top pose), `summary.json`, and the printed table.

use crate::chem::rdkit::Molecule;
use crate::chem::Ligand;
use crate::dock::{DockResult, DockedPose};
use crate::error::{Error, Result};
use crate::io::protein::write_complex_pdb;
use crate::io::sdf::sdf_record;
use std::fmt::Write;
use std::path::Path;

/// SDF properties of a pose (rank, site, conformer, population, confidence, affinity, energies, validity, latents).
pub fn pose_properties(pose: &DockedPose) -> Vec<(String, String)> {
    let mut props = vec![
        ("rank".to_string(), pose.rank.to_string()),
        ("site".to_string(), pose.site.to_string()),
        ("conformer".to_string(), pose.conformer.to_string()),
        ("population".to_string(), pose.population.to_string()),
    ];
    if let Some(c) = pose.confidence {
        props.push(("confidence".into(), format!("{c:.4}")));
    }
    if let Some(a) = pose.affinity {
        props.push(("minimizedAffinity".into(), format!("{a:.3}")));
    }
    if let Some(e) = pose.energy {
        props.push(("vina_energy".into(), format!("{e:.3}")));
    }
    if let Some(u) = pose.potential {
        props.push(("pair_potential".into(), format!("{u:.3}")));
    }
    if let Some(t) = pose.template {
        props.push(("template_overlap".into(), format!("{t:.3}")));
    }
    if let Some(c) = &pose.checks {
        props.push(("pb_valid".into(), c.pb_valid.to_string()));
        props.push(("min_protein_distance".into(), format!("{:.2}", c.min_protein_distance)));
    }
    if let Some(z) = &pose.latents {
        props.push(("latents".into(), z.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(" ")));
    }
    props
}

/// One pose as an SDF record, optionally with hydrogens placed by RDKit.
pub fn pose_record(ligand: &Ligand, pose: &DockedPose, hydrogens: bool) -> Result<String> {
    let heavy = sdf_record(ligand, &pose.coords, &pose_properties(pose));
    if !hydrogens {
        return Ok(heavy);
    }
    let block = heavy.split("M  END").next().unwrap_or("").to_string() + "M  END\n";
    let mol = Molecule::from_molblock(&block)
        .and_then(|m| m.with_hydrogens(true))
        .and_then(|m| m.molblock())
        .map_err(|e| Error::chemistry(ligand.name.clone(), format!("adding hydrogens: {e}")))?;
    let mut out = mol.trim_end().to_string();
    out.push('\n');
    for (k, v) in pose_properties(pose) {
        let _ = writeln!(out, "> <{k}>\n{v}\n");
    }
    out.push_str("$$$$\n");
    Ok(out)
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| Error::io(path, e))
}

/// Writes the output files of one docking run into `dir`.
pub fn write_outputs(dir: &Path, ligand: &Ligand, full_protein: &crate::chem::Protein, result: &DockResult, hydrogens: bool) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut all = String::new();
    for pose in &result.poses {
        all.push_str(&pose_record(ligand, pose, hydrogens)?);
    }
    write(&dir.join("poses.sdf"), &all)?;
    if let Some(best) = result.poses.first() {
        write(&dir.join("rank1.sdf"), &pose_record(ligand, best, hydrogens)?)?;
        write(&dir.join("complex_rank1.pdb"), &write_complex_pdb(full_protein, ligand, &best.coords, "LIG"))?;
    }
    let json = serde_json::to_string_pretty(result).map_err(|e| Error::Model(e.to_string()))?;
    write(&dir.join("summary.json"), &json)
}

/// A short text table of the top poses.
pub fn summary_table(result: &DockResult, top: usize) -> String {
    let mut s = format!("{}: {} poses in {:.1} s\n", result.name, result.poses.len(), result.seconds);
    let _ = writeln!(s, "{:>4}  {:>10}  {:>10}  {:>8}", "rank", "confidence", "affinity", "pb_valid");
    for p in result.poses.iter().take(top) {
        let _ = writeln!(
            s,
            "{:>4}  {:>10}  {:>10}  {:>8}",
            p.rank,
            p.confidence.map(|c| format!("{c:.3}")).unwrap_or("-".into()),
            p.affinity.map(|a| format!("{a:.2}")).unwrap_or("-".into()),
            p.pb_valid().map(|v| v.to_string()).unwrap_or("-".into()),
        );
    }
    s
}
