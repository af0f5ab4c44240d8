//! An empirical scoring function in the style of AutoDock Vina (Trott & Olson, J. Comput. Chem.
//! 2010).
//!
//! Heavy atoms get X-Score types ([`XsType`]); every ligand-protein pair closer than 8 Å
//! contributes five terms of the surface distance `d = r - R_i - R_j` (Vina radii):
//! two attractive Gaussians, a quadratic repulsion, a hydrophobic and a hydrogen-bond ramp, with
//! Vina's weights. Ligand pairs more than three bonds apart give the intramolecular energy with the
//! same terms. The affinity is `inter / (1 + 0.0585 N_rot)` kcal/mol, as Vina reports it.
//!
//! [`VinaScorer`] precomputes one grid per ligand atom type over a pocket box (built lazily the
//! first time a type is seen, 0.375 Å spacing by default) and interpolates trilinearly, so a pose
//! costs a few microseconds per atom. Atoms outside the box feel a quadratic wall pulling them
//! back. The `*_exact` methods sum over protein atoms directly and serve to check the grids.

use std::collections::VecDeque;
use std::sync::{Arc, OnceLock};

use serde::Serialize;

use super::grid::{lattice_range, Grid};
use crate::graph::CellList;
use super::typing::{ligand_types, protein_types, XsType};
use crate::chem::{Ligand, Protein, Vec3};
use crate::error::{Error, Result};

/// Weight of the first Gaussian attraction term.
const W_GAUSS1: f64 = -0.035579;
/// Weight of the second Gaussian attraction term.
const W_GAUSS2: f64 = -0.005156;
/// Weight of the repulsion term.
const W_REPULSION: f64 = 0.840245;
/// Weight of the hydrophobic term.
const W_HYDROPHOBIC: f64 = -0.035069;
/// Weight of the hydrogen-bond term.
const W_HBOND: f64 = -0.587439;
/// Weight of the rotatable-bond penalty in the affinity denominator.
const W_ROT: f64 = 0.05846;
/// Interaction cutoff on the atom-atom distance, in Å.
pub const CUTOFF: f64 = 8.0;
/// Stiffness of the wall outside the grid box, kcal/mol/Å².
const BOX_WALL: f64 = 10.0;
/// Table resolution for grid building: samples per Å² of squared distance.
const TABLE_SAMPLES_PER_A2: f64 = 32.0;
/// Most grid points per type map (about 64 MB of f32).
const MAX_GRID_POINTS: usize = 1 << 24;

/// Names of Vina's five interaction terms, in [`pair_terms`] order.
pub const TERM_NAMES: [&str; 5] = ["gauss1", "gauss2", "repulsion", "hydrophobic", "hbond"];

/// Vina's weights of the five terms, in [`pair_terms`] order.
const TERM_WEIGHTS: [f64; 5] = [W_GAUSS1, W_GAUSS2, W_REPULSION, W_HYDROPHOBIC, W_HBOND];

/// Unweighted values of Vina's five terms for atom types `a`, `b` at distance `r`, each with its
/// derivative with respect to `r` (order: [`TERM_NAMES`]). Kept apart so that studies of the
/// scoring can read which interactions a pose makes.
pub fn pair_terms(a: XsType, b: XsType, r: f64) -> [(f64, f64); 5] {
    let d = r - a.radius() - b.radius();
    let g1 = (-(d / 0.5).powi(2)).exp();
    let g2 = (-((d - 3.0) / 2.0).powi(2)).exp();
    let repulsion = if d < 0.0 { (d * d, 2.0 * d) } else { (0.0, 0.0) };
    let hydrophobic = if a.is_hydrophobic() && b.is_hydrophobic() { ramp(d, 0.5, 1.5) } else { (0.0, 0.0) };
    let hbond = if a.hbond_pair(b) { ramp(d, -0.7, 0.0) } else { (0.0, 0.0) };
    [(g1, g1 * (-8.0 * d)), (g2, g2 * (-(d - 3.0) / 2.0)), repulsion, hydrophobic, hbond]
}

/// Pair energy of atom types `a`, `b` at distance `r`, and its derivative with respect to `r`.
pub fn pair_energy(a: XsType, b: XsType, r: f64) -> (f64, f64) {
    pair_terms(a, b, r).iter().zip(TERM_WEIGHTS).fold((0.0, 0.0), |(e, de), ((v, dv), w)| (e + w * v, de + w * dv))
}

/// 1 below `good`, 0 above `bad`, linear in between; with its derivative.
fn ramp(d: f64, good: f64, bad: f64) -> (f64, f64) {
    if d <= good {
        (1.0, 0.0)
    } else if d >= bad {
        (0.0, 0.0)
    } else {
        ((bad - d) / (bad - good), -1.0 / (bad - good))
    }
}

/// Energies of one pose, in kcal/mol.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Energy {
    /// Ligand-protein energy (including the box wall when an atom leaves the grid).
    pub inter: f64,
    /// Ligand internal energy (pairs more than three bonds apart).
    pub intra: f64,
    /// Predicted affinity: `inter / (1 + 0.0585 N_rot)`, the number Vina reports.
    pub total: f64,
}

impl Energy {
    /// What pose optimisation minimises: `inter + intra`.
    pub fn objective(&self) -> f64 {
        self.inter + self.intra
    }
}

/// Unweighted sums of Vina's five terms for one pose (order: [`TERM_NAMES`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct PoseTerms {
    /// Over ligand-protein atom pairs within the cutoff.
    pub inter: [f64; 5],
    /// Over ligand atom pairs more than three bonds apart.
    pub intra: [f64; 5],
}

impl PoseTerms {
    /// Vina's weighted sum of the inter-molecular terms (kcal/mol): `Energy::inter` without the box wall.
    pub fn inter_energy(&self) -> f64 {
        weighted(&self.inter)
    }

    /// Vina's weighted sum of the intramolecular terms (kcal/mol): `Energy::intra`.
    pub fn intra_energy(&self) -> f64 {
        weighted(&self.intra)
    }
}

/// Term sums (order: [`TERM_NAMES`]) weighted by Vina's weights.
fn weighted(terms: &[f64; 5]) -> f64 {
    terms.iter().zip(TERM_WEIGHTS).map(|(v, w)| v * w).sum()
}

/// A ligand prepared for scoring: atom types, intramolecular pairs and rotatable-bond count.
#[derive(Clone, Debug, PartialEq)]
pub struct VinaLigand {
    /// XS type of each heavy atom.
    pub types: Vec<XsType>,
    /// Atom pairs more than three bonds apart.
    pairs: Vec<(usize, usize)>,
    /// Number of rotatable bonds (N_rot).
    num_torsions: usize,
}

impl VinaLigand {
    /// Types the ligand's atoms and lists its intramolecular pairs; `num_torsions` is N_rot.
    pub fn new(ligand: &Ligand, num_torsions: usize) -> Self {
        let bonds: Vec<(usize, usize)> = ligand.bonds.iter().map(|b| (b.begin, b.end)).collect();
        Self::from_types(ligand_types(ligand), &bonds, num_torsions)
    }

    /// Builds from explicit types and heavy-atom bonds (for atoms typed elsewhere, e.g. PDBQT).
    pub fn from_types(types: Vec<XsType>, bonds: &[(usize, usize)], num_torsions: usize) -> Self {
        let pairs = distant_pairs(types.len(), bonds, 3);
        VinaLigand { types, pairs, num_torsions }
    }

    /// Number of atoms.
    pub fn len(&self) -> usize {
        self.types.len()
    }

    /// True for a ligand without atoms.
    pub fn is_empty(&self) -> bool {
        self.types.is_empty()
    }

    /// Number of rotatable bonds used in the affinity.
    pub fn num_torsions(&self) -> usize {
        self.num_torsions
    }

    fn affinity(&self, inter: f64) -> f64 {
        inter / (1.0 + W_ROT * self.num_torsions as f64)
    }

    /// Intramolecular energy and, when `grad` is given, its gradient added into it.
    fn intra(&self, coords: &[Vec3], mut grad: Option<&mut [Vec3]>) -> f64 {
        let mut total = 0.0;
        for &(i, j) in &self.pairs {
            let delta = coords[i] - coords[j];
            let r = delta.norm();
            if !(1e-9..CUTOFF).contains(&r) {
                continue;
            }
            let (e, de) = pair_energy(self.types[i], self.types[j], r);
            total += e;
            if let Some(g) = grad.as_deref_mut() {
                let f = delta * (de / r);
                g[i] += f;
                g[j] -= f;
            }
        }
        total
    }

    fn check_len(&self, coords: &[Vec3]) -> Result<()> {
        if coords.len() == self.len() {
            return Ok(());
        }
        Err(Error::invalid("scoring", format!("{} coordinates for a ligand of {} atoms", coords.len(), self.len())))
    }
}

/// Pairs `(i, j)`, `i < j`, whose bond-graph distance exceeds `max_bonds` (or that are not
/// connected at all).
fn distant_pairs(n: usize, bonds: &[(usize, usize)], max_bonds: usize) -> Vec<(usize, usize)> {
    let mut adj = vec![Vec::new(); n];
    for &(a, b) in bonds.iter().filter(|(a, b)| *a < n && *b < n) {
        adj[a].push(b);
        adj[b].push(a);
    }
    let mut pairs = Vec::new();
    for i in 0..n {
        let near = within_bonds(&adj, i, max_bonds);
        pairs.extend((i + 1..n).filter(|j| !near[*j]).map(|j| (i, j)));
    }
    pairs
}

/// Flags of the atoms at most `max_bonds` bonds from `start` (breadth-first search).
fn within_bonds(adj: &[Vec<usize>], start: usize, max_bonds: usize) -> Vec<bool> {
    let mut depth = vec![usize::MAX; adj.len()];
    depth[start] = 0;
    let mut queue = VecDeque::from([start]);
    while let Some(a) = queue.pop_front() {
        if depth[a] == max_bonds {
            continue;
        }
        for &b in &adj[a] {
            if depth[b] == usize::MAX {
                depth[b] = depth[a] + 1;
                queue.push_back(b);
            }
        }
    }
    depth.iter().map(|&d| d != usize::MAX).collect()
}

/// An axis-aligned search box: centre and edge lengths in Å.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct PocketBox {
    /// Centre of the box.
    pub centre: Vec3,
    /// Edge lengths along x, y, z.
    pub size: Vec3,
}

impl PocketBox {
    /// A cube of edge `2 * radius` around `centre`.
    pub fn from_centre_radius(centre: Vec3, radius: f64) -> Self {
        PocketBox { centre, size: Vec3::repeat(2.0 * radius) }
    }

    /// The bounding box of `coords` grown by `padding` Å on every side (like `--autobox_add`).
    pub fn around(coords: &[Vec3], padding: f64) -> Self {
        let (lo, hi) = crate::geometry::bounding_box(coords);
        PocketBox { centre: (lo + hi) / 2.0, size: hi - lo + Vec3::repeat(2.0 * padding) }
    }

    /// Lowest corner.
    pub fn min(&self) -> Vec3 {
        self.centre - self.size / 2.0
    }

    /// Highest corner.
    pub fn max(&self) -> Vec3 {
        self.centre + self.size / 2.0
    }
}

/// The Vina-like scoring function for one protein and pocket box, with lazily built type grids.
pub struct VinaScorer {
    /// Protein atoms within the cutoff of the box, sorted by x.
    atoms: Vec<Vec3>,
    /// Their XS types.
    types: Vec<XsType>,
    /// Cell list over `atoms`.
    cells: CellList,
    /// Grid lattice origin, spacing and point counts.
    origin: Vec3,
    spacing: f64,
    dims: [usize; 3],
    /// One grid per ligand atom type, built on first use.
    grids: Vec<OnceLock<Grid>>,
    /// A learned pair potential and its weight added to the grids (the search's objective),
    /// see [`VinaScorer::with_potential`].
    potential: Option<(Arc<super::PairPotential>, f64)>,
    /// Template ligand atoms (atomic number, position) and the weight of the overlap bias added
    /// to the grids, see [`VinaScorer::with_template_bias`].
    template: Option<(Arc<Vec<(u8, Vec3)>>, f64)>,
}

/// Width (Å) of the Gaussian of the template bias, cut off at three widths.
const TEMPLATE_SIGMA: f64 = 1.0;

/// Overlap credit of a template atom of another element than the ligand atom.
const TEMPLATE_OTHER_ELEMENT: f64 = 0.5;

impl VinaScorer {
    /// Default grid spacing (Vina's), in Å.
    pub const DEFAULT_SPACING: f64 = 0.375;

    /// Prepares scoring of poses inside `pocket` against `protein` with grids of `spacing` Å.
    pub fn new(protein: &Protein, pocket: &PocketBox, spacing: f64) -> Result<Self> {
        let valid = pocket.size.iter().chain(pocket.centre.iter()).all(|v| v.is_finite())
            && pocket.size.min() > 0.0
            && spacing.is_finite()
            && spacing > 0.0;
        if !valid {
            return Err(Error::invalid("pocket box", format!("unusable box {pocket:?} / spacing {spacing}")));
        }
        let dims = [0, 1, 2].map(|a| (pocket.size[a] / spacing).ceil() as usize + 1);
        if dims.iter().product::<usize>() > MAX_GRID_POINTS {
            return Err(Error::invalid("pocket box", format!("box {:?} too large for {spacing} Å grids", pocket.size)));
        }
        let (lo, hi) = (pocket.min() - Vec3::repeat(CUTOFF), pocket.max() + Vec3::repeat(CUTOFF));
        let all_types = protein_types(protein);
        let (atoms, types): (Vec<Vec3>, Vec<XsType>) = protein
            .atoms
            .iter()
            .zip(all_types)
            .filter(|(a, _)| (0..3).all(|k| a.coord[k] >= lo[k] && a.coord[k] <= hi[k]))
            .map(|(a, t)| (a.coord, t))
            .unzip();
        let mut order: Vec<usize> = (0..atoms.len()).collect();
        order.sort_by(|&a, &b| atoms[a].x.total_cmp(&atoms[b].x));
        let (atoms, types): (Vec<Vec3>, Vec<XsType>) = order.iter().map(|&k| (atoms[k], types[k])).unzip();
        let cells = CellList::new(&atoms, CUTOFF / 2.0);
        let grids = (0..XsType::COUNT).map(|_| OnceLock::new()).collect();
        Ok(VinaScorer { atoms, types, cells, origin: pocket.min(), spacing, dims, grids, potential: None, template: None })
    }

    /// This scorer with `weight` × the learned pair `potential` (its continuous form,
    /// [`super::PairPotential::smooth_value`]) added to its grids, so that refinement and the
    /// Monte Carlo search prefer the contacts the potential favours. Exact sums
    /// ([`VinaScorer::score_exact`]) stay the plain Vina-like energy, so the energies docking
    /// reports and ranks by do not count the potential twice. Call before any grid is built.
    pub fn with_potential(mut self, potential: Arc<super::PairPotential>, weight: f64) -> Self {
        self.grids = (0..XsType::COUNT).map(|_| OnceLock::new()).collect();
        self.potential = (weight != 0.0).then_some((potential, weight));
        self
    }

    /// This scorer with a bias towards template ligand `atoms` (atomic number, position) added to
    /// its grids: a ligand atom at a template atom gains `-weight` kcal/mol (half for another
    /// element), falling off as a Gaussian of width [`TEMPLATE_SIGMA`]; the nearest template atom
    /// counts. Refinement and the Monte Carlo search then prefer poses on the templates; exact
    /// sums stay the plain Vina-like energy, as with [`VinaScorer::with_potential`]. Call before
    /// any grid is built.
    pub fn with_template_bias(mut self, atoms: Arc<Vec<(u8, Vec3)>>, weight: f64) -> Self {
        self.grids = (0..XsType::COUNT).map(|_| OnceLock::new()).collect();
        self.template = (weight != 0.0 && !atoms.is_empty()).then_some((atoms, weight));
        self
    }

    /// The template bias of ligand type `t` on the lattice (x slowest, z fastest); none without
    /// templates.
    fn template_bias(&self, t: XsType) -> Option<Vec<f64>> {
        let (atoms, weight) = self.template.as_ref()?;
        let [nx, ny, nz] = self.dims;
        let h = self.spacing;
        let reach = 3.0 * TEMPLATE_SIGMA;
        let mut bias = vec![0.0f64; nx * ny * nz];
        let element = t.element();
        for (e, q) in atoms.iter() {
            let credit = if *e == element && element != 0 { 1.0 } else { TEMPLATE_OTHER_ELEMENT };
            for i in lattice_range(q.x, reach, self.origin.x, h, nx) {
                let dx2 = (self.origin.x + i as f64 * h - q.x).powi(2);
                for j in lattice_range(q.y, reach, self.origin.y, h, ny) {
                    let dy2 = (self.origin.y + j as f64 * h - q.y).powi(2);
                    for k in lattice_range(q.z, reach, self.origin.z, h, nz) {
                        let r2 = dx2 + dy2 + (self.origin.z + k as f64 * h - q.z).powi(2);
                        let value = -weight * credit * (-r2 / (2.0 * TEMPLATE_SIGMA * TEMPLATE_SIGMA)).exp();
                        let point = &mut bias[(i * ny + j) * nz + k];
                        *point = point.min(value);
                    }
                }
            }
        }
        Some(bias)
    }

    /// Number of protein atoms near enough to the box to matter.
    pub fn num_protein_atoms(&self) -> usize {
        self.atoms.len()
    }

    /// Builds the grids of all the given types now, in one sweep, instead of on first use.
    pub fn prepare(&self, types: &[XsType]) {
        let mut missing: Vec<XsType> = types.iter().copied().filter(|t| self.grids[t.index()].get().is_none()).collect();
        missing.sort_by_key(|t| t.index());
        missing.dedup();
        for (t, grid) in missing.iter().zip(self.build_grids(&missing)) {
            // Another thread may have built it meanwhile: both are identical.
            let _ = self.grids[t.index()].set(grid);
        }
    }

    fn grid(&self, t: XsType) -> &Grid {
        self.grids[t.index()].get_or_init(|| self.build_grids(&[t]).swap_remove(0))
    }

    /// Tabulates the pair energy of ligand type `t` with every protein type over r² in [0, 64]
    /// (plus the weighted pair potential, when the scorer has one).
    fn pair_tables(&self, t: XsType) -> Vec<Vec<f64>> {
        let n = (CUTOFF * CUTOFF * TABLE_SAMPLES_PER_A2) as usize + 2;
        let pair = |s: XsType, r: f64| {
            let extra = self.potential.as_ref().map_or(0.0, |(p, w)| w * p.smooth_value(t, s, r));
            pair_energy(t, s, r).0 + extra
        };
        XsType::ALL.iter().map(|&s| (0..n).map(|i| pair(s, (i as f64 / TABLE_SAMPLES_PER_A2).sqrt())).collect()).collect()
    }

    /// Builds the grids of `types` together, in parallel over x slabs.
    fn build_grids(&self, types: &[XsType]) -> Vec<Grid> {
        use rayon::prelude::*;
        let tables: Vec<Vec<Vec<f64>>> = types.iter().map(|&t| self.pair_tables(t)).collect();
        let slabs: Vec<Vec<f64>> = (0..self.dims[0]).into_par_iter().map(|i| self.slab(i, &tables)).collect();
        let n_types = types.len();
        (0..n_types)
            .map(|t| {
                let mut values: Vec<f32> = slabs.iter().flat_map(|s| s[t..].iter().step_by(n_types).map(|&v| v as f32)).collect();
                if let Some(bias) = self.template_bias(types[t]) {
                    values.iter_mut().zip(bias).for_each(|(v, b)| *v += b as f32);
                }
                Grid::from_values(self.origin, self.spacing, self.dims, values).expect("grid dimensions validated in VinaScorer::new")
            })
            .collect()
    }

    /// Grid values of slab `i` (fixed x) for each table set, laid out [y][z][type] (the types of
    /// one lattice point side by side, for the innermost loop): every protein
    /// atom within the cutoff of the slab adds its tabulated energy to exactly the lattice points
    /// within the cutoff of it.
    fn slab(&self, i: usize, tables: &[Vec<Vec<f64>>]) -> Vec<f64> {
        let [_, ny, nz] = self.dims;
        let h = self.spacing;
        let x = self.origin.x + i as f64 * h;
        let mut out = vec![0.0; tables.len() * ny * nz];
        let first = self.atoms.partition_point(|a| a.x < x - CUTOFF);
        let last = self.atoms.partition_point(|a| a.x < x + CUTOFF);
        let cutoff2 = CUTOFF * CUTOFF;
        for (atom, kind) in self.atoms[first..last].iter().zip(&self.types[first..last]) {
            let dx2 = (atom.x - x).powi(2);
            let rows: Vec<&[f64]> = tables.iter().map(|table| &table[kind.index()][..]).collect();
            for j in lattice_range(atom.y, (cutoff2 - dx2).max(0.0).sqrt(), self.origin.y, h, ny) {
                let dy2 = (self.origin.y + j as f64 * h - atom.y).powi(2);
                for k in lattice_range(atom.z, (cutoff2 - dx2 - dy2).max(0.0).sqrt(), self.origin.z, h, nz) {
                    let r2 = dx2 + dy2 + (self.origin.z + k as f64 * h - atom.z).powi(2);
                    if r2 >= cutoff2 {
                        continue;
                    }
                    let s = r2 * TABLE_SAMPLES_PER_A2;
                    let (lo, frac) = (s as usize, s.fract());
                    let point = &mut out[(j * nz + k) * tables.len()..][..tables.len()];
                    for (value, row) in point.iter_mut().zip(&rows) {
                        *value += row[lo] + frac * (row[lo + 1] - row[lo]);
                    }
                }
            }
        }
        out
    }

    /// Grid energy of one atom of type `t` at `p` with its gradient, plus the wall outside the box.
    fn atom_energy(&self, t: XsType, p: &Vec3) -> (f64, Vec3) {
        let grid = self.grid(t);
        let (value, grad) = grid.interpolate(p);
        let outside = p - grid.clamp(p);
        (value + BOX_WALL * outside.norm_squared(), grad + 2.0 * BOX_WALL * outside)
    }

    /// Exact energy of one atom of type `t` at `p` (sum over protein atoms) with its gradient.
    fn atom_energy_exact(&self, t: XsType, p: &Vec3) -> (f64, Vec3) {
        let mut e = 0.0;
        let mut g = Vec3::zeros();
        self.cells.for_each_within(p, CUTOFF, |j, _| {
            let delta = p - self.atoms[j];
            let r = delta.norm();
            if r < CUTOFF && r > 1e-9 {
                let (ej, dej) = pair_energy(t, self.types[j], r);
                e += ej;
                g += delta * (dej / r);
            }
        });
        (e, g)
    }

    fn evaluate(
        &self,
        ligand: &VinaLigand,
        coords: &[Vec3],
        atom: impl Fn(XsType, &Vec3) -> (f64, Vec3),
        mut grad: Option<&mut [Vec3]>,
    ) -> Result<Energy> {
        ligand.check_len(coords)?;
        let mut inter = 0.0;
        for (i, (t, p)) in ligand.types.iter().zip(coords).enumerate() {
            let (e, g) = atom(*t, p);
            inter += e;
            if let Some(grad) = grad.as_deref_mut() {
                grad[i] += g;
            }
        }
        let intra = ligand.intra(coords, grad);
        Ok(Energy { inter, intra, total: ligand.affinity(inter) })
    }

    /// Energy of a pose from the grids.
    pub fn score(&self, ligand: &VinaLigand, coords: &[Vec3]) -> Result<Energy> {
        self.evaluate(ligand, coords, |t, p| self.atom_energy(t, p), None)
    }

    /// Energy of a pose from the grids and the gradient of `inter + intra` per atom (kcal/mol/Å).
    pub fn score_with_gradient(&self, ligand: &VinaLigand, coords: &[Vec3]) -> Result<(Energy, Vec<Vec3>)> {
        let mut grad = vec![Vec3::zeros(); coords.len()];
        let energy = self.evaluate(ligand, coords, |t, p| self.atom_energy(t, p), Some(&mut grad))?;
        Ok((energy, grad))
    }

    /// Energy of a pose summed over protein atoms directly (no grid, no box wall).
    pub fn score_exact(&self, ligand: &VinaLigand, coords: &[Vec3]) -> Result<Energy> {
        self.evaluate(ligand, coords, |t, p| self.atom_energy_exact(t, p), None)
    }

    /// Exact energy and gradient of `inter + intra` per atom.
    pub fn score_exact_with_gradient(&self, ligand: &VinaLigand, coords: &[Vec3]) -> Result<(Energy, Vec<Vec3>)> {
        let mut grad = vec![Vec3::zeros(); coords.len()];
        let energy = self.evaluate(ligand, coords, |t, p| self.atom_energy_exact(t, p), Some(&mut grad))?;
        Ok((energy, grad))
    }

    /// Unweighted sums of Vina's five terms (order: [`TERM_NAMES`]) over ligand-protein pairs and
    /// over the ligand's intramolecular pairs, summed directly (no grid): what a pose's energy is
    /// made of, for studies of the scoring.
    pub fn terms_exact(&self, ligand: &VinaLigand, coords: &[Vec3]) -> Result<PoseTerms> {
        ligand.check_len(coords)?;
        let mut terms = PoseTerms::default();
        let add = |sums: &mut [f64; 5], a: XsType, b: XsType, r: f64| {
            if r < CUTOFF && r > 1e-9 {
                for (sum, (v, _)) in sums.iter_mut().zip(pair_terms(a, b, r)) {
                    *sum += v;
                }
            }
        };
        for (t, p) in ligand.types.iter().zip(coords) {
            self.cells.for_each_within(p, CUTOFF, |j, _| add(&mut terms.inter, *t, self.types[j], (p - self.atoms[j]).norm()));
        }
        for &(i, j) in &ligand.pairs {
            add(&mut terms.intra, ligand.types[i], ligand.types[j], (coords[i] - coords[j]).norm());
        }
        Ok(terms)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::chem::*;
    use rand::{Rng, SeedableRng};

    fn atom(element: u8, num_hs: u8, aromatic: bool) -> LigandAtom {
        LigandAtom {
            element,
            formal_charge: 0,
            aromatic,
            hybridization: if aromatic { Hybridization::Sp2 } else { Hybridization::Sp3 },
            degree: 0,
            num_hs,
            in_ring: aromatic,
            chirality: Chirality::None,
        }
    }

    fn bond(begin: usize, end: usize, aromatic: bool) -> LigandBond {
        let order = if aromatic { BondOrder::Aromatic } else { BondOrder::Single };
        LigandBond { begin, end, order, kekule_order: 1, in_ring: aromatic, conjugated: aromatic }
    }

    /// A small test ligand: phenyl ring (0-5) with a chain C6-C7-O8 (hydroxyl) and N9 on C7.
    /// Torsions: ring-C6 (moves 7, 8, 9) and C6-C7 (moves 8, 9).
    pub(crate) fn toy_ligand() -> (Ligand, Vec<Torsion>) {
        let mut atoms: Vec<LigandAtom> = (0..6).map(|_| atom(6, 1, true)).collect();
        atoms[0].num_hs = 0;
        atoms.extend([atom(6, 2, false), atom(6, 1, false), atom(8, 1, false), atom(7, 2, false)]);
        let mut coords: Vec<Vec3> = (0..6)
            .map(|k| {
                let a = k as f64 * std::f64::consts::PI / 3.0;
                Vec3::new(1.39 * a.cos(), 1.39 * a.sin(), 0.0)
            })
            .collect();
        coords.push(Vec3::new(2.9, 0.0, 0.0));
        coords.push(Vec3::new(3.45, 1.4, 0.3));
        coords.push(Vec3::new(4.85, 1.35, 0.5));
        coords.push(Vec3::new(3.0, 2.1, -0.9));
        let mut bonds: Vec<LigandBond> = (0..6).map(|k| bond(k, (k + 1) % 6, true)).collect();
        bonds.extend([bond(0, 6, false), bond(6, 7, false), bond(7, 8, false), bond(7, 9, false)]);
        let torsions = vec![
            Torsion { axis: (0, 6), moving: vec![7, 8, 9] },
            Torsion { axis: (6, 7), moving: vec![8, 9] },
        ];
        (Ligand { name: "toy".into(), atoms, bonds, coords }, torsions)
    }

    /// A synthetic "pocket": protein atoms on a jittered shell of radius 7 Å around the origin.
    pub(crate) fn toy_protein() -> Protein {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let specs = [("LEU", "CD1", 6u8), ("SER", "OG", 8), ("ASP", "OD1", 8), ("LYS", "NZ", 7), ("PHE", "CZ", 6)];
        let mut residues = Vec::new();
        let mut atoms = Vec::new();
        for k in 0..220 {
            let dir = Vec3::new(rng.gen_range(-1.0..1.0), rng.gen_range(-1.0..1.0), rng.gen_range(-1.0..1.0));
            if dir.norm() < 0.1 {
                continue;
            }
            let coord = Vec3::new(1.5, 0.5, 0.0) + dir.normalize() * rng.gen_range(6.5..9.5);
            let (res, name, element) = specs[k % specs.len()];
            atoms.push(ProteinAtom { name: name.into(), element, coord, residue: residues.len(), hetero: false });
            residues.push(Residue {
                name: res.into(),
                chain: "A".into(),
                number: k as isize,
                insertion: String::new(),
                atoms: atoms.len() - 1..atoms.len(),
                ca: None,
                n: None,
                c: None,
                side_chain: None,
            });
        }
        Protein { name: "toy".into(), residues, atoms }
    }

    pub(crate) fn toy_scorer() -> VinaScorer {
        let pocket = PocketBox::from_centre_radius(Vec3::new(1.5, 0.5, 0.0), 7.0);
        VinaScorer::new(&toy_protein(), &pocket, VinaScorer::DEFAULT_SPACING).unwrap()
    }

    /// The toy ligand in its conformer, prepared for scoring, and the toy pocket's scorer.
    fn toy_scoring() -> (Ligand, VinaLigand, VinaScorer) {
        let (ligand, torsions) = toy_ligand();
        let lig = VinaLigand::new(&ligand, torsions.len());
        (ligand, lig, toy_scorer())
    }

    #[test]
    fn pair_energy_shape() {
        let c = XsType::CarbonHydrophobic;
        let (far, _) = pair_energy(c, c, 7.9);
        let (contact, _) = pair_energy(c, c, 3.8 + 0.3);
        let (clash, _) = pair_energy(c, c, 2.0);
        assert!(far.abs() < 0.01 && contact < -0.05 && clash > 1.0);
        let (hb, _) = pair_energy(XsType::OxygenAcceptor, XsType::NitrogenDonor, 2.8);
        let (no_hb, _) = pair_energy(XsType::OxygenPolar, XsType::NitrogenPolar, 2.8);
        assert!((no_hb - hb - 0.587439).abs() < 1e-9);
    }

    #[test]
    fn pair_derivative_matches_finite_difference() {
        let h = 1e-6;
        for &(a, b) in &[(XsType::CarbonHydrophobic, XsType::Chlorine), (XsType::OxygenAcceptor, XsType::NitrogenDonor)] {
            for r in [2.0, 2.7, 3.1, 3.9, 5.5] {
                let (_, de) = pair_energy(a, b, r);
                let fd = (pair_energy(a, b, r + h).0 - pair_energy(a, b, r - h).0) / (2.0 * h);
                assert!((de - fd).abs() < 1e-5, "{a:?} {b:?} r={r}: {de} vs {fd}");
            }
        }
    }

    #[test]
    fn intramolecular_pairs_skip_up_to_three_bonds() {
        let (ligand, torsions) = toy_ligand();
        let lig = VinaLigand::new(&ligand, torsions.len());
        // O8 is 3 bonds from ring atom 0 (8-7-6-0) and 4 from atom 1.
        assert!(lig.pairs.contains(&(1, 8)));
        assert!(!lig.pairs.contains(&(0, 8)));
        assert!(!lig.pairs.contains(&(0, 3)));
        assert_eq!(lig.types[8], XsType::OxygenDonorAcceptor);
        assert_eq!(lig.types[9], XsType::NitrogenDonor);
        assert_eq!(lig.types[7], XsType::CarbonPolar);
        assert_eq!(lig.types[2], XsType::CarbonHydrophobic);
    }

    #[test]
    fn grid_matches_exact() {
        let (ligand, lig, scorer) = toy_scoring();
        let grid = scorer.score(&lig, &ligand.coords).unwrap();
        let exact = scorer.score_exact(&lig, &ligand.coords).unwrap();
        assert!((grid.inter - exact.inter).abs() < 0.02 * exact.inter.abs().max(1.0), "{grid:?} vs {exact:?}");
        assert_eq!(grid.intra, exact.intra);
        assert!((exact.total - exact.inter / (1.0 + W_ROT * 2.0)).abs() < 1e-12);
    }

    #[test]
    fn a_template_bias_lowers_the_grid_energy_on_the_template_only() {
        let (ligand, lig, scorer) = toy_scoring();
        let plain_grid = scorer.score(&lig, &ligand.coords).unwrap();
        let plain_exact = scorer.score_exact(&lig, &ligand.coords).unwrap();
        // the pose itself as the template: every atom sits on a same-element template atom
        let atoms: Vec<(u8, Vec3)> = ligand.atoms.iter().zip(&ligand.coords).map(|(a, p)| (a.element, *p)).collect();
        let biased = scorer.with_template_bias(std::sync::Arc::new(atoms), 0.5);
        let grid = biased.score(&lig, &ligand.coords).unwrap();
        assert_eq!(biased.score_exact(&lig, &ligand.coords).unwrap(), plain_exact, "exact sums stay plain Vina");
        // each of the n atoms gains about -0.5 (grid interpolation between lattice points loses a little)
        let n = ligand.coords.len() as f64;
        let gained = plain_grid.inter - grid.inter;
        assert!(gained > 0.35 * n && gained <= 0.5 * n + 1e-3, "{gained} for {n} atoms");
        // a template 40 Å away is out of reach
        let (_, lig2, scorer2) = toy_scoring();
        let far: Vec<(u8, Vec3)> = ligand.atoms.iter().zip(&ligand.coords).map(|(a, p)| (a.element, p + Vec3::new(40.0, 0.0, 0.0))).collect();
        let far_grid = scorer2.with_template_bias(std::sync::Arc::new(far), 0.5).score(&lig2, &ligand.coords).unwrap();
        assert!((far_grid.inter - plain_grid.inter).abs() < 1e-4);
    }

    #[test]
    fn a_search_potential_enters_the_grids_but_not_the_exact_energy() {
        let (ligand, lig, scorer) = toy_scoring();
        let plain_grid = scorer.score(&lig, &ligand.coords).unwrap();
        let plain_exact = scorer.score_exact(&lig, &ligand.coords).unwrap();
        // a potential of 0.1 for every pair within its cutoff
        let potential = super::super::PairPotential::from_values(vec![0.1; super::super::PairPotential::LEN], 1).unwrap();
        let contacts = super::super::ContactAtoms::of_protein(&toy_protein());
        let pairs = potential.score(&contacts, &lig.types, &ligand.coords) / 0.1;
        assert!(pairs > 10.0, "the toy pose has contacts within 6 Å ({pairs})");
        let scorer = scorer.with_potential(std::sync::Arc::new(potential), 2.0);
        let grid = scorer.score(&lig, &ligand.coords).unwrap();
        let exact = scorer.score_exact(&lig, &ligand.coords).unwrap();
        assert_eq!(exact, plain_exact, "exact sums stay plain Vina");
        // the grid objective gains about 2 × 0.1 per pair (pairs near 6 Å count partly)
        let added = grid.objective() - plain_grid.objective();
        assert!(added > 0.1 * pairs && added < 0.25 * pairs, "{added} for {pairs} pairs");
    }

    #[test]
    fn weighted_terms_give_the_exact_energy() {
        let (ligand, lig, scorer) = toy_scoring();
        let exact = scorer.score_exact(&lig, &ligand.coords).unwrap();
        let terms = scorer.terms_exact(&lig, &ligand.coords).unwrap();
        assert!((terms.inter_energy() - exact.inter).abs() < 1e-9, "{terms:?} vs {exact:?}");
        assert!((terms.intra_energy() - exact.intra).abs() < 1e-9);
        assert!(terms.inter[0] > 0.0 && terms.inter.iter().all(|v| *v >= 0.0));
        assert!(scorer.terms_exact(&lig, &ligand.coords[1..]).is_err());
    }

    fn check_gradient(f: impl Fn(&[Vec3]) -> (f64, Vec<Vec3>), coords: &[Vec3], tol: f64) {
        let (_, grad) = f(coords);
        let h = 1e-5;
        for i in 0..coords.len() {
            for a in 0..3 {
                let mut plus = coords.to_vec();
                let mut minus = coords.to_vec();
                plus[i][a] += h;
                minus[i][a] -= h;
                let fd = (f(&plus).0 - f(&minus).0) / (2.0 * h);
                assert!((grad[i][a] - fd).abs() < tol * (1.0 + fd.abs()), "atom {i} axis {a}: {} vs {fd}", grad[i][a]);
            }
        }
    }

    #[test]
    fn gradients_match_finite_differences() {
        let (ligand, lig, scorer) = toy_scoring();
        // Keep points off grid planes so the piecewise-linear interpolant is differentiable there.
        let coords: Vec<Vec3> = ligand.coords.iter().map(|p| p + Vec3::new(0.0123, 0.0456, 0.0789)).collect();
        let grid = |c: &[Vec3]| {
            let (e, g) = scorer.score_with_gradient(&lig, c).unwrap();
            (e.objective(), g)
        };
        check_gradient(grid, &coords, 1e-3);
        let exact = |c: &[Vec3]| {
            let (e, g) = scorer.score_exact_with_gradient(&lig, c).unwrap();
            (e.objective(), g)
        };
        check_gradient(exact, &coords, 1e-5);
    }

    #[test]
    fn wall_pulls_back_into_box() {
        let (ligand, lig, scorer) = toy_scoring();
        let far: Vec<Vec3> = ligand.coords.iter().map(|p| p + Vec3::new(20.0, 0.0, 0.0)).collect();
        let (e, g) = scorer.score_with_gradient(&lig, &far).unwrap();
        assert!(e.inter > 100.0);
        assert!(g.iter().all(|gi| gi.x > 0.0));
    }

    #[test]
    fn wrong_length_is_an_error() {
        let (ligand, _) = toy_ligand();
        let lig = VinaLigand::new(&ligand, 0);
        assert!(toy_scorer().score(&lig, &ligand.coords[..3]).is_err());
        assert!(VinaScorer::new(&toy_protein(), &PocketBox::from_centre_radius(Vec3::zeros(), -1.0), 0.375).is_err());
    }
}
