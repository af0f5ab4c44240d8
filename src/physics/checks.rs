//! PoseBusters-style physical validity checks of a ligand pose (Buttenschoen, Morris & Deane,
//! Chem. Sci. 2024), against the RDKit reference conformer and the protein's heavy atoms.
//!
//! Thresholds (PoseBusters defaults where one exists):
//! - bond lengths: each within 25 % of the reference conformer's length;
//! - bond angles: each 1-3 distance (the angle's opposite side) within 25 % of the reference;
//! - internal clashes: atom pairs more than three bonds apart may not come closer than
//!   0.7 x the sum of their van der Waals radii, unless the reference conformer already has them
//!   that close (rigid ring systems), in which case they may not shrink below 75 % of it;
//! - aromatic planarity: each aromatic ring system within 0.25 Å of its best-fit plane;
//! - protein clashes: no ligand-protein heavy-atom distance below 0.75 x the vdW radius sum;
//! - volume overlap: at most 7.5 % of the ligand's volume (vdW spheres scaled by 0.8) inside the
//!   protein's (same scaling), estimated on a 0.3 Å lattice.
//!
//! Bondi van der Waals radii; metal ions get 1.0 Å because they coordinate ligand atoms at about
//! 2 Å. Waters are ignored (PoseBusters checks them separately, with a laxer threshold).

use serde::Serialize;

use super::grid::lattice_range;
use crate::geometry::bounding_box;
use crate::graph::CellList;
use crate::chem::{Ligand, Protein, Vec3};
use crate::error::{Error, Result};

/// Largest relative deviation of a bond length or 1-3 distance from the reference.
const GEOMETRY_TOLERANCE: f64 = 0.25;
/// Internal clash threshold as a fraction of the vdW radius sum.
const INTERNAL_CLASH_SCALE: f64 = 0.7;
/// Internal clash threshold as a fraction of the reference distance (for pairs close there).
const INTERNAL_REFERENCE_SCALE: f64 = 0.75;
/// Largest distance of an aromatic atom from its ring system's best-fit plane, in Å.
const AROMATIC_PLANE_TOLERANCE: f64 = 0.25;
/// Protein clash threshold as a fraction of the vdW radius sum.
const PROTEIN_CLASH_SCALE: f64 = 0.75;
/// Scaling of vdW radii for the volume overlap.
const VOLUME_RADIUS_SCALE: f64 = 0.8;
/// Largest allowed share of the ligand volume inside the protein.
const MAX_VOLUME_OVERLAP: f64 = 0.075;
/// Lattice spacing for the volume estimate, in Å.
const VOLUME_SPACING: f64 = 0.3;

/// Outcome of the validity checks for one pose.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PoseChecks {
    /// All bond lengths within tolerance of the reference conformer.
    pub bond_lengths_ok: bool,
    /// All bond angles (1-3 distances) within tolerance of the reference conformer.
    pub bond_angles_ok: bool,
    /// No intramolecular clash.
    pub internal_clash_free: bool,
    /// All aromatic ring systems planar.
    pub aromatic_planar: bool,
    /// No ligand-protein heavy-atom clash.
    pub protein_clash_free: bool,
    /// Volume overlap with the protein below the limit.
    pub volume_overlap_ok: bool,
    /// Shortest ligand-protein heavy-atom distance in Å (infinite, serialised as null, when the
    /// protein has no atoms).
    pub min_protein_distance: f64,
    /// Share of the ligand volume inside the protein (0 to 1).
    pub volume_overlap: f64,
    /// All checks passed.
    pub pb_valid: bool,
}

/// Checks `pose` (coordinates of `ligand`'s atoms) against the `reference` conformer and `protein`.
pub fn check_pose(ligand: &Ligand, pose: &[Vec3], reference: &[Vec3], protein: &Protein) -> Result<PoseChecks> {
    let n = ligand.len();
    if pose.len() != n || reference.len() != n || ligand.bonds.iter().any(|b| b.begin >= n || b.end >= n) {
        return Err(Error::invalid(
            "pose checks",
            format!("{} pose and {} reference coordinates for a ligand of {n} atoms", pose.len(), reference.len()),
        ));
    }
    if pose.iter().chain(reference).any(|p| !p.iter().all(|v| v.is_finite())) {
        return Err(Error::invalid("pose checks", "non-finite coordinates"));
    }
    let neighbours = ligand.neighbours();
    let radii: Vec<f64> = ligand.atoms.iter().map(|a| vdw_radius(a.element)).collect();
    let near = nearby_protein_atoms(protein, pose);
    let min_protein_distance = near.iter().flat_map(|(q, _)| pose.iter().map(move |p| (p - q).norm())).fold(f64::INFINITY, f64::min);
    let volume_overlap = volume_overlap(pose, &radii, &near);
    let mut checks = PoseChecks {
        bond_lengths_ok: bonds_ok(ligand, pose, reference),
        bond_angles_ok: angles_ok(&neighbours, pose, reference),
        internal_clash_free: internal_clash_free(&neighbours, &radii, pose, reference),
        aromatic_planar: aromatic_planar(ligand, pose),
        protein_clash_free: protein_clash_free(pose, &radii, &near),
        volume_overlap_ok: volume_overlap <= MAX_VOLUME_OVERLAP,
        min_protein_distance,
        volume_overlap,
        pb_valid: false,
    };
    checks.pb_valid = checks.bond_lengths_ok
        && checks.bond_angles_ok
        && checks.internal_clash_free
        && checks.aromatic_planar
        && checks.protein_clash_free
        && checks.volume_overlap_ok;
    Ok(checks)
}

/// Bondi van der Waals radius of an element in Å (1.0 for metal ions, 1.8 when unknown).
pub fn vdw_radius(element: u8) -> f64 {
    match element {
        1 => 1.2,
        5 => 1.92,
        6 => 1.7,
        7 => 1.55,
        8 => 1.52,
        9 => 1.47,
        14 => 2.1,
        15 | 16 => 1.8,
        17 => 1.75,
        34 => 1.9,
        35 => 1.85,
        53 => 1.98,
        11 | 12 | 19 | 20 | 25..=30 => 1.0,
        _ => 1.8,
    }
}

/// Whether distance `a`-`b` in `pose` is within tolerance of the same distance in `reference`.
fn distance_within_tolerance(pose: &[Vec3], reference: &[Vec3], a: usize, b: usize) -> bool {
    let want = (reference[a] - reference[b]).norm();
    let got = (pose[a] - pose[b]).norm();
    (got - want).abs() <= GEOMETRY_TOLERANCE * want
}

fn bonds_ok(ligand: &Ligand, pose: &[Vec3], reference: &[Vec3]) -> bool {
    ligand.bonds.iter().all(|b| distance_within_tolerance(pose, reference, b.begin, b.end))
}

/// Checks every angle a-centre-b through its 1-3 distance a-b.
fn angles_ok(neighbours: &[Vec<usize>], pose: &[Vec3], reference: &[Vec3]) -> bool {
    neighbours.iter().all(|nbrs| {
        nbrs.iter().enumerate().all(|(k, &a)| nbrs[k + 1..].iter().all(|&b| distance_within_tolerance(pose, reference, a, b)))
    })
}

/// Flags of the atoms within three bonds of `start`.
fn within_three_bonds(neighbours: &[Vec<usize>], start: usize) -> Vec<bool> {
    let mut near = vec![false; neighbours.len()];
    near[start] = true;
    let mut frontier = vec![start];
    for _ in 0..3 {
        let next: Vec<usize> = frontier.iter().flat_map(|&a| neighbours[a].iter().copied()).filter(|&b| !near[b]).collect();
        next.iter().for_each(|&b| near[b] = true);
        frontier = next;
    }
    near
}

fn internal_clash_free(neighbours: &[Vec<usize>], radii: &[f64], pose: &[Vec3], reference: &[Vec3]) -> bool {
    (0..pose.len()).all(|i| {
        let near = within_three_bonds(neighbours, i);
        (i + 1..pose.len()).filter(|&j| !near[j]).all(|j| {
            let limit = INTERNAL_CLASH_SCALE * (radii[i] + radii[j]);
            let reference_limit = INTERNAL_REFERENCE_SCALE * (reference[i] - reference[j]).norm();
            (pose[i] - pose[j]).norm() >= limit.min(reference_limit)
        })
    })
}

/// Aromatic ring systems: connected components of aromatic ring bonds (atoms of each).
fn aromatic_systems(ligand: &Ligand) -> Vec<Vec<usize>> {
    use crate::chem::BondOrder;
    let n = ligand.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn root(parent: &mut [usize], mut a: usize) -> usize {
        while parent[a] != a {
            parent[a] = parent[parent[a]];
            a = parent[a];
        }
        a
    }
    let aromatic = |b: &&crate::chem::LigandBond| {
        b.in_ring && (b.order == BondOrder::Aromatic || (ligand.atoms[b.begin].aromatic && ligand.atoms[b.end].aromatic))
    };
    let mut member = vec![false; n];
    for b in ligand.bonds.iter().filter(aromatic) {
        let (ra, rb) = (root(&mut parent, b.begin), root(&mut parent, b.end));
        parent[ra] = rb;
        member[b.begin] = true;
        member[b.end] = true;
    }
    let mut systems: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for a in (0..n).filter(|&a| member[a]) {
        systems.entry(root(&mut parent, a)).or_default().push(a);
    }
    systems.into_values().collect()
}

/// Largest distance of `points` from their least-squares plane.
fn plane_deviation(points: &[Vec3]) -> f64 {
    let centre = crate::chem::centroid(points);
    let cov = points.iter().fold(nalgebra::Matrix3::zeros(), |m, p| m + (p - centre) * (p - centre).transpose());
    let eigen = cov.symmetric_eigen();
    let normal = eigen.eigenvectors.column(eigen.eigenvalues.imin()).into_owned();
    points.iter().map(|p| (p - centre).dot(&normal).abs()).fold(0.0, f64::max)
}

fn aromatic_planar(ligand: &Ligand, pose: &[Vec3]) -> bool {
    aromatic_systems(ligand).iter().all(|system| {
        let points: Vec<Vec3> = system.iter().map(|&a| pose[a]).collect();
        plane_deviation(&points) <= AROMATIC_PLANE_TOLERANCE
    })
}

/// Protein heavy atoms (position, vdW radius) within 8 Å of the pose's bounding box, waters excluded.
fn nearby_protein_atoms(protein: &Protein, pose: &[Vec3]) -> Vec<(Vec3, f64)> {
    let (lo, hi) = bounding_box(pose);
    let margin = Vec3::repeat(8.0);
    let (lo, hi) = (lo - margin, hi + margin);
    let is_water = |r: usize| protein.residues.get(r).is_some_and(|res| matches!(res.name.as_str(), "HOH" | "WAT" | "DOD"));
    protein
        .atoms
        .iter()
        .filter(|a| !is_water(a.residue) && (0..3).all(|k| a.coord[k] >= lo[k] && a.coord[k] <= hi[k]))
        .map(|a| (a.coord, vdw_radius(a.element)))
        .collect()
}

fn protein_clash_free(pose: &[Vec3], radii: &[f64], near: &[(Vec3, f64)]) -> bool {
    pose.iter().zip(radii).all(|(p, r)| near.iter().all(|(q, rq)| (p - q).norm() >= PROTEIN_CLASH_SCALE * (r + rq)))
}

/// Whether `p` lies inside any of `spheres` (centre, radius) that `cells` lists near it.
fn inside_any(p: &Vec3, spheres: &[(Vec3, f64)], cells: &CellList, reach: f64, mut accept: impl FnMut(usize) -> bool) -> bool {
    let mut inside = false;
    cells.for_each_within(p, reach, |k, _| {
        let (c, r) = spheres[k];
        inside |= accept(k) && (p - c).norm_squared() < r * r;
    });
    inside
}

/// Share of the ligand's volume (scaled vdW spheres) inside the protein's scaled vdW spheres,
/// counted on a lattice: each lattice point is visited through the first ligand sphere holding it.
fn volume_overlap(pose: &[Vec3], radii: &[f64], near: &[(Vec3, f64)]) -> f64 {
    if pose.is_empty() || near.is_empty() {
        return 0.0;
    }
    let scaled = |(c, r): (Vec3, f64)| (c, r * VOLUME_RADIUS_SCALE);
    let ligand: Vec<(Vec3, f64)> = pose.iter().copied().zip(radii.iter().copied()).map(scaled).collect();
    let protein: Vec<(Vec3, f64)> = near.iter().copied().map(scaled).collect();
    let reach = ligand.iter().chain(&protein).fold(0.0, |m, s| s.1.max(m));
    let ligand_cells = CellList::new(&ligand.iter().map(|s| s.0).collect::<Vec<_>>(), reach.max(0.5));
    let protein_cells = CellList::new(&protein.iter().map(|s| s.0).collect::<Vec<_>>(), reach.max(0.5));
    let (origin, h) = (bounding_box(pose).0 - Vec3::repeat(reach), VOLUME_SPACING);
    let (mut total, mut shared) = (0usize, 0usize);
    for (i, &(c, r)) in ligand.iter().enumerate() {
        let n = usize::MAX / 4; // the lattice is unbounded: it reaches as far as the spheres
        for a in lattice_range(c.x, r, origin.x, h, n) {
            let x = origin.x + a as f64 * h;
            for b in lattice_range(c.y, (r * r - (x - c.x).powi(2)).max(0.0).sqrt(), origin.y, h, n) {
                let y = origin.y + b as f64 * h;
                let reach_z = (r * r - (x - c.x).powi(2) - (y - c.y).powi(2)).max(0.0).sqrt();
                for k in lattice_range(c.z, reach_z, origin.z, h, n) {
                    let p = Vec3::new(x, y, origin.z + k as f64 * h);
                    if (p - c).norm_squared() >= r * r || inside_any(&p, &ligand, &ligand_cells, reach, |j| j < i) {
                        continue;
                    }
                    total += 1;
                    shared += inside_any(&p, &protein, &protein_cells, reach, |_| true) as usize;
                }
            }
        }
    }
    if total == 0 {
        0.0
    } else {
        shared as f64 / total as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::physics::vina::tests::{toy_ligand, toy_protein};

    #[test]
    fn clean_pose_passes() {
        let (ligand, _) = toy_ligand();
        let checks = check_pose(&ligand, &ligand.coords, &ligand.coords, &toy_protein()).unwrap();
        assert!(checks.pb_valid, "{checks:?}");
        assert!(checks.min_protein_distance > 3.0);
        assert_eq!(checks.volume_overlap, 0.0);
    }

    #[test]
    fn stretched_bond_fails() {
        let (ligand, _) = toy_ligand();
        let mut pose = ligand.coords.clone();
        let stretch = (pose[8] - pose[7]) * 0.5;
        pose[8] += stretch;
        let checks = check_pose(&ligand, &pose, &ligand.coords, &toy_protein()).unwrap();
        assert!(!checks.bond_lengths_ok && !checks.pb_valid);
        assert!(checks.aromatic_planar);
    }

    #[test]
    fn bent_ring_and_internal_clash_fail() {
        let (ligand, _) = toy_ligand();
        let mut bent = ligand.coords.clone();
        bent[3].z += 0.6;
        assert!(!check_pose(&ligand, &bent, &ligand.coords, &toy_protein()).unwrap().aromatic_planar);
        let mut folded = ligand.coords.clone();
        folded[9] = ligand.coords[3] + Vec3::new(0.0, 0.0, 1.2);
        let checks = check_pose(&ligand, &folded, &ligand.coords, &toy_protein()).unwrap();
        assert!(!checks.internal_clash_free);
    }

    #[test]
    fn overlap_with_protein_fails() {
        let (ligand, _) = toy_ligand();
        let mut protein = toy_protein();
        let template = protein.atoms[0].clone();
        for p in &ligand.coords[..6] {
            protein.atoms.push(crate::chem::ProteinAtom { coord: p + Vec3::new(0.0, 0.0, 1.0), ..template.clone() });
        }
        let checks = check_pose(&ligand, &ligand.coords, &ligand.coords, &protein).unwrap();
        assert!(!checks.protein_clash_free && !checks.volume_overlap_ok && !checks.pb_valid);
        assert!(checks.volume_overlap > 0.075 && checks.min_protein_distance < 1.01);
    }

    #[test]
    fn mismatched_lengths_are_errors() {
        let (ligand, _) = toy_ligand();
        assert!(check_pose(&ligand, &ligand.coords[..2], &ligand.coords, &toy_protein()).is_err());
    }

    #[test]
    fn serialises() {
        let (ligand, _) = toy_ligand();
        let checks = check_pose(&ligand, &ligand.coords, &ligand.coords, &toy_protein()).unwrap();
        assert!(serde_json::to_string(&checks).unwrap().contains("pb_valid"));
    }
}
