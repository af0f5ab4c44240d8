//! Forward noising of a crystal pose for denoising score matching (DiffDock's training targets).

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::pose::{apply_update, PoseUpdate};
use super::sampler::PoseScore;
use super::schedule::{NoiseSchedule, Sigmas};
use super::{r3, so3, torus};
use crate::chem::{Torsion, Vec3};

/// Expected squared score of each component at the pose's sigmas: the loss divides squared
/// score errors by these.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoreNorms {
    /// Translation, per component (`r3::score_norm`).
    pub tr: f64,
    /// Rotation (`so3::score_norm`).
    pub rot: f64,
    /// Each torsion (`torus::score_norm`).
    pub tor: f64,
}

/// A noised pose with the noise that made it and the score-matching targets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NoisedPose {
    /// Diffusion time in [0, 1].
    pub t: f64,
    /// Sigmas at `t`.
    pub sigmas: Sigmas,
    /// Coordinates of the noised pose.
    pub coords: Vec<Vec3>,
    /// The noise, as the update applied to the crystal pose.
    pub noise: PoseUpdate,
    /// Target scores: `-tr/sigma_tr^2`, `so3::score_vec(sigma_rot, rot)`, `torus::score(tor, sigma_tor)`.
    pub target: PoseScore,
    /// Normalisers of the loss terms.
    pub norms: ScoreNorms,
}

/// Noises the crystal pose `coords` at time `t` (drawn from U(0, 1) when `None`, clamped to
/// [0, 1] otherwise, NaN read as 0): translation N(0, sigma_tr^2), rotation IGSO(3)(sigma_rot), torsion changes
/// wrapped normal(sigma_tor), and returns the noised pose with its targets, as DiffDock does.
pub fn noise_pose<R: Rng + ?Sized>(
    coords: &[Vec3],
    torsions: &[Torsion],
    schedule: &NoiseSchedule,
    t: Option<f64>,
    rng: &mut R,
) -> NoisedPose {
    let t = t.unwrap_or_else(|| rng.gen::<f64>());
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    let sigmas = schedule.sigmas(t);
    let noise = PoseUpdate {
        translation: r3::sample(sigmas.tr, rng),
        rotation: so3::sample(sigmas.rot, rng),
        torsions: torsions
            .iter()
            .map(|_| torus::sample(sigmas.tor, rng))
            .collect(),
    };
    let target = PoseScore {
        tr: r3::score(&noise.translation, sigmas.tr),
        rot: so3::score_vec(sigmas.rot, &noise.rotation),
        tor: noise
            .torsions
            .iter()
            .map(|&d| torus::score(d, sigmas.tor))
            .collect(),
    };
    let norms = ScoreNorms {
        tr: r3::score_norm(sigmas.tr),
        rot: so3::score_norm(sigmas.rot),
        tor: torus::score_norm(sigmas.tor),
    };
    NoisedPose {
        t,
        sigmas,
        coords: apply_update(coords, torsions, &noise),
        noise,
        target,
        norms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chem::centroid;
    use crate::diffusion::pose::{tests::hexane, torsion_angles};
    use crate::diffusion::torus::wrap;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn noised_pose_matches_its_noise_and_targets() {
        let (coords, torsions, neighbours) = hexane();
        let schedule = NoiseSchedule::default();
        let noised = noise_pose(
            &coords,
            &torsions,
            &schedule,
            Some(0.6),
            &mut ChaCha8Rng::seed_from_u64(2),
        );
        assert_eq!(noised.sigmas, schedule.sigmas(0.6));
        let shift = centroid(&noised.coords) - centroid(&coords);
        assert!((shift - noised.noise.translation).norm() < 1e-9);
        assert!(
            (noised.target.tr + noised.noise.translation / noised.sigmas.tr.powi(2)).norm() < 1e-12
        );
        let before = torsion_angles(&coords, &torsions, &neighbours);
        let after = torsion_angles(&noised.coords, &torsions, &neighbours);
        for i in 0..torsions.len() {
            assert!(wrap(after[i] - before[i] - noised.noise.torsions[i]).abs() < 1e-9);
            assert_eq!(
                noised.target.tor[i],
                torus::score(noised.noise.torsions[i], noised.sigmas.tor)
            );
        }
        assert_eq!(
            noised.target.rot,
            so3::score_vec(noised.sigmas.rot, &noised.noise.rotation)
        );
        assert!(noised.norms.tr > 0.0 && noised.norms.rot > 0.0 && noised.norms.tor > 0.0);
    }

    #[test]
    fn noising_is_reproducible_and_time_is_clamped() {
        let (coords, torsions, _) = hexane();
        let schedule = NoiseSchedule::default();
        let a = noise_pose(
            &coords,
            &torsions,
            &schedule,
            None,
            &mut ChaCha8Rng::seed_from_u64(9),
        );
        let b = noise_pose(
            &coords,
            &torsions,
            &schedule,
            None,
            &mut ChaCha8Rng::seed_from_u64(9),
        );
        assert_eq!(a, b);
        assert!((0.0..1.0).contains(&a.t));
        let c = noise_pose(
            &coords,
            &torsions,
            &schedule,
            Some(f64::NAN),
            &mut ChaCha8Rng::seed_from_u64(9),
        );
        assert_eq!(c.t, 0.0);
    }
}
