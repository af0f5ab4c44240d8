//! Conformer matching (DiffDock's "conformer matching"): the pose of an RDKit conformer, moved
//! only rigidly and through its rotatable bonds, that lies closest to a target pose.
//!
//! Docking keeps the conformer's bond lengths, angles and rings, so this pose is the best any
//! docking run can reach: its RMSD to the crystal ligand is the conformer's floor (up to the
//! fit, which is local from several starts). A benchmark reports it to tell failures of the
//! geometry apart from failures of search and scoring.

use rand::Rng;
use std::f64::consts::PI;

use super::refine::{lbfgs, PoseSpace, RefineOptions};
use crate::chem::conformer::PreparedLigand;
use crate::chem::{Torsion, Vec3};
use crate::diffusion::pose::apply_torsions;
use crate::error::{Error, Result};
use crate::geometry::{rmsd, superpose, symmetry_rmsd, Automorphisms};
use rand::SeedableRng;

/// A conformer fitted to a target pose.
#[derive(Clone, Debug, PartialEq)]
pub struct Matched {
    /// The conformer's coordinates in the fitted pose.
    pub coords: Vec<Vec3>,
    /// Plain (atom-paired) RMSD to the target (Å).
    pub rmsd: f64,
}

/// Fits `conformer` (torsions `torsions`) to `target` by least squares over translation, rotation
/// and torsion angles: L-BFGS from the conformer itself and from `restarts` random torsion
/// settings, each superposed on the target first; the best fit is returned. Fails when the
/// coordinate counts differ or a torsion does not fit the conformer.
pub fn match_conformer(
    conformer: &[Vec3],
    torsions: &[Torsion],
    target: &[Vec3],
    restarts: usize,
    rng: &mut impl Rng,
) -> Result<Matched> {
    if conformer.len() != target.len() || conformer.is_empty() {
        return Err(Error::invalid(
            "conformer matching",
            format!("{} conformer atoms against {} target atoms", conformer.len(), target.len()),
        ));
    }
    let mut best = fit(conformer, torsions, target)?;
    for _ in 0..restarts {
        let mut start = conformer.to_vec();
        let angles: Vec<f64> = torsions.iter().map(|_| rng.gen_range(-PI..PI)).collect();
        apply_torsions(&mut start, torsions, &angles);
        let candidate = fit(&start, torsions, target)?;
        if candidate.rmsd < best.rmsd {
            best = candidate;
        }
    }
    Ok(best)
}

/// Random torsion restarts of the conformer matching behind [`conformer_floor`].
const MATCHING_RESTARTS: usize = 16;

/// Symmetry-corrected RMSD to `target` of `ligand`'s conformer fitted to it over translation,
/// rotation and torsions (conformer matching, from a fixed seed). Against the crystal ligand it
/// is the conformer's floor: the lowest RMSD a docking run from this conformer can reach, since
/// docking keeps its bond lengths, angles and rings (a local fit from several starts, so an upper
/// bound on the true floor). Against another conformer it is their shape distance, torsions
/// aside. `None` when matching fails.
pub fn conformer_floor(ligand: &PreparedLigand, target: &[Vec3], autos: &Automorphisms) -> Option<f64> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let matched = match_conformer(&ligand.ligand.coords, &ligand.torsions, target, MATCHING_RESTARTS, &mut rng).ok()?;
    Some(symmetry_rmsd(&matched.coords, target, autos))
}

/// Superposes `start` on `target`, then minimises the squared deviation over the pose parameters.
fn fit(start: &[Vec3], torsions: &[Torsion], target: &[Vec3]) -> Result<Matched> {
    let aligned = superpose(start, target);
    let space = PoseSpace::new(&aligned, torsions)?;
    let objective = |x: &[f64]| {
        let pose = space.coords(x);
        let grad: Vec<Vec3> = pose.iter().zip(target).map(|(p, t)| (p - t) * 2.0).collect();
        let value = pose.iter().zip(target).map(|(p, t)| (p - t).norm_squared()).sum();
        (value, space.gradient(x, &pose, &grad))
    };
    let options = RefineOptions { max_steps: 500, gradient_tolerance: 1e-6, ..Default::default() };
    let (x, _) = lbfgs(&objective, vec![0.0; space.dim()], &options);
    let coords = superpose(&space.coords(&x), target);
    Ok(Matched { rmsd: rmsd(&coords, target), coords })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diffusion::pose::tests::hexane;
    use crate::geometry::{aligned_rmsd, rotation_from_vector};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// `coords` with torsion deltas `deltas`, then rotated and shifted.
    fn moved(coords: &[Vec3], torsions: &[Torsion], deltas: &[f64]) -> Vec<Vec3> {
        let mut c = coords.to_vec();
        apply_torsions(&mut c, torsions, deltas);
        let r = rotation_from_vector(&Vec3::new(0.7, -1.1, 0.4));
        c.iter().map(|p| r * p + Vec3::new(3.0, -2.0, 5.0)).collect()
    }

    #[test]
    fn a_pose_reachable_through_torsions_is_matched_exactly() {
        let (coords, torsions, _) = hexane();
        let target = moved(&coords, &torsions, &[2.1, -1.4]);
        assert!(aligned_rmsd(&coords, &target) > 0.3, "the torsions must matter for this test");
        let matched = match_conformer(&coords, &torsions, &target, 8, &mut ChaCha8Rng::seed_from_u64(1)).unwrap();
        assert!(matched.rmsd < 1e-3, "{}", matched.rmsd);
        let lengths = |c: &[Vec3]| (0..c.len() - 1).map(|i| (c[i + 1] - c[i]).norm()).collect::<Vec<_>>();
        assert!(lengths(&coords).iter().zip(lengths(&matched.coords)).all(|(a, b)| (a - b).abs() < 1e-9));
    }

    #[test]
    fn a_changed_bond_angle_leaves_a_floor_no_worse_than_rigid_superposition() {
        let (coords, torsions, _) = hexane();
        let mut target = moved(&coords, &torsions, &[-2.5, 1.0]);
        target[0] += Vec3::new(0.4, -0.3, 0.2);
        let matched = match_conformer(&coords, &torsions, &target, 8, &mut ChaCha8Rng::seed_from_u64(2)).unwrap();
        assert!(matched.rmsd > 0.01, "a bond-angle change cannot be matched: {}", matched.rmsd);
        assert!(matched.rmsd <= aligned_rmsd(&coords, &target) + 1e-9);
        assert!((rmsd(&matched.coords, &target) - matched.rmsd).abs() < 1e-12);
    }

    #[test]
    fn mismatched_atom_counts_are_an_error() {
        let (coords, torsions, _) = hexane();
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        assert!(match_conformer(&coords, &torsions, &coords[..5], 2, &mut rng).is_err());
        assert!(match_conformer(&[], &[], &[], 2, &mut rng).is_err());
    }
}
