//! `train confidence`: poses sampled by the trained score model (and prior) on training
//! complexes, labelled by symmetry-corrected RMSD < 2 Å, train a separate classifier with
//! balanced classes; the checkpoint kept is the best by validation AUROC.

use crate::chem::Vec3;
use crate::diffusion::sampler::SamplerConfig;
use crate::diffusion::schedule::NoiseSchedule;
use crate::dock::models::Models;
use crate::dock::sampling::{pose_sample, sample_poses, SamplingOptions};
use crate::error::{Error, Result};
use crate::geometry::{automorphisms, symmetry_rmsd};
use crate::model::store::save_network;
use crate::model::{Batch, ConfidenceConfig, ConfidenceModel, PoseSample};
use crate::train::data::TrainingComplex;
use crate::train::{run_dirs, TrainState};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Instant;
use tch::nn::{OptimizerConfig, VarStore};
use tch::{Device, Tensor};

/// Settings of a confidence training run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ConfidenceTrainConfig {
    /// Confidence model configuration.
    pub model: ConfidenceConfig,
    /// Poses sampled per training complex.
    pub samples_per_complex: usize,
    /// Reverse-diffusion steps when sampling them.
    pub steps: usize,
    /// Poses per optimiser step.
    pub batch_size: usize,
    /// Learning rate.
    pub lr: f64,
    /// Maximum epochs.
    pub epochs: u64,
    /// Wall-clock budget for the fitting, in minutes (pose generation not counted).
    pub max_minutes: f64,
    /// Random seed.
    pub seed: u64,
}

impl Default for ConfidenceTrainConfig {
    fn default() -> Self {
        ConfidenceTrainConfig {
            model: ConfidenceConfig::default(),
            samples_per_complex: 6,
            steps: 12,
            batch_size: 16,
            lr: 1e-3,
            epochs: 30,
            max_minutes: 15.0,
            seed: 0,
        }
    }
}

/// A sampled pose with its label.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LabelledPose {
    /// Index of the complex in its list.
    pub complex: usize,
    /// Ligand coordinates.
    pub coords: Vec<Vec3>,
    /// Symmetry-corrected RMSD to the crystal pose (Å).
    pub rmsd: f64,
}

/// Post-processing applied to sampled poses before labelling (e.g. physics refinement), so the
/// confidence model sees poses as docking will produce them.
pub type PostProcess<'a> = &'a (dyn Fn(&TrainingComplex, Vec<Vec<Vec3>>) -> Vec<Vec<Vec3>> + Sync);

/// Samples and labels poses for each complex (pocket given, as in training crops).
pub fn labelled_poses(
    models: &Models,
    complexes: &[TrainingComplex],
    samples: usize,
    steps: usize,
    seed: u64,
    post: PostProcess,
    log: &mut dyn FnMut(&str),
) -> Result<Vec<LabelledPose>> {
    let mut out = Vec::new();
    for (i, c) in complexes.iter().enumerate() {
        let options = SamplingOptions {
            samples,
            sampler: SamplerConfig { steps, seed: seed + i as u64, ..Default::default() },
            latent_temperature: 1.5,
            initial_sigma: 4.0,
        };
        let poses = post(c, sample_poses(models, &c.graph, &c.conformer, &c.pocket_center, &options)?.poses);
        let elements: Vec<u8> = c.graph.ligand.atoms.iter().map(|a| a.element).collect();
        let bonds: Vec<(usize, usize)> = c.graph.ligand.bonds.iter().map(|b| (b.begin, b.end)).collect();
        let autos = automorphisms(&elements, &bonds, 1000);
        for coords in poses {
            let rmsd = symmetry_rmsd(&coords, &c.crystal, &autos);
            out.push(LabelledPose { complex: i, coords, rmsd });
        }
        if (i + 1) % 50 == 0 {
            let pos = out.iter().filter(|p| p.rmsd < 2.0).count();
            log(&format!("sampled {} complexes, {} poses, {} under 2 Å", i + 1, out.len(), pos));
        }
    }
    Ok(out)
}

/// Area under the ROC curve of `scores` for binary `labels` (0.5 when one class is missing).
pub fn auroc(scores: &[f64], labels: &[bool]) -> f64 {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[a].partial_cmp(&scores[b]).unwrap_or(std::cmp::Ordering::Equal));
    let (mut rank_sum, mut pos, mut i) = (0.0, 0usize, 0usize);
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && scores[idx[j + 1]] == scores[idx[i]] {
            j += 1;
        }
        let avg_rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            if labels[k] {
                rank_sum += avg_rank;
                pos += 1;
            }
        }
        i = j + 1;
    }
    let neg = labels.len() - pos;
    if pos == 0 || neg == 0 {
        return 0.5;
    }
    (rank_sum - (pos * (pos + 1)) as f64 / 2.0) / (pos * neg) as f64
}

fn pose_batch(complexes: &[TrainingComplex], poses: &[&LabelledPose], device: Device) -> (Batch, Tensor) {
    let schedule = NoiseSchedule::default();
    let samples: Vec<PoseSample> =
        poses.iter().map(|p| pose_sample(&complexes[p.complex].graph, &p.coords, 0.0, &schedule)).collect();
    let labels: Vec<f32> = poses.iter().map(|p| (p.rmsd < 2.0) as u8 as f32).collect();
    (Batch::new(&samples, device), Tensor::from_slice(&labels).to_device(device))
}

/// Predicted logits for labelled poses.
pub fn predict(model: &ConfidenceModel, complexes: &[TrainingComplex], poses: &[LabelledPose], device: Device) -> Vec<f64> {
    let _guard = tch::no_grad_guard();
    let refs: Vec<&LabelledPose> = poses.iter().collect();
    refs.chunks(32)
        .flat_map(|c| {
            let (batch, _) = pose_batch(complexes, c, device);
            Vec::<f32>::try_from(model.forward_t(&batch, false).to_device(Device::Cpu)).unwrap_or_default()
        })
        .map(|x| x as f64)
        .collect()
}

/// Fits the confidence model on labelled poses; the best-AUROC weights go to `<run>/best/confidence.*`.
#[allow(clippy::too_many_arguments)]
pub fn train_confidence(
    train: &[TrainingComplex],
    train_poses: &[LabelledPose],
    val: &[TrainingComplex],
    val_poses: &[LabelledPose],
    cfg: &ConfidenceTrainConfig,
    run: &Path,
    device: Device,
    log: &mut dyn FnMut(&str),
) -> Result<TrainState> {
    if train_poses.is_empty() {
        return Err(Error::invalid("train confidence", "no sampled poses"));
    }
    let (_, best) = run_dirs(run);
    let vs = VarStore::new(device);
    let model = ConfidenceModel::new(&vs.root(), &cfg.model);
    let mut opt = tch::nn::AdamW::default().build(&vs, cfg.lr)?;
    let positives = train_poses.iter().filter(|p| p.rmsd < 2.0).count().max(1);
    let pos_weight = ((train_poses.len() - positives.min(train_poses.len())) as f64 / positives as f64).max(1.0);
    let pos_weight_t = Tensor::from_slice(&[pos_weight as f32]).to_device(device);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(cfg.seed);
    let mut state = TrainState::default();
    let start = Instant::now();
    let val_labels: Vec<bool> = val_poses.iter().map(|p| p.rmsd < 2.0).collect();
    for epoch in 0..cfg.epochs {
        let mut order: Vec<&LabelledPose> = train_poses.iter().collect();
        order.shuffle(&mut rng);
        let (mut sum, mut n) = (0.0, 0);
        for chunk in order.chunks(cfg.batch_size) {
            let (batch, labels) = pose_batch(train, chunk, device);
            let logits = model.forward_t(&batch, true);
            let loss = logits.binary_cross_entropy_with_logits::<&Tensor>(&labels, None, Some(&pos_weight_t), tch::Reduction::Mean);
            opt.backward_step_clip_norm(&loss, 1.0);
            sum += loss.double_value(&[]);
            n += 1;
            state.step += 1;
        }
        let val_auc = auroc(&predict(&model, val, val_poses, device), &val_labels);
        state.epoch = epoch + 1;
        state.seconds = start.elapsed().as_secs_f64();
        state.history.push((state.epoch, state.step, sum / n.max(1) as f64, Some(val_auc)));
        log(&format!("confidence epoch {} loss {:.4} val AUROC {:.3}", epoch + 1, sum / n.max(1) as f64, val_auc));
        if state.best_metric.map_or(true, |b| val_auc > b) {
            state.best_metric = Some(val_auc);
            save_network(&best, "confidence", &cfg.model, &vs)?;
            state.save(&run.join("confidence_state"))?;
        }
        if state.seconds / 60.0 > cfg.max_minutes {
            break;
        }
    }
    Ok(state)
}
