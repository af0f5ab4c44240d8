//! The score network: predicts the translation, rotation and torsion scores of a noisy pose,
//! conditioned on the diffusion time and on the discrete latents (node pointers).

use crate::model::batch::Batch;
use crate::model::painn::{gaussian_rbf, head, segment_mean, segment_sum, time_embedding, Painn, PainnConfig};
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
    /// How torsion scores are read out (configs written before the choice existed: `atom`).
    #[serde(default)]
    pub torsion_head: TorsionHead,
}

/// Read-out of the torsion scores.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum TorsionHead {
    /// One predicted force per atom; the score is its torque about the bond, summed over the
    /// moving side (the networks shipped so far).
    #[default]
    Atom,
    /// Bond-centred (as DiffDock's): every atom of the ligand contributes the torques of all its
    /// vector channels about the bond, each gated by the atom's and the bond ends' scalars and the
    /// atom's place relative to the bond (distance to its centre, axial offset, side).
    Bond,
}

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
    tor_out: TorsionOut,
    tor_bias: nn::Sequential,
    config: ScoreConfig,
}

fn vector_out(p: nn::Path, hidden: i64) -> nn::Linear {
    nn::linear(p, hidden, 1, nn::LinearConfig { bias: false, ..Default::default() })
}

/// Radial basis of the bond-centred head: atom distances to the bond centre up to this (Å).
const BOND_RBF_MAX: f64 = 12.0;
/// Radial basis functions of the bond-centred head.
const BOND_RBF: i64 = 12;

/// The torque part of the torsion read-out (see [`TorsionHead`]).
#[derive(Debug)]
enum TorsionOut {
    /// Per-atom force from the vector channels.
    Atom(nn::Linear),
    /// Per (bond, atom) gates on the vector channels.
    Bond(nn::Sequential),
}

impl TorsionOut {
    fn new(p: nn::Path, kind: TorsionHead, hidden: i64) -> Self {
        match kind {
            TorsionHead::Atom => TorsionOut::Atom(vector_out(p, hidden)),
            TorsionHead::Bond => TorsionOut::Bond(head(&(p / "gate"), 2 * hidden + BOND_RBF + 2, hidden, hidden)),
        }
    }
}

/// Sums `x [P]` per torsion and divides by the square root of each torsion's pair count.
fn torsion_sum(x: &Tensor, torsion: &Tensor, n_tor: i64) -> Tensor {
    let count = segment_sum(&x.ones_like(), torsion, n_tor).clamp_min(1.0);
    segment_sum(x, torsion, n_tor) / count.sqrt()
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
            tor_out: TorsionOut::new(p / "tor_out", config.torsion_head, h),
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

    /// Torsion scores: a torque about each rotatable bond (see [`TorsionHead`]) plus an
    /// invariant term from the bond's two atoms.
    fn torsion_scores(&self, batch: &Batch, s: &Tensor, v: &Tensor) -> Tensor {
        let n_tor = batch.tor_a.size()[0];
        if n_tor == 0 {
            return Tensor::zeros([0], (Kind::Float, batch.device()));
        }
        let pa = batch.pos.index_select(0, &batch.tor_a);
        let pb = batch.pos.index_select(0, &batch.tor_b);
        let axis = &pb - &pa;
        let axis = &axis / (axis.square().sum_dim_intlist(1, true, Kind::Float) + 1e-8).sqrt();
        let (s_a, s_b) = (s.index_select(0, &batch.tor_a), s.index_select(0, &batch.tor_b));
        let torque = match &self.tor_out {
            TorsionOut::Atom(out) => {
                let force = out.forward(v).squeeze_dim(2).index_select(0, &batch.tor_pair_atom);
                let arm = batch.pos.index_select(0, &batch.tor_pair_atom) - pb.index_select(0, &batch.tor_pair_torsion);
                let axis_p = axis.index_select(0, &batch.tor_pair_torsion);
                let torque = (axis_p.linalg_cross(&arm, 1) * force).sum_dim_intlist(1, false, Kind::Float);
                torsion_sum(&torque, &batch.tor_pair_torsion, n_tor)
            }
            TorsionOut::Bond(gate) => {
                let centre = (&pa + &pb) * 0.5;
                let torque = bond_torques(batch, gate, s, v, &axis, &centre, &(&s_a + &s_b));
                torsion_sum(&torque, &batch.tor_all_torsion, n_tor)
            }
        };
        let bias = self.tor_bias.forward(&Tensor::cat(&[s_a, s_b], 1)).squeeze_dim(1);
        (torque + bias) * batch.tor_score_norm.sqrt()
    }

    /// The configuration.
    pub fn config(&self) -> &ScoreConfig {
        &self.config
    }
}

/// Per (torsion, atom) pair of `batch.tor_all_*`: the torques of the atom's vector channels
/// about the bond axis, weighted by gates read from invariants of the pair `[P]`.
fn bond_torques(batch: &Batch, gate: &nn::Sequential, s: &Tensor, v: &Tensor, axis: &Tensor, centre: &Tensor, ends: &Tensor) -> Tensor {
    let (t, j) = (&batch.tor_all_torsion, &batch.tor_all_atom);
    let rel = batch.pos.index_select(0, j) - centre.index_select(0, t);
    let dist = (rel.square().sum_dim_intlist(1, false, Kind::Float) + 1e-8).sqrt();
    let unit = &rel / dist.unsqueeze(1);
    let u = axis.index_select(0, t);
    let axial = (&u * &unit).sum_dim_intlist(1, true, Kind::Float);
    let inv = Tensor::cat(
        &[s.index_select(0, j), ends.index_select(0, t), gaussian_rbf(&dist, BOND_RBF, BOND_RBF_MAX), axial, batch.tor_all_moving.unsqueeze(1)],
        1,
    );
    let tangent = u.linalg_cross(&unit, 1).unsqueeze(2);
    let torques = (v.index_select(0, j) * tangent).sum_dim_intlist(1, false, Kind::Float);
    (gate.forward(&inv) * torques).sum_dim_intlist(1, false, Kind::Float)
}
