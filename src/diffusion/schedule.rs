//! Noise schedule: geometric interpolation of the sigmas of each component between their minimum
//! (t = 0) and maximum (t = 1), as in DiffDock, and the time grid of the sampler.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Minimum and maximum sigma of each pose component (translation in Å, rotation and torsion in rad).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NoiseSchedule {
    /// Translation sigma at t = 0 (Å).
    pub tr_min: f64,
    /// Translation sigma at t = 1 (Å).
    pub tr_max: f64,
    /// Rotation sigma at t = 0.
    pub rot_min: f64,
    /// Rotation sigma at t = 1.
    pub rot_max: f64,
    /// Torsion sigma at t = 0 (rad).
    pub tor_min: f64,
    /// Torsion sigma at t = 1 (rad).
    pub tor_max: f64,
}

#[allow(clippy::approx_constant)] // 3.14 is DiffDock's value, not pi
impl Default for NoiseSchedule {
    fn default() -> Self {
        NoiseSchedule {
            tr_min: 0.1,
            tr_max: 19.0,
            rot_min: 0.03,
            rot_max: 1.55,
            tor_min: 0.0314,
            tor_max: 3.14,
        }
    }
}

/// One value per pose component: noise levels (sigmas) or diffusion coefficients g.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sigmas {
    /// Translation (Å).
    pub tr: f64,
    /// Rotation.
    pub rot: f64,
    /// Torsions (rad).
    pub tor: f64,
}

impl NoiseSchedule {
    /// Sigmas at diffusion time `t` in [0, 1]: `sigma_min^(1-t) * sigma_max^t` per component.
    pub fn sigmas(&self, t: f64) -> Sigmas {
        Sigmas {
            tr: geometric(self.tr_min, self.tr_max, t),
            rot: geometric(self.rot_min, self.rot_max, t),
            tor: geometric(self.tor_min, self.tor_max, t),
        }
    }

    /// Diffusion coefficients g(t) of the variance-exploding SDE, as in DiffDock:
    /// `sigma * sqrt(2 ln(max/min))` for translation and torsions, `2 sigma sqrt(ln(max/min))`
    /// for rotations (the IGSO(3) series uses `exp(-l(l+1) sigma^2)`, i.e. variance 2 sigma^2).
    pub fn diffusion_coefficients(&self, t: f64) -> Sigmas {
        let s = self.sigmas(t);
        Sigmas {
            tr: s.tr * (2.0 * (self.tr_max / self.tr_min).ln()).sqrt(),
            rot: 2.0 * s.rot * (self.rot_max / self.rot_min).ln().sqrt(),
            tor: s.tor * (2.0 * (self.tor_max / self.tor_min).ln()).sqrt(),
        }
    }

    /// Checks that every sigma is finite and positive and that no minimum exceeds its maximum.
    pub fn validate(&self) -> Result<()> {
        let pairs = [
            ("tr", self.tr_min, self.tr_max),
            ("rot", self.rot_min, self.rot_max),
            ("tor", self.tor_min, self.tor_max),
        ];
        for (name, min, max) in pairs {
            let ok = min.is_finite() && max.is_finite() && min > 0.0 && min <= max;
            if !ok {
                return Err(Error::invalid(
                    "noise schedule",
                    format!("{name} sigmas must satisfy 0 < min <= max, got {min} and {max}"),
                ));
            }
        }
        Ok(())
    }
}

/// Geometric interpolation `min^(1-t) * max^t`.
pub fn geometric(min: f64, max: f64, t: f64) -> f64 {
    min.powf(1.0 - t) * max.powf(t)
}

/// Times from 1 down to 0 for `steps` equal sampler steps (`steps + 1` values; `[1]` for none).
pub fn time_grid(steps: usize) -> Vec<f64> {
    if steps == 0 {
        return vec![1.0];
    }
    (0..=steps).map(|i| 1.0 - i as f64 / steps as f64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::approx_constant)]
    fn sigmas_hit_the_ends_and_grid_runs_down() {
        let s = NoiseSchedule::default();
        let (lo, hi) = (s.sigmas(0.0), s.sigmas(1.0));
        assert!(
            (lo.tr - 0.1).abs() < 1e-12
                && (hi.rot - 1.55).abs() < 1e-12
                && (hi.tor - 3.14).abs() < 1e-12
        );
        assert_eq!(time_grid(4), vec![1.0, 0.75, 0.5, 0.25, 0.0]);
        assert!(s.validate().is_ok());
        assert!(NoiseSchedule { tr_min: 0.0, ..s }.validate().is_err());
    }

    #[test]
    fn g_squared_is_the_derivative_of_the_variance() {
        let s = NoiseSchedule::default();
        let (t, h) = (0.4, 1e-6);
        let var = |t: f64| s.sigmas(t).tr.powi(2);
        let dvar = (var(t + h) - var(t - h)) / (2.0 * h);
        assert!((s.diffusion_coefficients(t).tr.powi(2) - dvar).abs() / dvar < 1e-6);
        let rot_var = |t: f64| 2.0 * s.sigmas(t).rot.powi(2);
        let drot = (rot_var(t + h) - rot_var(t - h)) / (2.0 * h);
        assert!((s.diffusion_coefficients(t).rot.powi(2) - drot).abs() / drot < 1e-6);
    }
}
