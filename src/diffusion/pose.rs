//! Pose updates: torsion changes, Kabsch re-alignment onto the pre-torsion ligand, rotation about
//! the centroid and translation, for one pose or a batch (a single pose is a batch of one).

use nalgebra::{Rotation3, Unit};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::chem::{centroid, Torsion, Vec3};
use crate::geometry::{dihedral, rotation_from_vector, superpose};

/// A change of pose: translation of the centroid, rotation about it and torsion-angle changes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PoseUpdate {
    /// Translation of the ligand centroid (Å).
    pub translation: Vec3,
    /// Rotation about the centroid as a rotation vector (axis times angle, radians).
    pub rotation: Vec3,
    /// Change of each torsion angle (radians), in the order of the ligand's torsions.
    pub torsions: Vec<f64>,
}

impl PoseUpdate {
    /// The update that changes nothing, for a ligand with `n_torsions` rotatable bonds.
    pub fn identity(n_torsions: usize) -> Self {
        PoseUpdate {
            translation: Vec3::zeros(),
            rotation: Vec3::zeros(),
            torsions: vec![0.0; n_torsions],
        }
    }
}

/// Applies `update` to a pose: sets the torsion changes (in order), re-aligns the changed ligand
/// onto `coords` with Kabsch (so torsions move neither centre nor orientation), then rotates about
/// the centroid and translates. Torsion changes beyond `torsions.len()` are ignored.
pub fn apply_update(coords: &[Vec3], torsions: &[Torsion], update: &PoseUpdate) -> Vec<Vec3> {
    let mut moved = coords.to_vec();
    if update.torsions.iter().zip(torsions).any(|(&d, _)| d != 0.0) {
        apply_torsions(&mut moved, torsions, &update.torsions);
        moved = superpose(&moved, coords);
    }
    let center = centroid(&moved);
    let rotation = rotation_from_vector(&update.rotation);
    moved
        .iter_mut()
        .for_each(|p| *p = rotation * (*p - center) + center + update.translation);
    moved
}

/// Applies `apply_update` to each pose with its update (in parallel); extra poses or updates are
/// ignored. All poses share the ligand's `torsions`.
pub fn apply_updates(
    poses: &[Vec<Vec3>],
    torsions: &[Torsion],
    updates: &[PoseUpdate],
) -> Vec<Vec<Vec3>> {
    poses
        .par_iter()
        .zip(updates)
        .map(|(pose, update)| apply_update(pose, torsions, update))
        .collect()
}

/// Rotates the moving side of each torsion by its delta about axis.0 -> axis.1 (right-hand rule),
/// in order, without re-alignment. Atom indices out of range are skipped.
pub fn apply_torsions(coords: &mut [Vec3], torsions: &[Torsion], deltas: &[f64]) {
    for (torsion, &delta) in torsions.iter().zip(deltas) {
        rotate_about_bond(coords, torsion, delta);
    }
}

/// Rotates the atoms of `torsion.moving` by `angle` about the bond axis.
fn rotate_about_bond(coords: &mut [Vec3], torsion: &Torsion, angle: f64) {
    let (Some(&from), Some(&to)) = (coords.get(torsion.axis.0), coords.get(torsion.axis.1)) else {
        return;
    };
    let Some(axis) = Unit::try_new(to - from, 1e-12) else {
        return;
    };
    let rotation = Rotation3::from_axis_angle(&axis, angle);
    for &i in &torsion.moving {
        if let Some(p) = coords.get_mut(i) {
            *p = rotation * (*p - to) + to;
        }
    }
}

/// Torsion angle of each rotatable bond: the dihedral n0-axis.0-axis.1-n1 with each side's
/// [`dihedral_reference`] (`neighbours` as from `Ligand::neighbours`). NaN where a side has no
/// other neighbour or an index is out of range.
pub fn torsion_angles(
    coords: &[Vec3],
    torsions: &[Torsion],
    neighbours: &[Vec<usize>],
) -> Vec<f64> {
    torsions
        .iter()
        .map(|t| torsion_angle(coords, t, neighbours).unwrap_or(f64::NAN))
        .collect()
}

/// The lowest-numbered neighbour of `atom` other than `other`: with the bond `atom`-`other` it
/// fixes the dihedral angle that turning the bond changes (None when there is no such neighbour).
pub fn dihedral_reference(neighbours: &[Vec<usize>], atom: usize, other: usize) -> Option<usize> {
    neighbours.get(atom)?.iter().copied().filter(|&n| n != other).min()
}

/// Dihedral of one torsion, if defined.
fn torsion_angle(coords: &[Vec3], torsion: &Torsion, neighbours: &[Vec<usize>]) -> Option<f64> {
    let (a, b) = torsion.axis;
    let (n0, n1) = (dihedral_reference(neighbours, a, b)?, dihedral_reference(neighbours, b, a)?);
    Some(dihedral(coords.get(n0)?, coords.get(a)?, coords.get(b)?, coords.get(n1)?))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::diffusion::torus::wrap;

    /// A non-planar hexane-like chain 0-1-2-3-4-5 with torsions about 1-2 and 2-3.
    pub(crate) fn hexane() -> (Vec<Vec3>, Vec<Torsion>, Vec<Vec<usize>>) {
        let coords = vec![
            Vec3::new(0.0, 0.0, 0.0),
            Vec3::new(1.5, 0.0, 0.0),
            Vec3::new(2.0, 1.4, 0.0),
            Vec3::new(3.5, 1.5, 0.3),
            Vec3::new(4.0, 2.9, -0.8),
            Vec3::new(5.5, 3.0, -0.5),
        ];
        let torsions = vec![
            Torsion {
                axis: (1, 2),
                moving: vec![3, 4, 5],
            },
            Torsion {
                axis: (2, 3),
                moving: vec![4, 5],
            },
        ];
        let neighbours = (0..6usize)
            .map(|i| {
                [i.checked_sub(1), (i < 5).then_some(i + 1)]
                    .into_iter()
                    .flatten()
                    .collect()
            })
            .collect();
        (coords, torsions, neighbours)
    }

    fn internal_geometry(c: &[Vec3]) -> Vec<f64> {
        let bonds = (0..c.len() - 1).map(|i| (c[i + 1] - c[i]).norm());
        let angles = (0..c.len() - 2).map(|i| (c[i] - c[i + 1]).angle(&(c[i + 2] - c[i + 1])));
        bonds.chain(angles).collect()
    }

    fn update() -> PoseUpdate {
        PoseUpdate {
            translation: Vec3::new(1.0, -2.0, 0.5),
            rotation: Vec3::new(0.3, 1.2, -0.4),
            torsions: vec![1.1, -2.3],
        }
    }

    #[test]
    fn updates_keep_bond_lengths_and_angles() {
        let (coords, torsions, _) = hexane();
        let moved = apply_update(&coords, &torsions, &update());
        for (a, b) in internal_geometry(&coords)
            .iter()
            .zip(internal_geometry(&moved))
        {
            assert!((a - b).abs() < 1e-10);
        }
    }

    #[test]
    fn torsion_changes_keep_centroid_and_orientation() {
        let (coords, torsions, _) = hexane();
        let only_torsions = PoseUpdate {
            torsions: vec![0.7, 2.0],
            ..PoseUpdate::identity(2)
        };
        let moved = apply_update(&coords, &torsions, &only_torsions);
        assert!((centroid(&moved) - centroid(&coords)).norm() < 1e-10);
        let (r, _) = crate::geometry::kabsch(&moved, &coords);
        assert!(crate::geometry::vector_from_rotation(&r).norm() < 1e-9);
        assert!(moved.iter().zip(&coords).any(|(a, b)| (a - b).norm() > 0.1));
    }

    #[test]
    fn rigid_part_moves_the_centroid_by_the_translation() {
        let (coords, torsions, _) = hexane();
        let moved = apply_update(&coords, &torsions, &update());
        assert!((centroid(&moved) - centroid(&coords) - update().translation).norm() < 1e-10);
    }

    #[test]
    fn torsion_angles_change_by_the_deltas() {
        let (coords, torsions, neighbours) = hexane();
        let before = torsion_angles(&coords, &torsions, &neighbours);
        let moved = apply_update(&coords, &torsions, &update());
        let after = torsion_angles(&moved, &torsions, &neighbours);
        for ((b, a), d) in before.iter().zip(&after).zip(&update().torsions) {
            assert!(wrap(a - b - d).abs() < 1e-10, "{b} -> {a}, delta {d}");
        }
        assert!(torsion_angles(
            &coords,
            &[Torsion {
                axis: (0, 1),
                moving: vec![]
            }],
            &neighbours
        )[0]
        .is_nan());
    }

    #[test]
    fn batch_equals_single_and_bad_indices_are_skipped() {
        let (coords, torsions, _) = hexane();
        let batch = apply_updates(
            &[coords.clone(), coords.clone()],
            &torsions,
            &[update(), PoseUpdate::identity(2)],
        );
        assert_eq!(batch[0], apply_update(&coords, &torsions, &update()));
        assert!(batch[1]
            .iter()
            .zip(&coords)
            .all(|(a, b)| (a - b).norm() < 1e-12));
        let mut c = coords.clone();
        apply_torsions(
            &mut c,
            &[
                Torsion {
                    axis: (0, 99),
                    moving: vec![3],
                },
                Torsion {
                    axis: (1, 2),
                    moving: vec![42],
                },
            ],
            &[1.0, 1.0],
        );
        assert_eq!(c, coords);
    }
}
