//! Network benchmarks on CPU: forward and forward+backward of the score network (with latents)
//! for a typical complex (about 26 ligand atoms and 360 residues, taken from ../shared/data
//! val split) in full and pocket-cropped (20 Å) form, and the parameter count; the shipped width
//! (32 hidden channels, 3 layers) and a wider candidate (64, 4), whose docking cost on CPU
//! decides whether a GPU session should train it.
//! Run: `cargo bench --bench networks`.

use criterion::{criterion_group, criterion_main, Criterion};
use disco_dock::chem::conformer::ConformerOptions;
use disco_dock::chem::{Protein, Vec3};
use disco_dock::diffusion::schedule::NoiseSchedule;
use disco_dock::dock::sampling::pose_sample;
use disco_dock::graph::{crop, pocket_residues};
use disco_dock::io::dataset::{complex_files, prepare_complex, read_split, PreparedComplex};
use disco_dock::model::{Batch, ComplexGraph, ScoreConfig, ScoreModel};
use std::path::Path;
use tch::nn::VarStore;
use tch::Device;

/// The val complex closest to 26 ligand atoms and 360 residues among the first 40.
fn typical_complex() -> Option<PreparedComplex> {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    let ids = read_split(&data.join("splits/val.txt")).ok()?;
    ids.iter()
        .take(40)
        .filter_map(|id| complex_files(&data, id).ok())
        .filter_map(|f| prepare_complex(&f, &ConformerOptions::default()).ok())
        .min_by_key(|c| {
            let n = c.ligand.ligand.atoms.len() as i64;
            let r = c.protein.amino_acids().len() as i64;
            (n - 26).abs() * 10 + (r - 360).abs()
        })
}

fn bench_networks(c: &mut Criterion) {
    disco_dock::model::keep_freed_memory(); // as the binary does
    let Some(complex) = typical_complex() else {
        eprintln!("skipping: ../shared/data not found");
        return;
    };
    tch::set_num_threads(2);
    let crystal = complex.ligand.reference.clone().unwrap_or_default();
    let center = disco_dock::chem::centroid(&crystal);
    let pocket = crop(&complex.protein, &pocket_residues(&complex.protein, &center, 20.0).unwrap_or_default());
    for (tag, cfg) in [("", ScoreConfig::default()), (" 64x4", wide_config())] {
        bench_width(c, &complex, &crystal, &pocket, &cfg, tag);
    }
}

/// The score network with 64 hidden channels and 4 layers (the shipped one: 32 and 3).
fn wide_config() -> ScoreConfig {
    let mut cfg = ScoreConfig::default();
    cfg.core.hidden = 64;
    cfg.core.layers = 4;
    cfg
}

/// Forward and forward+backward of one score network width on the full and the cropped protein.
fn bench_width(c: &mut Criterion, complex: &PreparedComplex, crystal: &[Vec3], pocket: &Protein, cfg: &ScoreConfig, tag: &str) {
    let vs = VarStore::new(Device::Cpu);
    let model = ScoreModel::new(&vs.root(), cfg);
    let params: i64 = vs.trainable_variables().iter().map(|t| t.numel() as i64).sum();
    let schedule = NoiseSchedule::default();
    for (label, protein) in [("full", &complex.protein), ("pocket", pocket)] {
        let graph = ComplexGraph::new(&complex.ligand.ligand, protein, complex.ligand.torsions.clone());
        eprintln!(
            "{} {label}: {} ligand atoms, {} residues, {} torsions; score network{tag} {params} parameters",
            complex.id,
            graph.n_ligand(),
            graph.n_residues(),
            graph.torsions.len()
        );
        let batch = Batch::new(&[pose_sample(&graph, crystal, 0.5, &schedule)], Device::Cpu);
        let flags = batch.latent_flags(&[vec![0, graph.n_ligand()]], cfg.latents());
        c.bench_function(&format!("score{tag} forward ({label})"), |b| {
            b.iter(|| {
                let _g = tch::no_grad_guard();
                model.forward_t(&batch, Some(&flags), false)
            })
        });
        c.bench_function(&format!("score{tag} forward+backward ({label})"), |b| {
            b.iter(|| {
                let out = model.forward_t(&batch, Some(&flags), true);
                (out.tr.sum(tch::Kind::Float) + out.rot.sum(tch::Kind::Float) + out.tor.sum(tch::Kind::Float)).backward();
            })
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench_networks
}
criterion_main!(benches);
