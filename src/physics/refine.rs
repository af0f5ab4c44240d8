//! Local refinement of a pose with the Vina-like score: L-BFGS over (translation, rotation
//! vector, torsion angles) with a backtracking (Armijo) line search.
//!
//! The pose parameters act on the input coordinates: torsion deltas first, then a rotation about
//! the input centroid, then a translation, so bond lengths and angles never change. The pose
//! gradient comes from the per-atom gradient `g`: the translation part is `sum g`, the rotation
//! part is the torque `sum (x - centre) x g` mapped through the left Jacobian of the exponential
//! map, and torsion k gets `sum over its moving atoms of (axis_k x (x - x_axis0)) . g`.

use serde::Serialize;

use super::vina::{Energy, VinaLigand, VinaScorer};
use crate::chem::{centroid, Torsion, Vec3};
use crate::diffusion::pose::apply_torsions;
use crate::error::{Error, Result};
use crate::geometry::rotation_from_vector;
use nalgebra::Matrix3;

/// Settings of the L-BFGS refinement.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RefineOptions {
    /// Most L-BFGS iterations.
    pub max_steps: usize,
    /// Stop when the largest pose-gradient component falls below this (kcal/mol per Å or rad).
    pub gradient_tolerance: f64,
    /// Number of correction pairs kept by L-BFGS.
    pub memory: usize,
    /// Longest step in parameter space tried by the line search (Å / rad).
    pub max_step: f64,
    /// Sum over protein atoms directly instead of reading the grids: no grid build, slower per
    /// evaluation; for refining a few poses per pocket (e.g. confidence training data).
    pub exact: bool,
}

impl Default for RefineOptions {
    fn default() -> Self {
        RefineOptions { max_steps: 200, gradient_tolerance: 1e-3, memory: 8, max_step: 1.0, exact: false }
    }
}

/// Result of a refinement.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Refined {
    /// Refined coordinates.
    pub coords: Vec<Vec3>,
    /// Their energy from the exact (non-grid) evaluation, the number Vina's `--score_only` gives;
    /// the grid energy that was minimised is typically a few percent less negative.
    pub energy: Energy,
    /// L-BFGS iterations taken.
    pub steps: usize,
}

/// Refines `coords` (a pose of `ligand`) by minimising `inter + intra` over the pose parameters;
/// `torsions` are the ligand's rotatable bonds. Fails when coordinates or torsions do not match
/// the ligand.
pub fn refine(
    scorer: &VinaScorer,
    ligand: &VinaLigand,
    torsions: &[Torsion],
    coords: &[Vec3],
    options: &RefineOptions,
) -> Result<Refined> {
    let (coords, _, steps) = minimise(scorer, ligand, torsions, coords, options)?;
    let energy = scorer.score_exact(ligand, &coords)?;
    Ok(Refined { coords, energy, steps })
}

/// Minimises `inter + intra` from `coords` as [`refine()`] does, returning the minimised pose,
/// the objective the minimiser saw (grid or exact, as `options.exact` says) and the iterations.
/// Cheaper than [`refine()`] when only the objective is needed (Monte Carlo search).
pub fn minimise(
    scorer: &VinaScorer,
    ligand: &VinaLigand,
    torsions: &[Torsion],
    coords: &[Vec3],
    options: &RefineOptions,
) -> Result<(Vec<Vec3>, f64, usize)> {
    let space = PoseSpace::new(coords, torsions)?;
    if coords.len() != ligand.len() {
        return Err(Error::invalid("refine", format!("{} coordinates for {} atoms", coords.len(), ligand.len())));
    }
    let objective = |x: &[f64]| {
        let pose = space.coords(x);
        match score_with_gradient(scorer, ligand, &pose, options) {
            Ok((energy, grad)) => (energy.objective(), space.gradient(x, &pose, &grad)),
            Err(_) => (f64::INFINITY, vec![0.0; x.len()]),
        }
    };
    let (x, steps) = lbfgs(&objective, vec![0.0; space.dim()], options);
    let value = objective(&x).0;
    Ok((space.coords(&x), value, steps))
}

/// Energy and per-atom gradient of `pose`, read from the grids or summed exactly as
/// `options.exact` says: what every refinement minimises.
pub(crate) fn score_with_gradient(scorer: &VinaScorer, ligand: &VinaLigand, pose: &[Vec3], options: &RefineOptions) -> Result<(Energy, Vec<Vec3>)> {
    if options.exact {
        scorer.score_exact_with_gradient(ligand, pose)
    } else {
        scorer.score_with_gradient(ligand, pose)
    }
}

/// Pose parameters around a starting pose: x = (translation, rotation vector, torsion deltas).
pub(crate) struct PoseSpace<'a> {
    start: &'a [Vec3],
    torsions: &'a [Torsion],
    centre: Vec3,
}

impl<'a> PoseSpace<'a> {
    pub(crate) fn new(start: &'a [Vec3], torsions: &'a [Torsion]) -> Result<Self> {
        let n = start.len();
        let valid = |t: &Torsion| t.axis.0 < n && t.axis.1 < n && t.axis.0 != t.axis.1 && t.moving.iter().all(|&m| m < n);
        if let Some(bad) = torsions.iter().find(|t| !valid(t)) {
            return Err(Error::invalid("refinement", format!("torsion {bad:?} does not fit a ligand of {n} atoms")));
        }
        Ok(PoseSpace { start, torsions, centre: centroid(start) })
    }

    pub(crate) fn dim(&self) -> usize {
        6 + self.torsions.len()
    }

    pub(crate) fn coords(&self, x: &[f64]) -> Vec<Vec3> {
        let mut pose = self.start.to_vec();
        apply_torsions(&mut pose, self.torsions, &x[6..]);
        let rotation = rotation_from_vector(&Vec3::new(x[3], x[4], x[5]));
        let shift = self.centre + Vec3::new(x[0], x[1], x[2]);
        pose.iter().map(|p| shift + rotation * (p - self.centre)).collect()
    }

    /// Gradient with respect to x from the per-atom gradient `atom_grad` at `pose = coords(x)`.
    pub(crate) fn gradient(&self, x: &[f64], pose: &[Vec3], atom_grad: &[Vec3]) -> Vec<f64> {
        let centre = self.centre + Vec3::new(x[0], x[1], x[2]);
        let force: Vec3 = atom_grad.iter().sum();
        let torque: Vec3 = pose.iter().zip(atom_grad).map(|(p, g)| (p - centre).cross(g)).sum();
        let rotation = left_jacobian(&Vec3::new(x[3], x[4], x[5])).transpose() * torque;
        let mut out = vec![force.x, force.y, force.z, rotation.x, rotation.y, rotation.z];
        out.extend(self.torsions.iter().map(|t| torsion_derivative(t, pose, atom_grad)));
        out
    }
}

/// Derivative of the energy with respect to torsion `t`'s angle at `pose`.
fn torsion_derivative(t: &Torsion, pose: &[Vec3], atom_grad: &[Vec3]) -> f64 {
    let origin = pose[t.axis.0];
    let axis = (pose[t.axis.1] - origin).try_normalize(1e-12).unwrap_or_else(Vec3::zeros);
    t.moving.iter().map(|&m| axis.cross(&(pose[m] - origin)).dot(&atom_grad[m])).sum()
}

/// Left Jacobian of SO(3)'s exponential map: exp(w + dw) = exp(J(w) dw) exp(w) to first order.
fn left_jacobian(w: &Vec3) -> Matrix3<f64> {
    let theta2 = w.norm_squared();
    let (a, b) = if theta2 < 1e-8 {
        (0.5 - theta2 / 24.0, 1.0 / 6.0 - theta2 / 120.0)
    } else {
        let theta = theta2.sqrt();
        ((1.0 - theta.cos()) / theta2, (theta - theta.sin()) / (theta2 * theta))
    };
    let k = w.cross_matrix();
    Matrix3::identity() + k * a + k * k * b
}

/// Minimises `f` (returning value and gradient) from `x` by L-BFGS; returns the minimiser and the
/// number of iterations.
pub(crate) fn lbfgs(f: &impl Fn(&[f64]) -> (f64, Vec<f64>), mut x: Vec<f64>, options: &RefineOptions) -> (Vec<f64>, usize) {
    let (mut fx, mut g) = f(&x);
    let mut history: Vec<(Vec<f64>, Vec<f64>, f64)> = Vec::new();
    for step in 0..options.max_steps {
        if max_abs(&g) < options.gradient_tolerance || !fx.is_finite() {
            return (x, step);
        }
        let mut dir = two_loop(&g, &history);
        if dot(&dir, &g) >= 0.0 {
            history.clear();
            dir = g.iter().map(|v| -v).collect();
        }
        let Some((x_new, f_new, g_new)) = armijo(f, &x, fx, &g, &dir, options.max_step) else {
            if history.is_empty() {
                return (x, step);
            }
            history.clear();
            continue;
        };
        let s: Vec<f64> = x_new.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = g_new.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &y);
        if sy > 1e-10 {
            if history.len() == options.memory.max(1) {
                history.remove(0);
            }
            history.push((s, y, 1.0 / sy));
        }
        let converged = fx - f_new < 1e-7 * (1.0 + fx.abs());
        (x, fx, g) = (x_new, f_new, g_new);
        if converged {
            return (x, step + 1);
        }
    }
    (x, options.max_steps)
}

/// L-BFGS two-loop recursion: the quasi-Newton direction -H g from the stored (s, y, 1/s.y).
fn two_loop(g: &[f64], history: &[(Vec<f64>, Vec<f64>, f64)]) -> Vec<f64> {
    let mut q: Vec<f64> = g.to_vec();
    let mut alphas = Vec::with_capacity(history.len());
    for (s, y, rho) in history.iter().rev() {
        let alpha = rho * dot(s, &q);
        axpy(&mut q, -alpha, y);
        alphas.push(alpha);
    }
    if let Some((s, y, _)) = history.last() {
        let gamma = dot(s, y) / dot(y, y);
        q.iter_mut().for_each(|v| *v *= gamma);
    }
    for ((s, y, rho), alpha) in history.iter().zip(alphas.iter().rev()) {
        let beta = rho * dot(y, &q);
        axpy(&mut q, alpha - beta, s);
    }
    q.iter().map(|v| -v).collect()
}

/// Backtracking line search along `dir` (capped at `max_step` in norm) satisfying Armijo's
/// sufficient-decrease condition; returns the accepted point, value and gradient.
fn armijo(
    f: &impl Fn(&[f64]) -> (f64, Vec<f64>),
    x: &[f64],
    fx: f64,
    g: &[f64],
    dir: &[f64],
    max_step: f64,
) -> Option<(Vec<f64>, f64, Vec<f64>)> {
    const C1: f64 = 1e-4;
    let norm = dot(dir, dir).sqrt();
    let mut alpha = if norm > max_step { max_step / norm } else { 1.0 };
    let slope = dot(g, dir);
    for _ in 0..30 {
        let trial: Vec<f64> = x.iter().zip(dir).map(|(a, d)| a + alpha * d).collect();
        let (ft, gt) = f(&trial);
        if ft <= fx + C1 * alpha * slope {
            return Some((trial, ft, gt));
        }
        alpha *= 0.5;
    }
    None
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn axpy(y: &mut [f64], a: f64, x: &[f64]) {
    y.iter_mut().zip(x).for_each(|(yi, xi)| *yi += a * xi);
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::physics::vina::tests::{toy_ligand, toy_scorer};

    fn bond_lengths(coords: &[Vec3], ligand: &crate::chem::Ligand) -> Vec<f64> {
        ligand.bonds.iter().map(|b| (coords[b.begin] - coords[b.end]).norm()).collect()
    }

    #[test]
    fn pose_gradient_matches_finite_differences() {
        let (ligand, torsions) = toy_ligand();
        let lig = VinaLigand::new(&ligand, torsions.len());
        let scorer = toy_scorer();
        let space = PoseSpace::new(&ligand.coords, &torsions).unwrap();
        let x = [0.21, -0.13, 0.07, 0.4, -0.3, 0.25, 0.6, -0.8];
        let energy = |x: &[f64]| scorer.score_exact(&lig, &space.coords(x)).unwrap().objective();
        let pose = space.coords(&x);
        let (_, atom_grad) = scorer.score_exact_with_gradient(&lig, &pose).unwrap();
        let grad = space.gradient(&x, &pose, &atom_grad);
        let h = 1e-6;
        for k in 0..x.len() {
            let (mut plus, mut minus) = (x.to_vec(), x.to_vec());
            plus[k] += h;
            minus[k] -= h;
            let fd = (energy(&plus) - energy(&minus)) / (2.0 * h);
            assert!((grad[k] - fd).abs() < 1e-5 * (1.0 + fd.abs()), "parameter {k}: {} vs {fd}", grad[k]);
        }
    }

    #[test]
    fn refinement_lowers_energy_and_keeps_geometry() {
        let (ligand, torsions) = toy_ligand();
        let lig = VinaLigand::new(&ligand, torsions.len());
        let scorer = toy_scorer();
        let options = RefineOptions::default();
        let low = refine(&scorer, &lig, &torsions, &ligand.coords, &options).unwrap();
        let space = PoseSpace::new(&low.coords, &torsions).unwrap();
        let perturbed = space.coords(&[0.6, -0.4, 0.3, 0.3, 0.2, -0.25, 0.7, -0.6]);
        let before = scorer.score_exact(&lig, &perturbed).unwrap();
        let after = refine(&scorer, &lig, &torsions, &perturbed, &options).unwrap();
        assert!(after.energy.objective() < before.objective() - 0.1, "{before:?} -> {:?}", after.energy);
        assert!(after.steps > 0);
        let (want, got) = (bond_lengths(&ligand.coords, &ligand), bond_lengths(&after.coords, &ligand));
        assert!(want.iter().zip(&got).all(|(a, b)| (a - b).abs() < 1e-9));
        let angle = |c: &[Vec3]| (c[6] - c[7]).angle(&(c[8] - c[7]));
        assert!((angle(&ligand.coords) - angle(&after.coords)).abs() < 1e-9);
    }

    #[test]
    fn bad_torsion_is_an_error() {
        let (ligand, _) = toy_ligand();
        let lig = VinaLigand::new(&ligand, 1);
        let bad = [Torsion { axis: (0, 99), moving: vec![1] }];
        assert!(refine(&toy_scorer(), &lig, &bad, &ligand.coords, &RefineOptions::default()).is_err());
    }
}
