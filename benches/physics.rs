//! Physics benchmarks on the shipped example (imatinib SMILES against Abl, examples/1iep, in
//! Vina's box from examples/1iep/conf.txt grown by docking's 8 Å margin): building the scoring
//! grids of all the ligand's atom types, one L-BFGS refinement of a pose, and one Monte Carlo
//! search of 30 steps from it.
//! Run: `cargo bench --bench physics`.

use criterion::{criterion_group, criterion_main, Criterion};
use disco_dock::chem::conformer::{prepare_ligand, ConformerOptions};
use disco_dock::chem::{centroid, Vec3};
use disco_dock::io::ligand::read_ligand_file;
use disco_dock::io::protein::read_protein;
use disco_dock::physics::{monte_carlo, refine, PocketBox, RefineOptions, SearchOptions, VinaLigand, VinaScorer};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::Path;

/// Vina's box of the example (conf.txt) plus the 8 Å margin docking adds.
const CENTER: [f64; 3] = [11.0, 90.5, 57.5];
const SIZE: [f64; 3] = [22.0 + 8.0, 24.0 + 8.0, 28.0 + 8.0];

fn bench_physics(c: &mut Criterion) {
    rayon::ThreadPoolBuilder::new().num_threads(2).build_global().ok();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/1iep");
    let protein = read_protein(&example.join("protein.pdbqt.gz")).expect("example protein");
    let records = read_ligand_file(&example.join("imatinib.smi")).expect("example ligand");
    let ligand = prepare_ligand(&records[0], &ConformerOptions::default()).expect("imatinib conformer");
    let pocket = PocketBox { centre: Vec3::from(CENTER), size: Vec3::from(SIZE) };
    let shift = pocket.centre - centroid(&ligand.ligand.coords);
    let start: Vec<Vec3> = ligand.ligand.coords.iter().map(|p| p + shift).collect();
    let vina = VinaLigand::new(&ligand.ligand, ligand.torsions.len());
    eprintln!("imatinib: {} heavy atoms, {} torsions; {} protein atoms", start.len(), ligand.torsions.len(), protein.atoms.len());

    c.bench_function("vina grids (30x32x36 Å box, 0.375 Å, imatinib's types)", |b| {
        b.iter(|| {
            let scorer = VinaScorer::new(&protein, &pocket, VinaScorer::DEFAULT_SPACING).unwrap();
            scorer.prepare(&vina.types);
            scorer
        })
    });
    let scorer = VinaScorer::new(&protein, &pocket, VinaScorer::DEFAULT_SPACING).unwrap();
    scorer.prepare(&vina.types);
    c.bench_function("refine one pose (imatinib, grids built)", |b| {
        b.iter(|| refine(&scorer, &vina, &ligand.torsions, &start, &RefineOptions::default()).unwrap())
    });
    let search = SearchOptions { steps: 30, ..Default::default() };
    c.bench_function("monte carlo search, 30 steps (imatinib, grids built)", |b| {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        b.iter(|| monte_carlo(&scorer, &vina, &ligand.torsions, &start, &search, &mut rng).unwrap())
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench_physics
}
criterion_main!(benches);
