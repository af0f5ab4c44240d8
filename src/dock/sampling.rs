//! Pose generation with the trained networks: latents from the prior, reverse diffusion with
//! the score network, confidence of each final pose.

use crate::chem::{centroid, Protein, Vec3};
use crate::diffusion::sampler::{self, random_initial_pose, PoseScore, SamplerConfig, ScoreModel as DiffusionScore};
use crate::diffusion::schedule::{NoiseSchedule, Sigmas};
use crate::diffusion::{so3, torus};
use crate::dock::models::Models;
use crate::error::{Error, Result};
use crate::model::{contact_inputs, Batch, ComplexGraph, PoseSample};
use crate::physics::ContactAtoms;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::ops::Range;
use tch::{Device, Kind, Tensor};

/// Edge budget of one network call on a GPU; larger pose sets are split into chunks of this
/// many edges.
const GPU_EDGES_PER_CHUNK: usize = 400_000;

/// Edge budget of one network call on the CPU: small enough that each layer's edge tensors stay
/// in cache, which for a typical pocket means one pose per call (with one thread, docking the
/// example sampled its 40 poses in 9.1-10.5 s instead of 15.5-17.0 s with the GPU's budget).
const CPU_EDGES_PER_CHUNK: usize = 20_000;

/// The models, readable from several threads at once. Only [`map_chunks`] makes one, and its
/// calls only run forward passes without gradients: they read the weights and write nothing
/// shared. (tch's `nn::Sequential` is not `Sync` only because it boxes its layers as trait
/// objects; the layers here are linear maps and pure activation functions.)
struct ReadOnlyModels<'a>(&'a Models);

// SAFETY: see the type's doc: concurrent users only read the weight tensors, which libtorch allows.
unsafe impl Sync for ReadOnlyModels<'_> {}

impl ReadOnlyModels<'_> {
    fn get(&self) -> &Models {
        self.0
    }
}

/// Network calls `call(models, range)` over `0..n` items cut into chunks of `size`, without
/// gradients, their results in chunk order. On a GPU they run one after another. On the CPU they spread over
/// rayon's threads with one libtorch thread each: one pose's call is too small for libtorch
/// to split well over threads (the example's sampling took 6.4-11.3 s on two threads split that
/// way, against 9.1-10.5 s on one), and every call then computes as with `--threads 1`, so the
/// thread count changes no result.
fn map_chunks<R: Send>(models: &Models, n: usize, size: usize, call: impl Fn(&Models, Range<usize>) -> R + Sync) -> Vec<R> {
    let range = |c: usize| c * size..n.min((c + 1) * size);
    let n_chunks = n.div_ceil(size);
    if models.device.is_cuda() || rayon::current_num_threads() < 2 {
        let _guard = tch::no_grad_guard();
        return (0..n_chunks).map(|c| call(models, range(c))).collect();
    }
    let shared = ReadOnlyModels(models);
    let threads = tch::get_num_threads();
    let out = (0..n_chunks)
        .into_par_iter()
        .map(|c| {
            let _guard = tch::no_grad_guard();
            tch::set_num_threads(1); // this thread's own libtorch and MKL thread count
            call(shared.get(), range(c))
        })
        .collect();
    tch::set_num_threads(threads); // the count that threads started later begin with
    out
}

/// Cut-off of ligand-residue edges at translation sigma `sigma_tr`: 3 sigma + 10 Å capped at 25 Å
/// (DiffDock: 3 sigma + 20 Å; tighter here for CPU speed, pockets are cropped to 20 Å anyway).
pub fn cross_cutoff(sigma_tr: f64) -> f64 {
    (3.0 * sigma_tr + 10.0).min(25.0)
}

/// A pose sample of `graph` at time `t` with the diffusion quantities filled in.
pub fn pose_sample<'a>(graph: &'a ComplexGraph, coords: &'a [Vec3], t: f64, schedule: &NoiseSchedule) -> PoseSample<'a> {
    let s = schedule.sigmas(t);
    PoseSample {
        graph,
        ligand_coords: coords,
        t,
        cross_cutoff: cross_cutoff(s.tr),
        sigma_tr: s.tr,
        rot_score_norm: so3::score_norm(s.rot),
        tor_score_norm: torus::score_norm(s.tor),
    }
}

/// How many poses of `graph` fit one network call on `device`.
pub fn chunk_size(graph: &ComplexGraph, device: Device) -> usize {
    let per_pose = graph.residue_edges.len() + 2 * graph.n_ligand() * graph.n_residues().min(400) + 1;
    let budget = if device.is_cuda() { GPU_EDGES_PER_CHUNK } else { CPU_EDGES_PER_CHUNK };
    (budget / per_pose).clamp(1, 64)
}

fn tensor_rows3(t: &Tensor) -> Vec<Vec3> {
    let v = Vec::<f32>::try_from(t.to_kind(Kind::Float).to_device(Device::Cpu).contiguous().view([-1])).unwrap_or_default();
    v.chunks_exact(3).map(|c| Vec3::new(c[0] as f64, c[1] as f64, c[2] as f64)).collect()
}

/// Adapts the score network to the sampler: one ligand, many poses, each with its own latents.
pub struct NetworkScorer<'a> {
    models: &'a Models,
    graph: &'a ComplexGraph,
    latents: Option<Vec<Vec<usize>>>,
    schedule: NoiseSchedule,
}

impl<'a> NetworkScorer<'a> {
    /// A scorer for poses of `graph`; `latents[i]` are pose i's latents (None: unconditional).
    pub fn new(models: &'a Models, graph: &'a ComplexGraph, latents: Option<Vec<Vec<usize>>>, schedule: NoiseSchedule) -> Self {
        NetworkScorer { models, graph, latents, schedule }
    }
}

impl DiffusionScore for NetworkScorer<'_> {
    fn scores(&mut self, poses: &[Vec<Vec3>], _sigmas: &Sigmas, t: f64) -> Result<Vec<PoseScore>> {
        let m = self.models.score.config().latents();
        let n_tor = self.graph.torsions.len();
        let chunk = chunk_size(self.graph, self.models.device);
        let (graph, schedule, latents) = (self.graph, &self.schedule, self.latents.as_deref());
        let chunks = map_chunks(self.models, poses.len(), chunk, |models, range| -> Result<Vec<PoseScore>> {
            let group = &poses[range.clone()];
            let samples: Vec<PoseSample> = group.iter().map(|p| pose_sample(graph, p, t, schedule)).collect();
            let batch = Batch::new(&samples, models.device);
            let flags = latents.map(|z| batch.latent_flags(&z[range], m));
            let pred = models.score.forward_t(&batch, flags.as_ref(), false);
            let tr = tensor_rows3(&pred.tr);
            let rot = tensor_rows3(&pred.rot);
            let tor = Vec::<f32>::try_from(pred.tor.to_device(Device::Cpu)).map_err(|e| Error::Model(e.to_string()))?;
            Ok((0..group.len())
                .map(|i| PoseScore {
                    tr: tr[i],
                    rot: rot[i],
                    tor: tor[i * n_tor..(i + 1) * n_tor].iter().map(|&x| x as f64).collect(),
                })
                .collect())
        });
        Ok(chunks.into_iter().collect::<Result<Vec<_>>>()?.concat())
    }
}

/// Sampling settings for docking.
#[derive(Clone, Debug)]
pub struct SamplingOptions {
    /// Number of poses.
    pub samples: usize,
    /// Reverse diffusion settings (steps, SDE/ODE, temperatures, seed).
    pub sampler: SamplerConfig,
    /// Temperature of the latent prior (> 1 explores more binding modes).
    pub latent_temperature: f64,
    /// Sigma of the initial translation around the centre (Å); the schedule's maximum for blind docking.
    pub initial_sigma: f64,
}

impl Default for SamplingOptions {
    fn default() -> Self {
        SamplingOptions { samples: 40, sampler: SamplerConfig::default(), latent_temperature: 1.5, initial_sigma: 19.0 }
    }
}

/// Samples latents for `n` poses from the prior (the conformer at `center`, random orientations).
pub fn sample_latents(
    models: &Models,
    graph: &ComplexGraph,
    conformer: &[Vec3],
    center: &Vec3,
    n: usize,
    temperature: f64,
    rng: &mut impl Rng,
) -> Option<Vec<Vec<usize>>> {
    models.prior.as_ref()?;
    let schedule = NoiseSchedule::default();
    let chunk = chunk_size(graph, models.device);
    let placed: Vec<Vec<Vec3>> = (0..n).map(|_| random_initial_pose(conformer, &graph.torsions, center, 0.0, rng)).collect();
    let seeds: Vec<u64> = (0..n).map(|_| rng.gen()).collect();
    let chunks = map_chunks(models, n, chunk, |models, range| {
        let samples: Vec<PoseSample> = placed[range.clone()].iter().map(|p| pose_sample(graph, p, 0.0, &schedule)).collect();
        let batch = Batch::new(&samples, models.device);
        let mut rngs: Vec<ChaCha8Rng> = seeds[range].iter().map(|&s| ChaCha8Rng::seed_from_u64(s)).collect();
        // the prior is read through the call's `models`, which may be on another thread
        models.prior.as_ref().map_or_else(Vec::new, |prior| prior.sample(&batch, temperature, &mut rngs))
    });
    Some(chunks.into_iter().flatten().collect())
}

/// Generated poses with their latents.
pub struct SampledPoses {
    /// Final ligand coordinates of each pose.
    pub poses: Vec<Vec<Vec3>>,
    /// Latents each pose was generated with (local node indices), when the prior was used.
    pub latents: Option<Vec<Vec<usize>>>,
}

/// Generates poses of the ligand (conformer coordinates `conformer`, topology in `graph`)
/// around `center` by reverse diffusion.
pub fn sample_poses(
    models: &Models,
    graph: &ComplexGraph,
    conformer: &[Vec3],
    center: &Vec3,
    options: &SamplingOptions,
) -> Result<SampledPoses> {
    let mut rng = options.sampler.rng();
    let latents = sample_latents(models, graph, conformer, center, options.samples, options.latent_temperature, &mut rng);
    let initial: Vec<Vec<Vec3>> = (0..options.samples)
        .map(|_| random_initial_pose(conformer, &graph.torsions, center, options.initial_sigma, &mut rng))
        .collect();
    let mut scorer = NetworkScorer::new(models, graph, latents.clone(), options.sampler.schedule);
    let poses = sampler::sample(&mut scorer, initial, &graph.torsions, &options.sampler, &mut rng)?;
    Ok(SampledPoses { poses, latents })
}

/// Confidence logits of final poses in `protein` with their physics features (one per pose; see
/// [`crate::model::pose_features`]), averaged over the ensemble; None without a confidence model.
pub fn confidence_logits(models: &Models, graph: &ComplexGraph, protein: &Protein, poses: &[Vec<Vec3>], features: &[[f32; 2]]) -> Option<Vec<f64>> {
    if models.confidence.is_empty() {
        return None;
    }
    let schedule = NoiseSchedule::default();
    let contacts = models.confidence.iter().any(|m| m.reads_contacts()).then(|| ContactAtoms::of_protein(protein));
    let size = chunk_size(graph, models.device);
    let chunks = map_chunks(models, poses.len(), size, |models, range| -> Option<Vec<f64>> {
        let group = &poses[range.clone()];
        let samples: Vec<PoseSample> = group.iter().map(|p| pose_sample(graph, p, 0.0, &schedule)).collect();
        let mut batch = Batch::new(&samples, models.device);
        if let Some(contacts) = &contacts {
            batch.ligand_extra = Some(contact_inputs(group.iter().map(|p| (contacts, p.as_slice())), models.device));
        }
        let mut sum = vec![0.0; group.len()];
        for model in &models.confidence {
            let logits = Vec::<f32>::try_from(model.forward_t(&batch, Some(&features[range.clone()]), false).to_device(Device::Cpu)).ok()?;
            sum.iter_mut().zip(logits).for_each(|(s, x)| *s += x as f64);
        }
        Some(sum.into_iter().map(|s| s / models.confidence.len() as f64).collect())
    });
    chunks.into_iter().collect::<Option<Vec<Vec<f64>>>>().map(|c| c.concat())
}

/// The centre of a protein's C-alpha atoms (the blind-docking centre).
pub fn protein_center(graph: &ComplexGraph) -> Vec3 {
    centroid(&graph.residue_positions)
}
