//! The latent encoder: reads the TRUE (crystal) complex and proposes, for each of the m
//! latents, a distribution over the complex's nodes (ligand atoms and residues); latents are
//! drawn with straight-through Gumbel-softmax so the encoder trains end-to-end with the score loss.

use crate::model::batch::{segment_softmax, Batch};
use crate::model::painn::{head, Painn, PainnConfig, Readout};
use serde::{Deserialize, Serialize};
use tch::nn::{self, Module};
use tch::Tensor;

/// Configuration of the latent encoder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EncoderConfig {
    /// Format version of this config.
    pub version: u32,
    /// The (smaller) equivariant core; `flags` must be 0.
    pub core: PainnConfig,
    /// Number of latents m.
    pub latents: i64,
}

impl Default for EncoderConfig {
    fn default() -> Self {
        EncoderConfig { version: 1, core: PainnConfig { hidden: 32, layers: 3, ..Default::default() }, latents: 2 }
    }
}

/// Latents drawn by the encoder for a batch.
pub struct EncodedLatents {
    /// Node logits `[N, m]`.
    pub logits: Tensor,
    /// Softmax over each complex's nodes `[N, m]` (the prior's training target).
    pub probs: Tensor,
    /// One-hot flags `[N, m]` with straight-through gradients (what the score network reads).
    pub flags: Tensor,
}

/// The latent encoder.
#[derive(Debug)]
pub struct LatentEncoder {
    core: Painn,
    ligand_head: nn::Sequential,
    residue_head: nn::Sequential,
    config: EncoderConfig,
}

impl LatentEncoder {
    /// Creates the encoder under `p`.
    pub fn new(p: &nn::Path, config: &EncoderConfig) -> Self {
        let h = config.core.hidden;
        LatentEncoder {
            core: Painn::new(&(p / "core"), &config.core),
            ligand_head: head(&(p / "ligand_head"), h, h, config.latents),
            residue_head: head(&(p / "residue_head"), h, h, config.latents),
            config: config.clone(),
        }
    }

    /// Node logits `[N, m]` of a batch of crystal poses.
    pub fn logits(&self, batch: &Batch) -> Tensor {
        let (s, _) = self.core.forward(batch, None, None, Readout::All);
        let nl = batch.n_ligand;
        let lig = self.ligand_head.forward(&s.narrow(0, 0, nl));
        let res = self.residue_head.forward(&s.narrow(0, nl, batch.n_nodes() - nl));
        Tensor::cat(&[lig, res], 0)
    }

    /// Draws latents: Gumbel-perturbed (when `train`) straight-through one-hot per complex.
    pub fn forward_t(&self, batch: &Batch, tau: f64, train: bool) -> EncodedLatents {
        let logits = self.logits(batch);
        let probs = segment_softmax(&logits, &batch.node_complex, batch.n_complexes);
        let perturbed = if train {
            let u = logits.rand_like().clamp(1e-9, 1.0 - 1e-9);
            (&logits - (-u.log()).log()) / tau
        } else {
            &logits / tau
        };
        let soft = segment_softmax(&perturbed, &batch.node_complex, batch.n_complexes);
        let hard = hard_one_hot(&soft, batch);
        let flags = &hard - soft.detach() + &soft;
        EncodedLatents { logits, probs, flags }
    }

    /// The configuration.
    pub fn config(&self) -> &EncoderConfig {
        &self.config
    }
}

/// One-hot of the per-complex argmax of `values [N, m]`.
pub fn hard_one_hot(values: &Tensor, batch: &Batch) -> Tensor {
    let best = crate::model::batch::segment_argmax(values, &batch.node_complex, batch.n_complexes);
    let m = values.size()[1];
    let mut local = Vec::with_capacity(best.len());
    for row in &best {
        local.push(row.iter().map(|&g| batch.global_to_local(g).1).collect::<Vec<_>>());
    }
    batch.latent_flags(&local, m as usize)
}
