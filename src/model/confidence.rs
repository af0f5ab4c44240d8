//! The confidence model: a separate network reading a final pose and predicting the logit of
//! "this pose is within 2 Å RMSD of the crystal pose", used to rank sampled poses.

use crate::model::batch::Batch;
use crate::model::painn::{head, segment_mean, Painn, PainnConfig};
use serde::{Deserialize, Serialize};
use tch::nn::{self, Module};
use tch::Tensor;

/// Configuration of the confidence model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConfidenceConfig {
    /// Format version of this config.
    pub version: u32,
    /// The equivariant core (no latents, no time).
    pub core: PainnConfig,
}

impl Default for ConfidenceConfig {
    fn default() -> Self {
        ConfidenceConfig { version: 1, core: PainnConfig { hidden: 32, layers: 3, ..Default::default() } }
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
            out: head(&(p / "out"), h, h, 1),
            config: config.clone(),
        }
    }

    /// Logits `[B]` for RMSD < 2 Å, one per pose of the batch.
    pub fn forward_t(&self, batch: &Batch, _train: bool) -> Tensor {
        let (s, _) = self.core.forward(batch, None, None);
        let nl = batch.n_ligand;
        let pooled = segment_mean(&s.narrow(0, 0, nl), &batch.node_complex.narrow(0, 0, nl), batch.n_complexes);
        self.out.forward(&pooled).squeeze_dim(1)
    }

    /// The configuration.
    pub fn config(&self) -> &ConfidenceConfig {
        &self.config
    }
}
