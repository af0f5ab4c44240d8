//! Checks disco-dock's Vina-like intermolecular energy against AutoDock Vina's `--score_only`.
//!
//! For each complex id (read from `../shared/data/complexes/<id>/`, or the folder in
//! `VINA_COMPARE_DATA`) the crystal ligand pose and nine rigid perturbations of it (seeded random
//! translations of 0-2 Å and rotations of up to 20° about the centroid) are scored twice:
//! - by [`VinaScorer::score_exact`] (sum over protein atoms, no grid), taking `inter`, the weighted
//!   ligand-protein sum before the rotatable-bond normalisation;
//! - by `vina --score_only` on a receptor PDBQT and one rigid ligand PDBQT per pose written here,
//!   taking "(1) Final Intermolecular Energy".
//!
//! The PDBQT files carry our own typing ([`protein_types`], [`ligand_types`]) in AutoDock form:
//! `NA`/`OA` for acceptors, one `HD` placed 1 Å from every donor N/O (Vina perceives donors from
//! bonded polar hydrogens), `A` for aromatic ligand carbons, metals under their element symbol.
//! Vina still decides carbon polarity itself, from the bonds it perceives by distance.
//!
//! Vina 1.2.3's `--score_only` sums pair terms read from a table over r² (32 samples per Å²,
//! piecewise constant), not the analytic terms used here; so poses without clashes agree to about
//! 0.01 kcal/mol while heavily clashing ones come out up to ~1.5% higher here.
//!
//! Run: `cargo run --release --example vina_compare -- <out_dir> <id>...`. Files land in
//! `<out_dir>/<id>/`; the table goes to stdout and `<out_dir>/vina_compare.csv`.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use disco_dock::chem::conformer::{prepare_ligand, ConformerOptions};
use disco_dock::chem::{centroid, elements, Ligand, Protein, Vec3};
use disco_dock::io::dataset::complex_files;
use disco_dock::io::ligand::read_ligand_file;
use disco_dock::io::protein::read_protein;
use disco_dock::physics::{ligand_types, protein_types, PocketBox, VinaLigand, VinaScorer, XsType};
use nalgebra::{Rotation3, Unit};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Poses per complex: the crystal pose plus perturbations.
const POSES: usize = 10;
/// Largest translation of a perturbed pose, Å.
const MAX_SHIFT: f64 = 2.0;
/// Largest rotation of a perturbed pose, degrees.
const MAX_ROTATION_DEG: f64 = 20.0;
/// Length of the polar hydrogens added to donors, Å.
const HD_LENGTH: f64 = 1.0;
/// Heavy atoms closer than this count as bonded when placing hydrogens on protein donors, Å.
const BOND_CUTOFF: f64 = 2.0;
/// Padding of Vina's box around all poses of a complex, Å.
const BOX_PADDING: f64 = 4.0;

/// One scored pose.
struct Row {
    id: String,
    pose: usize,
    shift: f64,
    rotation_deg: f64,
    ours: f64,
    vina: f64,
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((out_dir, ids)) = args.split_first().filter(|(_, ids)| !ids.is_empty()) else {
        bail!("usage: vina_compare <out_dir> <id>...");
    };
    let out_dir = PathBuf::from(out_dir);
    fs::create_dir_all(&out_dir)?;
    let mut rows = Vec::new();
    for id in ids {
        match compare_complex(id, &out_dir.join(id)) {
            Ok(r) => rows.extend(r),
            Err(e) => eprintln!("{id}: skipped: {e:#}"),
        }
    }
    print_table(&rows);
    print_summary(&rows);
    let csv = out_dir.join("vina_compare.csv");
    fs::write(&csv, to_csv(&rows))?;
    println!("wrote {}", csv.display());
    Ok(())
}

/// Folder holding `<id>/<id>_protein.pdb.gz` and `<id>/<id>_ligand.sdf`.
fn data_dir() -> PathBuf {
    std::env::var_os("VINA_COMPARE_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/complexes"))
}

/// Scores all poses of one complex with both programs; PDBQT files go to `dir`.
fn compare_complex(id: &str, dir: &Path) -> Result<Vec<Row>> {
    let files = complex_files(&data_dir(), id)?;
    let protein = read_protein(&files.protein)?;
    let records = read_ligand_file(&files.ligand)?;
    let options = ConformerOptions { generate: false, ..Default::default() };
    let ligand = prepare_ligand(records.first().context("no ligand record")?, &options)?.ligand;
    fs::create_dir_all(dir)?;

    let poses = make_poses(&ligand.coords, id);
    let all: Vec<Vec3> = poses.iter().flat_map(|(_, _, c)| c.iter().copied()).collect();
    let pocket = PocketBox::around(&all, BOX_PADDING);
    let scorer = VinaScorer::new(&protein, &pocket, VinaScorer::DEFAULT_SPACING)?;
    let vina_ligand = VinaLigand::new(&ligand, 0);
    let receptor = dir.join("receptor.pdbqt");
    fs::write(&receptor, receptor_pdbqt(&protein))?;

    let mut rows = Vec::new();
    for (k, (shift, rotation_deg, coords)) in poses.iter().enumerate() {
        let ours = scorer.score_exact(&vina_ligand, coords)?.inter;
        let pose_file = dir.join(format!("pose{k:02}.pdbqt"));
        fs::write(&pose_file, ligand_pdbqt(&ligand, coords))?;
        let vina = vina_score(&receptor, &pose_file, &pocket)?;
        rows.push(Row { id: id.to_string(), pose: k, shift: *shift, rotation_deg: *rotation_deg, ours, vina });
    }
    Ok(rows)
}

/// The crystal pose and `POSES - 1` rigid perturbations, each with its shift (Å) and rotation
/// angle (degrees); seeded by the complex id.
fn make_poses(crystal: &[Vec3], id: &str) -> Vec<(f64, f64, Vec<Vec3>)> {
    let seed = id.bytes().fold(17u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64));
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let centre = centroid(crystal);
    let mut poses = vec![(0.0, 0.0, crystal.to_vec())];
    for _ in 1..POSES {
        let shift = rng.gen_range(0.0..MAX_SHIFT);
        let angle = rng.gen_range(0.0..MAX_ROTATION_DEG);
        let rotation = Rotation3::from_axis_angle(&random_unit(&mut rng), angle.to_radians());
        let translation = random_unit(&mut rng).into_inner() * shift;
        let coords = crystal.iter().map(|p| centre + rotation * (p - centre) + translation).collect();
        poses.push((shift, angle, coords));
    }
    poses
}

/// A uniformly random direction.
fn random_unit(rng: &mut ChaCha8Rng) -> Unit<Vec3> {
    loop {
        let v = Vec3::new(rng.gen_range(-1.0..1.0), rng.gen_range(-1.0..1.0), rng.gen_range(-1.0..1.0));
        if (0.1..=1.0).contains(&v.norm()) {
            return Unit::new_normalize(v);
        }
    }
}

/// AutoDock type of a heavy atom with our XS type (`aromatic` picks `A` for carbon).
fn ad_type(t: XsType, element: u8, aromatic: bool) -> &'static str {
    use XsType::*;
    match t {
        CarbonHydrophobic | CarbonPolar if aromatic => "A",
        CarbonHydrophobic | CarbonPolar => "C",
        NitrogenAcceptor | NitrogenDonorAcceptor => "NA",
        NitrogenPolar | NitrogenDonor => "N",
        OxygenAcceptor | OxygenDonorAcceptor => "OA",
        OxygenPolar | OxygenDonor => "O",
        Sulfur => "S",
        Phosphorus => "P",
        Fluorine => "F",
        Chlorine => "Cl",
        Bromine => "Br",
        Iodine => "I",
        Metal | Other => elements::symbol(element),
    }
}

/// Position of a polar hydrogen on the donor at `atom`, pointing away from its bonded `neighbours`.
fn hydrogen_position(atom: Vec3, neighbours: &[Vec3]) -> Vec3 {
    let away: Vec3 = neighbours.iter().map(|n| -(n - atom).normalize()).sum();
    let direction = if away.norm() > 0.1 {
        away.normalize()
    } else if let Some(n) = neighbours.first() {
        // Linear or symmetric surroundings: any direction perpendicular to the first bond.
        (n - atom).cross(&Vec3::new(0.3, 0.5, 0.8)).normalize()
    } else {
        Vec3::x()
    };
    atom + direction * HD_LENGTH
}

/// Residue name, chain and number of a PDBQT record.
type ResidueId<'a> = (&'a str, &'a str, isize);

/// Residue fields of every ligand record.
const LIGAND_RESIDUE: ResidueId<'static> = ("LIG", "L", 1);

/// One PDBQT ATOM/HETATM record (AutoDockTools' column layout), charge 0.
fn atom_record(record: &str, serial: usize, name: &str, (residue, chain, number): ResidueId, p: &Vec3, ad: &str) -> String {
    let name = if name.len() >= 4 { name[..4].to_string() } else { format!(" {name:<3}") };
    let chain = chain.chars().next().unwrap_or('A');
    format!(
        "{record:<6}{:>5} {name:<4} {residue:>3} {chain}{:>4}    {:8.3}{:8.3}{:8.3}{:6.2}{:6.2}    {:6.3} {ad:<2}\n",
        serial % 100_000,
        number % 10_000,
        p.x,
        p.y,
        p.z,
        1.0,
        0.0,
        0.0
    )
}

/// Receptor PDBQT: every heavy atom with its AutoDock type, plus an `HD` on each donor N/O.
fn receptor_pdbqt(protein: &Protein) -> String {
    let types = protein_types(protein);
    let coords: Vec<Vec3> = protein.atoms.iter().map(|a| a.coord).collect();
    let mut out = String::new();
    let mut serial = 0;
    for (i, (atom, &t)) in protein.atoms.iter().zip(&types).enumerate() {
        let res = &protein.residues[atom.residue];
        let record = if atom.hetero { "HETATM" } else { "ATOM" };
        let mut write = |name: &str, p: &Vec3, ad: &str| {
            serial += 1;
            out += &atom_record(record, serial, name, (&res.name, &res.chain, res.number), p, ad);
        };
        write(&atom.name, &atom.coord, ad_type(t, atom.element, false));
        if t.is_donor() && matches!(atom.element, 7 | 8) {
            let neighbours: Vec<Vec3> =
                coords.iter().enumerate().filter(|&(j, c)| j != i && (c - atom.coord).norm() < BOND_CUTOFF).map(|(_, c)| *c).collect();
            write("HD", &hydrogen_position(atom.coord, &neighbours), "HD");
        }
    }
    out
}

/// Rigid ligand PDBQT (one ROOT, `TORSDOF 0`) of `ligand` at `coords`, with `HD` on donor N/O.
fn ligand_pdbqt(ligand: &Ligand, coords: &[Vec3]) -> String {
    let types = ligand_types(ligand);
    let neighbours = ligand.neighbours();
    let mut out = String::from("REMARK  rigid ligand written by disco-dock's vina_compare example\nROOT\n");
    let mut serial = 0;
    for (i, (atom, &t)) in ligand.atoms.iter().zip(&types).enumerate() {
        serial += 1;
        let name = format!("{}{}", elements::symbol(atom.element), i + 1);
        out += &atom_record("HETATM", serial, &name, LIGAND_RESIDUE, &coords[i], ad_type(t, atom.element, atom.aromatic));
        if t.is_donor() && matches!(atom.element, 7 | 8) {
            let bonded: Vec<Vec3> = neighbours[i].iter().map(|&j| coords[j]).collect();
            serial += 1;
            out += &atom_record("HETATM", serial, "HD", LIGAND_RESIDUE, &hydrogen_position(coords[i], &bonded), "HD");
        }
    }
    out += "ENDROOT\nTORSDOF 0\n";
    out
}

/// Vina's "(1) Final Intermolecular Energy" of a rigid ligand, scored in `pocket`.
fn vina_score(receptor: &Path, ligand: &Path, pocket: &PocketBox) -> Result<f64> {
    let mut cmd = Command::new("vina");
    cmd.arg("--score_only").arg("--receptor").arg(receptor).arg("--ligand").arg(ligand);
    for (axis, k) in [("x", 0), ("y", 1), ("z", 2)] {
        cmd.arg(format!("--center_{axis}")).arg(format!("{:.3}", pocket.centre[k]));
        cmd.arg(format!("--size_{axis}")).arg(format!("{:.3}", pocket.size[k]));
    }
    let output = cmd.output().context("running vina (is /usr/bin/vina installed?)")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().find(|l| l.trim_start().starts_with("(1) Final Intermolecular Energy"));
    let value = line.and_then(|l| l.split(':').nth(1)).and_then(|v| v.split_whitespace().next()).and_then(|v| v.parse().ok());
    value.with_context(|| format!("no intermolecular energy from vina for {}:\n{stdout}{}", ligand.display(), String::from_utf8_lossy(&output.stderr)))
}

/// Pearson correlation of paired samples (NaN for fewer than two or constant samples).
fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let cov: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let vx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
    let vy: f64 = y.iter().map(|b| (b - my).powi(2)).sum();
    cov / (vx * vy).sqrt()
}

/// "n, Pearson r, MAE, mean signed and largest absolute difference" of `rows`.
fn summary(rows: &[&Row]) -> String {
    let ours: Vec<f64> = rows.iter().map(|r| r.ours).collect();
    let vina: Vec<f64> = rows.iter().map(|r| r.vina).collect();
    let diffs: Vec<f64> = rows.iter().map(|r| r.ours - r.vina).collect();
    let n = diffs.len() as f64;
    let mae = diffs.iter().map(|d| d.abs()).sum::<f64>() / n;
    let bias = diffs.iter().sum::<f64>() / n;
    let max = diffs.iter().fold(0.0f64, |m, d| m.max(d.abs()));
    format!("n={:3}  r={:.5}  MAE={:.4}  mean(ours-vina)={:+.4}  max|diff|={:.4}", rows.len(), pearson(&ours, &vina), mae, bias, max)
}

fn print_table(rows: &[Row]) {
    println!("{:<6} {:>4} {:>7} {:>8} {:>10} {:>10} {:>8}", "id", "pose", "shift", "rot_deg", "ours", "vina", "diff");
    for r in rows {
        println!(
            "{:<6} {:>4} {:>7.3} {:>8.2} {:>10.3} {:>10.3} {:>+8.3}",
            r.id, r.pose, r.shift, r.rotation_deg, r.ours, r.vina, r.ours - r.vina
        );
    }
}

fn print_summary(rows: &[Row]) {
    println!("\nenergies in kcal/mol (intermolecular, before N_rot normalisation)");
    let mut ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    ids.dedup();
    for id in ids {
        let group: Vec<&Row> = rows.iter().filter(|r| r.id == id).collect();
        println!("{id:<8} {}", summary(&group));
    }
    if !rows.is_empty() {
        println!("{:<8} {}", "overall", summary(&rows.iter().collect::<Vec<_>>()));
    }
}

fn to_csv(rows: &[Row]) -> String {
    let mut out = String::from("id,pose,shift_A,rotation_deg,ours_inter,vina_inter,diff\n");
    for r in rows {
        let _ = writeln!(out, "{},{},{:.4},{:.3},{:.4},{:.4},{:.4}", r.id, r.pose, r.shift, r.rotation_deg, r.ours, r.vina, r.ours - r.vina);
    }
    out
}
