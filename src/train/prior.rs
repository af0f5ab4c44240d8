//! `train prior`: the autoregressive latent prior, trained with cross-entropy against the
//! frozen encoder's softmax on training complexes (teacher forcing with the encoder's argmax
//! latents); the checkpoint kept is the best by validation loss.

use crate::diffusion::sampler::random_initial_pose;
use crate::diffusion::schedule::NoiseSchedule;
use crate::dock::sampling::pose_sample;
use crate::error::{Error, Result};
use crate::model::encoder::hard_one_hot;
use crate::model::store::save_network;
use crate::model::{Batch, LatentEncoder, LatentPrior, PoseSample, PriorConfig};
use crate::train::data::TrainingComplex;
use crate::train::{learning_rate, run_dirs, TrainState};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Instant;
use tch::nn::{OptimizerConfig, VarStore};
use tch::{Device, Tensor};

/// Settings of a prior training run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PriorTrainConfig {
    /// Prior configuration (its `latents` must match the encoder's).
    pub model: PriorConfig,
    /// Complexes per step.
    pub batch_size: usize,
    /// Peak learning rate.
    pub lr: f64,
    /// Maximum epochs.
    pub epochs: u64,
    /// Wall-clock budget in minutes.
    pub max_minutes: f64,
    /// Random seed.
    pub seed: u64,
}

impl Default for PriorTrainConfig {
    fn default() -> Self {
        PriorTrainConfig { model: PriorConfig::default(), batch_size: 8, lr: 1e-3, epochs: 30, max_minutes: 15.0, seed: 0 }
    }
}

/// Prior inputs: the RDKit conformer at the pocket centre in a random orientation (no pose).
fn unposed(items: &[&TrainingComplex], rng: &mut impl rand::Rng) -> Vec<Vec<crate::chem::Vec3>> {
    items.iter().map(|c| random_initial_pose(&c.conformer, &c.graph.torsions, &c.pocket_center, 0.0, rng)).collect()
}

/// Loss of the prior on one batch: encoder targets from crystal poses, prior inputs unposed.
fn batch_loss(
    prior: &LatentPrior,
    encoder: &LatentEncoder,
    items: &[&TrainingComplex],
    rng: &mut impl rand::Rng,
    device: Device,
) -> Tensor {
    let schedule = NoiseSchedule::default();
    let crystal: Vec<PoseSample> =
        items.iter().map(|c| PoseSample { cross_cutoff: 10.0, ..pose_sample(&c.graph, &c.pose, 0.0, &schedule) }).collect();
    let crystal_batch = Batch::new(&crystal, device);
    let (probs, targets) = {
        let _guard = tch::no_grad_guard();
        let enc = encoder.forward_t(&crystal_batch, 1.0, false);
        let hard = hard_one_hot(&enc.probs, &crystal_batch);
        (enc.probs, hard)
    };
    let placed = unposed(items, rng);
    let samples: Vec<PoseSample> = items.iter().zip(&placed).map(|(c, p)| pose_sample(&c.graph, p, 0.0, &schedule)).collect();
    let batch = Batch::new(&samples, device);
    let logits = prior.forward_t(&batch, &targets, true);
    prior.loss(&batch, &logits, &probs)
}

/// Trains the prior against a frozen encoder; best-by-validation-loss weights go to `<run>/best/prior.*`.
pub fn train_prior(
    encoder: &LatentEncoder,
    train: &[TrainingComplex],
    val: &[TrainingComplex],
    cfg: &PriorTrainConfig,
    run: &Path,
    device: Device,
    log: &mut dyn FnMut(&str),
) -> Result<TrainState> {
    if train.is_empty() {
        return Err(Error::invalid("train prior", "no training complexes"));
    }
    let (_, best) = run_dirs(run);
    let vs = VarStore::new(device);
    let prior = LatentPrior::new(&vs.root(), &cfg.model);
    let mut opt = tch::nn::AdamW::default().build(&vs, cfg.lr)?;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(cfg.seed);
    let mut state = TrainState::default();
    let start = Instant::now();
    let total = train.len().div_ceil(cfg.batch_size) as u64 * cfg.epochs;
    for epoch in 0..cfg.epochs {
        let mut order: Vec<usize> = (0..train.len()).collect();
        order.shuffle(&mut rng);
        let mut sum = 0.0;
        let mut n = 0;
        for chunk in order.chunks(cfg.batch_size) {
            let items: Vec<&TrainingComplex> = chunk.iter().map(|&i| &train[i]).collect();
            opt.set_lr(learning_rate(cfg.lr, state.step, 50, total, start.elapsed().as_secs_f64() / (cfg.max_minutes * 60.0)));
            let loss = batch_loss(&prior, encoder, &items, &mut rng, device);
            opt.backward_step_clip_norm(&loss, 1.0);
            sum += loss.double_value(&[]);
            n += 1;
            state.step += 1;
            if start.elapsed().as_secs_f64() / 60.0 > cfg.max_minutes {
                break;
            }
        }
        let val_loss = {
            let _guard = tch::no_grad_guard();
            let mut vrng = rand_chacha::ChaCha8Rng::seed_from_u64(cfg.seed + 1);
            let losses: Vec<f64> = val
                .chunks(cfg.batch_size)
                .map(|c| {
                    let items: Vec<&TrainingComplex> = c.iter().collect();
                    batch_loss(&prior, encoder, &items, &mut vrng, device).double_value(&[])
                })
                .collect();
            losses.iter().sum::<f64>() / losses.len().max(1) as f64
        };
        state.epoch = epoch + 1;
        state.seconds = start.elapsed().as_secs_f64();
        state.history.push((state.epoch, state.step, sum / n.max(1) as f64, Some(-val_loss)));
        log(&format!("prior epoch {} train CE {:.4} val CE {:.4}", epoch + 1, sum / n.max(1) as f64, val_loss));
        if state.best_metric.is_none_or(|b| -val_loss > b) {
            state.best_metric = Some(-val_loss);
            save_network(&best, "prior", &cfg.model, &vs)?;
            state.save(&run.join("prior_state"))?;
        }
        if state.seconds / 60.0 > cfg.max_minutes {
            log("time budget reached");
            break;
        }
    }
    Ok(state)
}
