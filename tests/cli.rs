//! End-to-end tests of the `disco-dock` binary: docking the shipped example (also with two
//! conformers, and on two threads), a resumable screen, a CSV batch with a bad row, blind docking, pockets, scoring given poses, a
//! benchmark's pose cache scored
//! by `train confidence --evaluate-only`, and `train potential` (the last two when
//! ../shared/data is present). They use a small,
//! untrained model written to a temporary folder (the code paths are the real ones; pose quality
//! is not tested here).

use disco_dock::model::store::save_network;
use disco_dock::model::{ConfidenceConfig, ConfidenceModel, LatentPrior, PainnConfig, PriorConfig, ScoreConfig, ScoreModel};
use std::path::{Path, PathBuf};
use std::process::Command;
use tch::nn::VarStore;
use tch::Device;

fn small_model(dir: &Path) {
    let core = PainnConfig { hidden: 8, layers: 1, rbf: 8, ..Default::default() };
    let score = ScoreConfig { core: PainnConfig { node_extra: 8, flags: 2, ..core.clone() }, time_dim: 8, ..Default::default() };
    let vs = VarStore::new(Device::Cpu);
    let _ = ScoreModel::new(&vs.root(), &score);
    save_network(dir, "score", &score, &vs).unwrap();
    let prior = PriorConfig { core: core.clone(), latents: 2, ..Default::default() };
    let vs = VarStore::new(Device::Cpu);
    let _ = LatentPrior::new(&vs.root(), &prior);
    save_network(dir, "prior", &prior, &vs).unwrap();
    let conf = ConfidenceConfig { core, ..Default::default() };
    let vs = VarStore::new(Device::Cpu);
    let _ = ConfidenceModel::new(&vs.root(), &conf);
    save_network(dir, "confidence", &conf, &vs).unwrap();
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn disco(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_disco-dock")).args(args).current_dir(repo()).output().unwrap()
}

/// A temporary folder holding a small model (`model/`) and the output folder path (`out/`).
fn workspace() -> (tempfile::TempDir, String, String) {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("model");
    small_model(&model);
    let out = tmp.path().join("out");
    let (m, o) = (model.to_str().unwrap().to_string(), out.to_str().unwrap().to_string());
    (tmp, m, o)
}

const FAST: [&str; 6] = ["--samples", "3", "--steps", "4", "--threads", "1"];

/// Arguments docking the example's imatinib SMILES into Abl kinase in the box of Vina's input
/// ligand with model `m` into `o`, quickly.
fn example_dock_args<'a>(m: &'a str, o: &'a str) -> Vec<&'a str> {
    let mut args = vec![
        "--protein", "examples/1iep/protein.pdbqt.gz", "--ligand", "examples/1iep/imatinib.smi",
        "--autobox-ligand", "examples/1iep/ligand.pdbqt", "--model", m, "--out", o, "--quiet",
    ];
    args.extend(FAST);
    args
}

#[test]
fn dock_example_writes_readable_sdf_and_pdb() {
    let (_tmp, m, o) = workspace();
    let out = PathBuf::from(&o);
    let args = example_dock_args(&m, &o);
    let r = disco(&args);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    for f in ["poses.sdf", "rank1.sdf", "complex_rank1.pdb", "summary.json"] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    // the SDF reads back through RDKit with the ligand's atoms and bonds
    let input = disco_dock::io::ligand::read_ligand_file(&repo().join("examples/1iep/imatinib.smi")).unwrap();
    let opts = disco_dock::chem::conformer::ConformerOptions::default();
    let original = disco_dock::chem::conformer::prepare_ligand(&input[0], &opts).unwrap();
    let poses = disco_dock::io::ligand::read_ligand_file(&out.join("poses.sdf")).unwrap();
    assert_eq!(poses.len(), 3);
    let keep = disco_dock::chem::conformer::ConformerOptions { generate: false, ..opts };
    for rec in &poses {
        let back = disco_dock::chem::conformer::prepare_ligand(rec, &keep).unwrap();
        assert_eq!(back.ligand.atoms, original.ligand.atoms);
        assert_eq!(back.ligand.bonds, original.ligand.bonds);
    }
    assert!(std::fs::read_to_string(out.join("poses.sdf")).unwrap().contains("> <confidence>"));
    // the complex PDB reads back through pdbtbx with the ligand as HETATM records
    let complex = disco_dock::io::protein::read_protein(&out.join("complex_rank1.pdb")).unwrap();
    let lig_atoms = complex.atoms.iter().filter(|a| complex.residues[a.residue].name == "LIG").count();
    assert_eq!(lig_atoms, original.ligand.atoms.len());
}

#[test]
fn docking_gives_the_same_poses_on_one_thread_or_two() {
    let (tmp, m, o) = workspace();
    let r = disco(&example_dock_args(&m, &o));
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let o2 = tmp.path().join("out2").to_str().unwrap().to_string();
    let mut args = example_dock_args(&m, &o2);
    let threads = args.iter().position(|&a| a == "--threads").unwrap();
    args[threads + 1] = "2"; // the network calls now spread over two threads
    let r = disco(&args);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let read = |dir: &str| std::fs::read_to_string(Path::new(dir).join("poses.sdf")).unwrap();
    assert_eq!(read(&o), read(&o2));
}

#[test]
fn screen_resumes_without_duplicates() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("model");
    small_model(&model);
    let smi = tmp.path().join("lib.smi");
    std::fs::write(&smi, "CCO ethanol\nc1ccccc1O phenol\nCC(=O)Nc1ccc(O)cc1 paracetamol\nC1CC( broken\nCCN diethylamine\n").unwrap();
    let out = tmp.path().join("screen");
    let (m, o, s) = (model.to_str().unwrap(), out.to_str().unwrap(), smi.to_str().unwrap());
    let base = ["screen", "--protein", "examples/1iep/protein.pdbqt.gz", "--ligands", s, "--center", "11", "90.5", "57.5",
        "--size", "20", "20", "20", "--model", m, "--out", o, "--quiet", "--no-refine"];
    let mut first: Vec<&str> = base.to_vec();
    first.extend(FAST);
    // a first run over one shard only (simulating a run killed part-way), then the full run
    let mut sharded = first.clone();
    sharded.extend(["--shard", "0/2"]);
    assert!(disco(&sharded).status.success());
    let partial = std::fs::read_to_string(out.join("results.shard-0-of-2.csv")).unwrap();
    std::fs::write(out.join("results.csv"), &partial).unwrap();
    let r = disco(&first);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let again = disco(&first);
    assert!(again.status.success());
    let text = std::fs::read_to_string(out.join("results.csv")).unwrap();
    let names: Vec<&str> = text.lines().skip(1).map(|l| l.split(',').next().unwrap()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(sorted, vec!["broken", "diethylamine", "ethanol", "paracetamol", "phenol"], "{text}");
    assert!(text.lines().any(|l| l.starts_with("broken,failed")));
}

#[test]
fn batch_csv_with_a_bad_row_finishes_the_good_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("model");
    small_model(&model);
    let csv = tmp.path().join("batch.csv");
    let protein = repo().join("examples/1iep/protein.pdbqt.gz");
    std::fs::write(
        &csv,
        format!(
            "complex_name,protein_path,ligand_description,protein_sequence\ngood,{p},CCO,\nbad_protein,/nonexistent.pdb,CCO,\nbad_smiles,{p},C1CC(,\ngood2,{p},c1ccccc1,\n",
            p = protein.display()
        ),
    )
    .unwrap();
    let out = tmp.path().join("batch");
    let (m, o, c) = (model.to_str().unwrap(), out.to_str().unwrap(), csv.to_str().unwrap());
    let mut args = vec!["batch", "--csv", c, "--model", m, "--out", o, "--quiet", "--no-refine", "--center", "11", "90.5", "57.5"];
    args.extend(FAST);
    let r = disco(&args);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let text = std::fs::read_to_string(out.join("results.csv")).unwrap();
    assert!(text.lines().any(|l| l.starts_with("good,ok")), "{text}");
    assert!(text.lines().any(|l| l.starts_with("good2,ok")), "{text}");
    assert!(text.lines().any(|l| l.starts_with("bad_protein,failed")), "{text}");
    assert!(text.lines().any(|l| l.starts_with("bad_smiles,failed")), "{text}");
    assert!(out.join("poses/good/rank1.sdf").exists());
}

/// The values of SDF data field `name` in `path`, record by record.
fn sdf_property(path: &Path, name: &str) -> Vec<String> {
    let sdf = std::fs::read_to_string(path).unwrap();
    let lines: Vec<&str> = sdf.lines().collect();
    lines.windows(2).filter(|w| w[0] == format!("> <{name}>")).map(|w| w[1].to_string()).collect()
}

#[test]
fn two_conformers_share_the_samples_chosen_among_candidates_and_more_than_the_samples_are_refused() {
    let (_tmp, m, o) = workspace();
    let args = example_dock_args(&m, &o);
    let r = disco(&[args.as_slice(), &["--conformers", "2"]].concat());
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let mut conformers = sdf_property(&PathBuf::from(&o).join("poses.sdf"), "conformer");
    conformers.sort();
    assert_eq!(conformers, ["0", "0", "1"], "3 samples: 2 from the first conformer, 1 from the second");
    let r = disco(&[args.as_slice(), &["--conformers", "4"]].concat());
    assert!(!r.status.success());
    assert!(String::from_utf8_lossy(&r.stderr).contains("--conformers"), "{}", String::from_utf8_lossy(&r.stderr));
    // the two most typical of four candidates
    let r = disco(&[args.as_slice(), &["--conformers", "2", "--conformer-candidates", "4"]].concat());
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert_eq!(sdf_property(&PathBuf::from(&o).join("poses.sdf"), "conformer").len(), 3);
    let r = disco(&[args.as_slice(), &["--conformer-candidates", "0"]].concat());
    assert!(!r.status.success());
    assert!(String::from_utf8_lossy(&r.stderr).contains("--conformer-candidates"), "{}", String::from_utf8_lossy(&r.stderr));
}

#[test]
fn blind_docking_explores_the_found_pockets_then_samples_the_leading_one() {
    let (_tmp, m, o) = workspace();
    let out = PathBuf::from(&o);
    let args = [
        "--protein", "examples/1iep/protein.pdbqt.gz", "--ligand", "examples/1iep/imatinib.smi", "--blind-pockets", "2",
        "--samples", "4", "--steps", "3", "--threads", "1", "--search-steps", "2", "--model", &m, "--out", &o, "--quiet",
    ];
    let r = disco(&args);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let sites = sdf_property(&out.join("poses.sdf"), "site");
    // one exploring pose in each of the two best pockets, the other two in the leading one
    let leading = sites.iter().filter(|s| **s == sites[0]).count();
    assert_eq!((sites.len(), leading), (4, 3), "{sites:?}");
    assert!(sites.iter().any(|s| s == "0") && sites.iter().any(|s| s == "1"), "{sites:?}");
    let populations: Vec<usize> = sdf_property(&out.join("poses.sdf"), "population").iter().map(|n| n.parse().unwrap()).collect();
    assert!(populations.len() == 4 && populations.iter().all(|&n| n <= 3), "{populations:?}");
    // exploring with every sample splits them evenly
    let mut even = args.to_vec();
    even.extend(["--explore-fraction", "1"]);
    assert!(disco(&even).status.success());
    let sites = sdf_property(&out.join("poses.sdf"), "site");
    assert_eq!(sites.iter().filter(|s| *s == "0").count(), 2, "{sites:?}");
    for bad in ["--population-weight=-1", "--explore-fraction=0"] {
        let mut negative = args.to_vec();
        negative.push(bad);
        let r = disco(&negative);
        let option = bad.split('=').next().unwrap();
        assert!(!r.status.success() && String::from_utf8_lossy(&r.stderr).contains(option), "{bad}");
    }
}

#[test]
fn score_reproduces_docking_scores_and_minimises_and_refuses_a_smiles() {
    let (tmp, m, o) = workspace();
    let args = example_dock_args(&m, &o);
    assert!(disco(&args).status.success());
    let docked = PathBuf::from(&o).join("poses.sdf");
    let (sdf, csv) = (tmp.path().join("scored.sdf"), tmp.path().join("scores.csv"));
    let (d, s, c) = (docked.to_str().unwrap(), sdf.to_str().unwrap(), csv.to_str().unwrap());
    let base = ["score", "--protein", "examples/1iep/protein.pdbqt.gz", "--model", &m, "--threads", "1", "--quiet"];
    let r = disco(&[&base[..], &["--ligand", d, "--out", s, "--csv", c]].concat());
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    // each docked pose, scored as it is, gets the energies docking gave it, up to the SDF's
    // rounding of coordinates to 1e-4 Å, whose effect grows with the energy (a clashing pose of
    // this untrained model at +129 kcal/mol moved by 0.011)
    let values = |path: &Path, name: &str| -> Vec<f64> { sdf_property(path, name).iter().map(|v| v.parse().unwrap()).collect() };
    for name in ["minimizedAffinity", "vina_energy"] {
        let (before, after) = (values(&docked, name), values(&sdf, name));
        assert_eq!(before.len(), 3);
        assert!(before.iter().zip(&after).all(|(a, b)| (a - b).abs() < (1e-3 * a.abs()).max(0.01)), "{name}: {before:?} {after:?}");
    }
    let rows = std::fs::read_to_string(&csv).unwrap();
    assert!(rows.starts_with("name,status,affinity,energy,potential,confidence,pb_valid,moved,gauss1,gauss2,repulsion,hydrophobic,hbond,error"), "{rows}");
    assert_eq!(rows.lines().filter(|l| l.contains(",ok,")).count(), 3, "{rows}");
    // Vina's five unweighted terms, weighted as Vina weights them, give the affinity times
    // Vina's rotatable-bond factor 1 + 0.05846 N_rot for a whole number N_rot
    for line in rows.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        let terms: Vec<f64> = cells[8..13].iter().map(|c| c.parse().unwrap()).collect();
        let inter: f64 = terms.iter().zip([-0.035579, -0.005156, 0.840245, -0.035069, -0.587439]).map(|(t, w)| t * w).sum();
        let n_rot = (inter / cells[2].parse::<f64>().unwrap() - 1.0) / 0.05846;
        assert!((n_rot - n_rot.round()).abs() < 1e-3 && n_rot.round() >= 1.0, "{line}: N_rot {n_rot}");
    }
    // minimising a docked pose never raises its energy (up to the same rounding)
    let r = disco(&[&base[..], &["--ligand", d, "--out", s, "--minimize"]].concat());
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let (before, after) = (values(&docked, "vina_energy"), values(&sdf, "vina_energy"));
    assert!(before.iter().zip(&after).all(|(b, a)| *a <= b + (1e-3 * b.abs()).max(0.01)), "{before:?} {after:?}");
    // minimising never raises the energy; Vina's input pose of imatinib clashes (+320 kcal/mol by
    // vina --score_only) and stays high after a local minimisation
    let r = disco(&[&base[..], &["--ligand", "examples/1iep/ligand.pdbqt", "--out", s]].concat());
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let clashing = values(&sdf, "vina_energy")[0];
    assert!(clashing > 100.0, "{clashing}");
    let r = disco(&[&base[..], &["--ligand", "examples/1iep/ligand.pdbqt", "--out", s, "--minimize"]].concat());
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let minimised = values(&sdf, "vina_energy")[0];
    assert!(minimised < clashing, "{minimised} >= {clashing}");
    // a flat (2D) record gets an error row and the next record is still scored
    let first_pose = std::fs::read_to_string(&docked).unwrap().split_inclusive("$$$$\n").next().unwrap().to_string();
    let flat = "flat\n  test\n\n  2  1  0  0  0  0  0  0  0  0999 V2000\n    0.0000    0.0000    0.0000 C   0  0\n    1.5000    0.0000    0.0000 O   0  0\n  1  2  1  0\nM  END\n$$$$\n";
    let mixed = tmp.path().join("mixed.sdf");
    std::fs::write(&mixed, format!("{flat}{first_pose}")).unwrap();
    let r = disco(&[&base[..], &["--ligand", mixed.to_str().unwrap(), "--csv", c]].concat());
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let rows = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = rows.lines().collect();
    assert!(lines.len() == 3 && lines[1].starts_with("flat,error,") && lines[1].contains("no 3D coordinates") && lines[2].contains(",ok,"), "{rows}");
    // a box around all records of a file holds every pose
    let r = disco(&[&base[..], &["--ligand", d, "--autobox-ligand", d, "--out", s]].concat());
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert_eq!(values(&sdf, "minimizedAffinity").len(), 3);
    // a box that does not hold the pose is refused rather than scored wrong
    let r = disco(&[&base[..], &["--ligand", d, "--center", "25", "90.5", "57.5", "--size", "4", "4", "4"]].concat());
    assert!(!r.status.success() && String::from_utf8_lossy(&r.stderr).contains("outside the scoring box"), "{}", String::from_utf8_lossy(&r.stderr));
    // a SMILES has no pose to score
    let r = disco(&[&base[..], &["--ligand", "examples/1iep/imatinib.smi"]].concat());
    assert!(!r.status.success());
    assert!(String::from_utf8_lossy(&r.stderr).contains("no 3D coordinates"), "{}", String::from_utf8_lossy(&r.stderr));
}

#[test]
fn pockets_lists_the_imatinib_site_of_abl_first() {
    let r = disco(&["pockets", "--protein", "examples/1iep/protein.pdbqt.gz", "--json", "--top", "3"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let sites: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    let first = &sites[0]["center"];
    let centre: Vec<f64> = (0..3).map(|k| first[k].as_f64().unwrap()).collect();
    // Vina's box centre for the imatinib site of this example (examples/1iep/conf.txt)
    let vina = [11.0, 90.5, 57.5];
    let d = centre.iter().zip(vina).map(|(a, b)| (a - b).powi(2)).sum::<f64>().sqrt();
    assert!(d < 8.0, "first pocket {centre:?} is {d:.1} Å from the imatinib site");
    assert_eq!(sites.as_array().unwrap().len(), 3);
}

/// The shared data folder (`../shared/data`), when present.
#[test]
fn a_reference_ligand_is_a_template_that_ranking_rewards_and_needs_a_weight() {
    let (_tmp, m, o) = workspace();
    let mut args = example_dock_args(&m, &o);
    args.extend(["--reference", "examples/1iep/ligand.pdbqt"]);
    let refused = disco(&args);
    assert!(!refused.status.success(), "the small model's folder sets no template weight");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--template-weight"), "{}", String::from_utf8_lossy(&refused.stderr));
    // a weight that outweighs the energies: the pose overlapping Vina's imatinib most comes first
    let samples = args.iter().position(|&a| a == "--samples").unwrap();
    args[samples + 1] = "4";
    args.extend(["--template-weight", "1000"]);
    let r = disco(&args);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let poses = Path::new(&o).join("poses.sdf");
    let overlap: Vec<f64> = sdf_property(&poses, "template_overlap").iter().map(|v| v.parse().unwrap()).collect();
    let valid = sdf_property(&poses, "pb_valid");
    assert_eq!(overlap.len(), 4);
    assert!(overlap.iter().all(|&t| (0.0..=1.0).contains(&t)));
    let best_alike = overlap.iter().zip(&valid).filter(|(_, v)| **v == valid[0]).map(|(t, _)| *t).fold(0.0, f64::max);
    assert_eq!(overlap[0], best_alike, "rank 1 overlaps most among poses of its validity: {overlap:?} {valid:?}");
}

fn shared_data() -> Option<PathBuf> {
    let dir = repo().join("../shared/data");
    if dir.join("splits/val.txt").is_file() {
        return Some(dir);
    }
    eprintln!("skipped: shared data (../shared/data) not found");
    None
}

/// Benchmarks the first val complex (pocket given, 3 fast samples, `extra` arguments) with the
/// model in `model`, writing its report to `tmp/bench.csv` and its poses to `cache`; returns the
/// complex id and a split file naming it.
fn benchmark_first_val_complex(tmp: &Path, data: &Path, model: &str, cache: &Path, extra: &[&str]) -> (String, PathBuf) {
    let id = std::fs::read_to_string(data.join("splits/val.txt")).unwrap().lines().next().unwrap().trim().to_string();
    let split = tmp.join("split.txt");
    std::fs::write(&split, format!("{id}\n")).unwrap();
    let report = tmp.join("bench.csv");
    let fast = ["--samples", "3", "--steps", "4", "--threads", "1", "--search-steps", "2"];
    let mut args = vec!["benchmark", "--data", data.to_str().unwrap(), "--split", split.to_str().unwrap(), "--pocket", "crystal", "--model", model];
    args.extend(fast);
    args.extend(["--out", report.to_str().unwrap(), "--poses-cache", cache.to_str().unwrap()]);
    args.extend(extra);
    let out = disco(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    (id, split)
}

#[test]
fn re_docking_the_crystal_geometry_leaves_no_conformer_floor() {
    let Some(data) = shared_data() else { return };
    let (tmp, model, _) = workspace();
    let floor = |extra: &[&str]| {
        benchmark_first_val_complex(tmp.path(), &data, &model, &tmp.path().join("poses.jsonl"), extra);
        let mut report = csv::Reader::from_path(tmp.path().join("bench.csv")).unwrap();
        let column = report.headers().unwrap().iter().position(|h| h == "conformer_rmsd").unwrap();
        let row = report.records().next().unwrap().unwrap();
        row[column].parse::<f64>().unwrap()
    };
    // the RDKit conformer cannot be fitted onto the crystal ligand exactly; its own geometry can
    assert!(floor(&[]) > 0.05);
    assert!(floor(&["--crystal-geometry"]) < 1e-6);
}

#[test]
fn a_benchmarks_pose_cache_is_scored_by_evaluate_only() {
    let Some(data) = shared_data() else { return };
    let (tmp, model, _) = workspace();
    let run = tmp.path().join("run");
    std::fs::create_dir_all(run.join("best")).unwrap();
    let cache = tmp.path().join("bench_poses.jsonl");
    let (id, _) = benchmark_first_val_complex(tmp.path(), &data, &model, &cache, &[]);
    let val_split = data.join("splits/val.txt");
    let (data, val_split) = (data.to_str().unwrap(), val_split.to_str().unwrap());
    let text = std::fs::read_to_string(&cache).unwrap();
    let entry: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(entry["id"], id.as_str());
    let poses = entry["poses"].as_array().unwrap();
    assert_eq!(poses.len(), 3);
    assert!(poses.iter().all(|p| p["coords"].as_array().is_some_and(|c| !c.is_empty()) && p["rmsd"].as_f64().is_some()));
    // score those poses with the confidence model of a run folder, without docking them again;
    // --val-poses merges them into the run's val cache and keeps only the complexes they hold
    for entry in std::fs::read_dir(&model).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, run.join("best").join(path.file_name().unwrap())).unwrap();
    }
    let mut args = vec!["train", "confidence", "--run", run.to_str().unwrap(), "--data", data, "--docking", "--evaluate-only"];
    args.extend(["--val-split", val_split, "--val-poses", cache.to_str().unwrap(), "--val-complexes", "0", "--quiet"]);
    args.extend(["--samples", "3", "--threads", "1", "--search-steps", "2"]);
    let out = disco(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let scores = std::fs::read_to_string(run.join("confidence_val_scores.csv")).unwrap();
    assert_eq!(scores.lines().count(), 4, "a header and the 3 benchmark poses: {scores}");
    let log = std::fs::read_to_string(run.join("train.log")).unwrap();
    assert!(log.contains("1 complexes already docked") && log.contains("1 network(s)"), "{log}");
    let merged = std::fs::read_to_string(run.join("confidence_poses_val.jsonl")).unwrap();
    let merged: serde_json::Value = serde_json::from_str(merged.lines().next().unwrap()).unwrap();
    assert_eq!((&merged["id"], merged["poses"].as_array().map(Vec::len)), (&entry["id"], Some(3)), "the run's val cache holds the merged poses");
    let train_cache = std::fs::read_to_string(run.join("confidence_poses_train.jsonl")).unwrap_or_default();
    assert!(train_cache.is_empty(), "evaluation docks no training complex");
}

#[test]
fn a_pair_potential_is_learned_from_crystals_or_docked_poses_and_used_by_docking() {
    let Some(data) = shared_data() else { return };
    let (tmp, model, out) = workspace();
    let data_arg = data.to_str().unwrap();
    // the potential of mean force of five training complexes' crystal contacts
    let pmf = tmp.path().join("pmf");
    let r = disco(&["train", "potential", "--run", pmf.to_str().unwrap(), "--data", data_arg, "--limit", "5", "--threads", "1", "--quiet"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let potential = pmf.join("best/potential.json");
    assert!(potential.is_file());
    // fitted to a benchmark's docked poses, native poses added so that right poses exist
    let cache = tmp.path().join("poses.jsonl");
    benchmark_first_val_complex(tmp.path(), &data, &model, &cache, &[]);
    let fit = tmp.path().join("fit");
    let args = ["train", "potential", "--run", fit.to_str().unwrap(), "--data", data_arg, "--poses", cache.to_str().unwrap(), "--natives", "--epochs", "20", "--threads", "1"];
    let r = disco(&args);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(String::from_utf8_lossy(&r.stderr).contains("energy + 1 x potential: train top-1"));
    // docking adds a potential found in the model folder and writes each pose's score
    std::fs::copy(&potential, Path::new(&model).join("potential.json")).unwrap();
    let mut args = vec!["--protein", "examples/1iep/protein.pdbqt.gz", "--ligand", "examples/1iep/imatinib.smi"];
    args.extend(["--autobox-ligand", "examples/1iep/ligand.pdbqt", "--model", &model, "--out", &out, "--quiet"]);
    args.extend(FAST);
    let r = disco(&args);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(std::fs::read_to_string(Path::new(&out).join("poses.sdf")).unwrap().contains("> <pair_potential>"));
}

#[test]
fn a_template_library_is_built_from_a_split_and_a_benchmark_never_finds_its_own_complex() {
    let Some(data) = shared_data() else { return };
    let (tmp, model, _out) = workspace();
    let id = std::fs::read_to_string(data.join("splits/val.txt")).unwrap().lines().next().unwrap().trim().to_string();
    let split = tmp.path().join("one.txt");
    std::fs::write(&split, format!("{id}\n")).unwrap();
    let run = tmp.path().join("tmpl");
    let r = disco(&["train", "templates", "--run", run.to_str().unwrap(), "--data", data.to_str().unwrap(), "--train-split", split.to_str().unwrap(), "--quiet"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    use disco_dock::dock::templates::{TemplateLibrary, TEMPLATES_FILE};
    let mut library = TemplateLibrary::load(&run.join("best").join(TEMPLATES_FILE)).unwrap();
    assert_eq!(library.entries.len(), 1);
    assert!(!library.entries[0].pocket.is_empty() && !library.entries[0].ligand.is_empty());
    // under its own id the complex is not its own template; under another id it is
    let benchmark = |library: &TemplateLibrary| {
        library.save(&Path::new(&model).join(TEMPLATES_FILE)).unwrap();
        let poses = tmp.path().join("poses.csv");
        let extra = ["--template-weight", "1", "--poses-out", poses.to_str().unwrap()];
        benchmark_first_val_complex(tmp.path(), &data, &model, &tmp.path().join("cache.jsonl"), &extra);
        let mut reader = csv::Reader::from_path(&poses).unwrap();
        let column = reader.headers().unwrap().iter().position(|h| h == "template").unwrap();
        reader.records().map(|r| r.unwrap()[column].to_string()).collect::<Vec<_>>()
    };
    assert!(benchmark(&library).iter().all(String::is_empty), "no template for the complex itself");
    library.entries[0].id = "another".into();
    let overlaps = benchmark(&library);
    assert!(!overlaps.is_empty() && overlaps.iter().all(|t| t.parse::<f64>().is_ok_and(|t| (0.0..=1.0).contains(&t))), "{overlaps:?}");
}
