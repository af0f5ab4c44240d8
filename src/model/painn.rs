//! The shared SE(3)-equivariant message-passing core (PaiNN-style: scalar and l=1 vector
//! channels, gated vector updates), cheap on CPU. Every network is built on it.

use crate::model::batch::{Batch, EDGE_TYPES};
use crate::model::features::{LIGAND_FEATURES, RESIDUE_FEATURES, RESIDUE_VECTORS};
use serde::{Deserialize, Serialize};
use tch::nn::{self, Module};
use tch::{Kind, Tensor};

/// Hyper-parameters of the equivariant core.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PainnConfig {
    /// Scalar and vector channels per node.
    pub hidden: i64,
    /// Interaction layers.
    pub layers: i64,
    /// Radial basis functions per edge.
    pub rbf: i64,
    /// Largest distance the radial basis resolves (Å).
    pub rbf_max: f64,
    /// Extra scalar inputs per node (time embedding), 0 for none.
    pub node_extra: i64,
    /// Latent flag channels per node (m), 0 for none.
    pub flags: i64,
    /// Extra scalar inputs per ligand atom ([`Batch::ligand_extra`], e.g. the confidence
    /// model's atom-level protein contacts), 0 for none.
    #[serde(default)]
    pub ligand_extra: i64,
}

impl Default for PainnConfig {
    fn default() -> Self {
        PainnConfig { hidden: 32, layers: 3, rbf: 24, rbf_max: 25.0, node_extra: 0, flags: 0, ligand_extra: 0 }
    }
}

fn mlp(p: &nn::Path, input: i64, hidden: i64, output: i64) -> nn::Sequential {
    nn::seq()
        .add(nn::linear(p / "0", input, hidden, Default::default()))
        .add_fn(|x| x.silu())
        .add(nn::linear(p / "2", hidden, output, Default::default()))
}

fn no_bias() -> nn::LinearConfig {
    nn::LinearConfig { bias: false, ..Default::default() }
}

/// One interaction (message + update) block.
#[derive(Debug)]
struct Interaction {
    phi: nn::Sequential,
    filter: nn::Linear,
    u: nn::Linear,
    v: nn::Linear,
    update: nn::Sequential,
    norm: nn::LayerNorm,
    hidden: i64,
}

impl Interaction {
    fn new(p: &nn::Path, hidden: i64, edge_dim: i64) -> Self {
        Interaction {
            phi: mlp(&(p / "phi"), hidden, hidden, 3 * hidden),
            filter: nn::linear(p / "filter", edge_dim, 3 * hidden, Default::default()),
            u: nn::linear(p / "u", hidden, hidden, no_bias()),
            v: nn::linear(p / "v", hidden, hidden, no_bias()),
            update: mlp(&(p / "update"), 2 * hidden, hidden, 3 * hidden),
            norm: nn::layer_norm(p / "norm", vec![hidden], Default::default()),
            hidden,
        }
    }

    fn forward(&self, s: &Tensor, v: &Tensor, g: &EdgeGeometry) -> (Tensor, Tensor) {
        let h = self.hidden;
        // phi depends on the source node only: evaluate it per node, then gather per edge
        let x = self.phi.forward(s).index_select(0, &g.src) * self.filter.forward(&g.attr);
        let parts = x.split(h, 1);
        let (a, b, c) = (&parts[0], &parts[1], &parts[2]);
        let ds = s.zeros_like().index_add(0, &g.dst, a) * &g.inv_sqrt_deg;
        let msg_v = v.index_select(0, &g.src) * b.unsqueeze(1) + g.unit.unsqueeze(2) * c.unsqueeze(1);
        let dv = v.zeros_like().index_add(0, &g.dst, &msg_v) * g.inv_sqrt_deg.unsqueeze(2);
        let s = s + ds;
        let v = v + dv;
        let uv = self.u.forward(&v);
        let vv = self.v.forward(&v);
        let vnorm = (vv.square().sum_dim_intlist(1, false, Kind::Float) + 1e-8).sqrt();
        let up = self.update.forward(&Tensor::cat(&[&s, &vnorm], 1));
        let parts = up.split(h, 1);
        let (avv, asv, ass) = (&parts[0], &parts[1], &parts[2]);
        let v = v + uv.shallow_clone() * avv.unsqueeze(1);
        let s = s + asv * (uv * vv).sum_dim_intlist(1, false, Kind::Float) + ass;
        (self.norm.forward(&s), vector_norm(&v))
    }
}

/// Equivariant normalisation of vector features `[N, 3, F]`: divides each node's vectors by
/// their root-mean-square length (keeps vector magnitudes from compounding over layers).
fn vector_norm(v: &Tensor) -> Tensor {
    let ms = v.square().sum_dim_intlist(1, true, Kind::Float).mean_dim(2, true, Kind::Float);
    v / (ms + 1e-6).sqrt().clamp_min(1.0)
}

/// Edge quantities shared by all layers.
struct EdgeGeometry {
    src: Tensor,
    dst: Tensor,
    unit: Tensor,
    attr: Tensor,
    inv_sqrt_deg: Tensor,
}

impl EdgeGeometry {
    /// The edges that end on the first `n_ligand` nodes (the ligand atoms); node degrees stay
    /// those of the whole graph, so ligand nodes get exactly the messages they get from `self`.
    fn into_ligand(self, n_ligand: i64) -> EdgeGeometry {
        let keep = self.dst.lt(n_ligand).nonzero().squeeze_dim(1);
        EdgeGeometry {
            src: self.src.index_select(0, &keep),
            dst: self.dst.index_select(0, &keep),
            unit: self.unit.index_select(0, &keep),
            attr: self.attr.index_select(0, &keep),
            inv_sqrt_deg: self.inv_sqrt_deg,
        }
    }
}

/// Which nodes' outputs a caller of [`Painn::forward`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Readout {
    /// Every node (encoders and the prior, which point at residues too).
    All,
    /// Ligand atoms only (score and confidence heads): the last layer then skips the messages
    /// into residues, about half its edges, and the residue rows it returns are not meaningful.
    Ligand,
}

/// The equivariant core: embeds nodes, runs the interaction layers, returns scalar `[N, F]`
/// and vector `[N, 3, F]` node features.
#[derive(Debug)]
pub struct Painn {
    ligand_in: nn::Linear,
    residue_in: nn::Linear,
    residue_vec_in: nn::Linear,
    unconditional: Option<Tensor>,
    layers: Vec<Interaction>,
    config: PainnConfig,
}

impl Painn {
    /// Width of the per-edge attribute vector.
    fn edge_dim(cfg: &PainnConfig) -> i64 {
        cfg.rbf + EDGE_TYPES as i64 + 2 * cfg.flags
    }

    /// Creates the core under path `p`.
    pub fn new(p: &nn::Path, cfg: &PainnConfig) -> Self {
        let extra = cfg.node_extra + cfg.flags;
        Painn {
            ligand_in: nn::linear(p / "ligand_in", LIGAND_FEATURES as i64 + extra + cfg.ligand_extra, cfg.hidden, Default::default()),
            residue_in: nn::linear(p / "residue_in", RESIDUE_FEATURES as i64 + extra, cfg.hidden, Default::default()),
            residue_vec_in: nn::linear(p / "residue_vec_in", RESIDUE_VECTORS as i64, cfg.hidden, no_bias()),
            unconditional: (cfg.flags > 0)
                .then(|| p.var("unconditional", &[cfg.hidden], nn::Init::Randn { mean: 0.0, stdev: 0.1 })),
            layers: (0..cfg.layers).map(|i| Interaction::new(&(p / "layers" / i), cfg.hidden, Self::edge_dim(cfg))).collect(),
            config: cfg.clone(),
        }
    }

    /// Gaussian radial basis of distances `[E]` -> `[E, rbf]`.
    fn rbf(&self, dist: &Tensor) -> Tensor {
        let n = self.config.rbf;
        let centers = Tensor::linspace(0.0, self.config.rbf_max, n, (Kind::Float, dist.device()));
        let width = self.config.rbf_max / (n - 1) as f64;
        (-(dist.unsqueeze(1) - centers).square() / (2.0 * width * width)).exp()
    }

    fn edges(&self, batch: &Batch, flags: &Tensor) -> EdgeGeometry {
        let src = batch.edge_src.shallow_clone();
        let dst = batch.edge_dst.shallow_clone();
        let rel = batch.pos.index_select(0, &src) - batch.pos.index_select(0, &dst);
        let dist = (rel.square().sum_dim_intlist(1, false, Kind::Float) + 1e-8).sqrt();
        let unit = &rel / dist.unsqueeze(1);
        let types = batch.edge_type.one_hot(EDGE_TYPES as i64).to_kind(Kind::Float);
        let mut attr = vec![self.rbf(&dist), types];
        if self.config.flags > 0 {
            // flags travel along intra-ligand and intra-protein edges only (not cross edges)
            let intra = batch.edge_type.le(5).to_kind(Kind::Float).unsqueeze(1);
            attr.push(flags.index_select(0, &src) * &intra);
            attr.push(flags.index_select(0, &dst) * &intra);
        }
        let n = batch.n_nodes();
        let deg = Tensor::zeros([n], (Kind::Float, dst.device())).index_add(0, &dst, &dist.ones_like());
        EdgeGeometry { src, dst, unit, attr: Tensor::cat(&attr, 1), inv_sqrt_deg: deg.clamp_min(1.0).rsqrt().unsqueeze(1) }
    }

    /// Runs the core. `node_extra [n_complexes, node_extra]` is broadcast to each complex's
    /// nodes; `flags [N, m]` are the latent flags (None: the learned unconditional embedding);
    /// `readout` says which nodes' outputs the caller reads.
    pub fn forward(&self, batch: &Batch, node_extra: Option<&Tensor>, flags: Option<&Tensor>, readout: Readout) -> (Tensor, Tensor) {
        let device = batch.device();
        let n = batch.n_nodes();
        let nl = batch.n_ligand;
        let m = self.config.flags;
        let flag_t = match flags {
            Some(f) => f.shallow_clone(),
            None => Tensor::zeros([n, m], (Kind::Float, device)),
        };
        let mut extra = Vec::new();
        if let Some(e) = node_extra {
            extra.push(e.index_select(0, &batch.node_complex));
        }
        if m > 0 {
            extra.push(flag_t.shallow_clone());
        }
        let with_extra = |x: &Tensor, range: (i64, i64)| {
            let mut parts = vec![x.shallow_clone()];
            parts.extend(extra.iter().map(|e| e.narrow(0, range.0, range.1)));
            Tensor::cat(&parts, 1)
        };
        let mut ligand_x = with_extra(&batch.ligand_x, (0, nl));
        if self.config.ligand_extra > 0 {
            let atom_extra = match &batch.ligand_extra {
                Some(e) => e.shallow_clone(),
                None => Tensor::zeros([nl, self.config.ligand_extra], (Kind::Float, device)),
            };
            ligand_x = Tensor::cat(&[ligand_x, atom_extra], 1);
        }
        let s_lig = self.ligand_in.forward(&ligand_x);
        let s_res = self.residue_in.forward(&with_extra(&batch.residue_x, (nl, n - nl)));
        let mut s = Tensor::cat(&[s_lig, s_res], 0);
        if let (Some(u), None) = (&self.unconditional, flags) {
            s = s + u;
        }
        let v_res = self.residue_vec_in.forward(&batch.residue_v);
        let v_lig = Tensor::zeros([nl, 3, self.config.hidden], (Kind::Float, device));
        let mut v = Tensor::cat(&[v_lig, v_res], 0);
        let mut g = self.edges(batch, &flag_t);
        let last = self.layers.len().saturating_sub(1);
        for (i, layer) in self.layers.iter().enumerate() {
            if i == last && readout == Readout::Ligand {
                g = g.into_ligand(nl);
            }
            let (s2, v2) = layer.forward(&s, &v, &g);
            s = s2;
            v = v2;
        }
        (s, v)
    }

    /// The configuration this core was built with.
    pub fn config(&self) -> &PainnConfig {
        &self.config
    }
}

/// Sinusoidal embedding of diffusion times `[B]` -> `[B, dim]` (dim even).
pub fn time_embedding(t: &Tensor, dim: i64) -> Tensor {
    let half = dim / 2;
    let freqs = (Tensor::arange(half, (Kind::Float, t.device())) * (-(10000f64.ln()) / (half.max(2) - 1) as f64)).exp();
    let x = t.unsqueeze(1) * 1000.0 * freqs.unsqueeze(0);
    Tensor::cat(&[x.sin(), x.cos()], 1)
}

/// Sum of `x [N, ...]` over the nodes of each complex -> `[B, ...]`.
pub fn segment_sum(x: &Tensor, segment: &Tensor, n_segments: i64) -> Tensor {
    let mut shape = x.size();
    shape[0] = n_segments;
    Tensor::zeros(shape.as_slice(), (x.kind(), x.device())).index_add(0, segment, x)
}

/// Mean of `x` over each complex's nodes.
pub fn segment_mean(x: &Tensor, segment: &Tensor, n_segments: i64) -> Tensor {
    let count = segment_sum(&Tensor::ones([x.size()[0]], (x.kind(), x.device())), segment, n_segments).clamp_min(1.0);
    let mut shape = vec![n_segments];
    shape.extend(std::iter::repeat_n(1, x.dim() - 1));
    segment_sum(x, segment, n_segments) / count.view(shape.as_slice())
}

/// A two-layer perceptron head (public so the heads of all networks share one definition).
pub fn head(p: &nn::Path, input: i64, hidden: i64, output: i64) -> nn::Sequential {
    mlp(p, input, hidden, output)
}
