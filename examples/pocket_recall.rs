//! How often the pocket finder used by blind docking ([`find_pockets`]) finds the crystal
//! ligand's pocket: for each complex of a split, the rank of the first pocket whose centre lies
//! within 4 Å / 8 Å of the crystal ligand's centroid (DCC), and whether all ligand atoms fall
//! inside the 25 Å box docking would use around it.
//!
//! Run: `cargo run --release --example pocket_recall -- ../shared/data ../shared/data/splits/val.txt [limit]`.
//! With `POCKET_FEATURES=pockets.csv` it also writes every pocket's features (geometry, and the
//! make-up of the protein around it) with its labels, for learning a pocket ranking
//! (`scripts/pocket_study.py`).

use anyhow::{Context, Result};
use disco_dock::chem::{centroid, Vec3};
use disco_dock::dock::pockets::{find_pockets, PocketSearch, PocketSite};
use disco_dock::io::dataset::{complex_files, read_split};
use disco_dock::io::ligand::read_ligand_file;
use disco_dock::io::protein::read_protein;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

/// Ranks counted as "found".
const TOP: [usize; 3] = [1, 3, 5];
/// Edge of the docking box around a pocket centre (Å).
const BOX: f64 = 25.0;

/// Crystal ligand heavy-atom coordinates from an SDF/MOL2 (first record, atoms other than H).
fn crystal_coords(path: &std::path::Path) -> Result<Vec<Vec3>> {
    let records = read_ligand_file(path)?;
    let options = disco_dock::chem::conformer::ConformerOptions { generate: false, ..Default::default() };
    let lig = disco_dock::chem::conformer::prepare_ligand(&records[0], &options)?;
    lig.reference.context("no 3D coordinates")
}

/// The default search, with fields overridden by POCKET_CLEARANCE, POCKET_RAY, POCKET_LINES,
/// POCKET_MIN_POINTS, POCKET_HOTSPOT and POCKET_SPLIT (for tuning on val).
fn search_from_env() -> Result<PocketSearch> {
    let mut s = PocketSearch::default();
    let var = |name: &str| std::env::var(name).ok();
    if let Some(v) = var("POCKET_CLEARANCE") {
        s.clearance = v.parse()?;
    }
    if let Some(v) = var("POCKET_RAY") {
        s.ray_length = v.parse()?;
    }
    if let Some(v) = var("POCKET_LINES") {
        s.min_lines = v.parse()?;
    }
    if let Some(v) = var("POCKET_MIN_POINTS") {
        s.min_points = v.parse()?;
    }
    if let Some(v) = var("POCKET_HOTSPOT") {
        s.hotspot_radius = v.parse()?;
    }
    if let Some(v) = var("POCKET_SPLIT") {
        s.split_distance = v.parse()?;
    }
    Ok(s)
}

/// Residues counted as hydrophobic in the pocket features.
const HYDROPHOBIC: [&str; 10] = ["ALA", "VAL", "LEU", "ILE", "MET", "PHE", "TRP", "PRO", "TYR", "CYS"];
/// Residues counted as charged in the pocket features.
const CHARGED: [&str; 4] = ["ASP", "GLU", "LYS", "ARG"];
/// Radius around a pocket centre for its make-up features (Å).
const SHELL: f64 = 8.0;

/// Header of the pocket feature table.
const FEATURE_HEADER: &str = "id,rank,pockets,volume,buriedness,score,extent_min,extent_mid,extent_max,atoms_8,carbon_share,residues_8,hydrophobic_share,charged_share,centre_depth,dcc,inside_box,x,y,z";

/// One feature row per pocket: its geometry, the protein atoms and residues within 8 Å of its
/// centre, its centre's distance from the protein centroid over the protein's radius of
/// gyration, its labels (distance to the ligand centroid; whether the docking box holds the
/// whole ligand) and its centre.
fn feature_rows(id: &str, protein: &disco_dock::chem::Protein, sites: &[PocketSite], crystal: &[Vec3]) -> Vec<String> {
    let coords: Vec<Vec3> = protein.atoms.iter().map(|a| a.coord).collect();
    let centre = centroid(&coords);
    let gyration = (coords.iter().map(|p| (p - centre).norm_squared()).sum::<f64>() / coords.len().max(1) as f64).sqrt();
    let ligand = centroid(crystal);
    sites
        .iter()
        .enumerate()
        .map(|(k, s)| {
            let near: Vec<usize> = (0..coords.len()).filter(|&i| (coords[i] - s.center).norm() < SHELL).collect();
            let carbon = near.iter().filter(|&&i| protein.atoms[i].element == 6).count();
            let mut residues: Vec<usize> = near.iter().map(|&i| protein.atoms[i].residue).collect();
            residues.sort_unstable();
            residues.dedup();
            let share = |names: &[&str]| {
                let hits = residues.iter().filter(|&&r| protein.residues.get(r).is_some_and(|res| names.contains(&res.name.as_str()))).count();
                hits as f64 / residues.len().max(1) as f64
            };
            let mut extent = [s.extent.x, s.extent.y, s.extent.z];
            extent.sort_by(f64::total_cmp);
            let inside = crystal.iter().all(|a| (a - s.center).abs().max() < BOX / 2.0);
            format!(
                "{id},{},{},{:.1},{:.3},{:.1},{:.1},{:.1},{:.1},{},{:.3},{},{:.3},{:.3},{:.3},{:.2},{},{:.2},{:.2},{:.2}",
                k + 1,
                sites.len(),
                s.volume,
                s.buriedness,
                s.score,
                extent[0],
                extent[1],
                extent[2],
                near.len(),
                carbon as f64 / near.len().max(1) as f64,
                residues.len(),
                share(&HYDROPHOBIC),
                share(&CHARGED),
                (s.center - centre).norm() / gyration.max(1.0),
                (s.center - ligand).norm(),
                inside as u8,
                s.center.x,
                s.center.y,
                s.center.z
            )
        })
        .collect()
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let data = PathBuf::from(args.first().context("usage: pocket_recall DATA SPLIT [LIMIT]")?);
    let mut ids = read_split(&PathBuf::from(args.get(1).context("usage: pocket_recall DATA SPLIT [LIMIT]")?))?;
    if let Some(n) = args.get(2) {
        ids.truncate(n.parse()?);
    }
    let search = search_from_env()?;
    let (mut within4, mut within8, mut inside) = ([0usize; 3], [0usize; 3], [0usize; 3]);
    let (mut n, mut seconds, mut pockets) = (0usize, 0.0, 0usize);
    println!("id,pockets,rank_dcc4,rank_dcc8,rank_inside_box,top1_dcc");
    let mut features = match std::env::var_os("POCKET_FEATURES") {
        Some(path) => {
            let mut file = std::fs::File::create(&path).with_context(|| format!("{path:?}"))?;
            writeln!(file, "{FEATURE_HEADER}")?;
            Some(file)
        }
        None => None,
    };
    for id in &ids {
        let Ok(files) = complex_files(&data, id) else { continue };
        let (Ok(protein), Ok(crystal)) = (read_protein(&files.protein), crystal_coords(&files.ligand)) else {
            eprintln!("{id}: unreadable, skipped");
            continue;
        };
        let start = Instant::now();
        let sites = find_pockets(&protein, &search);
        seconds += start.elapsed().as_secs_f64();
        if let Some(file) = features.as_mut() {
            for row in feature_rows(id, &protein, &sites, &crystal) {
                writeln!(file, "{row}")?;
            }
        }
        let c = centroid(&crystal);
        let rank = |ok: &dyn Fn(&Vec3) -> bool| sites.iter().position(|s| ok(&s.center)).map(|r| r + 1);
        let dcc4 = rank(&|p| (p - c).norm() < 4.0);
        let dcc8 = rank(&|p| (p - c).norm() < 8.0);
        let boxed = rank(&|p| crystal.iter().all(|a| (a - p).abs().max() < BOX / 2.0));
        for (k, top) in TOP.iter().enumerate() {
            within4[k] += dcc4.is_some_and(|r| r <= *top) as usize;
            within8[k] += dcc8.is_some_and(|r| r <= *top) as usize;
            inside[k] += boxed.is_some_and(|r| r <= *top) as usize;
        }
        let fmt = |r: Option<usize>| r.map(|r| r.to_string()).unwrap_or_default();
        let top1 = sites.first().map(|s| format!("{:.1}", (s.center - c).norm())).unwrap_or_default();
        println!("{id},{},{},{},{},{top1}", sites.len(), fmt(dcc4), fmt(dcc8), fmt(boxed));
        n += 1;
        pockets += sites.len();
    }
    let pct = |v: usize| 100.0 * v as f64 / n.max(1) as f64;
    eprintln!("{n} complexes, {:.1} pockets each, {:.2} s each", pockets as f64 / n.max(1) as f64, seconds / n.max(1) as f64);
    for (k, top) in TOP.iter().enumerate() {
        eprintln!(
            "top-{top}: DCC < 4 Å {:.1}%, DCC < 8 Å {:.1}%, ligand inside the {BOX} Å box {:.1}%",
            pct(within4[k]),
            pct(within8[k]),
            pct(inside[k])
        );
    }
    Ok(())
}
