//! The confidence model: a separate network reading a final pose and predicting the logit of
//! "this pose is within 2 Å RMSD of the crystal pose", used to rank sampled poses.

use crate::chem::Vec3;
use crate::model::batch::Batch;
use crate::model::painn::{head, segment_mean, Painn, PainnConfig, Readout};
use crate::physics::{ContactAtoms, CONTACT_FEATURES};
use serde::{Deserialize, Serialize};
use tch::nn::{self, Module};
use tch::{Device, Tensor};

/// Configuration of the confidence model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConfidenceConfig {
    /// Format version of this config.
    pub version: u32,
    /// The equivariant core (no latents, no time).
    pub core: PainnConfig,
    /// Per-pose physics features read by the output head besides the pooled ligand features
    /// (0: none; [`POSE_FEATURES`]: those of [`pose_features`]).
    #[serde(default)]
    pub pose_features: i64,
}

/// Number of per-pose physics features of [`pose_features`].
pub const POSE_FEATURES: i64 = 2;

/// Energy gap (kcal/mol) at which the energy feature saturates.
const ENERGY_GAP_CAP: f64 = 20.0;

/// Per-pose physics features over all poses docked for one ligand: the energy above the best
/// pose's (kcal/mol, capped at 20, over 5; poses without energy get the cap) and the share of
/// the other poses within 2 Å (the population). Both are relative, so they read the same for
/// any ligand size and number of samples.
pub fn pose_features(energies: &[Option<f64>], populations: &[usize]) -> Vec<[f32; 2]> {
    let best = energies.iter().flatten().copied().fold(f64::INFINITY, f64::min);
    let others = populations.len().saturating_sub(1).max(1) as f64;
    energies
        .iter()
        .zip(populations)
        .map(|(e, &pop)| {
            let gap = e.map_or(ENERGY_GAP_CAP, |e| (e - best).clamp(0.0, ENERGY_GAP_CAP));
            [(gap / 5.0) as f32, (pop as f64 / others) as f32]
        })
        .collect()
}

/// The ligand atoms' atom-level protein contacts ([`ContactAtoms::environment`]) for a batch of
/// poses, each with its protein, in batch order (`[n_lig, CONTACT_FEATURES]`): the extra ligand
/// inputs of a confidence model built with contacts, whose residue nodes alone cannot tell
/// which protein atoms a ligand atom touches.
pub fn contact_inputs<'a>(poses: impl Iterator<Item = (&'a ContactAtoms, &'a [Vec3])>, device: Device) -> Tensor {
    let rows: Vec<f32> = poses.flat_map(|(protein, pose)| protein.environment(pose)).collect();
    Tensor::from_slice(&rows).view([-1, CONTACT_FEATURES as i64]).to_device(device)
}

impl ConfidenceConfig {
    /// This configuration with the atom-level protein contacts as extra ligand atom inputs.
    pub fn with_contacts(mut self) -> Self {
        self.core.ligand_extra = CONTACT_FEATURES as i64;
        self
    }
}

impl Default for ConfidenceConfig {
    fn default() -> Self {
        ConfidenceConfig { version: 1, core: PainnConfig { hidden: 32, layers: 3, ..Default::default() }, pose_features: 0 }
    }
}

/// The confidence model.
#[derive(Debug)]
pub struct ConfidenceModel {
    core: Painn,
    out: nn::Sequential,
    config: ConfidenceConfig,
}

impl ConfidenceModel {
    /// Creates the model under `p`.
    pub fn new(p: &nn::Path, config: &ConfidenceConfig) -> Self {
        let h = config.core.hidden;
        ConfidenceModel {
            core: Painn::new(&(p / "core"), &config.core),
            out: head(&(p / "out"), h + config.pose_features, h, 1),
            config: config.clone(),
        }
    }

    /// Logits `[B]` for RMSD < 2 Å, one per pose of the batch; `features` are the poses'
    /// [`pose_features`] (read only when the model was built for them; missing: zeros).
    pub fn forward_t(&self, batch: &Batch, features: Option<&[[f32; 2]]>, _train: bool) -> Tensor {
        let (s, _) = self.core.forward(batch, None, None, Readout::Ligand);
        let nl = batch.n_ligand;
        let pooled = segment_mean(&s.narrow(0, 0, nl), &batch.node_complex.narrow(0, 0, nl), batch.n_complexes);
        let input = if self.config.pose_features > 0 {
            let b = batch.n_complexes;
            let f = match features {
                Some(f) => Tensor::from_slice(f.as_flattened()).view([b, POSE_FEATURES]).to_device(pooled.device()),
                None => Tensor::zeros([b, POSE_FEATURES], (pooled.kind(), pooled.device())),
            };
            Tensor::cat(&[pooled, f], 1)
        } else {
            pooled
        };
        self.out.forward(&input).squeeze_dim(1)
    }

    /// Whether the model reads the ligand atoms' protein contacts ([`contact_inputs`], set as
    /// [`Batch::ligand_extra`]); without them it sees zeros there.
    pub fn reads_contacts(&self) -> bool {
        self.config.core.ligand_extra > 0
    }

    /// The configuration.
    pub fn config(&self) -> &ConfidenceConfig {
        &self.config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pose_features_are_energy_gaps_and_population_shares() {
        let f = pose_features(&[Some(-9.0), Some(-7.0), None, Some(40.0)], &[3, 0, 1, 2]);
        assert_eq!(f[0], [0.0, 1.0], "the best pose, near all three others");
        assert_eq!(f[1], [0.4, 0.0], "2 kcal/mol above the best, over 5");
        assert_eq!(f[2], [4.0, 1.0 / 3.0], "no energy: the cap");
        assert_eq!(f[3], [4.0, 2.0 / 3.0], "gaps are capped at 20 kcal/mol");
        assert_eq!(pose_features(&[Some(-5.0)], &[0]), vec![[0.0, 0.0]]);
    }
}
