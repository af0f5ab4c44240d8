//! The autoregressive latent prior: from protein and ligand only (the ligand conformer placed at
//! the pocket or protein centre, no pose), predicts latent 1, then latent 2 given latent 1, ...
//! An invariant graph encoder feeds an attention block over each complex's nodes.

use crate::model::batch::{segment_log_softmax, Batch};
use crate::model::painn::{head, Painn, PainnConfig, Readout};
use rand::Rng;
use serde::{Deserialize, Serialize};
use tch::nn::{self, Module};
use tch::{Kind, Tensor};

/// Configuration of the prior.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PriorConfig {
    /// Format version of this config.
    pub version: u32,
    /// The graph encoder (its `flags` must be 0: earlier latents enter through the attention block).
    pub core: PainnConfig,
    /// Number of latents m.
    pub latents: i64,
}

impl Default for PriorConfig {
    fn default() -> Self {
        PriorConfig { version: 1, core: PainnConfig { hidden: 32, layers: 3, ..Default::default() }, latents: 2 }
    }
}

/// The autoregressive prior over node-pointer latents.
#[derive(Debug)]
pub struct LatentPrior {
    core: Painn,
    flag_embed: nn::Linear,
    step_embed: Tensor,
    query: nn::Linear,
    key: nn::Linear,
    value: nn::Linear,
    out: nn::Linear,
    norm1: nn::LayerNorm,
    norm2: nn::LayerNorm,
    feed_forward: nn::Sequential,
    ligand_head: nn::Sequential,
    residue_head: nn::Sequential,
    config: PriorConfig,
}

impl LatentPrior {
    /// Creates the prior under `p`.
    pub fn new(p: &nn::Path, config: &PriorConfig) -> Self {
        let h = config.core.hidden;
        let m = config.latents;
        let lin = |name: &str, i: i64, o: i64| nn::linear(p / name, i, o, Default::default());
        LatentPrior {
            core: Painn::new(&(p / "core"), &config.core),
            flag_embed: nn::linear(p / "flag_embed", m, h, nn::LinearConfig { bias: false, ..Default::default() }),
            step_embed: p.var("step_embed", &[m.max(1), h], nn::Init::Randn { mean: 0.0, stdev: 0.1 }),
            query: lin("query", h, h),
            key: lin("key", h, h),
            value: lin("value", h, h),
            out: lin("out", h, h),
            norm1: nn::layer_norm(p / "norm1", vec![h], Default::default()),
            norm2: nn::layer_norm(p / "norm2", vec![h], Default::default()),
            feed_forward: head(&(p / "feed_forward"), h, 2 * h, h),
            ligand_head: head(&(p / "ligand_head"), h, h, 1),
            residue_head: head(&(p / "residue_head"), h, h, 1),
            config: config.clone(),
        }
    }

    /// Node embeddings of the complexes (computed once per batch).
    pub fn embed(&self, batch: &Batch) -> Tensor {
        self.core.forward(batch, None, None, Readout::All).0
    }

    /// Logits `[N]` of latent `k` given the flags of latents `< k` (`flags [N, m]`; later columns ignored).
    pub fn step_logits(&self, batch: &Batch, nodes: &Tensor, flags: &Tensor, k: i64) -> Tensor {
        let m = self.config.latents;
        let keep = Tensor::arange(m, (Kind::Int64, batch.device())).lt(k).to_kind(Kind::Float);
        let h = nodes + self.flag_embed.forward(&(flags * keep)) + self.step_embed.get(k);
        let same = batch.node_complex.unsqueeze(1).eq_tensor(&batch.node_complex.unsqueeze(0));
        let scale = (self.config.core.hidden as f64).sqrt();
        let scores = self.query.forward(&h).matmul(&self.key.forward(&h).transpose(0, 1)) / scale;
        let scores = scores.masked_fill(&same.logical_not(), f64::NEG_INFINITY);
        let attended = scores.softmax(1, Kind::Float).matmul(&self.value.forward(&h));
        let h = self.norm1.forward(&(h + self.out.forward(&attended)));
        let h = self.norm2.forward(&(&h + self.feed_forward.forward(&h)));
        let nl = batch.n_ligand;
        let lig = self.ligand_head.forward(&h.narrow(0, 0, nl));
        let res = self.residue_head.forward(&h.narrow(0, nl, batch.n_nodes() - nl));
        Tensor::cat(&[lig, res], 0).squeeze_dim(1)
    }

    /// Teacher-forced logits `[N, m]` for all latents given target flags `[N, m]`.
    pub fn forward_t(&self, batch: &Batch, target_flags: &Tensor, _train: bool) -> Tensor {
        let nodes = self.embed(batch);
        let cols: Vec<Tensor> =
            (0..self.config.latents).map(|k| self.step_logits(batch, &nodes, target_flags, k)).collect();
        Tensor::stack(&cols, 1)
    }

    /// Cross-entropy against soft targets `probs [N, m]` (the encoder's softmax), averaged over complexes and latents.
    pub fn loss(&self, batch: &Batch, logits: &Tensor, probs: &Tensor) -> Tensor {
        let logp = segment_log_softmax(logits, &batch.node_complex, batch.n_complexes);
        -(probs * logp).sum(Kind::Float) / (batch.n_complexes * self.config.latents) as f64
    }

    /// Samples latents (local node indices per complex) autoregressively with a temperature;
    /// complex `c` draws from `rngs[c]` alone, so how complexes are batched changes no draw.
    pub fn sample<R: Rng>(&self, batch: &Batch, temperature: f64, rngs: &mut [R]) -> Vec<Vec<usize>> {
        assert_eq!(rngs.len(), batch.n_complexes as usize, "one generator per complex");
        let _guard = tch::no_grad_guard();
        let m = self.config.latents as usize;
        let nodes = self.embed(batch);
        let mut latents = vec![Vec::with_capacity(m); batch.n_complexes as usize];
        for k in 0..m {
            let flags = batch.latent_flags(&latents, m);
            let logits = self.step_logits(batch, &nodes, &flags, k as i64) / temperature.max(1e-3);
            let logits = Vec::<f32>::try_from(logits.to_device(tch::Device::Cpu)).unwrap_or_default();
            for (c, &(lo, nl, ro, nr)) in batch.layout.iter().enumerate() {
                let local: Vec<f32> = logits[lo as usize..(lo + nl) as usize]
                    .iter()
                    .chain(&logits[ro as usize..(ro + nr) as usize])
                    .copied()
                    .collect();
                latents[c].push(sample_categorical(&local, &mut rngs[c]));
            }
        }
        latents
    }

    /// The configuration.
    pub fn config(&self) -> &PriorConfig {
        &self.config
    }
}

/// Draws an index from unnormalised log-probabilities.
pub fn sample_categorical(logits: &[f32], rng: &mut impl Rng) -> usize {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let weights: Vec<f64> = logits.iter().map(|&l| ((l - max) as f64).exp()).collect();
    let total: f64 = weights.iter().sum();
    let mut u = rng.gen::<f64>() * total;
    for (i, w) in weights.iter().enumerate() {
        u -= w;
        if u <= 0.0 {
            return i;
        }
    }
    weights.len().saturating_sub(1)
}
