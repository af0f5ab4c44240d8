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
use rand::Rng;
use tch::{Device, Kind, Tensor};

/// Edge budget of one network call; larger pose sets are split into chunks of this many edges.
const EDGES_PER_CHUNK: usize = 400_000;

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

/// How many poses of `graph` fit one network call.
pub fn chunk_size(graph: &ComplexGraph) -> usize {
    let per_pose = graph.residue_edges.len() + 2 * graph.n_ligand() * graph.n_residues().min(400) + 1;
    (EDGES_PER_CHUNK / per_pose).clamp(1, 64)
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
        let _guard = tch::no_grad_guard();
        let m = self.models.score.config().latents();
        let n_tor = self.graph.torsions.len();
        let mut out = Vec::with_capacity(poses.len());
        let chunk = chunk_size(self.graph);
        for (c, group) in poses.chunks(chunk).enumerate() {
            let samples: Vec<PoseSample> = group.iter().map(|p| pose_sample(self.graph, p, t, &self.schedule)).collect();
            let batch = Batch::new(&samples, self.models.device);
            let flags = self.latents.as_ref().map(|z| batch.latent_flags(&z[c * chunk..c * chunk + group.len()], m));
            let pred = self.models.score.forward_t(&batch, flags.as_ref(), false);
            let tr = tensor_rows3(&pred.tr);
            let rot = tensor_rows3(&pred.rot);
            let tor = Vec::<f32>::try_from(pred.tor.to_device(Device::Cpu)).map_err(|e| Error::Model(e.to_string()))?;
            for i in 0..group.len() {
                out.push(PoseScore {
                    tr: tr[i],
                    rot: rot[i],
                    tor: tor[i * n_tor..(i + 1) * n_tor].iter().map(|&x| x as f64).collect(),
                });
            }
        }
        Ok(out)
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
    let prior = models.prior.as_ref()?;
    let schedule = NoiseSchedule::default();
    let mut latents = Vec::with_capacity(n);
    let chunk = chunk_size(graph);
    let placed: Vec<Vec<Vec3>> = (0..n).map(|_| random_initial_pose(conformer, &graph.torsions, center, 0.0, rng)).collect();
    for group in placed.chunks(chunk) {
        let samples: Vec<PoseSample> = group.iter().map(|p| pose_sample(graph, p, 0.0, &schedule)).collect();
        let batch = Batch::new(&samples, models.device);
        latents.extend(prior.sample(&batch, temperature, rng));
    }
    Some(latents)
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
    let mut scorer = NetworkScorer::new(models, graph, latents.clone(), options.sampler.schedule.clone());
    let poses = sampler::sample(&mut scorer, initial, &graph.torsions, &options.sampler, &mut rng)?;
    Ok(SampledPoses { poses, latents })
}

/// Confidence logits of final poses in `protein` with their physics features (one per pose; see
/// [`crate::model::pose_features`]), averaged over the ensemble; None without a confidence model.
pub fn confidence_logits(models: &Models, graph: &ComplexGraph, protein: &Protein, poses: &[Vec<Vec3>], features: &[[f32; 2]]) -> Option<Vec<f64>> {
    if models.confidence.is_empty() {
        return None;
    }
    let _guard = tch::no_grad_guard();
    let schedule = NoiseSchedule::default();
    let contacts = models.confidence.iter().any(|m| m.reads_contacts()).then(|| ContactAtoms::of_protein(protein));
    let mut out = Vec::with_capacity(poses.len());
    let size = chunk_size(graph);
    for (group, f) in poses.chunks(size).zip(features.chunks(size)) {
        let samples: Vec<PoseSample> = group.iter().map(|p| pose_sample(graph, p, 0.0, &schedule)).collect();
        let mut batch = Batch::new(&samples, models.device);
        if let Some(contacts) = &contacts {
            batch.ligand_extra = Some(contact_inputs(group.iter().map(|p| (contacts, p.as_slice())), models.device));
        }
        let mut sum = vec![0.0; group.len()];
        for model in &models.confidence {
            let logits = Vec::<f32>::try_from(model.forward_t(&batch, Some(f), false).to_device(Device::Cpu)).ok()?;
            sum.iter_mut().zip(logits).for_each(|(s, x)| *s += x as f64);
        }
        out.extend(sum.into_iter().map(|s| s / models.confidence.len() as f64));
    }
    Some(out)
}

/// The centre of a protein's C-alpha atoms (the blind-docking centre).
pub fn protein_center(graph: &ComplexGraph) -> Vec3 {
    centroid(&graph.residue_positions)
}
