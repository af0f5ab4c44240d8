//! `train confidence`: poses sampled by the trained score model (and prior) on training
//! complexes, labelled by symmetry-corrected RMSD < 2 Å, train a separate classifier with
//! balanced classes; the checkpoint kept is the best by validation AUROC.

use crate::chem::Vec3;
use crate::diffusion::sampler::SamplerConfig;
use crate::diffusion::schedule::NoiseSchedule;
use crate::chem::conformer::PreparedLigand;
use crate::dock::models::Models;
use crate::dock::{dock, DockOptions, Pocket, Target};
use crate::dock::sampling::{pose_sample, sample_poses, SamplingOptions};
use crate::error::{Error, Result};
use crate::geometry::{ligand_automorphisms, symmetry_rmsd};
use crate::model::store::{load_config, load_weights, save_network};
use crate::model::{contact_inputs, pose_features, Batch, ConfidenceConfig, ConfidenceModel, PoseSample};
use crate::dock::POPULATION_RMSD;
use crate::physics::{native_pose, ContactAtoms, VinaLigand};
use crate::train::data::TrainingComplex;
use crate::train::{run_dirs, TrainState};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
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
    /// Weight of the listwise loss (per complex, -log of the softmax mass on its right poses)
    /// added to the balanced cross-entropy: ranking needs the right pose of a complex to beat
    /// its wrong ones, which cross-entropy over all poses does not ask for. Batches then hold
    /// whole complexes.
    pub listwise_weight: f64,
    /// Start from this model folder's confidence model (same configuration) instead of random
    /// weights: fine-tuning on poses of another docking set-up. Its val score is the one to
    /// beat, so the kept weights are never worse on val than the starting ones.
    pub init: Option<std::path::PathBuf>,
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
            listwise_weight: 1.0,
            init: None,
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
    /// Rank the docking pipeline gave the pose (energy ranking), when it came from docking.
    #[serde(default)]
    pub rank: Option<usize>,
    /// Energy the docking ranking used (kcal/mol), when it came from docking.
    #[serde(default)]
    pub energy: Option<f64>,
    /// Other poses of the complex within 2 Å, when it came from docking.
    #[serde(default)]
    pub population: Option<usize>,
    /// Physics features of the pose among its complex's poses (see [`set_pose_features`]).
    #[serde(skip)]
    pub features: [f32; 2],
}

/// Positions of the poses of each complex, given each pose's complex index in order.
fn by_complex(complexes: impl Iterator<Item = usize>) -> BTreeMap<usize, Vec<usize>> {
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, c) in complexes.enumerate() {
        groups.entry(c).or_default().push(i);
    }
    groups
}

/// Sets every pose's [`pose_features`] from the energies and populations of its complex's poses.
pub fn set_pose_features(poses: &mut [LabelledPose]) {
    for members in by_complex(poses.iter().map(|p| p.complex)).values() {
        let energies: Vec<Option<f64>> = members.iter().map(|&i| poses[i].energy).collect();
        let populations: Vec<usize> = members.iter().map(|&i| poses[i].population.unwrap_or(0)).collect();
        for (&i, f) in members.iter().zip(pose_features(&energies, &populations)) {
            poses[i].features = f;
        }
    }
}

/// The docked poses of one complex as cached on disk (one JSON line per complex), so an
/// interrupted pose generation resumes where it stopped; `benchmark --poses-cache` writes the
/// same lines, so confidence models can be compared on a benchmark's poses.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CachedComplex {
    /// Complex id.
    pub id: String,
    /// Its labelled poses.
    pub poses: Vec<LabelledPose>,
}

impl CachedComplex {
    /// The entry as one JSON line (without the newline).
    pub fn to_line(&self) -> Result<String> {
        serde_json::to_string(self).map_err(|e| Error::invalid("confidence pose cache", e.to_string()))
    }
}

/// The complexes of a pose cache's text; a line cut by an interruption does not parse and is
/// skipped (its complex is docked again).
fn parse_pose_cache(text: &str) -> Vec<CachedComplex> {
    text.lines().filter_map(|l| serde_json::from_str::<CachedComplex>(l).ok()).collect()
}

/// Reads a pose cache (`confidence_poses_*.jsonl`, `benchmark --poses-cache`).
pub fn read_pose_cache(path: &Path) -> Result<Vec<CachedComplex>> {
    Ok(parse_pose_cache(&crate::io::read_text(path)?))
}

/// Appends to the pose cache `into` the complexes of the caches `sources` (e.g. the
/// `benchmark --poses-cache` files of several docking runs) that it does not hold yet, the
/// first source naming a complex winning; returns the ids `into` then holds. So poses docked
/// elsewhere, in chunks or over several sessions, train a confidence model without docking
/// them again. A source that cannot be read is an error naming it.
pub fn merge_pose_caches(sources: &[PathBuf], into: &Path) -> Result<HashSet<String>> {
    let mut cache = ResumedCache::open(into)?;
    let mut ids: HashSet<String> = cache.cached.keys().cloned().collect();
    for source in sources {
        for entry in read_pose_cache(source)? {
            if ids.insert(entry.id.clone()) {
                cache.append(&entry.id, &entry.poses)?;
            }
        }
    }
    Ok(ids)
}

/// A pose cache opened to resume: the complexes already in it, and the file, open for appending
/// the next ones (a line cut by an interruption is closed first).
struct ResumedCache<'a> {
    path: &'a Path,
    /// Poses of the complexes already cached, by complex id.
    cached: HashMap<String, Vec<LabelledPose>>,
    /// Whether the file held anything (entries or a cut line) before.
    resumed: bool,
    file: std::fs::File,
}

impl<'a> ResumedCache<'a> {
    fn open(path: &'a Path) -> Result<Self> {
        let text = if path.exists() { std::fs::read_to_string(path).map_err(|e| Error::io(path, e))? } else { String::new() };
        let cached = parse_pose_cache(&text).into_iter().map(|e| (e.id, e.poses)).collect();
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path).map_err(|e| Error::io(path, e))?;
        if !text.is_empty() && !text.ends_with('\n') {
            writeln!(file).map_err(|e| Error::io(path, e))?;
        }
        Ok(ResumedCache { path, cached, resumed: !text.is_empty(), file })
    }

    /// Forgets cached complexes whose poses do not fit the atoms of the complex of that id in
    /// `complexes` (cached from another preparation of its ligand), so that they are made again.
    fn drop_stale(&mut self, complexes: &[TrainingComplex], log: &mut dyn FnMut(&str)) {
        for c in complexes {
            let atoms = c.graph.ligand.len();
            if let Some(poses) = self.cached.get(&c.id).filter(|poses| poses.iter().any(|p| p.coords.len() != atoms)) {
                log(&format!("{}: cached poses have {} atoms, the ligand {atoms}: made again", c.id, poses[0].coords.len()));
                self.cached.remove(&c.id);
            }
        }
    }

    /// Appends one complex's poses as a line.
    fn append(&mut self, id: &str, poses: &[LabelledPose]) -> Result<()> {
        let line = CachedComplex { id: id.to_string(), poses: poses.to_vec() }.to_line()?;
        writeln!(self.file, "{line}").map_err(|e| Error::io(self.path, e))
    }
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
        let label = symmetry_labeller(c);
        for coords in poses {
            let rmsd = label(&coords);
            out.push(LabelledPose { complex: i, coords, rmsd, rank: None, energy: None, population: None, features: [0.0; 2] });
        }
        if (i + 1) % 50 == 0 {
            let pos = out.iter().filter(|p| p.rmsd < 2.0).count();
            log(&format!("sampled {} complexes, {} poses, {} under 2 Å", i + 1, out.len(), pos));
        }
    }
    Ok(out)
}

fn symmetry_labeller(c: &TrainingComplex) -> impl Fn(&[Vec3]) -> f64 + '_ {
    let autos = ligand_automorphisms(&c.graph.ligand);
    move |coords: &[Vec3]| symmetry_rmsd(coords, &c.crystal, &autos)
}

/// Docks one training complex with the docking pipeline itself (sampling, refinement, Monte
/// Carlo search, energy ranking) in a box of `box_size` Å around its jittered crop centre.
fn dock_training_complex(models: &Models, c: &TrainingComplex, index: usize, options: &DockOptions, box_size: f64) -> Result<Vec<LabelledPose>> {
    let pocket = Pocket::Box { center: c.pocket_center, size: Vec3::repeat(box_size) };
    let target = Target::new(&c.pocket, &pocket, options)?;
    let ligand = PreparedLigand { ligand: c.graph.ligand.clone(), reference: None, torsions: c.graph.torsions.clone() };
    let result = dock(models, &target, &ligand, options)?;
    let label = symmetry_labeller(c);
    Ok(result
        .poses
        .into_iter()
        .map(|p| LabelledPose {
            complex: index,
            rmsd: label(&p.coords),
            coords: p.coords,
            rank: Some(p.rank),
            energy: p.energy,
            population: Some(p.population),
            features: [0.0; 2],
        })
        .collect())
}

/// Poses for confidence training made as docking makes them (so the model learns to rank the
/// poses it will be shown), cached per complex in the JSON-lines file `cache`: complexes already
/// there are read back, not docked again. A complex that fails to dock is logged and skipped.
pub fn docked_poses(
    models: &Models,
    complexes: &[TrainingComplex],
    options: &DockOptions,
    box_size: f64,
    cache: &Path,
    log: &mut dyn FnMut(&str),
) -> Result<Vec<LabelledPose>> {
    let mut cache = ResumedCache::open(cache)?;
    cache.drop_stale(complexes, log);
    if cache.resumed {
        log(&format!("{}: {} complexes already docked", cache.path.display(), cache.cached.len()));
    }
    let start = Instant::now();
    let (mut out, mut docked) = (Vec::new(), 0usize);
    for (i, c) in complexes.iter().enumerate() {
        let poses = match cache.cached.remove(&c.id) {
            Some(poses) => poses.into_iter().map(|p| LabelledPose { complex: i, ..p }).collect(),
            None => match dock_training_complex(models, c, i, options, box_size) {
                Ok(poses) => {
                    cache.append(&c.id, &poses)?;
                    docked += 1;
                    poses
                }
                Err(e) => {
                    log(&format!("{}: skipped ({e})", c.id));
                    continue;
                }
            },
        };
        out.extend(poses);
        if (i + 1) % 10 == 0 || i + 1 == complexes.len() {
            let pos = out.iter().filter(|p| p.rmsd < 2.0).count();
            log(&format!(
                "docked {} of {} complexes ({docked} new, {:.1} s each): {} poses, {pos} under 2 Å",
                i + 1,
                complexes.len(),
                start.elapsed().as_secs_f64() / docked.max(1) as f64,
                out.len()
            ));
        }
    }
    Ok(out)
}

/// Native poses ([`native_pose`]) for docked training complexes, `per_complex` each (seeds
/// 0, 1, …), so that every complex, not only the third where docking found a right pose, shows
/// the model a right pose among its wrong ones; searched `search_steps` Monte Carlo steps as the
/// docked poses were, against the same pocket crop. Each carries its energy and its population
/// among `docked` (poses of its complex within 2 Å), as if docking had found it. Cached per
/// complex in `cache` like [`docked_poses`]; a complex whose conformer does not fit is logged and
/// skipped.
pub fn native_poses(
    complexes: &[TrainingComplex],
    docked: &[LabelledPose],
    per_complex: usize,
    search_steps: usize,
    cache: &Path,
    log: &mut dyn FnMut(&str),
) -> Result<Vec<LabelledPose>> {
    use rayon::prelude::*;
    let mut cache = ResumedCache::open(cache)?;
    cache.drop_stale(complexes, log);
    let groups = by_complex(docked.iter().map(|p| p.complex));
    let start = Instant::now();
    let mut out = Vec::new();
    for first in (0..complexes.len()).step_by(64) {
        let chunk = first..(first + 64).min(complexes.len());
        let made: Vec<(usize, Result<Vec<LabelledPose>>, bool)> = chunk
            .clone()
            .into_par_iter()
            .map(|i| match cache.cached.get(&complexes[i].id) {
                Some(poses) => (i, Ok(poses.iter().map(|p| LabelledPose { complex: i, ..p.clone() }).collect()), false),
                None => {
                    let members: Vec<&LabelledPose> = groups.get(&i).map(|m| m.iter().map(|&j| &docked[j]).collect()).unwrap_or_default();
                    (i, complex_natives(&complexes[i], i, &members, per_complex, search_steps), true)
                }
            })
            .collect();
        for (i, poses, new) in made {
            match poses {
                Ok(poses) => {
                    if new {
                        cache.append(&complexes[i].id, &poses)?;
                    }
                    out.extend(poses);
                }
                Err(e) => log(&format!("{}: no native pose ({e})", complexes[i].id)),
            }
        }
        let right = out.iter().filter(|p| p.rmsd < 2.0).count();
        log(&format!("native poses for {} of {} complexes: {} poses, {right} under 2 Å ({:.0} s)", chunk.end, complexes.len(), out.len(), start.elapsed().as_secs_f64()));
    }
    Ok(out)
}

/// The native poses of one complex (see [`native_poses`]), labelled and with their populations
/// among the complex's docked poses `members`.
fn complex_natives(c: &TrainingComplex, index: usize, members: &[&LabelledPose], per_complex: usize, search_steps: usize) -> Result<Vec<LabelledPose>> {
    let ligand = VinaLigand::new(&c.graph.ligand, c.graph.torsions.len());
    let label = symmetry_labeller(c);
    (0..per_complex as u64)
        .map(|seed| {
            let (coords, energy) = native_pose(&c.pocket, &ligand, &c.conformer, &c.graph.torsions, &c.crystal, search_steps, seed)?;
            let population = members.iter().filter(|m| crate::geometry::rmsd(&m.coords, &coords) < POPULATION_RMSD).count();
            Ok(LabelledPose { complex: index, rmsd: label(&coords), coords, rank: None, energy: Some(energy), population: Some(population), features: [0.0; 2] })
        })
        .collect()
}

/// Appends `natives` to the docked `poses` (whose [`set_pose_features`] are already set), each
/// native with the pose features it would have had among its complex's docked poses had docking
/// found it; the docked poses keep theirs, which are what docking shows the model.
pub fn add_natives(poses: &mut Vec<LabelledPose>, natives: Vec<LabelledPose>) {
    let groups = by_complex(poses.iter().map(|p| p.complex));
    for mut native in natives {
        let members = groups.get(&native.complex).map(Vec::as_slice).unwrap_or_default();
        let mut energies: Vec<Option<f64>> = members.iter().map(|&i| poses[i].energy).collect();
        let mut populations: Vec<usize> = members.iter().map(|&i| poses[i].population.unwrap_or(0)).collect();
        energies.push(native.energy);
        populations.push(native.population.unwrap_or(0));
        native.features = pose_features(&energies, &populations).pop().unwrap_or([0.0; 2]);
        poses.push(native);
    }
}

/// Share of complexes whose best-scored pose is within 2 Å: the docking success the confidence
/// model would give if it ranked these poses (`scores` higher = better, one per pose).
pub fn top1_success(poses: &[LabelledPose], scores: &[f64]) -> f64 {
    let mut best: HashMap<usize, (f64, f64)> = HashMap::new();
    for (p, &s) in poses.iter().zip(scores) {
        let entry = best.entry(p.complex).or_insert((f64::NEG_INFINITY, f64::INFINITY));
        if s > entry.0 {
            *entry = (s, p.rmsd);
        }
    }
    if best.is_empty() {
        return 0.0;
    }
    best.values().filter(|(_, rmsd)| *rmsd < 2.0).count() as f64 / best.len() as f64
}

/// One row of the scored-poses CSV: a labelled pose with what each ranking rule reads.
#[derive(Serialize)]
struct ScoredPoseRow<'a> {
    id: &'a str,
    rank: Option<usize>,
    rmsd: f64,
    energy: Option<f64>,
    population: Option<usize>,
    confidence: f64,
}

/// Writes labelled poses with their confidence logits to a CSV (columns id, rank, rmsd, energy,
/// population, confidence), for choosing how confidence and energy combine in ranking on val.
pub fn write_scored_poses(path: &Path, complexes: &[TrainingComplex], poses: &[LabelledPose], logits: &[f64]) -> Result<()> {
    let rows: Vec<ScoredPoseRow> = poses
        .iter()
        .zip(logits)
        .map(|(p, &confidence)| ScoredPoseRow { id: &complexes[p.complex].id, rank: p.rank, rmsd: p.rmsd, energy: p.energy, population: p.population, confidence })
        .collect();
    crate::io::write_csv(path, &rows)
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

fn pose_batch(complexes: &[TrainingComplex], poses: &[&LabelledPose], contacts: Option<&[ContactAtoms]>, device: Device) -> (Batch, Vec<[f32; 2]>, Tensor) {
    let schedule = NoiseSchedule::default();
    let samples: Vec<PoseSample> =
        poses.iter().map(|p| pose_sample(&complexes[p.complex].graph, &p.coords, 0.0, &schedule)).collect();
    let labels: Vec<f32> = poses.iter().map(|p| (p.rmsd < 2.0) as u8 as f32).collect();
    let features = poses.iter().map(|p| p.features).collect();
    let mut batch = Batch::new(&samples, device);
    if let Some(contacts) = contacts {
        batch.ligand_extra = Some(contact_inputs(poses.iter().map(|p| (&contacts[p.complex], p.coords.as_slice())), device));
    }
    (batch, features, Tensor::from_slice(&labels).to_device(device))
}

/// Each complex's pocket atoms indexed for [`contact_inputs`], when a model that reads them
/// (`reads`) is to score the complexes' poses.
fn complex_contacts(reads: bool, complexes: &[TrainingComplex]) -> Option<Vec<ContactAtoms>> {
    reads.then(|| complexes.iter().map(|c| ContactAtoms::of_protein(&c.pocket)).collect())
}

/// Predicted logits for labelled poses; `contacts`: [`complex_contacts`] of `complexes` when
/// the model reads them.
fn predict(model: &ConfidenceModel, complexes: &[TrainingComplex], contacts: Option<&[ContactAtoms]>, poses: &[LabelledPose], device: Device) -> Vec<f64> {
    let _guard = tch::no_grad_guard();
    let refs: Vec<&LabelledPose> = poses.iter().collect();
    refs.chunks(32)
        .flat_map(|c| {
            let (batch, features, _) = pose_batch(complexes, c, contacts, device);
            Vec::<f32>::try_from(model.forward_t(&batch, Some(&features), false).to_device(Device::Cpu)).unwrap_or_default()
        })
        .map(|x| x as f64)
        .collect()
}

/// Logits of an ensemble of confidence models for labelled poses: the mean of the members'
/// logits (as docking averages them), the pocket contacts indexed once for all of them.
pub fn predict_ensemble(models: &[ConfidenceModel], complexes: &[TrainingComplex], poses: &[LabelledPose], device: Device) -> Vec<f64> {
    let contacts = complex_contacts(models.iter().any(ConfidenceModel::reads_contacts), complexes);
    let mut sum = vec![0.0; poses.len()];
    for model in models {
        sum.iter_mut().zip(predict(model, complexes, contacts.as_deref(), poses, device)).for_each(|(s, x)| *s += x);
    }
    sum.into_iter().map(|s| s / models.len().max(1) as f64).collect()
}

/// One epoch's batches: with a listwise loss, whole complexes (shuffled) until a batch holds at
/// least `batch_size` poses; otherwise shuffled poses.
fn epoch_batches<'a>(poses: &'a [LabelledPose], cfg: &ConfidenceTrainConfig, rng: &mut impl rand::Rng) -> Vec<Vec<&'a LabelledPose>> {
    if cfg.listwise_weight <= 0.0 {
        let mut order: Vec<&LabelledPose> = poses.iter().collect();
        order.shuffle(rng);
        return order.chunks(cfg.batch_size.max(1)).map(<[_]>::to_vec).collect();
    }
    let mut groups: Vec<Vec<usize>> = by_complex(poses.iter().map(|p| p.complex)).into_values().collect();
    groups.shuffle(rng);
    let mut batches = vec![Vec::new()];
    for group in groups {
        if batches.last().is_some_and(|b| b.len() >= cfg.batch_size.max(1)) {
            batches.push(Vec::new());
        }
        batches.last_mut().expect("one batch at least").extend(group.into_iter().map(|i| &poses[i]));
    }
    batches
}

/// Listwise ranking loss of a batch: for each complex with right and wrong poses,
/// logsumexp(all its logits) - logsumexp(its right poses' logits), averaged; `None` when no
/// complex of the batch has both.
pub fn listwise_loss(logits: &Tensor, poses: &[&LabelledPose]) -> Option<Tensor> {
    let device = logits.device();
    let terms: Vec<Tensor> = by_complex(poses.iter().map(|p| p.complex))
        .into_values()
        .map(|members| members.into_iter().map(|i| i as i64).partition::<Vec<i64>, _>(|&i| poses[i as usize].rmsd < 2.0))
        .filter(|(right, wrong)| !right.is_empty() && !wrong.is_empty())
        .map(|(right, wrong)| {
            let all: Vec<i64> = right.iter().chain(&wrong).copied().collect();
            let pick = |idx: &[i64]| logits.index_select(0, &Tensor::from_slice(idx).to_device(device)).logsumexp([0i64].as_slice(), false);
            pick(&all) - pick(&right)
        })
        .collect();
    (!terms.is_empty()).then(|| Tensor::stack(&terms, 0).mean(tch::Kind::Float))
}

/// Loads the confidence model of the `--init` folder into `vs`, refusing another configuration.
fn load_init(init: &Path, model: &ConfidenceConfig, vs: &mut VarStore) -> Result<()> {
    let saved: ConfidenceConfig = load_config(init, "confidence")?;
    if saved != *model {
        return Err(Error::invalid(init.display().to_string(), "the --init confidence model has another configuration; give the same --docking and --contacts"));
    }
    load_weights(init, "confidence", vs)
}

/// Fits the confidence model on labelled poses; the weights with the best val top-1 (ties:
/// AUROC) go to `<run>/best/confidence.*`.
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
    let mut vs = VarStore::new(device);
    let model = ConfidenceModel::new(&vs.root(), &cfg.model);
    if let Some(init) = &cfg.init {
        load_init(init, &cfg.model, &mut vs)?;
    }
    let mut opt = tch::nn::AdamW::default().build(&vs, cfg.lr)?;
    let positives = train_poses.iter().filter(|p| p.rmsd < 2.0).count().max(1);
    let pos_weight = ((train_poses.len() - positives.min(train_poses.len())) as f64 / positives as f64).max(1.0);
    let pos_weight_t = Tensor::from_slice(&[pos_weight as f32]).to_device(device);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(cfg.seed);
    let mut state = TrainState::default();
    let start = Instant::now();
    let val_labels: Vec<bool> = val_poses.iter().map(|p| p.rmsd < 2.0).collect();
    if val_poses.iter().all(|p| p.rank.is_some()) {
        let by_rank: Vec<f64> = val_poses.iter().map(|p| -(p.rank.unwrap_or(0) as f64)).collect();
        log(&format!("val top-1 < 2 Å by the docking ranking: {:.1} %", 100.0 * top1_success(val_poses, &by_rank)));
    }
    let mut best_key = (f64::NEG_INFINITY, f64::NEG_INFINITY);
    let (train_contacts, val_contacts) = (complex_contacts(model.reads_contacts(), train), complex_contacts(model.reads_contacts(), val));
    // (val top-1 by confidence, val AUROC) of the model's current weights
    let val_key = |model: &ConfidenceModel| {
        let scores = predict(model, val, val_contacts.as_deref(), val_poses, device);
        (top1_success(val_poses, &scores), auroc(&scores, &val_labels))
    };
    if cfg.init.is_some() {
        // the starting weights are epoch 0: fine-tuning keeps them unless an epoch beats them
        best_key = val_key(&model);
        log(&format!("confidence epoch 0 (--init) val AUROC {:.3} val top-1 < 2 Å by confidence {:.1} %", best_key.1, 100.0 * best_key.0));
        state.best_metric = Some(best_key.0);
        save_network(&best, "confidence", &cfg.model, &vs)?;
    }
    for epoch in 0..cfg.epochs {
        let (mut sum, mut n) = (0.0, 0);
        for chunk in epoch_batches(train_poses, cfg, &mut rng) {
            let (batch, features, labels) = pose_batch(train, &chunk, train_contacts.as_deref(), device);
            let logits = model.forward_t(&batch, Some(&features), true);
            let mut loss = logits.binary_cross_entropy_with_logits::<&Tensor>(&labels, None, Some(&pos_weight_t), tch::Reduction::Mean);
            if cfg.listwise_weight > 0.0 {
                if let Some(listwise) = listwise_loss(&logits, &chunk) {
                    loss = loss + listwise * cfg.listwise_weight;
                }
            }
            opt.backward_step_clip_norm(&loss, 1.0);
            sum += loss.double_value(&[]);
            n += 1;
            state.step += 1;
        }
        let (val_top1, val_auc) = val_key(&model);
        state.epoch = epoch + 1;
        state.seconds = start.elapsed().as_secs_f64();
        state.history.push((state.epoch, state.step, sum / n.max(1) as f64, Some(val_auc)));
        log(&format!(
            "confidence epoch {} loss {:.4} val AUROC {:.3} val top-1 < 2 Å by confidence {:.1} %",
            epoch + 1,
            sum / n.max(1) as f64,
            val_auc,
            100.0 * val_top1
        ));
        // Kept: the best val top-1 (what ranking needs), ties broken by AUROC.
        if (val_top1, val_auc) > best_key {
            best_key = (val_top1, val_auc);
            state.best_metric = Some(val_top1);
            save_network(&best, "confidence", &cfg.model, &vs)?;
            state.save(&run.join("confidence_state"))?;
        }
        if state.seconds / 60.0 > cfg.max_minutes {
            break;
        }
    }
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tests::{toy_ligand, toy_protein};
    use crate::model::{ComplexGraph, PainnConfig, ScoreConfig, ScoreModel};

    fn labelled(complex: usize, rmsd: f64) -> LabelledPose {
        LabelledPose { complex, coords: Vec::new(), rmsd, rank: None, energy: None, population: None, features: [0.0; 2] }
    }

    #[test]
    fn listwise_loss_falls_as_the_right_pose_outscores_the_wrong_ones() {
        let poses = [labelled(0, 1.0), labelled(0, 5.0), labelled(0, 6.0), labelled(1, 7.0)];
        let refs: Vec<&LabelledPose> = poses.iter().collect();
        let loss = |l: &[f32]| listwise_loss(&Tensor::from_slice(l), &refs).unwrap().double_value(&[]);
        assert!((loss(&[0.0, 0.0, 0.0, 9.0]) - 3f64.ln()).abs() < 1e-5, "complex 1 has no right pose and is left out");
        assert!(loss(&[4.0, 0.0, 0.0, 0.0]) < 0.05);
        assert!(loss(&[-4.0, 0.0, 0.0, 0.0]) > 4.0);
        assert!(listwise_loss(&Tensor::from_slice(&[1.0f32]), &refs[3..]).is_none());
    }

    #[test]
    fn listwise_batches_hold_whole_complexes() {
        let poses: Vec<LabelledPose> = (0..10).map(|i| labelled(i / 3, 1.0)).collect();
        let cfg = ConfidenceTrainConfig { batch_size: 4, ..Default::default() };
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let batches = epoch_batches(&poses, &cfg, &mut rng);
        assert_eq!(batches.iter().map(Vec::len).sum::<usize>(), 10);
        for b in &batches {
            let complexes: std::collections::BTreeSet<usize> = b.iter().map(|p| p.complex).collect();
            let whole = complexes.iter().map(|&c| poses.iter().filter(|p| p.complex == c).count()).sum::<usize>();
            assert_eq!(whole, b.len(), "a batch holds all poses of its complexes");
        }
    }

    #[test]
    fn top1_success_reads_each_complexes_best_scored_pose() {
        // complex 0: the right pose scores best; complex 1: a wrong one does
        let poses = [labelled(0, 1.0), labelled(0, 5.0), labelled(1, 0.5), labelled(1, 6.0)];
        assert_eq!(top1_success(&poses, &[2.0, 1.0, 0.0, 3.0]), 0.5);
        assert_eq!(top1_success(&poses, &[2.0, 1.0, 4.0, 3.0]), 1.0);
        assert_eq!(top1_success(&[], &[]), 0.0);
    }

    fn toy_complex() -> TrainingComplex {
        let (ligand, torsions) = toy_ligand("CC(=O)Nc1ccc(O)cc1");
        let pocket = toy_protein(30);
        let crystal = ligand.coords.clone();
        let graph = ComplexGraph::new(&ligand, &pocket, torsions);
        TrainingComplex { id: "toy".into(), conformer: crystal.clone(), pose: crystal.clone(), crystal, pocket_center: Vec3::zeros(), graph, pocket }
    }

    #[test]
    fn fine_tuning_starts_from_the_init_model_and_keeps_it_unless_beaten() {
        let complexes = [toy_complex()];
        let crystal = complexes[0].crystal.clone();
        let far: Vec<Vec3> = crystal.iter().map(|p| p + Vec3::new(6.0, 0.0, 0.0)).collect();
        let pose = |coords: Vec<Vec3>, rmsd: f64| LabelledPose { coords, ..labelled(0, rmsd) };
        let poses = vec![pose(crystal, 0.0), pose(far, 6.0)];
        let init = tempfile::tempdir().unwrap();
        let cfg = ConfidenceTrainConfig { epochs: 2, ..Default::default() };
        let vs = VarStore::new(Device::Cpu);
        let _ = ConfidenceModel::new(&vs.root(), &cfg.model);
        save_network(init.path(), "confidence", &cfg.model, &vs).unwrap();
        let run = tempfile::tempdir().unwrap();
        let tuned = ConfidenceTrainConfig { init: Some(init.path().into()), lr: 0.0, ..cfg.clone() };
        let mut lines = Vec::new();
        train_confidence(&complexes, &poses, &complexes, &poses, &tuned, run.path(), Device::Cpu, &mut |l| lines.push(l.to_string())).unwrap();
        assert!(lines.iter().any(|l| l.contains("epoch 0 (--init)")), "{lines:?}");
        let (_, best) = run_dirs(run.path());
        let mut kept = VarStore::new(Device::Cpu);
        let _ = ConfidenceModel::new(&kept.root(), &cfg.model);
        load_weights(&best, "confidence", &mut kept).unwrap();
        let start = vs.variables();
        assert!(kept.variables().iter().all(|(name, t)| t.equal(&start[name])), "no epoch beat the init model, so it is kept");
        let other = ConfidenceTrainConfig { model: cfg.model.with_contacts(), ..tuned };
        let err = train_confidence(&complexes, &poses, &complexes, &poses, &other, run.path(), Device::Cpu, &mut |_| {}).expect_err("refused");
        assert!(err.to_string().contains("--init"), "{err}");
    }

    #[test]
    fn docked_poses_are_cached_and_read_back_without_docking_again() {
        let core = PainnConfig { hidden: 8, layers: 1, rbf: 8, ..Default::default() };
        let cfg = ScoreConfig { core: PainnConfig { node_extra: 8, ..core }, time_dim: 8, ..Default::default() };
        let vs = VarStore::new(Device::Cpu);
        let models = Models::from_parts(ScoreModel::new(&vs.root(), &cfg), None, Vec::new(), Device::Cpu);
        let mut options = DockOptions { search_steps: 2, ..Default::default() };
        options.sampling.samples = 3;
        options.sampling.sampler.steps = 3;
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("poses.jsonl");
        let complexes = [toy_complex()];
        let first = docked_poses(&models, &complexes, &options, 25.0, &cache, &mut |_| {}).unwrap();
        assert_eq!(first.len(), 3);
        assert!(first.iter().all(|p| p.rank.is_some() && p.energy.is_some() && p.rmsd.is_finite()));
        // a cut line from an interruption is ignored; the docked complex is not docked again
        std::fs::OpenOptions::new().append(true).open(&cache).unwrap().write_all(b"{\"id\":\"cut").unwrap();
        let mut lines = Vec::new();
        let again = docked_poses(&models, &complexes, &options, 25.0, &cache, &mut |l| lines.push(l.to_string())).unwrap();
        assert!(std::fs::read_to_string(&cache).unwrap().ends_with("cut\n"), "the cut line is closed");
        assert!(lines[0].contains("1 complexes already docked"), "{lines:?}");
        assert!(lines.iter().any(|l| l.contains("0 new")), "{lines:?}");
        // JSON floats read back to the last bit or one ulp off
        assert_eq!(again.len(), first.len());
        assert!(again.iter().zip(&first).all(|(a, b)| (a.rmsd - b.rmsd).abs() < 1e-9 && a.rank == b.rank));
        // poses cached from another preparation of the ligand (another atom count) are made again
        let stale: Vec<LabelledPose> = first.iter().map(|p| LabelledPose { coords: p.coords[1..].to_vec(), ..p.clone() }).collect();
        std::fs::write(&cache, CachedComplex { id: complexes[0].id.clone(), poses: stale }.to_line().unwrap() + "\n").unwrap();
        let mut lines = Vec::new();
        let remade = docked_poses(&models, &complexes, &options, 25.0, &cache, &mut |l| lines.push(l.to_string())).unwrap();
        assert!(lines.iter().any(|l| l.contains("made again")) && lines.iter().any(|l| l.contains("1 new")), "{lines:?}");
        assert!(remade.len() == 3 && remade.iter().all(|p| p.coords.len() == first[0].coords.len()));
    }

    #[test]
    fn pose_caches_merge_once_per_complex_and_a_missing_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, entries: &[(&str, f64)]| {
            let path = dir.path().join(name);
            let lines: Vec<String> = entries.iter().map(|(id, rmsd)| CachedComplex { id: id.to_string(), poses: vec![labelled(0, *rmsd)] }.to_line().unwrap()).collect();
            std::fs::write(&path, lines.join("\n") + "\n{\"id\":\"cut").unwrap();
            path
        };
        let a = write("a.jsonl", &[("1abc", 1.0), ("2def", 3.0)]);
        let b = write("b.jsonl", &[("2def", 9.0), ("3ghi", 5.0)]);
        let into = dir.path().join("run.jsonl");
        let ids = merge_pose_caches(&[a.clone(), b.clone()], &into).unwrap();
        assert_eq!(ids.len(), 3);
        let merged = read_pose_cache(&into).unwrap();
        assert_eq!(merged.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["1abc", "2def", "3ghi"]);
        assert_eq!(merged[1].poses[0].rmsd, 3.0, "the first source naming a complex wins");
        // merging again adds nothing
        assert_eq!(merge_pose_caches(&[b, a], &into).unwrap().len(), 3);
        assert_eq!(read_pose_cache(&into).unwrap().len(), 3);
        let err = merge_pose_caches(&[dir.path().join("none.jsonl")], &into).unwrap_err();
        assert!(err.to_string().contains("none.jsonl"), "{err}");
    }

    #[test]
    fn native_poses_are_cached_and_get_the_features_docking_would_give_them() {
        let complexes = [toy_complex()];
        // two docked poses: one on the crystal (population 0 among the docked), one far away
        let far: Vec<Vec3> = complexes[0].crystal.iter().map(|p| p + Vec3::new(8.0, 0.0, 0.0)).collect();
        let docked_pose = |coords: Vec<Vec3>, rmsd: f64, energy: f64| LabelledPose {
            complex: 0,
            coords,
            rmsd,
            rank: Some(1),
            energy: Some(energy),
            population: Some(0),
            features: [0.0; 2],
        };
        let mut poses = vec![docked_pose(complexes[0].crystal.clone(), 0.0, -100.0), docked_pose(far, 8.0, -101.0)];
        set_pose_features(&mut poses);
        let before: Vec<[f32; 2]> = poses.iter().map(|p| p.features).collect();
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("natives.jsonl");
        let natives = native_poses(&complexes, &poses, 2, 3, &cache, &mut |_| {}).unwrap();
        assert_eq!(natives.len(), 2);
        for n in &natives {
            assert_eq!(n.complex, 0);
            assert!(n.rmsd.is_finite() && n.energy.is_some_and(f64::is_finite));
            let near = crate::geometry::rmsd(&n.coords, &complexes[0].crystal) < POPULATION_RMSD;
            assert_eq!(n.population, Some(near as usize), "population counts the docked poses within 2 Å");
        }
        assert_ne!(natives[0].coords, natives[1].coords, "each native has its own perturbation");
        // read back from the cache, not searched again
        let mut lines = Vec::new();
        let again = native_poses(&complexes, &poses, 2, 3, &cache, &mut |l| lines.push(l.to_string())).unwrap();
        assert_eq!(std::fs::read_to_string(&cache).unwrap().lines().count(), 1, "{lines:?}");
        assert!(again.iter().zip(&natives).all(|(a, b)| (a.rmsd - b.rmsd).abs() < 1e-9));
        add_natives(&mut poses, natives);
        assert_eq!(poses.len(), 4);
        assert_eq!(poses[0].features, before[0], "docked poses keep their features");
        assert_eq!(poses[1].features, before[1]);
        for n in &poses[2..] {
            // the energy gap to the best of the docked poses and itself (capped at 20 kcal/mol), over 5
            let energy = n.energy.unwrap();
            let gap = (energy - energy.min(-101.0)).min(20.0) / 5.0;
            assert!((n.features[0] as f64 - gap).abs() < 1e-5, "{:?} {energy}", n.features);
            assert!((n.features[1] - n.population.unwrap() as f32 / 2.0).abs() < 1e-6, "share of the 2 docked poses");
        }
    }
}
