//! Turning complexes (ligand pose + protein residues) into batched tensors.
//!
//! Nodes of a batch: all ligand atoms of all complexes first, then all residues. Within one
//! complex, "local" node `k` means ligand atom `k` for `k < n_ligand`, else residue
//! `k - n_ligand`: the latents point at local nodes.

use crate::chem::{BondOrder, Ligand, Protein, Torsion, Vec3};
use crate::diffusion::pose::dihedral_reference;
use crate::graph::{cross_edges, ligand_graph, radius_graph, EdgeList, LigandEdgeKind};
use crate::model::features::{
    ligand_atom_features, residue_features, residue_vectors, LIGAND_FEATURES, RESIDUE_FEATURES, RESIDUE_VECTORS,
};
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

/// Number of edge types: ligand single, double, triple, aromatic, non-bonded; residue-residue;
/// ligand-to-residue; residue-to-ligand.
pub const EDGE_TYPES: usize = 8;
const EDGE_RES_RES: i64 = 5;
const EDGE_LIG_RES: i64 = 6;
const EDGE_RES_LIG: i64 = 7;

/// Radius of the ligand's non-bonded edges (Å).
pub const LIGAND_RADIUS: f64 = 5.0;
/// Radius of the residue graph (DiffDock: 15 Å; its 24-neighbour cap is 16 here, for CPU speed).
pub const RESIDUE_RADIUS: f64 = 15.0;
/// Maximum neighbours per residue.
pub const RESIDUE_NEIGHBOURS: usize = 16;

/// The pose-independent part of a complex, computed once: features, residue graph, torsions.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ComplexGraph {
    /// Ligand atom features, row-major `[n_ligand, LIGAND_FEATURES]`.
    pub ligand_features: Vec<f32>,
    /// The ligand's heavy-atom topology (positions ignored).
    pub ligand: Ligand,
    /// Residue features, row-major `[n_residues, RESIDUE_FEATURES]`.
    pub residue_features: Vec<f32>,
    /// C-alpha positions.
    pub residue_positions: Vec<Vec3>,
    /// Residue direction vectors relative to C-alpha.
    pub residue_vectors: Vec<[Vec3; RESIDUE_VECTORS]>,
    /// Residue graph (radius + k nearest on C-alpha).
    pub residue_edges: EdgeList,
    /// Rotatable bonds of the ligand.
    pub torsions: Vec<Torsion>,
    /// Per torsion, the [`dihedral_reference`] of its fixed-side and of its moving-side atom (the
    /// bond atom itself where it has no other neighbour): the dihedral torsion head's angle.
    pub dihedral_references: Vec<(usize, usize)>,
}

impl ComplexGraph {
    /// Builds the static graph of a ligand (topology) and the amino-acid residues of a protein.
    pub fn new(ligand: &Ligand, protein: &Protein, torsions: Vec<Torsion>) -> Self {
        let aa = protein.amino_acids();
        let residue_positions: Vec<Vec3> = aa.iter().filter_map(|&i| protein.residues[i].ca).collect();
        let residue_features = aa.iter().flat_map(|&i| residue_features(&protein.residues[i])).collect();
        let residue_vectors = aa.iter().map(|&i| residue_vectors(&protein.residues[i])).collect();
        let residue_edges = radius_graph(&residue_positions, RESIDUE_RADIUS, RESIDUE_NEIGHBOURS);
        let neighbours = ligand.neighbours();
        let reference = |atom: usize, other: usize| dihedral_reference(&neighbours, atom, other).unwrap_or(atom);
        let dihedral_references = torsions.iter().map(|t| (reference(t.axis.0, t.axis.1), reference(t.axis.1, t.axis.0))).collect();
        ComplexGraph {
            ligand_features: ligand.atoms.iter().flat_map(ligand_atom_features).collect(),
            ligand: ligand.clone(),
            residue_features,
            residue_positions,
            residue_vectors,
            residue_edges,
            torsions,
            dihedral_references,
        }
    }

    /// Number of ligand atoms.
    pub fn n_ligand(&self) -> usize {
        self.ligand.atoms.len()
    }

    /// Number of residue nodes.
    pub fn n_residues(&self) -> usize {
        self.residue_positions.len()
    }

    /// Number of nodes (ligand atoms + residues): the size of the latent codebook.
    pub fn n_nodes(&self) -> usize {
        self.n_ligand() + self.n_residues()
    }
}

/// One complex in one pose, with the per-sample diffusion quantities.
#[derive(Clone, Copy, Debug)]
pub struct PoseSample<'a> {
    /// The static graph.
    pub graph: &'a ComplexGraph,
    /// Ligand coordinates of this pose.
    pub ligand_coords: &'a [Vec3],
    /// Diffusion time in [0, 1] (0 for confidence / encoder inputs).
    pub t: f64,
    /// Cut-off of the ligand-residue edges for this sample (Å).
    pub cross_cutoff: f64,
    /// Translation sigma (scales the translation score output).
    pub sigma_tr: f64,
    /// Expected rotation-score norm at this sample's rotation sigma.
    pub rot_score_norm: f64,
    /// Expected torsion-score norm at this sample's torsion sigma.
    pub tor_score_norm: f64,
}

/// Tensors of a batch of pose samples, ready for the networks.
pub struct Batch {
    /// Ligand features `[n_lig, LIGAND_FEATURES]`.
    pub ligand_x: Tensor,
    /// Pose-dependent extra ligand atom inputs `[n_lig, k]` for cores built with
    /// `ligand_extra = k` (the confidence model's atom-level protein contacts); None: zeros.
    pub ligand_extra: Option<Tensor>,
    /// Residue features `[n_res, RESIDUE_FEATURES]`.
    pub residue_x: Tensor,
    /// Residue direction vectors `[n_res, 3, RESIDUE_VECTORS]`.
    pub residue_v: Tensor,
    /// Node positions `[n_nodes, 3]` (ligand atoms, then C-alphas).
    pub pos: Tensor,
    /// Edge sources `[E]`.
    pub edge_src: Tensor,
    /// Edge destinations `[E]`.
    pub edge_dst: Tensor,
    /// Edge types `[E]` (see [`EDGE_TYPES`]).
    pub edge_type: Tensor,
    /// Complex index of each node `[n_nodes]`.
    pub node_complex: Tensor,
    /// Diffusion time per complex `[B]`.
    pub t: Tensor,
    /// Translation sigma per complex `[B]`.
    pub sigma_tr: Tensor,
    /// Rotation score normaliser per complex `[B]`.
    pub rot_score_norm: Tensor,
    /// Torsion score normaliser per torsion `[T]`.
    pub tor_score_norm: Tensor,
    /// Fixed-side atom (global node id) of each torsion `[T]`.
    pub tor_a: Tensor,
    /// Moving-side atom (global node id) of each torsion `[T]`.
    pub tor_b: Tensor,
    /// Torsion index of each (torsion, moving atom) pair `[M]`.
    pub tor_pair_torsion: Tensor,
    /// Atom (global node id) of each (torsion, moving atom) pair `[M]`.
    pub tor_pair_atom: Tensor,
    /// Reference atom (global node id) bonded to each torsion's fixed-side atom, other than the
    /// moving-side one `[T]` (the atom itself when it has no other neighbour).
    pub tor_ref_a: Tensor,
    /// Reference atom bonded to each torsion's moving-side atom, other than the fixed-side one `[T]`.
    pub tor_ref_b: Tensor,
    /// Number of ligand nodes in the batch.
    pub n_ligand: i64,
    /// Number of complexes.
    pub n_complexes: i64,
    /// Per complex: (first ligand node, ligand atoms, first residue node, residues).
    pub layout: Vec<(i64, i64, i64, i64)>,
}

/// `[n, 3]` float tensor (on the CPU) from points.
pub fn vec3_tensor(points: impl Iterator<Item = Vec3>) -> Tensor {
    let flat: Vec<f32> = points.flat_map(|p| [p.x as f32, p.y as f32, p.z as f32]).collect();
    Tensor::from_slice(&flat).view([-1, 3])
}

fn i64_tensor(v: &[i64]) -> Tensor {
    Tensor::from_slice(v)
}

fn edge_kind_code(kind: LigandEdgeKind) -> i64 {
    match kind {
        LigandEdgeKind::Bond(BondOrder::Single) => 0,
        LigandEdgeKind::Bond(BondOrder::Double) => 1,
        LigandEdgeKind::Bond(BondOrder::Triple) => 2,
        LigandEdgeKind::Bond(BondOrder::Aromatic) => 3,
        LigandEdgeKind::NonBonded => 4,
    }
}

#[derive(Default)]
struct EdgeAcc {
    src: Vec<i64>,
    dst: Vec<i64>,
    kind: Vec<i64>,
}

impl EdgeAcc {
    fn push(&mut self, edges: &EdgeList, src_off: i64, dst_off: i64, kind: impl Fn(usize) -> i64) {
        for (e, (&s, &d)) in edges.src.iter().zip(&edges.dst).enumerate() {
            self.src.push(s as i64 + src_off);
            self.dst.push(d as i64 + dst_off);
            self.kind.push(kind(e));
        }
    }
}

impl Batch {
    /// Builds a batch from pose samples on `device`.
    pub fn new(samples: &[PoseSample], device: Device) -> Batch {
        let n_ligand: usize = samples.iter().map(|s| s.graph.n_ligand()).sum();
        let mut layout = Vec::with_capacity(samples.len());
        let (mut lig_off, mut res_off) = (0i64, n_ligand as i64);
        let mut edges = EdgeAcc::default();
        let (mut tor_a, mut tor_b, mut pair_t, mut pair_atom, mut tor_norm) = (vec![], vec![], vec![], vec![], vec![]);
        let (mut ref_a, mut ref_b) = (vec![], vec![]);
        let mut node_complex_lig = Vec::new();
        let mut node_complex_res = Vec::new();
        for (c, s) in samples.iter().enumerate() {
            let g = s.graph;
            let (nl, nr) = (g.n_ligand() as i64, g.n_residues() as i64);
            layout.push((lig_off, nl, res_off, nr));
            let (lig_edges, kinds) = ligand_graph(&g.ligand, s.ligand_coords, LIGAND_RADIUS);
            edges.push(&lig_edges, lig_off, lig_off, |e| edge_kind_code(kinds[e]));
            edges.push(&g.residue_edges, res_off, res_off, |_| EDGE_RES_RES);
            let cross = cross_edges(s.ligand_coords, &g.residue_positions, s.cross_cutoff);
            edges.push(&cross, lig_off, res_off, |_| EDGE_LIG_RES);
            let back = EdgeList { src: cross.dst.clone(), dst: cross.src.clone() };
            edges.push(&back, res_off, lig_off, |_| EDGE_RES_LIG);
            for (tor, &(ra, rb)) in g.torsions.iter().zip(&g.dihedral_references) {
                let k = tor_a.len() as i64;
                tor_a.push(lig_off + tor.axis.0 as i64);
                tor_b.push(lig_off + tor.axis.1 as i64);
                tor_norm.push(s.tor_score_norm as f32);
                for &m in &tor.moving {
                    pair_t.push(k);
                    pair_atom.push(lig_off + m as i64);
                }
                ref_a.push(lig_off + ra as i64);
                ref_b.push(lig_off + rb as i64);
            }
            node_complex_lig.extend(std::iter::repeat_n(c as i64, nl as usize));
            node_complex_res.extend(std::iter::repeat_n(c as i64, nr as usize));
            lig_off += nl;
            res_off += nr;
        }
        node_complex_lig.extend(node_complex_res);
        let lig_pos = samples.iter().flat_map(|s| s.ligand_coords.iter().copied());
        let res_pos = samples.iter().flat_map(|s| s.graph.residue_positions.iter().copied());
        let pos = vec3_tensor(lig_pos.chain(res_pos));
        let lig_x: Vec<f32> = samples.iter().flat_map(|s| s.graph.ligand_features.iter().copied()).collect();
        let res_x: Vec<f32> = samples.iter().flat_map(|s| s.graph.residue_features.iter().copied()).collect();
        let res_v = vec3_tensor(samples.iter().flat_map(|s| s.graph.residue_vectors.iter().flat_map(|v| v.iter().copied())))
            .view([-1, RESIDUE_VECTORS as i64, 3])
            .transpose(1, 2);
        let per = |f: &dyn Fn(&PoseSample) -> f64| {
            Tensor::from_slice(&samples.iter().map(|s| f(s) as f32).collect::<Vec<f32>>()).to_device(device)
        };
        Batch {
            ligand_x: Tensor::from_slice(&lig_x).view([-1, LIGAND_FEATURES as i64]).to_device(device),
            ligand_extra: None,
            residue_x: Tensor::from_slice(&res_x).view([-1, RESIDUE_FEATURES as i64]).to_device(device),
            residue_v: res_v.contiguous().to_device(device),
            pos: pos.to_device(device),
            edge_src: i64_tensor(&edges.src).to_device(device),
            edge_dst: i64_tensor(&edges.dst).to_device(device),
            edge_type: i64_tensor(&edges.kind).to_device(device),
            node_complex: i64_tensor(&node_complex_lig).to_device(device),
            t: per(&|s| s.t),
            sigma_tr: per(&|s| s.sigma_tr),
            rot_score_norm: per(&|s| s.rot_score_norm),
            tor_score_norm: Tensor::from_slice(&tor_norm).to_device(device),
            tor_a: i64_tensor(&tor_a).to_device(device),
            tor_b: i64_tensor(&tor_b).to_device(device),
            tor_pair_torsion: i64_tensor(&pair_t).to_device(device),
            tor_pair_atom: i64_tensor(&pair_atom).to_device(device),
            tor_ref_a: i64_tensor(&ref_a).to_device(device),
            tor_ref_b: i64_tensor(&ref_b).to_device(device),
            n_ligand: n_ligand as i64,
            n_complexes: samples.len() as i64,
            layout,
        }
    }

    /// Total number of nodes.
    pub fn n_nodes(&self) -> i64 {
        self.node_complex.size()[0]
    }

    /// Device of the batch tensors.
    pub fn device(&self) -> Device {
        self.pos.device()
    }

    /// Global node ids of each complex's local nodes (ligand atoms, then residues).
    pub fn local_to_global(&self, complex: usize, local: usize) -> i64 {
        let (lo, nl, ro, _) = self.layout[complex];
        if (local as i64) < nl {
            lo + local as i64
        } else {
            ro + local as i64 - nl
        }
    }

    /// Global node id to (complex, local node) — inverse of [`Batch::local_to_global`].
    pub fn global_to_local(&self, node: i64) -> (usize, usize) {
        for (c, &(lo, nl, ro, nr)) in self.layout.iter().enumerate() {
            if node >= lo && node < lo + nl {
                return (c, (node - lo) as usize);
            }
            if node >= ro && node < ro + nr {
                return (c, (node - ro + nl) as usize);
            }
        }
        (usize::MAX, usize::MAX)
    }

    /// One-hot latent flags `[n_nodes, m]` from per-complex local node indices (`latents[c][k]`).
    pub fn latent_flags(&self, latents: &[Vec<usize>], m: usize) -> Tensor {
        let flags = Tensor::zeros([self.n_nodes(), m as i64], (Kind::Float, self.device()));
        let (mut rows, mut cols) = (vec![], vec![]);
        for (c, zs) in latents.iter().enumerate().take(self.layout.len()) {
            let (_, nl, _, nr) = self.layout[c];
            // out-of-range pointers (a latent for another complex's graph) are ignored
            for (k, &z) in zs.iter().enumerate().take(m).filter(|(_, &z)| (z as i64) < nl + nr) {
                rows.push(self.local_to_global(c, z));
                cols.push(k as i64);
            }
        }
        if rows.is_empty() {
            return flags;
        }
        let idx = (i64_tensor(&rows) * m as i64 + i64_tensor(&cols)).to_device(self.device());
        flags.view([-1]).index_fill(0, &idx, 1.0).view([-1, m as i64])
    }
}

/// Per-segment maximum of `x [N, m]` -> `[n_segments, m]` (no gradient: used for stability only).
fn segment_max(x: &Tensor, segment: &Tensor, n_segments: i64) -> Tensor {
    let init = Tensor::full([n_segments, x.size()[1]], f64::NEG_INFINITY, (x.kind(), x.device()));
    init.index_reduce(0, segment, &x.detach(), "amax", true)
}

/// Softmax of `logits [N, m]` over the nodes of each complex (segments given by `segment [N]`).
pub fn segment_softmax(logits: &Tensor, segment: &Tensor, n_segments: i64) -> Tensor {
    let max = segment_max(logits, segment, n_segments);
    let ex = (logits - max.index_select(0, segment)).exp();
    let sum = Tensor::zeros([n_segments, logits.size()[1]], (logits.kind(), logits.device())).index_add(0, segment, &ex);
    ex / sum.index_select(0, segment)
}

/// Log-softmax counterpart of [`segment_softmax`].
pub fn segment_log_softmax(logits: &Tensor, segment: &Tensor, n_segments: i64) -> Tensor {
    let max = segment_max(logits, segment, n_segments);
    let shifted = logits - max.index_select(0, segment);
    let sum = Tensor::zeros([n_segments, logits.size()[1]], (logits.kind(), logits.device())).index_add(0, segment, &shifted.exp());
    shifted - sum.log().index_select(0, segment)
}

/// Per-segment argmax of `values [N, m]`: global node index per (segment, latent) `[B, m]`.
pub fn segment_argmax(values: &Tensor, segment: &Tensor, n_segments: i64) -> Vec<Vec<i64>> {
    let v = Vec::<f32>::try_from(values.to_kind(Kind::Float).to_device(Device::Cpu).contiguous().view([-1]))
        .unwrap_or_default();
    let seg = Vec::<i64>::try_from(segment.to_device(Device::Cpu)).unwrap_or_default();
    let m = values.size()[1] as usize;
    let mut best = vec![vec![(-1i64, f32::NEG_INFINITY); m]; n_segments as usize];
    for (n, &s) in seg.iter().enumerate() {
        for k in 0..m {
            let x = v[n * m + k];
            if x > best[s as usize][k].1 {
                best[s as usize][k] = (n as i64, x);
            }
        }
    }
    best.into_iter().map(|row| row.into_iter().map(|(i, _)| i).collect()).collect()
}
