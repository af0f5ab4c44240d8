//! Kabsch superposition and root-mean-square deviations.

use crate::chem::{centroid, Vec3};
use nalgebra::{Matrix3, Rotation3};

/// Optimal proper rotation `R` and translation `t` with `R * mobile + t ≈ target` (least squares).
///
/// Points are paired by index; extra points of the longer slice are ignored. Degenerate input
/// (fewer than two points, collinear points, non-finite coordinates) still gives a proper rotation.
pub fn kabsch(mobile: &[Vec3], target: &[Vec3]) -> (Rotation3<f64>, Vec3) {
    let n = mobile.len().min(target.len());
    let (mobile, target) = (&mobile[..n], &target[..n]);
    let (cm, ct) = (centroid(mobile), centroid(target));
    let covariance = mobile
        .iter()
        .zip(target)
        .fold(Matrix3::zeros(), |h, (m, t)| {
            h + (m - cm) * (t - ct).transpose()
        });
    let r = optimal_rotation(&covariance);
    (r, ct - r * cm)
}

/// Rotation maximising tr(R H) for a covariance `H = sum (m - cm)(t - ct)^T`, reflections excluded.
fn optimal_rotation(covariance: &Matrix3<f64>) -> Rotation3<f64> {
    let Some(svd) = covariance.try_svd(true, true, f64::EPSILON, 1000) else {
        return Rotation3::identity();
    };
    let (Some(u), Some(v_t)) = (svd.u, svd.v_t) else {
        return Rotation3::identity();
    };
    let mut correction = Vec3::repeat(1.0);
    if (v_t.transpose() * u.transpose()).determinant() < 0.0 {
        correction[svd.singular_values.imin()] = -1.0;
    }
    let r = v_t.transpose() * Matrix3::from_diagonal(&correction) * u.transpose();
    if r.iter().all(|x| x.is_finite()) {
        Rotation3::from_matrix_unchecked(r)
    } else {
        Rotation3::identity()
    }
}

/// Root-mean-square deviation between paired points, without alignment.
///
/// Returns 0 for two empty sets and NaN when the lengths differ.
pub fn rmsd(a: &[Vec3], b: &[Vec3]) -> f64 {
    if a.len() != b.len() {
        return f64::NAN;
    }
    if a.is_empty() {
        return 0.0;
    }
    let sum: f64 = a.iter().zip(b).map(|(p, q)| (p - q).norm_squared()).sum();
    (sum / a.len() as f64).sqrt()
}

/// `mobile` moved by its optimal Kabsch superposition onto `target` (see [`kabsch`]).
pub fn superpose(mobile: &[Vec3], target: &[Vec3]) -> Vec<Vec3> {
    let (r, t) = kabsch(mobile, target);
    mobile.iter().map(|p| r * p + t).collect()
}

/// RMSD after the optimal Kabsch superposition of `mobile` onto `target` (NaN when lengths differ).
pub fn aligned_rmsd(mobile: &[Vec3], target: &[Vec3]) -> f64 {
    if mobile.len() != target.len() {
        return f64::NAN;
    }
    rmsd(&superpose(mobile, target), target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::rotation_from_vector;

    fn cloud() -> Vec<Vec3> {
        vec![
            Vec3::new(0.0, 0.0, 0.0),
            Vec3::new(1.5, 0.0, 0.0),
            Vec3::new(2.0, 1.4, 0.0),
            Vec3::new(3.5, 1.5, 0.3),
            Vec3::new(4.0, 2.9, -0.8),
        ]
    }

    #[test]
    fn kabsch_recovers_a_known_rotation_and_translation() {
        let r0 = rotation_from_vector(&Vec3::new(0.4, -1.1, 2.0));
        let t0 = Vec3::new(3.0, -2.0, 7.5);
        let mobile = cloud();
        let target: Vec<Vec3> = mobile.iter().map(|p| r0 * p + t0).collect();
        let (r, t) = kabsch(&mobile, &target);
        assert!((r.matrix() - r0.matrix()).norm() < 1e-9);
        assert!((t - t0).norm() < 1e-9);
        assert!(aligned_rmsd(&mobile, &target) < 1e-9);
        assert!(rmsd(&mobile, &target) > 1.0);
    }

    #[test]
    fn kabsch_never_reflects() {
        let mobile = cloud();
        let mirrored: Vec<Vec3> = mobile.iter().map(|p| Vec3::new(-p.x, p.y, p.z)).collect();
        let (r, _) = kabsch(&mobile, &mirrored);
        assert!((r.matrix().determinant() - 1.0).abs() < 1e-9);
    }

    #[test]
    fn rmsd_edge_cases() {
        assert_eq!(rmsd(&[], &[]), 0.0);
        assert!(rmsd(&cloud(), &cloud()[..2]).is_nan());
        let (r, _) = kabsch(&[Vec3::new(f64::NAN, 0.0, 0.0)], &[Vec3::zeros()]);
        assert!(r.matrix().iter().all(|x| x.is_finite()));
    }
}
