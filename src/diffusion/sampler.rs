//! Reverse-time sampling from t = 1 to 0: Euler–Maruyama on the reverse SDE or Euler on the
//! probability-flow ODE, with DiffDock's update rules and low-temperature sampling.

use nalgebra::{Quaternion, UnitQuaternion};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use super::pose::{apply_update, apply_updates, PoseUpdate};
use super::r3;
use super::schedule::{time_grid, NoiseSchedule, Sigmas};
use crate::chem::{centroid, Torsion, Vec3};
use crate::error::{Error, Result};
use crate::geometry::vector_from_rotation;
use std::f64::consts::PI;

/// Scores predicted for one pose.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PoseScore {
    /// Translation score (1/Å).
    pub tr: Vec3,
    /// Rotation score, an axial vector.
    pub rot: Vec3,
    /// One score per torsion.
    pub tor: Vec<f64>,
}

/// Anything that predicts pose scores for a batch of poses at given sigmas (the score network).
pub trait ScoreModel {
    /// Scores of each pose in `poses` at noise level `sigmas`, diffusion time `t`.
    fn scores(&mut self, poses: &[Vec<Vec3>], sigmas: &Sigmas, t: f64) -> Result<Vec<PoseScore>>;
}

/// Reverse-time process to integrate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SamplerKind {
    /// Reverse SDE (Euler–Maruyama), DiffDock's default.
    #[default]
    Sde,
    /// Probability-flow ODE (deterministic given the initial poses).
    Ode,
}

/// DiffDock's low-temperature sampling parameters of one component (SDE only). The defaults
/// (1, 0, any) give plain sampling; DiffDock's tuned values are e.g. tr (1.17, 0.73, 0.93),
/// rot (2.06, 0.90, 0.75), tor (7.04, 0.59, 0.69).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Temperature {
    /// Sampling temperature inverse (`temp_sampling`): > 1 sharpens the distribution.
    pub sampling: f64,
    /// Extra Langevin-like noise and drift (`temp_psi`).
    pub psi: f64,
    /// Position of the data sigma between min (0) and max (1) in log (`temp_sigma_data`).
    pub sigma_data: f64,
}

impl Default for Temperature {
    fn default() -> Self {
        Temperature {
            sampling: 1.0,
            psi: 0.0,
            sigma_data: 0.5,
        }
    }
}

/// Temperatures of translation, rotation and torsions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Temperatures {
    /// Translation.
    pub tr: Temperature,
    /// Rotation.
    pub rot: Temperature,
    /// Torsions.
    pub tor: Temperature,
}

/// Sampler settings. No noise is added on the last step.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SamplerConfig {
    /// Number of steps from t = 1 to 0.
    pub steps: usize,
    /// SDE or ODE.
    pub kind: SamplerKind,
    /// Noise schedule the score model was trained with.
    pub schedule: NoiseSchedule,
    /// Low-temperature sampling parameters.
    pub temperatures: Temperatures,
    /// Seed of the random generator made by `SamplerConfig::rng`.
    pub seed: u64,
}

impl Default for SamplerConfig {
    fn default() -> Self {
        SamplerConfig {
            steps: 20,
            kind: SamplerKind::Sde,
            schedule: NoiseSchedule::default(),
            temperatures: Temperatures::default(),
            seed: 0,
        }
    }
}

impl SamplerConfig {
    /// A reproducible ChaCha generator seeded with `seed`.
    pub fn rng(&self) -> ChaCha20Rng {
        ChaCha20Rng::seed_from_u64(self.seed)
    }

    /// Checks the schedule, the step count and that temperatures are finite and positive.
    pub fn validate(&self) -> Result<()> {
        self.schedule.validate()?;
        if self.steps == 0 {
            return Err(Error::invalid("sampler", "steps must be at least 1"));
        }
        let t = &self.temperatures;
        for (name, temp) in [("tr", t.tr), ("rot", t.rot), ("tor", t.tor)] {
            let ok = temp.sampling.is_finite()
                && temp.sampling > 0.0
                && temp.psi.is_finite()
                && temp.psi >= 0.0
                && temp.sigma_data.is_finite();
            if !ok {
                return Err(Error::invalid("sampler", format!("{name} temperature needs sampling > 0, psi >= 0, finite values; got {temp:?}")));
            }
        }
        Ok(())
    }
}

/// `perturbation = drift * score + noise * z` for one component and step.
#[derive(Clone, Copy, Debug)]
struct Step {
    drift: f64,
    noise: f64,
}

impl Step {
    /// DiffDock's coefficients for sigma `sigma`, diffusion coefficient `g`, step `dt`, schedule
    /// bounds `(min, max)`.
    fn new(
        kind: SamplerKind,
        temp: &Temperature,
        sigma: f64,
        g: f64,
        dt: f64,
        (min, max): (f64, f64),
        last: bool,
    ) -> Self {
        match kind {
            SamplerKind::Ode => Step {
                drift: 0.5 * g * g * dt,
                noise: 0.0,
            },
            SamplerKind::Sde => {
                let sigma_data =
                    (temp.sigma_data * max.ln() + (1.0 - temp.sigma_data) * min.ln()).exp();
                let lambda = (sigma_data + sigma) / (sigma_data + sigma / temp.sampling);
                let drift = g * g * dt * (lambda + temp.sampling * temp.psi / 2.0);
                let noise = if last {
                    0.0
                } else {
                    g * (dt * (1.0 + temp.psi)).sqrt()
                };
                Step { drift, noise }
            }
        }
    }

    /// Perturbation of a vector component.
    fn vector<R: Rng + ?Sized>(&self, score: &Vec3, rng: &mut R) -> Vec3 {
        let z = if self.noise > 0.0 {
            r3::standard_normal(rng)
        } else {
            Vec3::zeros()
        };
        score * self.drift + z * self.noise
    }

    /// Perturbation of a scalar component.
    fn scalar<R: Rng + ?Sized>(&self, score: f64, rng: &mut R) -> f64 {
        let z: f64 = if self.noise > 0.0 {
            rng.sample(StandardNormal)
        } else {
            0.0
        };
        score * self.drift + z * self.noise
    }
}

/// Samples poses by integrating from t = 1 to 0 starting from `initial` (e.g. from
/// `random_initial_pose`), asking `model` for scores at each step. Poses share `torsions`.
/// Fails on an invalid config or when the model returns scores of the wrong shape.
pub fn sample<M, R>(
    model: &mut M,
    initial: Vec<Vec<Vec3>>,
    torsions: &[Torsion],
    config: &SamplerConfig,
    rng: &mut R,
) -> Result<Vec<Vec<Vec3>>>
where
    M: ScoreModel + ?Sized,
    R: Rng + ?Sized,
{
    config.validate()?;
    let s = &config.schedule;
    let mut poses = initial;
    for (step, w) in time_grid(config.steps).windows(2).enumerate() {
        let (t, dt) = (w[0], w[0] - w[1]);
        let last = step + 1 == config.steps;
        let (sigmas, g) = (s.sigmas(t), s.diffusion_coefficients(t));
        let temps = &config.temperatures;
        let step_of = |temp, sigma, g, range| Step::new(config.kind, temp, sigma, g, dt, range, last);
        let tr = step_of(&temps.tr, sigmas.tr, g.tr, (s.tr_min, s.tr_max));
        let rot = step_of(&temps.rot, sigmas.rot, g.rot, (s.rot_min, s.rot_max));
        let tor = step_of(&temps.tor, sigmas.tor, g.tor, (s.tor_min, s.tor_max));
        let scores = model.scores(&poses, &sigmas, t)?;
        check_scores(&scores, poses.len(), torsions.len())?;
        let updates: Vec<PoseUpdate> = scores
            .iter()
            .map(|score| PoseUpdate {
                translation: tr.vector(&score.tr, rng),
                rotation: rot.vector(&score.rot, rng),
                torsions: score.tor.iter().map(|&x| tor.scalar(x, rng)).collect(),
            })
            .collect();
        poses = apply_updates(&poses, torsions, &updates);
    }
    Ok(poses)
}

/// Checks that the model gave one finite score per pose with one torsion score per torsion.
fn check_scores(scores: &[PoseScore], poses: usize, torsions: usize) -> Result<()> {
    if scores.len() != poses {
        return Err(Error::Model(format!(
            "score model returned {} scores for {poses} poses",
            scores.len()
        )));
    }
    for score in scores {
        if score.tor.len() != torsions {
            return Err(Error::Model(format!(
                "score model returned {} torsion scores for {torsions} torsions",
                score.tor.len()
            )));
        }
        let finite = score
            .tr
            .iter()
            .chain(score.rot.iter())
            .chain(&score.tor)
            .all(|x| x.is_finite());
        if !finite {
            return Err(Error::Model(
                "score model returned non-finite scores".into(),
            ));
        }
    }
    Ok(())
}

/// A random starting pose: uniform torsions, uniform rotation, centroid at `center` plus
/// N(0, sigma_tr_max^2) noise, as DiffDock's `randomize_position`.
pub fn random_initial_pose<R: Rng + ?Sized>(
    coords: &[Vec3],
    torsions: &[Torsion],
    center: &Vec3,
    sigma_tr_max: f64,
    rng: &mut R,
) -> Vec<Vec3> {
    let q = Quaternion::new(
        rng.sample(StandardNormal),
        rng.sample(StandardNormal),
        rng.sample(StandardNormal),
        rng.sample(StandardNormal),
    );
    let rotation = vector_from_rotation(&UnitQuaternion::from_quaternion(q).to_rotation_matrix());
    let update = PoseUpdate {
        translation: center + r3::sample(sigma_tr_max, rng) - centroid(coords),
        rotation,
        torsions: torsions.iter().map(|_| rng.gen_range(-PI..PI)).collect(),
    };
    apply_update(coords, torsions, &update)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diffusion::pose::{tests::hexane, torsion_angles};
    use crate::diffusion::{so3, torus};
    use crate::geometry::kabsch;

    /// Exact scores of the noising of one fixed pose: Gaussian around its centroid, IGSO(3)
    /// around its orientation, wrapped normal around its torsion angles.
    struct ExactScore {
        reference: Vec<Vec3>,
        reference_angles: Vec<f64>,
        torsions: Vec<Torsion>,
        neighbours: Vec<Vec<usize>>,
    }

    impl ScoreModel for ExactScore {
        fn scores(
            &mut self,
            poses: &[Vec<Vec3>],
            sigmas: &Sigmas,
            _t: f64,
        ) -> Result<Vec<PoseScore>> {
            Ok(poses.iter().map(|pose| self.score(pose, sigmas)).collect())
        }
    }

    impl ExactScore {
        fn new() -> Self {
            let (reference, torsions, neighbours) = hexane();
            let reference_angles = torsion_angles(&reference, &torsions, &neighbours);
            ExactScore {
                reference,
                reference_angles,
                torsions,
                neighbours,
            }
        }

        fn score(&self, pose: &[Vec3], sigmas: &Sigmas) -> PoseScore {
            let offset = centroid(pose) - centroid(&self.reference);
            let angles = torsion_angles(pose, &self.torsions, &self.neighbours);
            PoseScore {
                tr: r3::score(&offset, sigmas.tr),
                rot: so3::score_vec(sigmas.rot, &self.rotation(pose)),
                tor: angles
                    .iter()
                    .zip(&self.reference_angles)
                    .map(|(a, r)| torus::score(a - r, sigmas.tor))
                    .collect(),
            }
        }

        /// Rotation vector taking the reference orientation to the pose's.
        fn rotation(&self, pose: &[Vec3]) -> Vec3 {
            vector_from_rotation(&kabsch(&self.reference, pose).0)
        }
    }

    struct Summary {
        tr_mean: f64,
        tr_std: f64,
        rot_mean: f64,
        tor_std: f64,
    }

    fn run(kind: SamplerKind, steps: usize, n: usize) -> Summary {
        let mut model = ExactScore::new();
        let config = SamplerConfig {
            steps,
            kind,
            seed: 17,
            ..SamplerConfig::default()
        };
        let mut rng = config.rng();
        let center = centroid(&model.reference);
        let initial = (0..n)
            .map(|_| {
                random_initial_pose(
                    &model.reference,
                    &model.torsions,
                    &center,
                    config.schedule.tr_max,
                    &mut rng,
                )
            })
            .collect();
        let torsions = model.torsions.clone();
        let poses = sample(&mut model, initial, &torsions, &config, &mut rng).expect("sampling");
        let offsets: Vec<Vec3> = poses.iter().map(|p| centroid(p) - center).collect();
        let mean = offsets.iter().fold(Vec3::zeros(), |a, o| a + o) / n as f64;
        let var = offsets
            .iter()
            .map(|o| (o - mean).norm_squared())
            .sum::<f64>()
            / (3 * n) as f64;
        let rot_mean = poses.iter().map(|p| model.rotation(p).norm()).sum::<f64>() / n as f64;
        let tor: Vec<f64> = poses
            .iter()
            .flat_map(|p| {
                let angles = torsion_angles(p, &model.torsions, &model.neighbours);
                angles
                    .iter()
                    .zip(&model.reference_angles)
                    .map(|(a, r)| torus::wrap(a - r))
                    .collect::<Vec<_>>()
            })
            .collect();
        let tor_std = (tor.iter().map(|x| x * x).sum::<f64>() / tor.len() as f64).sqrt();
        Summary {
            tr_mean: mean.norm(),
            tr_std: var.sqrt(),
            rot_mean,
            tor_std,
        }
    }

    fn check(s: &Summary) {
        // target: centroid N(0, 0.1^2), rotation IGSO(3)(0.03) whose mean angle is
        // 2 sqrt(2) sigma sqrt(2/pi) = 0.0677, torsions wrapped normal (0.0314); 300 samples
        assert!(s.tr_mean < 0.03, "translation mean {}", s.tr_mean);
        assert!(
            (0.085..0.115).contains(&s.tr_std),
            "translation std {}",
            s.tr_std
        );
        assert!(
            (0.058..0.078).contains(&s.rot_mean),
            "rotation mean angle {}",
            s.rot_mean
        );
        assert!(
            (0.026..0.037).contains(&s.tor_std),
            "torsion std {}",
            s.tor_std
        );
    }

    #[test]
    fn sde_recovers_the_noised_point_distribution() {
        check(&run(SamplerKind::Sde, 200, 300));
    }

    #[test]
    fn ode_recovers_the_noised_point_distribution() {
        check(&run(SamplerKind::Ode, 200, 300));
    }

    #[test]
    fn sampling_is_reproducible() {
        let a = run(SamplerKind::Sde, 10, 5);
        let b = run(SamplerKind::Sde, 10, 5);
        assert_eq!(
            (a.tr_mean, a.rot_mean, a.tor_std),
            (b.tr_mean, b.rot_mean, b.tor_std)
        );
    }

    #[test]
    fn wrong_model_output_is_an_error() {
        struct Empty;
        impl ScoreModel for Empty {
            fn scores(&mut self, _: &[Vec<Vec3>], _: &Sigmas, _: f64) -> Result<Vec<PoseScore>> {
                Ok(Vec::new())
            }
        }
        let (coords, torsions, _) = hexane();
        let config = SamplerConfig::default();
        assert!(sample(
            &mut Empty,
            vec![coords.clone()],
            &torsions,
            &config,
            &mut config.rng()
        )
        .is_err());
        let bad = SamplerConfig { steps: 0, ..config };
        assert!(sample(&mut Empty, vec![coords], &torsions, &bad, &mut config.rng()).is_err());
    }
}
