//! Where over diffusion time a score network has learned something: for training (or val)
//! complexes noised at fixed times, the normalised score-matching loss of each component
//! (translation, rotation, torsion), next to the loss of predicting zero scores (about 1 per
//! term by construction). A term the network has not learned stays at its zero baseline.
//! The latents, if the network has any, are left unconditional.
//!
//! Run: `cargo run --release --example score_probe -- ../shared/data ../shared/data/splits/train.txt 4 runs/overfit4/best [--conformer-matching]`
//! (arguments: data folder, split file, number of complexes from its top, folder with
//! `score.json` / `score.safetensors`).

use anyhow::{bail, Context, Result};
use disco_dock::chem::conformer::ConformerOptions;
use disco_dock::diffusion::noise::{noise_pose, NoisedPose};
use disco_dock::diffusion::schedule::NoiseSchedule;
use disco_dock::dock::sampling::pose_sample;
use disco_dock::io::dataset::{prepare_split, read_split, PrepareCache};
use disco_dock::model::store::{load_config, load_weights};
use disco_dock::model::{Batch, PoseSample, ScoreConfig, ScoreModel, ScoreOutput};
use disco_dock::train::data::{training_complexes, TrainingComplex};
use disco_dock::train::score::score_loss;
use rand::SeedableRng;
use std::path::PathBuf;
use tch::nn::VarStore;
use tch::Device;

/// Noise draws per complex and time.
const DRAWS: usize = 16;

/// Loss parts of the network and of zero scores, for every complex noised `DRAWS` times at `t`.
fn probe(model: &ScoreModel, complexes: &[TrainingComplex], t: f64, seed: u64) -> ([f64; 3], [f64; 3]) {
    let schedule = NoiseSchedule::default();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut items: Vec<(&TrainingComplex, NoisedPose)> = Vec::new();
    for c in complexes {
        for _ in 0..DRAWS {
            items.push((c, noise_pose(&c.pose, &c.graph.torsions, &schedule, Some(t), &mut rng)));
        }
    }
    let samples: Vec<PoseSample> = items
        .iter()
        .map(|(c, n)| PoseSample { rot_score_norm: n.norms.rot, tor_score_norm: n.norms.tor, ..pose_sample(&c.graph, &n.coords, n.t, &schedule) })
        .collect();
    let noised: Vec<NoisedPose> = items.iter().map(|(_, n)| n.clone()).collect();
    let batch = Batch::new(&samples, Device::Cpu);
    let pred = tch::no_grad(|| model.forward_t(&batch, None, false));
    let zero = ScoreOutput { tr: pred.tr.zeros_like(), rot: pred.rot.zeros_like(), tor: pred.tor.zeros_like() };
    (score_loss(&pred, &noised, Device::Cpu).1, score_loss(&zero, &noised, Device::Cpu).1)
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 4 {
        bail!("usage: score_probe DATA SPLIT N MODEL_DIR [--conformer-matching]");
    }
    let (data, split, model_dir) = (PathBuf::from(&args[0]), PathBuf::from(&args[1]), PathBuf::from(&args[3]));
    let n: usize = args[2].parse().context("N")?;
    let matching = args.iter().any(|a| a == "--conformer-matching");
    let mut ids = read_split(&split)?;
    ids.truncate(n);
    let prepared = prepare_split(&data, &ids, &PrepareCache::new(PrepareCache::default_dir()), &ConformerOptions::default(), None);
    let complexes = training_complexes(&prepared.complexes, 2.0, 0, matching);
    let config: ScoreConfig = load_config(&model_dir, "score")?;
    let mut vs = VarStore::new(Device::Cpu);
    let model = ScoreModel::new(&vs.root(), &config);
    load_weights(&model_dir, "score", &mut vs)?;
    let schedule = NoiseSchedule::default();
    println!("t,sigma_tor,tr,rot,tor,tr_zero,rot_zero,tor_zero");
    for (k, t) in [0.05, 0.15, 0.25, 0.35, 0.45, 0.55, 0.65, 0.75, 0.85, 0.95].into_iter().enumerate() {
        let (net, zero) = probe(&model, &complexes, t, k as u64);
        let row: Vec<String> = net.iter().chain(&zero).map(|x| format!("{x:.3}")).collect();
        println!("{t},{:.3},{}", schedule.sigmas(t).tor, row.join(","));
    }
    Ok(())
}
