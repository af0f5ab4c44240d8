//! Pocket detection for blind docking: buried empty space on a grid, LIGSITE-style.
//!
//! A lattice point is empty when no protein heavy atom lies within `clearance`; it is a pocket
//! point when, along at least `min_lines` of the seven lattice lines through it (three axes, four
//! body diagonals), protein lies on both sides within `ray_length` (a protein-solvent-protein
//! event). Connected pocket points form pockets, ranked by their summed buriedness (volume
//! weighted by the number of enclosing lines).
//!
//! Optionally ([`PocketSearch::split_distance`]) a pocket is split into sites around its
//! hotspots, so that a cavity larger than a docking box gives several boxes centred where it is
//! deep. That finds more crystal pockets among the first three but docked val worse blind
//! (twelfth session, MODEL_CARD.md), so it is off by default.
//!
//! Why: the score network was trained on pocket crops, so blind docking samples better inside a
//! few candidate pockets than over a whole protein it never saw at training.

use crate::chem::{Protein, Vec3};
use crate::geometry::bounding_box;
use rayon::prelude::*;
use serde::Serialize;

/// Settings of the pocket search.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PocketSearch {
    /// Lattice spacing (Å).
    pub spacing: f64,
    /// Empty points are at least this far from every protein heavy atom (Å).
    pub clearance: f64,
    /// Longest distance a line is followed in each direction (Å).
    pub ray_length: f64,
    /// Enclosing lines (of 7) needed for a pocket point.
    pub min_lines: usize,
    /// Smallest pocket kept (lattice points).
    pub min_points: usize,
    /// Radius of the hotspot a pocket is centred on (Å): the centre is the buriedness-weighted
    /// centroid of the points within this radius of the point whose neighbourhood is most buried,
    /// so that a large, branched cavity is centred where it is deepest rather than at its
    /// centroid, which may lie outside the space a ligand fills. 0: the centroid of all points.
    pub hotspot_radius: f64,
    /// Splits pockets into sites (Å; 0: one site per pocket): the points within this distance
    /// of the hotspot centre form a site, and the rest is split again while at least
    /// `min_points` remain, so that a cavity larger than a docking box gives several boxes.
    pub split_distance: f64,
}

impl Default for PocketSearch {
    fn default() -> Self {
        PocketSearch { spacing: 1.0, clearance: 3.0, ray_length: 10.0, min_lines: 5, min_points: 20, hotspot_radius: 0.0, split_distance: 0.0 }
    }
}

/// One candidate pocket.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PocketSite {
    /// Buriedness-weighted centre of its points (Å).
    pub center: Vec3,
    /// Volume of its points (Å^3).
    pub volume: f64,
    /// Mean number of enclosing lines (5-7).
    pub buriedness: f64,
    /// Ranking score: the summed enclosing lines of its points.
    pub score: f64,
    /// Edge lengths of the points' bounding box (Å).
    pub extent: Vec3,
}

/// The seven lattice lines: three axes and four body diagonals.
const LINES: [[i64; 3]; 7] = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1], [1, 1, -1], [1, -1, 1], [-1, 1, 1]];

/// A boolean lattice over a box.
struct Lattice {
    origin: Vec3,
    spacing: f64,
    dims: [usize; 3],
}

impl Lattice {
    fn index(&self, [i, j, k]: [usize; 3]) -> usize {
        (i * self.dims[1] + j) * self.dims[2] + k
    }

    fn point(&self, [i, j, k]: [usize; 3]) -> Vec3 {
        self.origin + Vec3::new(i as f64, j as f64, k as f64) * self.spacing
    }

    fn cell(&self, n: usize) -> [usize; 3] {
        let (ny, nz) = (self.dims[1], self.dims[2]);
        [n / (ny * nz), (n / nz) % ny, n % nz]
    }

    fn step(&self, c: [usize; 3], d: [i64; 3], times: i64) -> Option<[usize; 3]> {
        let mut out = [0; 3];
        for a in 0..3 {
            let v = c[a] as i64 + d[a] * times;
            if v < 0 || v >= self.dims[a] as i64 {
                return None;
            }
            out[a] = v as usize;
        }
        Some(out)
    }

    fn len(&self) -> usize {
        self.dims.iter().product()
    }
}

/// Finds pockets of `protein`, best first. Returns nothing for a protein without atoms or
/// without enclosed empty space.
pub fn find_pockets(protein: &Protein, search: &PocketSearch) -> Vec<PocketSite> {
    let atoms: Vec<Vec3> = protein.atoms.iter().map(|a| a.coord).collect();
    if atoms.is_empty() || !(search.spacing > 0.0) {
        return Vec::new();
    }
    let (lo, hi) = bounding_box(&atoms);
    let dims = [0, 1, 2].map(|a| ((hi[a] - lo[a]) / search.spacing).ceil() as usize + 1);
    let lattice = Lattice { origin: lo, spacing: search.spacing, dims };
    let occupied = occupancy(&lattice, &atoms, search.clearance);
    let lines = enclosing_lines(&lattice, &occupied, search.ray_length);
    let mut sites: Vec<PocketSite> = clusters(&lattice, &lines, search.min_lines)
        .into_iter()
        .filter(|c| c.len() >= search.min_points)
        .flat_map(|c| split_sites(&lattice, &lines, c, search))
        .collect();
    sites.sort_by(|a, b| b.score.total_cmp(&a.score));
    sites
}

/// Marks the lattice points within `clearance` of an atom.
fn occupancy(lattice: &Lattice, atoms: &[Vec3], clearance: f64) -> Vec<bool> {
    let mut occupied = vec![false; lattice.len()];
    let reach = (clearance / lattice.spacing).ceil() as i64;
    for atom in atoms {
        let c = [0, 1, 2].map(|a| ((atom[a] - lattice.origin[a]) / lattice.spacing).round() as i64);
        for di in -reach..=reach {
            for dj in -reach..=reach {
                for dk in -reach..=reach {
                    let cell = [c[0] + di, c[1] + dj, c[2] + dk];
                    if (0..3).any(|a| cell[a] < 0 || cell[a] >= lattice.dims[a] as i64) {
                        continue;
                    }
                    let cell = cell.map(|v| v as usize);
                    if (lattice.point(cell) - atom).norm() < clearance {
                        occupied[lattice.index(cell)] = true;
                    }
                }
            }
        }
    }
    occupied
}

/// For each empty point, the number of lines with protein on both sides within `ray_length`.
fn enclosing_lines(lattice: &Lattice, occupied: &[bool], ray_length: f64) -> Vec<u8> {
    (0..lattice.len())
        .into_par_iter()
        .map(|n| {
            if occupied[n] {
                return 0;
            }
            let c = lattice.cell(n);
            let hits = |d: [i64; 3]| {
                let steps = (ray_length / (lattice.spacing * norm(d))).floor() as i64;
                (1..=steps).map_while(|t| lattice.step(c, d, t)).any(|p| occupied[lattice.index(p)])
            };
            LINES.iter().filter(|&&d| hits(d) && hits(d.map(|v| -v))).count() as u8
        })
        .collect()
}

fn norm(d: [i64; 3]) -> f64 {
    ((d[0] * d[0] + d[1] * d[1] + d[2] * d[2]) as f64).sqrt()
}

/// Connected components (26-neighbourhood) of the points with at least `min_lines` lines.
fn clusters(lattice: &Lattice, lines: &[u8], min_lines: usize) -> Vec<Vec<usize>> {
    let pocket = |n: usize| lines[n] as usize >= min_lines;
    let mut seen = vec![false; lattice.len()];
    let mut out = Vec::new();
    for start in 0..lattice.len() {
        if seen[start] || !pocket(start) {
            continue;
        }
        seen[start] = true;
        let (mut stack, mut members) = (vec![start], Vec::new());
        while let Some(n) = stack.pop() {
            members.push(n);
            let c = lattice.cell(n);
            for d in neighbour_offsets() {
                if let Some(p) = lattice.step(c, d, 1) {
                    let m = lattice.index(p);
                    if !seen[m] && pocket(m) {
                        seen[m] = true;
                        stack.push(m);
                    }
                }
            }
        }
        out.push(members);
    }
    out
}

fn neighbour_offsets() -> impl Iterator<Item = [i64; 3]> {
    (0..27).map(|k| [k / 9 - 1, (k / 3) % 3 - 1, k % 3 - 1]).filter(|d| *d != [0, 0, 0])
}

/// The sites of one cluster: the whole cluster, or its hotspots split off one by one.
fn split_sites(lattice: &Lattice, lines: &[u8], members: Vec<usize>, search: &PocketSearch) -> Vec<PocketSite> {
    let mut cloud: Vec<(Vec3, f64)> = members.iter().map(|&n| (lattice.point(lattice.cell(n)), lines[n] as f64)).collect();
    if !(search.split_distance > 0.0) {
        let centre = hotspot_centre(&cloud, search.hotspot_radius);
        return vec![site(&cloud, lattice.spacing, centre)];
    }
    let mut out = Vec::new();
    while cloud.len() >= search.min_points {
        let centre = hotspot_centre(&cloud, search.hotspot_radius);
        let (near, rest): (Vec<_>, Vec<_>) = cloud.into_iter().partition(|(p, _)| (p - centre).norm() <= search.split_distance);
        if near.is_empty() {
            break;
        }
        out.push(site(&near, lattice.spacing, centre));
        cloud = rest;
    }
    out
}

/// Summarises lattice points (with their enclosing-line weights) as a site centred at `center`.
fn site(cloud: &[(Vec3, f64)], spacing: f64, center: Vec3) -> PocketSite {
    let points: Vec<Vec3> = cloud.iter().map(|(p, _)| *p).collect();
    let score: f64 = cloud.iter().map(|(_, w)| w).sum();
    let (lo, hi) = bounding_box(&points);
    PocketSite {
        center,
        volume: cloud.len() as f64 * spacing.powi(3),
        buriedness: score / cloud.len() as f64,
        score,
        extent: hi - lo,
    }
}

/// Weighted centroid of the points within `radius` of the point whose neighbourhood of that
/// radius carries the most weight; of all points when `radius` is 0.
fn hotspot_centre(cloud: &[(Vec3, f64)], radius: f64) -> Vec3 {
    let within = |p: &Vec3, c: &Vec3| (p - c).norm() <= radius;
    let mass_near = |c: &Vec3| cloud.iter().filter(|(p, _)| within(p, c)).map(|(_, w)| w).sum::<f64>();
    let seed = (radius > 0.0)
        .then(|| cloud.iter().map(|(c, _)| (*c, mass_near(c))).max_by(|a, b| a.1.total_cmp(&b.1)).map(|(c, _)| c))
        .flatten();
    let in_hotspot = |p: &Vec3| seed.is_none_or(|c| within(p, &c));
    let (sum, mass) = cloud.iter().filter(|(p, _)| in_hotspot(p)).fold((Vec3::zeros(), 0.0), |(s, m), (p, w)| (s + p * *w, m + w));
    sum / mass
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chem::ProteinAtom;

    fn atom(coord: Vec3) -> ProteinAtom {
        ProteinAtom { name: "C".into(), element: 6, coord, residue: 0, hetero: false }
    }

    /// A closed spherical shell of atoms (radius `r`) with a hole of angular radius `hole` around +z.
    fn shell(center: Vec3, r: f64, hole: f64) -> Vec<ProteinAtom> {
        let mut atoms = Vec::new();
        let n = (4.0 * std::f64::consts::PI * r * r / 1.5).ceil() as usize;
        for k in 0..n {
            // Fibonacci sphere
            let z = 1.0 - 2.0 * (k as f64 + 0.5) / n as f64;
            let phi = k as f64 * std::f64::consts::PI * (3.0 - 5f64.sqrt());
            let s = (1.0 - z * z).sqrt();
            if z.acos() < hole {
                continue;
            }
            atoms.push(atom(center + Vec3::new(s * phi.cos(), s * phi.sin(), z) * r));
        }
        atoms
    }

    fn protein(atoms: Vec<ProteinAtom>) -> Protein {
        Protein { name: "toy".into(), residues: Vec::new(), atoms }
    }

    #[test]
    fn finds_the_cavity_of_an_open_shell_and_ranks_the_bigger_one_first() {
        let small = Vec3::new(30.0, 0.0, 0.0);
        let mut atoms = shell(Vec3::zeros(), 9.0, 0.5);
        atoms.extend(shell(small, 6.5, 0.5));
        let sites = find_pockets(&protein(atoms), &PocketSearch::default());
        assert!(sites.len() >= 2, "{sites:?}");
        assert!(sites[0].center.norm() < 2.0, "biggest pocket at {:?}", sites[0].center);
        assert!((sites[1].center - small).norm() < 2.0, "second pocket at {:?}", sites[1].center);
        assert!(sites[0].volume > sites[1].volume);
    }

    /// A closed cylindrical tube of atoms along x: radius `r`, from x = 0 to `length`.
    fn tube(r: f64, length: f64) -> Vec<ProteinAtom> {
        let around = (2.0 * std::f64::consts::PI * r / 1.5).ceil() as usize;
        let mut atoms = Vec::new();
        for i in 0..=(length / 1.5) as usize {
            for k in 0..around {
                let phi = 2.0 * std::f64::consts::PI * k as f64 / around as f64;
                atoms.push(atom(Vec3::new(i as f64 * 1.5, r * phi.cos(), r * phi.sin())));
            }
        }
        for x in [0.0, length] {
            for i in -(r as i64)..=(r as i64) {
                for j in -(r as i64)..=(r as i64) {
                    if ((i * i + j * j) as f64) < r * r {
                        atoms.push(atom(Vec3::new(x, i as f64, j as f64)));
                    }
                }
            }
        }
        atoms
    }

    #[test]
    fn a_cavity_longer_than_a_box_is_split_into_sites_along_it() {
        let long = protein(tube(6.0, 45.0));
        let whole = find_pockets(&long, &PocketSearch::default());
        assert_eq!(whole.len(), 1, "{whole:?}");
        let split = find_pockets(&long, &PocketSearch { hotspot_radius: 8.0, split_distance: 10.0, ..PocketSearch::default() });
        assert!(split.len() >= 2, "{split:?}");
        for site in &split {
            assert!(site.center.yz().norm() < 2.0 && (0.0..45.0).contains(&site.center.x), "{site:?}");
            assert!(site.extent.x < whole[0].extent.x);
        }
        let xs: Vec<f64> = split.iter().map(|s| s.center.x).collect();
        assert!(xs.iter().any(|&x| x < 20.0) && xs.iter().any(|&x| x > 25.0), "{xs:?}");
    }

    #[test]
    fn hotspot_centre_follows_the_heaviest_neighbourhood() {
        let cloud = [(Vec3::new(0.0, 0.0, 0.0), 7.0), (Vec3::new(1.0, 0.0, 0.0), 7.0), (Vec3::new(10.0, 0.0, 0.0), 5.0)];
        assert!((hotspot_centre(&cloud, 2.0) - Vec3::new(0.5, 0.0, 0.0)).norm() < 1e-9);
        let centroid = hotspot_centre(&cloud, 0.0);
        assert!((centroid.x - 57.0 / 19.0).abs() < 1e-9);
    }

    #[test]
    fn flat_sheet_and_empty_protein_have_no_pockets() {
        let sheet: Vec<ProteinAtom> =
            (0..400).map(|k| atom(Vec3::new((k % 20) as f64 * 1.5, (k / 20) as f64 * 1.5, 0.0))).collect();
        assert!(find_pockets(&protein(sheet), &PocketSearch::default()).is_empty());
        assert!(find_pockets(&protein(Vec::new()), &PocketSearch::default()).is_empty());
    }
}
