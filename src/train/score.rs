//! `train score`: the latent encoder and the score network trained end-to-end with denoising
//! score matching (DisCo-Diff): straight-through Gumbel-softmax latents, latent dropout, EMA,
//! AdamW, gradient clipping, cosine learning rate, validation by docking, resumable checkpoints.

use crate::diffusion::noise::{noise_pose, NoisedPose};
use crate::diffusion::sampler::SamplerConfig;
use crate::diffusion::schedule::NoiseSchedule;
use crate::dock::models::Models;
use crate::dock::sampling::{pose_sample, sample_poses, SamplingOptions};
use crate::error::{Error, Result};
use crate::geometry::{ligand_automorphisms, symmetry_rmsd};
use crate::model::store::{has_network, load_weights, load_weights_partial, save_network};
use crate::model::batch::vec3_tensor;
use crate::model::{Batch, EncoderConfig, LatentEncoder, PoseSample, ScoreConfig, ScoreModel};
use crate::train::data::TrainingComplex;
use crate::train::{learning_rate, run_dirs, Ema, TrainState};
use rand::seq::SliceRandom;
use rayon::prelude::*;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Instant;
use tch::nn::{self, OptimizerConfig, VarStore};
use tch::{Device, Kind, Tensor};

/// Settings of a score-network training run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ScoreTrainConfig {
    /// Score network configuration (its `core.flags` is the number of latents; 0 = no latents).
    pub model: ScoreConfig,
    /// Latent encoder configuration (unused when the model has no latents).
    pub encoder: EncoderConfig,
    /// Complexes per optimiser step.
    pub batch_size: usize,
    /// Peak learning rate.
    pub lr: f64,
    /// AdamW weight decay.
    pub weight_decay: f64,
    /// EMA decay of the weights.
    pub ema_decay: f64,
    /// Probability of dropping the latents for a batch (unconditional training).
    pub latent_dropout: f64,
    /// Gumbel-softmax temperature.
    pub gumbel_tau: f64,
    /// Gradient-norm clip.
    pub grad_clip: f64,
    /// Maximum epochs.
    pub epochs: u64,
    /// Wall-clock budget in minutes (the run stops after the step that crosses it).
    pub max_minutes: f64,
    /// Minutes between resume checkpoints.
    pub checkpoint_minutes: f64,
    /// Validation complexes docked after each epoch.
    pub val_complexes: usize,
    /// Validate (dock the val subset) every this many epochs, and after the last.
    pub val_every: u64,
    /// Poses per validation complex.
    pub val_samples: usize,
    /// Reverse-diffusion steps in validation.
    pub val_steps: usize,
    /// Random seed.
    pub seed: u64,
    /// Model folder whose score network (and encoder, when it has one) a new run starts from
    /// (fine-tuning); ignored when the run folder already holds a checkpoint to resume.
    #[serde(default)]
    pub init: Option<std::path::PathBuf>,
}

impl Default for ScoreTrainConfig {
    fn default() -> Self {
        ScoreTrainConfig {
            model: ScoreConfig::default(),
            encoder: EncoderConfig::default(),
            batch_size: 8,
            lr: 1e-3,
            weight_decay: 1e-5,
            ema_decay: 0.995,
            latent_dropout: 0.1,
            gumbel_tau: 1.0,
            grad_clip: 1.0,
            epochs: 1000,
            max_minutes: 60.0,
            checkpoint_minutes: 3.0,
            val_complexes: 12,
            val_every: 1,
            val_samples: 4,
            val_steps: 10,
            seed: 0,
            init: None,
        }
    }
}

/// Loads the score network of `source` (the run's own checkpoint when `resuming`, else the
/// `--init` folder) into `vs`, refusing another configuration. A new run may change only the
/// torsion head of the `--init` network: the shared weights load and the new head starts random.
fn load_score_weights(source: &Path, model: &ScoreConfig, resuming: bool, vs: &mut VarStore) -> Result<()> {
    let saved: ScoreConfig = crate::model::store::load_config(source, "score")?;
    if saved == *model {
        return load_weights(source, "score", vs);
    }
    let new_head_only = ScoreConfig { torsion_head: model.torsion_head, ..saved } == *model;
    if resuming || !new_head_only {
        let why = if resuming {
            "this run folder holds a score network of another configuration; resume with the same options or use a new --run"
        } else {
            "the --init score network has another configuration; give the same --latents, --hidden and --layers"
        };
        return Err(Error::invalid(source.display().to_string(), why));
    }
    load_weights_partial(source, "score", vs).map(|_| ())
}

/// The networks being trained, with their stores, EMA copies and optimisers.
struct Trainer {
    score: ScoreModel,
    encoder: Option<LatentEncoder>,
    score_vs: VarStore,
    encoder_vs: Option<VarStore>,
    score_ema_vs: VarStore,
    encoder_ema_vs: Option<VarStore>,
    /// The EMA score network (built once on `score_ema_vs`) used for validation docking.
    ema_models: Models,
    ema: Vec<Ema>,
    optimizers: Vec<nn::Optimizer>,
}

fn adamw(vs: &VarStore, cfg: &ScoreTrainConfig) -> Result<nn::Optimizer> {
    nn::AdamW { wd: cfg.weight_decay, ..Default::default() }.build(vs, cfg.lr).map_err(Error::from)
}

impl Trainer {
    fn new(cfg: &ScoreTrainConfig, device: Device, last: &Path) -> Result<Trainer> {
        let mut score_vs = VarStore::new(device);
        let score = ScoreModel::new(&score_vs.root(), &cfg.model);
        let mut score_ema_vs = VarStore::new(device);
        let ema_score = ScoreModel::new(&score_ema_vs.root(), &cfg.model);
        let with_latents = cfg.model.latents() > 0;
        let mut encoder_vs = with_latents.then(|| VarStore::new(device));
        let encoder = encoder_vs.as_ref().map(|vs| LatentEncoder::new(&vs.root(), &cfg.encoder));
        let mut encoder_ema_vs = with_latents.then(|| VarStore::new(device));
        if let Some(vs) = &encoder_ema_vs {
            let _ = LatentEncoder::new(&vs.root(), &cfg.encoder);
        }
        let resuming = has_network(last, "score");
        let source = if resuming { Some(last) } else { cfg.init.as_deref() };
        if let Some(source) = source {
            load_score_weights(source, &cfg.model, resuming, &mut score_vs)?;
            if let Some(vs) = encoder_vs.as_mut().filter(|_| resuming || has_network(source, "encoder")) {
                load_weights(source, "encoder", vs)?;
            }
        }
        let mut ema = vec![Ema::new(&score_vs, &mut score_ema_vs, cfg.ema_decay)?];
        if let (Some(src), Some(dst)) = (&encoder_vs, encoder_ema_vs.as_mut()) {
            ema.push(Ema::new(src, dst, cfg.ema_decay)?);
        }
        if has_network(last, "score_ema") {
            load_weights(last, "score_ema", &mut score_ema_vs)?;
            if let Some(vs) = encoder_ema_vs.as_mut() {
                load_weights(last, "encoder_ema", vs)?;
            }
        }
        let mut optimizers = vec![adamw(&score_vs, cfg)?];
        if let Some(vs) = &encoder_vs {
            optimizers.push(adamw(vs, cfg)?);
        }
        let ema_models = Models::from_parts(ema_score, None, Vec::new(), device);
        Ok(Trainer { score, encoder, score_vs, encoder_vs, score_ema_vs, encoder_ema_vs, ema_models, ema, optimizers })
    }

    fn save(&self, dir: &Path, cfg: &ScoreTrainConfig, ema_only: bool) -> Result<()> {
        save_network(dir, "score", &cfg.model, if ema_only { &self.score_ema_vs } else { &self.score_vs })?;
        if !ema_only {
            save_network(dir, "score_ema", &cfg.model, &self.score_ema_vs)?;
        }
        if let (Some(vs), Some(ema)) = (&self.encoder_vs, &self.encoder_ema_vs) {
            save_network(dir, "encoder", &cfg.encoder, if ema_only { ema } else { vs })?;
            if !ema_only {
                save_network(dir, "encoder_ema", &cfg.encoder, ema)?;
            }
        }
        Ok(())
    }
}

fn f32_tensor(v: impl Iterator<Item = f64>, device: Device) -> Tensor {
    Tensor::from_slice(&v.map(|x| x as f32).collect::<Vec<f32>>()).to_device(device)
}

/// Denoising score-matching loss of one batch, each term normalised by its expected score norm.
pub fn score_loss(pred: &crate::model::ScoreOutput, noised: &[NoisedPose], device: Device) -> (Tensor, [f64; 3]) {
    let tr_t = vec3_tensor(noised.iter().map(|n| n.target.tr)).to_device(device);
    let rot_t = vec3_tensor(noised.iter().map(|n| n.target.rot)).to_device(device);
    let tr_norm = f32_tensor(noised.iter().map(|n| n.norms.tr), device).unsqueeze(1);
    let rot_norm = f32_tensor(noised.iter().map(|n| n.norms.rot), device).unsqueeze(1);
    let tr_loss = ((&pred.tr - tr_t).square() / tr_norm).mean(Kind::Float);
    let rot_loss = ((&pred.rot - rot_t).square() / rot_norm).mean(Kind::Float);
    let tor_t = f32_tensor(noised.iter().flat_map(|n| n.target.tor.clone()), device);
    let tor_loss = if tor_t.size()[0] > 0 {
        let tor_norm = f32_tensor(noised.iter().flat_map(|n| vec![n.norms.tor; n.target.tor.len()]), device);
        ((&pred.tor - tor_t).square() / tor_norm).mean(Kind::Float)
    } else {
        Tensor::zeros([], (Kind::Float, device))
    };
    let parts = [tr_loss.double_value(&[]), rot_loss.double_value(&[]), tor_loss.double_value(&[])];
    (tr_loss + rot_loss + tor_loss, parts)
}

/// Encoder input: each complex in its training pose.
fn crystal_samples<'a>(items: &[&'a TrainingComplex], schedule: &NoiseSchedule) -> Vec<PoseSample<'a>> {
    items.par_iter().map(|c| PoseSample { cross_cutoff: 10.0, ..pose_sample(&c.graph, &c.pose, 0.0, schedule) }).collect()
}

/// The batch that shows the score network `noised[i]`, a noised pose of `items[i]` (graphs built
/// in parallel).
pub fn noised_batch(items: &[&TrainingComplex], noised: &[NoisedPose], device: Device) -> Batch {
    let schedule = NoiseSchedule::default();
    let samples: Vec<PoseSample> = items
        .par_iter()
        .zip(noised)
        .map(|(c, n)| pose_sample(&c.graph, &n.coords, n.t, &schedule))
        .collect();
    Batch::new(&samples, device)
}

/// One optimiser step on a batch; returns the loss parts.
fn train_step(tr: &mut Trainer, items: &[&TrainingComplex], cfg: &ScoreTrainConfig, rng: &mut impl Rng, device: Device) -> Result<[f64; 3]> {
    let schedule = NoiseSchedule::default();
    // graphs are built in parallel (rayon): on a GPU the batch preparation is the bottleneck
    let seeds: Vec<u64> = items.iter().map(|_| rng.gen()).collect();
    let noised: Vec<NoisedPose> = items
        .par_iter()
        .zip(&seeds)
        .map(|(c, &s)| noise_pose(&c.pose, &c.graph.torsions, &schedule, None, &mut rand_chacha::ChaCha8Rng::seed_from_u64(s)))
        .collect();
    let batch = noised_batch(items, &noised, device);
    let drop = rng.gen::<f64>() < cfg.latent_dropout;
    let flags = match (&tr.encoder, drop) {
        (Some(enc), false) => {
            let crystal = Batch::new(&crystal_samples(items, &schedule), device);
            Some(enc.forward_t(&crystal, cfg.gumbel_tau, true).flags)
        }
        _ => None,
    };
    let pred = tr.score.forward_t(&batch, flags.as_ref(), true);
    let (loss, parts) = score_loss(&pred, &noised, device);
    if !parts.iter().all(|x| x.is_finite()) {
        return Err(Error::Model(format!("non-finite loss {parts:?}")));
    }
    // when the latents were dropped the encoder took no part: step the score network only
    let active = if flags.is_some() { tr.optimizers.len() } else { 1 };
    for opt in &mut tr.optimizers {
        opt.zero_grad();
    }
    loss.backward();
    for opt in &mut tr.optimizers[..active] {
        opt.clip_grad_norm(cfg.grad_clip);
        opt.step();
    }
    for e in &mut tr.ema {
        e.update();
    }
    Ok(parts)
}

/// Docks validation complexes (pocket given, unconditional latents) with the EMA weights and
/// returns the fraction of sampled poses within 2 Å of the crystal pose.
pub fn validation_success(models: &Models, val: &[TrainingComplex], samples: usize, steps: usize, seed: u64) -> Result<f64> {
    let mut hits = 0usize;
    let mut total = 0usize;
    for (i, c) in val.iter().enumerate() {
        let options = SamplingOptions {
            samples,
            sampler: SamplerConfig { steps, seed: seed + i as u64, ..Default::default() },
            latent_temperature: 1.0,
            initial_sigma: 4.0,
        };
        let out = sample_poses(models, &c.graph, &c.conformer, &c.pocket_center, &options)?;
        let autos = ligand_automorphisms(&c.graph.ligand);
        for pose in &out.poses {
            total += 1;
            hits += (symmetry_rmsd(pose, &c.crystal, &autos) < 2.0) as usize;
        }
    }
    Ok(hits as f64 / total.max(1) as f64)
}

/// Writes the resume checkpoint (weights, EMA weights and training state) to `last`.
fn save_checkpoint(tr: &Trainer, state: &TrainState, last: &Path, cfg: &ScoreTrainConfig) -> Result<()> {
    tr.save(last, cfg, false)?;
    state.save(last)
}

/// Runs (or resumes) score training; the best checkpoint by validation docking goes to `<run>/best`.
pub fn train_score(
    train: &[TrainingComplex],
    val: &[TrainingComplex],
    cfg: &ScoreTrainConfig,
    run: &Path,
    device: Device,
    log: &mut dyn FnMut(&str),
) -> Result<TrainState> {
    if train.is_empty() {
        return Err(Error::invalid("train score", "no training complexes"));
    }
    let (last, best) = run_dirs(run);
    std::fs::create_dir_all(run).map_err(|e| Error::io(run, e))?;
    let cfg_path = run.join("train_config.json");
    std::fs::write(&cfg_path, serde_json::to_string_pretty(cfg).unwrap_or_default()).map_err(|e| Error::io(&cfg_path, e))?;
    let mut state = TrainState::load(&last)?;
    let mut tr = Trainer::new(cfg, device, &last)?;
    let steps_per_epoch = train.len().div_ceil(cfg.batch_size) as u64;
    let total_steps = steps_per_epoch * cfg.epochs;
    let start = Instant::now();
    let start_seconds = state.seconds;
    let mut last_save = Instant::now();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(cfg.seed ^ state.step);
    let val_subset = &val[..cfg.val_complexes.min(val.len())];
    while state.epoch < cfg.epochs {
        let mut order: Vec<usize> = (0..train.len()).collect();
        order.shuffle(&mut rng);
        let mut sum = [0.0f64; 3];
        let mut n = 0usize;
        for chunk in order.chunks(cfg.batch_size) {
            let items: Vec<&TrainingComplex> = chunk.iter().map(|&i| &train[i]).collect();
            let budget_used = (start_seconds + start.elapsed().as_secs_f64()) / (cfg.max_minutes * 60.0);
            let lr = learning_rate(cfg.lr, state.step, 200, total_steps, budget_used);
            for opt in &mut tr.optimizers {
                opt.set_lr(lr);
            }
            match train_step(&mut tr, &items, cfg, &mut rng, device) {
                Ok(parts) => {
                    for k in 0..3 {
                        sum[k] += parts[k];
                    }
                    n += 1;
                }
                Err(e) => log(&format!("step {} skipped: {e}", state.step)),
            }
            state.step += 1;
            state.seconds = start_seconds + start.elapsed().as_secs_f64();
            if state.step % 50 == 0 {
                let loss = sum.iter().sum::<f64>() / n.max(1) as f64;
                log(&format!("step {} mean loss {loss:.4} [{:.1} min]", state.step, state.seconds / 60.0));
            }
            if last_save.elapsed().as_secs_f64() > cfg.checkpoint_minutes * 60.0 {
                save_checkpoint(&tr, &state, &last, cfg)?;
                last_save = Instant::now();
            }
            if state.seconds / 60.0 > cfg.max_minutes {
                break;
            }
        }
        state.epoch += 1;
        let mean = sum.map(|s| s / n.max(1) as f64);
        let out_of_time = state.seconds / 60.0 > cfg.max_minutes;
        let validate = state.epoch % cfg.val_every.max(1) == 0 || out_of_time || state.epoch == cfg.epochs;
        let loss = mean.iter().sum::<f64>();
        if validate {
            let metric = if val_subset.is_empty() {
                None
            } else {
                Some(validation_success(&tr.ema_models, val_subset, cfg.val_samples, cfg.val_steps, cfg.seed)?)
            };
            state.history.push((state.epoch, state.step, loss, metric));
            log(&format!(
                "epoch {} step {} loss {:.4} (tr {:.3} rot {:.3} tor {:.3}) val_success {} [{:.1} min]",
                state.epoch,
                state.step,
                loss,
                mean[0],
                mean[1],
                mean[2],
                metric.map(|m| format!("{:.3}", m)).unwrap_or("-".into()),
                state.seconds / 60.0
            ));
            // ties go to the later epoch: with equal validation success, more training is preferred
            if metric.is_some() && metric >= state.best_metric || (metric.is_none() && state.best_metric.is_none()) {
                state.best_metric = metric.or(Some(-loss));
                tr.save(&best, cfg, true)?;
                state.save(&best)?;
            }
        } else {
            log(&format!("epoch {} step {} loss {loss:.4} [{:.1} min]", state.epoch, state.step, state.seconds / 60.0));
        }
        save_checkpoint(&tr, &state, &last, cfg)?;
        last_save = Instant::now();
        if out_of_time {
            log("time budget reached");
            break;
        }
    }
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A saved score network with random weights, in a fresh folder.
    fn saved_network(cfg: &ScoreConfig) -> (tempfile::TempDir, VarStore) {
        let dir = tempfile::tempdir().unwrap();
        let vs = VarStore::new(Device::Cpu);
        let _ = ScoreModel::new(&vs.root(), cfg);
        save_network(dir.path(), "score", cfg, &vs).unwrap();
        (dir, vs)
    }

    #[test]
    fn init_starts_a_new_run_from_the_given_score_network() {
        let cfg = ScoreTrainConfig::default();
        let (init, saved) = saved_network(&cfg.model);
        let run = tempfile::tempdir().unwrap();
        let fresh = Trainer::new(&cfg, Device::Cpu, run.path()).unwrap();
        let tuned = Trainer::new(&ScoreTrainConfig { init: Some(init.path().into()), ..cfg.clone() }, Device::Cpu, run.path()).unwrap();
        let saved = saved.variables();
        let same = |vs: &VarStore| vs.variables().iter().all(|(name, t)| t.equal(&saved[name]));
        assert!(same(&tuned.score_vs) && same(&tuned.score_ema_vs), "weights and EMA start from --init");
        assert!(!same(&fresh.score_vs), "without --init the weights are random");
    }

    #[test]
    fn init_with_another_configuration_is_refused() {
        let cfg = ScoreTrainConfig::default();
        let mut other = cfg.model.clone();
        other.core.hidden += 8;
        let (init, _) = saved_network(&other);
        let run = tempfile::tempdir().unwrap();
        let err = Trainer::new(&ScoreTrainConfig { init: Some(init.path().into()), ..cfg }, Device::Cpu, run.path()).err().expect("refused");
        assert!(err.to_string().contains("--init"), "{err}");
    }

    #[test]
    fn init_may_change_the_torsion_head_and_keeps_the_shared_weights() {
        let atom = ScoreTrainConfig::default();
        let (init, saved) = saved_network(&atom.model);
        let mut dihedral = atom.clone();
        dihedral.model.torsion_head = crate::model::score::TorsionHead::Dihedral;
        dihedral.init = Some(init.path().into());
        let run = tempfile::tempdir().unwrap();
        let tuned = Trainer::new(&dihedral, Device::Cpu, run.path()).unwrap();
        let saved = saved.variables();
        let vars = tuned.score_vs.variables();
        let (shared, new): (Vec<_>, Vec<_>) = vars.iter().partition(|(name, _)| saved.contains_key(*name));
        assert!(shared.iter().any(|(n, _)| n.starts_with("core.")) && !new.is_empty(), "core shared, head new");
        assert!(shared.iter().all(|(name, t)| t.equal(&saved[*name])), "shared weights start from --init");
        assert!(new.iter().all(|(name, _)| name.starts_with("tor_dihedral.")), "only the torsion head is new: {new:?}");
    }
}
