//! Pure geometry on point sets: rotation vectors (exponential and logarithm maps of SO(3)),
//! Kabsch superposition, RMSD and symmetry-corrected RMSD over molecular-graph automorphisms.

mod rmsd;
mod symmetry;

pub use rmsd::{aligned_rmsd, kabsch, rmsd, superpose};
pub use symmetry::{automorphisms, ligand_automorphisms, symmetry_rmsd, Automorphisms};

use crate::chem::Vec3;
use nalgebra::{Matrix3, Rotation3};

/// Component-wise minimum and maximum of the finite points (zeros when there are none): the
/// box that grids, cell lists and pocket searches are laid over.
pub fn bounding_box(points: &[Vec3]) -> (Vec3, Vec3) {
    let mut finite = points.iter().filter(|p| p.iter().all(|v| v.is_finite()));
    let Some(first) = finite.next() else { return (Vec3::zeros(), Vec3::zeros()) };
    finite.fold((*first, *first), |(lo, hi), p| (lo.inf(p), hi.sup(p)))
}

/// Rotation for a rotation vector (unit axis times angle in radians): the exponential map of SO(3).
pub fn rotation_from_vector(v: &Vec3) -> Rotation3<f64> {
    Rotation3::new(*v)
}

/// Rotation vector (unit axis times angle in [0, pi]) of a rotation: the logarithm map of SO(3).
///
/// Stable near the identity and near half turns, where the axis is read from the symmetric part.
pub fn vector_from_rotation(r: &Rotation3<f64>) -> Vec3 {
    let m = r.matrix();
    let cos = ((m.trace() - 1.0) / 2.0).clamp(-1.0, 1.0);
    // skew = 2 sin(angle) axis
    let skew = Vec3::new(
        m[(2, 1)] - m[(1, 2)],
        m[(0, 2)] - m[(2, 0)],
        m[(1, 0)] - m[(0, 1)],
    );
    let sin = skew.norm() / 2.0;
    let angle = sin.atan2(cos);
    if cos > -0.9 {
        let factor = if sin < 1e-12 {
            0.5
        } else {
            angle / (2.0 * sin)
        };
        return skew * factor;
    }
    half_turn_axis(m, cos, &skew) * angle
}

/// Dihedral angle p0-p1-p2-p3 in (-pi, pi] (IUPAC sign: positive is clockwise looking down p1->p2).
///
/// Rotating p3 by `delta` about the axis p1->p2 (right-hand rule) increases it by `delta`.
pub fn dihedral(p0: &Vec3, p1: &Vec3, p2: &Vec3, p3: &Vec3) -> f64 {
    let (b1, b2, b3) = (p1 - p0, p2 - p1, p3 - p2);
    let n1 = b1.cross(&b2);
    let n2 = b2.cross(&b3);
    let y = b2.norm() * b1.dot(&n2);
    let x = n1.dot(&n2);
    y.atan2(x)
}

/// Unit axis of a rotation with angle near pi, from (R + R^T)/2 - cos I = (1 - cos) u u^T.
fn half_turn_axis(m: &Matrix3<f64>, cos: f64, skew: &Vec3) -> Vec3 {
    let outer = (m + m.transpose()) / 2.0 - Matrix3::identity() * cos;
    let k = (0..3).fold(0, |best, i| {
        if outer[(i, i)] > outer[(best, best)] {
            i
        } else {
            best
        }
    });
    let axis = outer.column(k).into_owned();
    let axis = axis / axis.norm().max(f64::MIN_POSITIVE);
    if axis.dot(skew) < 0.0 {
        -axis
    } else {
        axis
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounding_box_skips_non_finite_points() {
        let points = [Vec3::new(1.0, -2.0, 3.0), Vec3::new(f64::NAN, 9.0, 9.0), Vec3::new(-1.0, 4.0, 0.5)];
        assert_eq!(bounding_box(&points), (Vec3::new(-1.0, -2.0, 0.5), Vec3::new(1.0, 4.0, 3.0)));
        assert_eq!(bounding_box(&[]), (Vec3::zeros(), Vec3::zeros()));
        assert_eq!(bounding_box(&[Vec3::repeat(f64::INFINITY)]), (Vec3::zeros(), Vec3::zeros()));
    }

    #[test]
    fn exp_log_round_trip_including_half_turns() {
        let vectors = [
            Vec3::zeros(),
            Vec3::new(1e-9, 0.0, 0.0),
            Vec3::new(0.3, -0.2, 0.9),
            Vec3::new(0.0, 0.0, std::f64::consts::PI - 1e-7),
            Vec3::new(1.0, 2.0, -2.0).normalize() * 3.1,
        ];
        for v in vectors {
            let back = vector_from_rotation(&rotation_from_vector(&v));
            assert!((back - v).norm() < 1e-7, "{v:?} -> {back:?}");
        }
    }
}
