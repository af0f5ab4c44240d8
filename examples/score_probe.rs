//! Where over diffusion time a score network has learned something: for training (or val)
//! complexes noised at fixed times, the normalised score-matching loss of each component
//! (translation, rotation, torsion), next to the loss of predicting zero scores (about 1 per
//! term by construction). A term the network has not learned stays at its zero baseline.
//! The latents, if the network has any, are left unconditional.
//!
//! Run: `cargo run --release --example score_probe -- --split ../shared/data/splits/train.txt --complexes 16 --model data/models/default`.
//! With `--train-steps K` instead of `--model`, a fresh network without latents first trains for
//! K steps on those complexes (noised at uniform random times, 8 poses a step, AdamW 1e-3,
//! gradient clip 1) and is then probed: how fast a torsion head learns, e.g.
//! `… --split ../shared/data/splits/train.txt --skip 1 --complexes 1 --train-steps 600 --torsion-head dihedral`.

use anyhow::Result;
use clap::Parser;
use disco_dock::chem::conformer::ConformerOptions;
use disco_dock::diffusion::noise::{noise_pose, NoisedPose};
use disco_dock::diffusion::schedule::NoiseSchedule;
use disco_dock::io::dataset::{prepare_split, read_split, PrepareCache};
use disco_dock::model::store::{load_config, load_weights};
use disco_dock::model::score::TorsionHead;
use disco_dock::model::{Batch, PainnConfig, ScoreConfig, ScoreModel, ScoreOutput};
use disco_dock::train::data::{training_complexes, TrainingComplex};
use disco_dock::train::score::{self, score_loss};
use rand::SeedableRng;
use std::path::PathBuf;
use rand::Rng;
use tch::nn::{OptimizerConfig, VarStore};
use tch::Device;

/// Noise draws per complex and time.
const DRAWS: usize = 16;

/// Command line.
#[derive(Parser)]
struct Args {
    /// Dataset folder.
    #[arg(long, default_value = "../shared/data")]
    data: PathBuf,
    /// Split file whose complexes are probed.
    #[arg(long)]
    split: PathBuf,
    /// Skip this many complexes at the top of the split.
    #[arg(long, default_value_t = 0)]
    skip: usize,
    /// Number of complexes (after the skipped ones).
    #[arg(long, default_value_t = 4)]
    complexes: usize,
    /// Folder with `score.json` and `score.safetensors` to probe.
    #[arg(long, required_unless_present = "train_steps")]
    model: Option<PathBuf>,
    /// Train a fresh network (no latents) for this many steps instead of loading one.
    #[arg(long)]
    train_steps: Option<usize>,
    /// Torsion head of the fresh network.
    #[arg(long, value_enum, default_value_t = TorsionHead::Atom)]
    torsion_head: TorsionHead,
    /// Noise the RDKit conformer fitted to each crystal ligand (DiffDock's conformer matching).
    #[arg(long)]
    conformer_matching: bool,
}

/// The batch that shows noised poses of training complexes to a network, and their noise.
fn noised_batch(items: &[(&TrainingComplex, NoisedPose)]) -> (Batch, Vec<NoisedPose>) {
    let (complexes, noised): (Vec<&TrainingComplex>, Vec<NoisedPose>) = items.iter().map(|(c, n)| (*c, n.clone())).unzip();
    (score::noised_batch(&complexes, &noised, Device::Cpu), noised)
}

/// A fresh network without latents trained for `steps` steps on `complexes`.
fn train_fresh(complexes: &[TrainingComplex], head: TorsionHead, steps: usize, vs: &VarStore) -> Result<ScoreModel> {
    let default = ScoreConfig::default();
    let config = ScoreConfig { core: PainnConfig { flags: 0, ..default.core.clone() }, torsion_head: head, ..default };
    let model = ScoreModel::new(&vs.root(), &config);
    let mut opt = tch::nn::AdamW { wd: 1e-5, ..Default::default() }.build(vs, 1e-3)?;
    let schedule = NoiseSchedule::default();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    for _ in 0..steps {
        let items: Vec<_> = (0..8)
            .map(|_| {
                let c = &complexes[rng.gen_range(0..complexes.len())];
                (c, noise_pose(&c.pose, &c.graph.torsions, &schedule, None, &mut rng))
            })
            .collect();
        let (batch, noised) = noised_batch(&items);
        let (loss, _) = score_loss(&model.forward_t(&batch, None, true), &noised, Device::Cpu);
        opt.backward_step_clip_norm(&loss, 1.0);
    }
    Ok(model)
}

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
    let (batch, noised) = noised_batch(&items);
    let pred = tch::no_grad(|| model.forward_t(&batch, None, false));
    let zero = ScoreOutput { tr: pred.tr.zeros_like(), rot: pred.rot.zeros_like(), tor: pred.tor.zeros_like() };
    (score_loss(&pred, &noised, Device::Cpu).1, score_loss(&zero, &noised, Device::Cpu).1)
}

fn main() -> Result<()> {
    let args = Args::parse();
    let ids: Vec<String> = read_split(&args.split)?.into_iter().skip(args.skip).take(args.complexes).collect();
    let prepared = prepare_split(&args.data, &ids, &PrepareCache::new(PrepareCache::default_dir()), &ConformerOptions::default(), None);
    let complexes = training_complexes(&prepared.complexes, 2.0, 0, args.conformer_matching);
    let mut vs = VarStore::new(Device::Cpu);
    let model = match (&args.model, args.train_steps) {
        (_, Some(steps)) => train_fresh(&complexes, args.torsion_head, steps, &vs)?,
        (Some(dir), None) => {
            let config: ScoreConfig = load_config(dir, "score")?;
            let model = ScoreModel::new(&vs.root(), &config);
            load_weights(dir, "score", &mut vs)?;
            model
        }
        (None, None) => unreachable!("clap requires --model or --train-steps"),
    };
    let schedule = NoiseSchedule::default();
    println!("t,sigma_tor,tr,rot,tor,tr_zero,rot_zero,tor_zero");
    for (k, t) in [0.05, 0.15, 0.25, 0.35, 0.45, 0.55, 0.65, 0.75, 0.85, 0.95].into_iter().enumerate() {
        let (net, zero) = probe(&model, &complexes, t, k as u64);
        let row: Vec<String> = net.iter().chain(&zero).map(|x| format!("{x:.3}")).collect();
        println!("{t},{:.3},{}", schedule.sigmas(t).tor, row.join(","));
    }
    Ok(())
}
