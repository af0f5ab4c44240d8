//! The score network: predicts the translation, rotation and torsion scores of a noisy pose,
//! conditioned on the diffusion time and on the discrete latents (node pointers).

use crate::model::batch::Batch;
use crate::model::painn::{head, segment_mean, time_embedding, Painn, PainnConfig};
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
}

impl Default for ScoreConfig {
    fn default() -> Self {
        let time_dim = 16;
        ScoreConfig { version: 1, core: PainnConfig { node_extra: time_dim, flags: 2, ..Default::default() }, time_dim }
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
            tor_bias: head(&(p / "tor_bias"), 2 * h, h, 1),
            config: config.clone(),
        }
    }

    /// Predicts the scores; `flags [N, m]` are the latent flags (None: unconditional).
    pub fn forward_t(&self, batch: &Batch, flags: Option<&Tensor>, _train: bool) -> ScoreOutput {
        let temb = time_embedding(&batch.t, self.config.time_dim);
        let (s, v) = self.core.forward(batch, Some(&temb), flags);
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
        let pa = batch.pos.index_select(0, &batch.tor_a);
        let pb = batch.pos.index_select(0, &batch.tor_b);
        let axis = &pb - &pa;
        let axis = &axis / (axis.square().sum_dim_intlist(1, true, Kind::Float) + 1e-8).sqrt();
        let force = self.tor_out.forward(v).squeeze_dim(2).index_select(0, &batch.tor_pair_atom);
        let arm = batch.pos.index_select(0, &batch.tor_pair_atom) - pb.index_select(0, &batch.tor_pair_torsion);
        let axis_p = axis.index_select(0, &batch.tor_pair_torsion);
        let torque = (axis_p.linalg_cross(&arm, 1) * force).sum_dim_intlist(1, false, Kind::Float);
        let count = Tensor::zeros([n_tor], (Kind::Float, batch.device()))
            .index_add(0, &batch.tor_pair_torsion, &torque.ones_like())
            .clamp_min(1.0);
        let torque = Tensor::zeros([n_tor], (Kind::Float, batch.device())).index_add(0, &batch.tor_pair_torsion, &torque)
            / count.sqrt();
        let ends = Tensor::cat(&[s.index_select(0, &batch.tor_a), s.index_select(0, &batch.tor_b)], 1);
        let bias = self.tor_bias.forward(&ends).squeeze_dim(1);
        (torque + bias) * batch.tor_score_norm.sqrt()
    }

    /// The configuration.
    pub fn config(&self) -> &ScoreConfig {
        &self.config
    }
}
