//! Pocket detection for blind docking: buried empty space on a grid, LIGSITE-style.
//!
//! A lattice point is empty when no protein heavy atom lies within `clearance`; it is a pocket
//! point when, along at least `min_lines` of the seven lattice lines through it (three axes, four
//! body diagonals), protein lies on both sides within `ray_length` (a protein-solvent-protein
//! event). Connected pocket points form pockets, ranked by their summed buriedness (volume
//! weighted by the number of enclosing lines).
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
}

impl Default for PocketSearch {
    fn default() -> Self {
        PocketSearch { spacing: 1.0, clearance: 3.0, ray_length: 10.0, min_lines: 5, min_points: 20 }
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
        .map(|c| site(&lattice, &lines, &c))
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

/// Summarises one cluster of lattice points.
fn site(lattice: &Lattice, lines: &[u8], members: &[usize]) -> PocketSite {
    let weights: Vec<f64> = members.iter().map(|&n| lines[n] as f64).collect();
    let points: Vec<Vec3> = members.iter().map(|&n| lattice.point(lattice.cell(n))).collect();
    let score: f64 = weights.iter().sum();
    let center = points.iter().zip(&weights).map(|(p, w)| p * *w).sum::<Vec3>() / score;
    let (lo, hi) = bounding_box(&points);
    PocketSite {
        center,
        volume: members.len() as f64 * lattice.spacing.powi(3),
        buriedness: score / members.len() as f64,
        score,
        extent: hi - lo,
    }
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

    #[test]
    fn flat_sheet_and_empty_protein_have_no_pockets() {
        let sheet: Vec<ProteinAtom> =
            (0..400).map(|k| atom(Vec3::new((k % 20) as f64 * 1.5, (k / 20) as f64 * 1.5, 0.0))).collect();
        assert!(find_pockets(&protein(sheet), &PocketSearch::default()).is_empty());
        assert!(find_pockets(&protein(Vec::new()), &PocketSearch::default()).is_empty());
    }
}
