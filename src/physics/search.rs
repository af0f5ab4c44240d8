//! Monte Carlo search around a pose: AutoDock Vina's global search (mutate one pose parameter,
//! minimise locally, Metropolis acceptance) started from a sampled pose instead of a random one.
//!
//! The diffusion model proposes binding modes; this search explores the energy basin around each
//! of them, so the Vina-like energy that ranks poses compares local minima rather than whatever
//! minimum the nearest L-BFGS descent happened to reach.

use rand::Rng;
use serde::Serialize;
use std::f64::consts::PI;

use super::refine::{minimise, PoseSpace, RefineOptions, Refined};
use super::vina::{VinaLigand, VinaScorer};
use crate::chem::{centroid, Torsion, Vec3};
use crate::error::Result;

/// Settings of the Monte Carlo search.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SearchOptions {
    /// Mutations tried after the first local minimisation (0: plain refinement).
    pub steps: usize,
    /// Metropolis temperature (kcal/mol); Vina uses 1.2.
    pub temperature: f64,
    /// Largest translation of a position mutation (Å); the rotation amplitude is this over the
    /// ligand's radius of gyration, as in Vina.
    pub amplitude: f64,
    /// The local minimisation after each mutation.
    pub refine: RefineOptions,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions { steps: 0, temperature: 1.2, amplitude: 2.0, refine: RefineOptions::default() }
    }
}

/// Searches from `coords` (a pose of `ligand`) and returns the lowest-energy local minimum seen,
/// with its exact energy; `steps` counts L-BFGS iterations over all minimisations. With
/// `options.steps == 0` this is [`super::refine()`].
pub fn monte_carlo(
    scorer: &VinaScorer,
    ligand: &VinaLigand,
    torsions: &[Torsion],
    coords: &[Vec3],
    options: &SearchOptions,
    rng: &mut impl Rng,
) -> Result<Refined> {
    let (mut current, mut current_value, mut steps) = minimise(scorer, ligand, torsions, coords, &options.refine)?;
    let mut best = (current.clone(), current_value);
    for _ in 0..options.steps {
        let trial = mutate(&current, torsions, options.amplitude, rng)?;
        let (candidate, value, taken) = minimise(scorer, ligand, torsions, &trial, &options.refine)?;
        steps += taken;
        if !value.is_finite() {
            continue;
        }
        if value < best.1 {
            best = (candidate.clone(), value);
        }
        if metropolis(current_value, value, options.temperature, rng) {
            (current, current_value) = (candidate, value);
        }
    }
    let energy = scorer.score_exact(ligand, &best.0)?;
    Ok(Refined { coords: best.0, energy, steps })
}

/// Metropolis rule: always accept a lower energy, a higher one with probability exp(-dE / T).
fn metropolis(current: f64, proposed: f64, temperature: f64, rng: &mut impl Rng) -> bool {
    proposed <= current || rng.gen::<f64>() < ((current - proposed) / temperature).exp()
}

/// Changes one pose parameter of `coords`, chosen uniformly among position, orientation and each
/// torsion (Vina's mutation): a shift inside a ball of radius `amplitude`, a rotation inside a ball
/// of radius `amplitude / radius of gyration`, or a uniformly random torsion angle.
fn mutate(coords: &[Vec3], torsions: &[Torsion], amplitude: f64, rng: &mut impl Rng) -> Result<Vec<Vec3>> {
    let space = PoseSpace::new(coords, torsions)?;
    let mut x = vec![0.0; space.dim()];
    match rng.gen_range(0..2 + torsions.len()) {
        0 => x[..3].copy_from_slice(random_in_ball(rng).scale(amplitude).as_slice()),
        1 => x[3..6].copy_from_slice(random_in_ball(rng).scale(amplitude / gyration_radius(coords).max(1.0)).as_slice()),
        k => x[k + 4] = rng.gen_range(-PI..PI),
    }
    Ok(space.coords(&x))
}

/// A uniform point of the unit ball (rejection from the cube).
fn random_in_ball(rng: &mut impl Rng) -> Vec3 {
    loop {
        let v = Vec3::from_fn(|_, _| rng.gen_range(-1.0..1.0));
        if v.norm_squared() <= 1.0 {
            return v;
        }
    }
}

/// Root-mean-square distance of the atoms from their centroid (Å).
fn gyration_radius(coords: &[Vec3]) -> f64 {
    let c = centroid(coords);
    (coords.iter().map(|p| (p - c).norm_squared()).sum::<f64>() / coords.len().max(1) as f64).sqrt()
}

/// Random torsion restarts when fitting the conformer to the crystal ligand for a native pose.
const NATIVE_RESTARTS: usize = 8;

/// A native pose as docking could make it, for teaching rankers what a right pose looks like
/// where docking found none: the RDKit `conformer` fitted to the `crystal` ligand over
/// translation, rotation and torsions (conformer matching), shifted by 1 Å and its torsions
/// turned by about 20°, then searched for `steps` Monte Carlo steps and refined on the
/// Vina-like energy against `protein` as docked poses are. Returns the pose and its energy
/// (inter + intra, kcal/mol); the search may leave the crystal site, so callers label it by
/// RMSD as any docked pose. `seed` picks the perturbation.
pub fn native_pose(
    protein: &crate::chem::Protein,
    ligand: &VinaLigand,
    conformer: &[Vec3],
    torsions: &[Torsion],
    crystal: &[Vec3],
    steps: usize,
    seed: u64,
) -> Result<(Vec<Vec3>, f64)> {
    use rand::SeedableRng;
    use rand_distr::{Distribution, Normal, UnitSphere};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut pose = super::match_conformer(conformer, torsions, crystal, NATIVE_RESTARTS, &mut rng)?.coords;
    let shift = Vec3::from(UnitSphere.sample(&mut rng));
    pose.iter_mut().for_each(|p| *p += shift);
    let turn = Normal::new(0.0, 0.35).map_err(|e| crate::error::Error::invalid("native pose", e.to_string()))?;
    let deltas: Vec<f64> = (0..torsions.len()).map(|_| turn.sample(&mut rng)).collect();
    crate::diffusion::pose::apply_torsions(&mut pose, torsions, &deltas);
    let scorer = VinaScorer::new(protein, &super::PocketBox::around(&pose, 8.0), 1.0)?;
    let search = SearchOptions { steps, refine: RefineOptions { exact: true, ..Default::default() }, ..Default::default() };
    let found = monte_carlo(&scorer, ligand, torsions, &pose, &search, &mut rng)?;
    Ok((found.coords, found.energy.objective()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::physics::refine::refine;
    use crate::physics::vina::tests::{toy_ligand, toy_scorer};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// Poses of the toy ligand scattered around the toy pocket.
    fn starts(torsions: &[Torsion], coords: &[Vec3]) -> Vec<Vec<Vec3>> {
        let space = PoseSpace::new(coords, torsions).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        (0..8)
            .map(|_| {
                let x: Vec<f64> = (0..space.dim()).map(|k| if k < 3 { rng.gen_range(-1.5..1.5) } else { rng.gen_range(-PI..PI) }).collect();
                space.coords(&x)
            })
            .collect()
    }

    #[test]
    fn search_never_ends_above_plain_refinement_and_often_below() {
        let (ligand, torsions) = toy_ligand();
        let vina = VinaLigand::new(&ligand, torsions.len());
        let scorer = toy_scorer();
        let options = SearchOptions { steps: 30, ..Default::default() };
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut lower = 0;
        let all = starts(&torsions, &ligand.coords);
        for start in &all {
            let plain = minimise(&scorer, &vina, &torsions, start, &options.refine).unwrap().1;
            let found = monte_carlo(&scorer, &vina, &torsions, start, &options, &mut rng).unwrap();
            let value = scorer.score(&vina, &found.coords).unwrap().objective();
            assert!(value <= plain + 1e-9, "search {value} above refinement {plain}");
            lower += (value < plain - 0.1) as usize;
        }
        assert!(lower * 2 >= all.len(), "search improved only {lower} of {} starts", all.len());
    }

    #[test]
    fn zero_steps_is_plain_refinement_and_geometry_is_kept() {
        let (ligand, torsions) = toy_ligand();
        let vina = VinaLigand::new(&ligand, torsions.len());
        let scorer = toy_scorer();
        let start = &starts(&torsions, &ligand.coords)[0];
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let zero = monte_carlo(&scorer, &vina, &torsions, start, &SearchOptions::default(), &mut rng).unwrap();
        let plain = refine(&scorer, &vina, &torsions, start, &RefineOptions::default()).unwrap();
        assert_eq!(zero, plain);
        let long = monte_carlo(&scorer, &vina, &torsions, start, &SearchOptions { steps: 20, ..Default::default() }, &mut rng).unwrap();
        let lengths = |c: &[Vec3]| ligand.bonds.iter().map(|b| (c[b.begin] - c[b.end]).norm()).collect::<Vec<_>>();
        assert!(lengths(&ligand.coords).iter().zip(lengths(&long.coords)).all(|(a, b)| (a - b).abs() < 1e-9));
    }

    #[test]
    fn metropolis_accepts_downhill_always_and_uphill_by_boltzmann_factor() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        assert!((0..100).all(|_| metropolis(-5.0, -6.0, 1.2, &mut rng)));
        let accepted = (0..20000).filter(|_| metropolis(-5.0, -4.0, 1.2, &mut rng)).count() as f64 / 20000.0;
        assert!((accepted - (-1.0f64 / 1.2).exp()).abs() < 0.015, "{accepted}");
    }
}
