//! The score network: predicts the translation, rotation and torsion scores of a noisy pose,
//! conditioned on the diffusion time and on the discrete latents (node pointers).

use crate::model::batch::Batch;
use crate::model::painn::{head, segment_mean, segment_sum, time_embedding, Painn, PainnConfig, Readout};
use serde::{Deserialize, Serialize};
use tch::nn::{self, Module};
use tch::{Kind, Tensor};

/// Configuration of the score network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoreConfig {
    /// Format version of this config.
    pub version: u32,
    /// The equivariant core (its `flags` is the number of latents m; 0 disables latents).
    pub core: PainnConfig,
    /// Width of the time embedding.
    pub time_dim: i64,
    /// What the torsion read-out sees (configs written before the choice existed: `atom`).
    #[serde(default)]
    pub torsion_head: TorsionHead,
}

/// Inputs of the torsion read-out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum TorsionHead {
    /// The torque of one predicted force per moving atom about the bond, plus an invariant term
    /// from the bond's two atoms (the networks shipped so far).
    #[default]
    Atom,
    /// The same, with the invariant term also reading the bond's dihedral angle (between a
    /// neighbour of each bond atom) as three harmonics: the angle that the torsion noise changes,
    /// which message passing only reaches indirectly.
    Dihedral,
}

/// Harmonics of the dihedral angle the `dihedral` torsion head reads (cos and sin of each).
const DIHEDRAL_HARMONICS: i64 = 3;

impl Default for ScoreConfig {
    fn default() -> Self {
        let time_dim = 16;
        let core = PainnConfig { node_extra: time_dim, flags: 2, ..Default::default() };
        ScoreConfig { version: 1, core, time_dim, torsion_head: TorsionHead::Atom }
    }
}

impl ScoreConfig {
    /// Number of discrete latents m.
    pub fn latents(&self) -> usize {
        self.core.flags as usize
    }
}

/// Predicted scores of a batch.
pub struct ScoreOutput {
    /// Translation scores `[B, 3]`.
    pub tr: Tensor,
    /// Rotation scores (axial vectors) `[B, 3]`.
    pub rot: Tensor,
    /// Torsion scores `[T]`, in the batch's torsion order.
    pub tor: Tensor,
}

/// The score network.
#[derive(Debug)]
pub struct ScoreModel {
    core: Painn,
    tr_out: nn::Linear,
    rot_out: nn::Linear,
    rot_arm_out: nn::Linear,
    tor_out: nn::Linear,
    tor_bias: nn::Sequential,
    config: ScoreConfig,
}

fn vector_out(p: nn::Path, hidden: i64) -> nn::Linear {
    nn::linear(p, hidden, 1, nn::LinearConfig { bias: false, ..Default::default() })
}

impl ScoreModel {
    /// Creates the network under `p`.
    pub fn new(p: &nn::Path, config: &ScoreConfig) -> Self {
        let h = config.core.hidden;
        ScoreModel {
            core: Painn::new(&(p / "core"), &config.core),
            tr_out: vector_out(p / "tr_out", h),
            rot_out: vector_out(p / "rot_out", h),
            rot_arm_out: vector_out(p / "rot_arm_out", h),
            tor_out: vector_out(p / "tor_out", h),
            tor_bias: match config.torsion_head {
                TorsionHead::Atom => head(&(p / "tor_bias"), 2 * h, h, 1),
                TorsionHead::Dihedral => head(&(p / "tor_dihedral"), 2 * h + 2 * DIHEDRAL_HARMONICS, h, 1),
            },
            config: config.clone(),
        }
    }

    /// Predicts the scores; `flags [N, m]` are the latent flags (None: unconditional).
    pub fn forward_t(&self, batch: &Batch, flags: Option<&Tensor>, _train: bool) -> ScoreOutput {
        let temb = time_embedding(&batch.t, self.config.time_dim);
        let (s, v) = self.core.forward(batch, Some(&temb), flags, Readout::Ligand);
        let nl = batch.n_ligand;
        let seg = batch.node_complex.narrow(0, 0, nl);
        let v_lig = v.narrow(0, 0, nl);
        let pos = batch.pos.narrow(0, 0, nl);
        let b = batch.n_complexes;
        let centre = segment_mean(&pos, &seg, b);
        let arm = &pos - centre.index_select(0, &seg);
        let tr = segment_mean(&self.tr_out.forward(&v_lig).squeeze_dim(2), &seg, b) / batch.sigma_tr.unsqueeze(1);
        let force = self.rot_arm_out.forward(&v_lig).squeeze_dim(2);
        let torque = arm.linalg_cross(&force, 1) + self.rot_out.forward(&v_lig).squeeze_dim(2);
        let rot = segment_mean(&torque, &seg, b) * batch.rot_score_norm.sqrt().unsqueeze(1);
        let tor = self.torsion_scores(batch, &s, &v);
        ScoreOutput { tr, rot, tor }
    }

    /// Torsion scores: the torque of per-atom predicted forces about each rotatable bond,
    /// plus an invariant term from the bond's two atoms.
    fn torsion_scores(&self, batch: &Batch, s: &Tensor, v: &Tensor) -> Tensor {
        let n_tor = batch.tor_a.size()[0];
        if n_tor == 0 {
            return Tensor::zeros([0], (Kind::Float, batch.device()));
        }
        let pb = batch.pos.index_select(0, &batch.tor_b);
        let axis = torsion_axes(batch);
        let force = self.tor_out.forward(v).squeeze_dim(2).index_select(0, &batch.tor_pair_atom);
        let arm = batch.pos.index_select(0, &batch.tor_pair_atom) - pb.index_select(0, &batch.tor_pair_torsion);
        let axis_p = axis.index_select(0, &batch.tor_pair_torsion);
        let torque = (axis_p.linalg_cross(&arm, 1) * force).sum_dim_intlist(1, false, Kind::Float);
        let count = segment_sum(&torque.ones_like(), &batch.tor_pair_torsion, n_tor).clamp_min(1.0);
        let torque = segment_sum(&torque, &batch.tor_pair_torsion, n_tor) / count.sqrt();
        let mut ends = vec![s.index_select(0, &batch.tor_a), s.index_select(0, &batch.tor_b)];
        if self.config.torsion_head == TorsionHead::Dihedral {
            ends.push(dihedral_harmonics(batch, &axis));
        }
        let bias = self.tor_bias.forward(&Tensor::cat(&ends, 1)).squeeze_dim(1);
        (torque + bias) * batch.tor_score_norm.sqrt()
    }

    /// The configuration.
    pub fn config(&self) -> &ScoreConfig {
        &self.config
    }
}

/// Unit vectors `[T, 3]` along each rotatable bond, from its fixed-side to its moving-side atom.
pub(crate) fn torsion_axes(batch: &Batch) -> Tensor {
    let axis = batch.pos.index_select(0, &batch.tor_b) - batch.pos.index_select(0, &batch.tor_a);
    &axis / (axis.square().sum_dim_intlist(1, true, Kind::Float) + 1e-8).sqrt()
}

/// `[T, 2 * DIHEDRAL_HARMONICS]`: cos kφ and sin kφ (k = 1, 2, 3) of each torsion's dihedral
/// angle φ between its reference atoms about the unit `axis` (fixed to moving atom); zero where a
/// bond atom has no other neighbour.
pub(crate) fn dihedral_harmonics(batch: &Batch, axis: &Tensor) -> Tensor {
    let perpendicular = |atom: &Tensor, reference: &Tensor| {
        let r = batch.pos.index_select(0, reference) - batch.pos.index_select(0, atom);
        let along = (&r * axis).sum_dim_intlist(1, true, Kind::Float);
        r - along * axis
    };
    let fa = perpendicular(&batch.tor_a, &batch.tor_ref_a);
    let fb = perpendicular(&batch.tor_b, &batch.tor_ref_b);
    let cos = (&fa * &fb).sum_dim_intlist(1, false, Kind::Float);
    let sin = (axis * fa.linalg_cross(&fb, 1)).sum_dim_intlist(1, false, Kind::Float);
    let norm = (cos.square() + sin.square()).sqrt();
    let defined = norm.gt(1e-6).to_kind(Kind::Float);
    let phi = sin.atan2(&cos);
    let parts: Vec<Tensor> = (1..=DIHEDRAL_HARMONICS)
        .flat_map(|k| [(&phi * k as f64).cos() * &defined, (&phi * k as f64).sin() * &defined])
        .collect();
    Tensor::stack(&parts, 1)
}
