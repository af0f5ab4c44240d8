//! Neighbour search on a uniform grid and the edge lists built with it.

use crate::chem::{BondOrder, Ligand, Vec3};
use crate::geometry::bounding_box;

/// Upper bound on the number of grid cells; sparse point sets get larger cells instead.
const MAX_CELLS: usize = 1 << 21;

/// Smallest cell edge (Å), so that tiny or zero cut-offs do not explode the grid.
const MIN_CELL: f64 = 0.5;

/// A uniform grid over a point set for fixed-radius neighbour queries.
///
/// Points are bucketed into cubic cells (edge = the cell size given, usually the query radius);
/// a query visits only the cells overlapping the query sphere's bounding box.
#[derive(Clone, Debug)]
pub struct CellList {
    points: Vec<Vec3>,
    origin: Vec3,
    cell: f64,
    dims: [usize; 3],
    /// `order[starts[c]..starts[c + 1]]` are the points of cell `c`.
    starts: Vec<usize>,
    order: Vec<usize>,
}

impl CellList {
    /// Builds the grid over `points` with cubic cells of edge `cell_size` (Å); the edge grows when
    /// the grid would exceed about two million cells.
    pub fn new(points: &[Vec3], cell_size: f64) -> Self {
        let (origin, upper) = bounding_box(points);
        let extent = upper - origin;
        let mut cell = if cell_size.is_finite() { cell_size.max(MIN_CELL) } else { MIN_CELL };
        let mut dims = grid_dims(&extent, cell);
        while dims.iter().fold(1usize, |a, &d| a.saturating_mul(d)) > MAX_CELLS {
            cell *= 2.0;
            dims = grid_dims(&extent, cell);
        }
        let mut grid = CellList { points: points.to_vec(), origin, cell, dims, starts: Vec::new(), order: Vec::new() };
        grid.fill();
        grid
    }

    /// Counting sort of the points into their cells.
    fn fill(&mut self) {
        let cells: Vec<usize> = self.points.iter().map(|p| self.cell_index(&self.cell_of(p))).collect();
        let mut starts = vec![0usize; self.dims.iter().product::<usize>() + 1];
        for &c in &cells {
            starts[c + 1] += 1;
        }
        for c in 1..starts.len() {
            starts[c] += starts[c - 1];
        }
        let mut next = starts.clone();
        let mut order = vec![0usize; cells.len()];
        for (i, &c) in cells.iter().enumerate() {
            order[next[c]] = i;
            next[c] += 1;
        }
        self.starts = starts;
        self.order = order;
    }

    /// Grid coordinates of the cell holding `p` (clamped to the grid).
    fn cell_of(&self, p: &Vec3) -> [usize; 3] {
        std::array::from_fn(|k| {
            let t = ((p[k] - self.origin[k]) / self.cell).floor();
            (t.max(0.0) as usize).min(self.dims[k] - 1)
        })
    }

    /// Linear index of a cell.
    fn cell_index(&self, c: &[usize; 3]) -> usize {
        (c[0] * self.dims[1] + c[1]) * self.dims[2] + c[2]
    }

    /// Number of points in the grid.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// True when the grid holds no points.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// The points the grid was built from.
    pub fn points(&self) -> &[Vec3] {
        &self.points
    }

    /// Calls `visit(index, squared_distance)` for every point within `r` of `q` (in no
    /// particular order).
    pub fn for_each_within(&self, q: &Vec3, r: f64, mut visit: impl FnMut(usize, f64)) {
        let Some((lo, hi)) = self.cell_range(q, r) else { return };
        let r2 = r * r;
        for x in lo[0]..=hi[0] {
            for y in lo[1]..=hi[1] {
                let row = (x * self.dims[1] + y) * self.dims[2];
                let cells = self.starts[row + lo[2]]..self.starts[row + hi[2] + 1];
                for &i in &self.order[cells] {
                    let d2 = (self.points[i] - q).norm_squared();
                    if d2 <= r2 {
                        visit(i, d2);
                    }
                }
            }
        }
    }

    /// Indices of the points within `r` of `q`, in increasing order.
    pub fn within(&self, q: &Vec3, r: f64) -> Vec<usize> {
        let mut found = Vec::new();
        self.for_each_within(q, r, |i, _| found.push(i));
        found.sort_unstable();
        found
    }

    /// The inclusive range of cells overlapping the box around the sphere (`q`, `r`), if any.
    fn cell_range(&self, q: &Vec3, r: f64) -> Option<([usize; 3], [usize; 3])> {
        if self.points.is_empty() || r.is_nan() || r < 0.0 {
            return None;
        }
        let mut lo = [0; 3];
        let mut hi = [0; 3];
        for k in 0..3 {
            let low = ((q[k] - r - self.origin[k]) / self.cell).floor();
            let high = ((q[k] + r - self.origin[k]) / self.cell).floor();
            let last = (self.dims[k] - 1) as f64;
            if high < 0.0 || low > last {
                return None;
            }
            lo[k] = low.max(0.0) as usize;
            hi[k] = high.min(last) as usize;
        }
        Some((lo, hi))
    }
}

/// Cells per axis for a box of `extent` and cells of edge `cell`.
fn grid_dims(extent: &Vec3, cell: f64) -> [usize; 3] {
    std::array::from_fn(|k| ((extent[k] / cell).floor() as usize).saturating_add(1))
}

/// A directed edge list: edge `e` goes from `src[e]` to `dst[e]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EdgeList {
    /// Source node of each edge.
    pub src: Vec<usize>,
    /// Destination node of each edge.
    pub dst: Vec<usize>,
}

impl EdgeList {
    /// An empty edge list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of edges.
    pub fn len(&self) -> usize {
        self.src.len()
    }

    /// True when there are no edges.
    pub fn is_empty(&self) -> bool {
        self.src.is_empty()
    }

    /// Appends the edge `src -> dst`.
    pub fn push(&mut self, src: usize, dst: usize) {
        self.src.push(src);
        self.dst.push(dst);
    }

    /// The edges as (source, destination) pairs.
    pub fn pairs(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.src.iter().copied().zip(self.dst.iter().copied())
    }
}

impl FromIterator<(usize, usize)> for EdgeList {
    fn from_iter<I: IntoIterator<Item = (usize, usize)>>(iter: I) -> Self {
        let (src, dst) = iter.into_iter().unzip();
        EdgeList { src, dst }
    }
}

/// Keeps the `k` nearest of `(squared distance, index)` candidates (ties broken by index).
fn keep_nearest(candidates: &mut Vec<(f64, usize)>, k: usize) {
    let closer = |a: &(f64, usize), b: &(f64, usize)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
    if candidates.len() > k {
        if k > 0 {
            candidates.select_nth_unstable_by(k - 1, closer);
        }
        candidates.truncate(k);
    }
}

/// The residue graph: each point is joined to its `max_neighbours` nearest points within
/// `radius` (no self loops), and every such edge is present in both directions, so a node may
/// end up with more than `max_neighbours` neighbours. Edges are sorted by (source, destination).
/// DiffDock-S uses 15 Å and 24 neighbours.
pub fn radius_graph(points: &[Vec3], radius: f64, max_neighbours: usize) -> EdgeList {
    let grid = CellList::new(points, radius);
    let mut pairs = Vec::new();
    let mut candidates = Vec::new();
    for (i, p) in points.iter().enumerate() {
        candidates.clear();
        grid.for_each_within(p, radius, |j, d2| {
            if j != i {
                candidates.push((d2, j));
            }
        });
        keep_nearest(&mut candidates, max_neighbours);
        for &(_, j) in &candidates {
            pairs.push((i, j));
            pairs.push((j, i));
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    pairs.into_iter().collect()
}

/// The kind of a ligand edge: a covalent bond of some order, or a non-bonded pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LigandEdgeKind {
    /// A covalent bond.
    Bond(BondOrder),
    /// Two atoms within the radius but not bonded.
    NonBonded,
}

impl LigandEdgeKind {
    /// Number of distinct kinds (for one-hot features).
    pub const COUNT: usize = 5;

    /// Index for one-hot features: single, double, triple, aromatic, non-bonded.
    pub fn index(self) -> usize {
        match self {
            LigandEdgeKind::Bond(BondOrder::Single) => 0,
            LigandEdgeKind::Bond(BondOrder::Double) => 1,
            LigandEdgeKind::Bond(BondOrder::Triple) => 2,
            LigandEdgeKind::Bond(BondOrder::Aromatic) => 3,
            LigandEdgeKind::NonBonded => 4,
        }
    }
}

/// The ligand graph at `coords` (one point per atom): every bond in both directions (kind = its
/// order), then every non-bonded pair within `radius` in both directions, sorted by (source,
/// destination). Bonds naming atoms beyond `coords` are skipped.
pub fn ligand_graph(ligand: &Ligand, coords: &[Vec3], radius: f64) -> (EdgeList, Vec<LigandEdgeKind>) {
    let n = coords.len();
    let mut edges = EdgeList::new();
    let mut kinds = Vec::new();
    let mut neighbours = vec![Vec::new(); n];
    for bond in ligand.bonds.iter().filter(|b| b.begin < n && b.end < n && b.begin != b.end) {
        for (a, b) in [(bond.begin, bond.end), (bond.end, bond.begin)] {
            edges.push(a, b);
            kinds.push(LigandEdgeKind::Bond(bond.order));
            neighbours[a].push(b);
        }
    }
    let grid = CellList::new(coords, radius);
    for (i, p) in coords.iter().enumerate() {
        let mut close = grid.within(p, radius);
        close.retain(|&j| j != i && !neighbours[i].contains(&j));
        for j in close {
            edges.push(i, j);
            kinds.push(LigandEdgeKind::NonBonded);
        }
    }
    (edges, kinds)
}

/// Ligand-residue cross edges: `src` = ligand atom, `dst` = residue, for every pair within
/// `cutoff`, grouped by ligand atom (residues in grid order, not sorted). Builds a grid over the
/// residues; when they do not move between calls, build a [`CellList`] once and use
/// [`cross_edges_in`].
pub fn cross_edges(ligand_coords: &[Vec3], residue_coords: &[Vec3], cutoff: f64) -> EdgeList {
    cross_edges_in(&CellList::new(residue_coords, cutoff), ligand_coords, cutoff)
}

/// Cross edges from ligand atoms to the points of a prebuilt grid (see [`cross_edges`]).
pub fn cross_edges_in(residues: &CellList, ligand_coords: &[Vec3], cutoff: f64) -> EdgeList {
    let mut edges = EdgeList::new();
    for (i, p) in ligand_coords.iter().enumerate() {
        residues.for_each_within(p, cutoff, |j, _| edges.push(i, j));
    }
    edges
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chem::torsion::tests::molecule;
    use rand::{Rng, SeedableRng};
    use std::collections::BTreeSet;

    fn random_points(n: usize, box_size: f64, seed: u64) -> Vec<Vec3> {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        (0..n)
            .map(|_| Vec3::new(rng.gen::<f64>(), rng.gen::<f64>(), rng.gen::<f64>()) * box_size)
            .collect()
    }

    fn edge_set(edges: &EdgeList) -> BTreeSet<(usize, usize)> {
        edges.pairs().collect()
    }

    #[test]
    fn cell_list_matches_brute_force() {
        let points = random_points(2000, 40.0, 1);
        for (cell, r) in [(5.0, 5.0), (3.0, 7.5), (20.0, 2.0), (0.01, 1.0)] {
            let grid = CellList::new(&points, cell);
            for q in random_points(50, 50.0, 2).iter().map(|q| q - Vec3::repeat(5.0)) {
                let brute: Vec<usize> = (0..points.len()).filter(|&i| (points[i] - q).norm() <= r).collect();
                assert_eq!(grid.within(&q, r), brute, "cell {cell}, r {r}");
            }
        }
        assert!(CellList::new(&[], 4.0).within(&Vec3::zeros(), 10.0).is_empty());
        let far = CellList::new(&points, 5.0);
        assert!(far.within(&Vec3::repeat(1e6), 10.0).is_empty());
        assert!(far.within(&Vec3::repeat(f64::NAN), 10.0).is_empty());
    }

    #[test]
    fn radius_graph_matches_brute_force() {
        for (n, radius, k) in [(300, 15.0, 24), (500, 6.0, 5), (50, 100.0, 200), (40, 5.0, 0)] {
            let points = random_points(n, 60.0, n as u64);
            let mut brute = BTreeSet::new();
            for i in 0..n {
                let mut near: Vec<(f64, usize)> = (0..n)
                    .filter(|&j| j != i && (points[i] - points[j]).norm() <= radius)
                    .map(|j| ((points[i] - points[j]).norm_squared(), j))
                    .collect();
                near.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                for &(_, j) in near.iter().take(k) {
                    brute.insert((i, j));
                    brute.insert((j, i));
                }
            }
            let edges = radius_graph(&points, radius, k);
            assert_eq!(edge_set(&edges), brute, "n {n}, r {radius}, k {k}");
            assert_eq!(edges.len(), brute.len(), "no duplicate edges");
            assert!(edges.pairs().all(|(a, b)| a != b));
        }
    }

    #[test]
    fn ligand_graph_matches_brute_force() {
        let bonds: Vec<_> = (0..29).map(|i| (i, i + 1, BondOrder::Single)).collect();
        let mut ligand = molecule(&[6; 30], &bonds);
        ligand.bonds[3].order = BondOrder::Double;
        let coords = random_points(30, 8.0, 7);
        let (edges, kinds) = ligand_graph(&ligand, &coords, 5.0);
        assert_eq!(edges.len(), kinds.len());
        let mut brute = BTreeSet::new();
        for b in &ligand.bonds {
            brute.insert((b.begin, b.end, LigandEdgeKind::Bond(b.order).index()));
            brute.insert((b.end, b.begin, LigandEdgeKind::Bond(b.order).index()));
        }
        for i in 0..30 {
            for j in 0..30 {
                let bonded = (i as isize - j as isize).abs() == 1;
                if i != j && !bonded && (coords[i] - coords[j]).norm() <= 5.0 {
                    brute.insert((i, j, LigandEdgeKind::NonBonded.index()));
                }
            }
        }
        let got: BTreeSet<_> = edges.pairs().zip(&kinds).map(|((a, b), k)| (a, b, k.index())).collect();
        assert_eq!(got, brute);
        assert_eq!(edges.len(), brute.len());
        assert_eq!(kinds[6], LigandEdgeKind::Bond(BondOrder::Double));
    }

    #[test]
    fn cross_edges_match_brute_force() {
        let residues = random_points(4000, 120.0, 11);
        let ligand: Vec<Vec3> = random_points(60, 12.0, 12).iter().map(|p| p + Vec3::repeat(50.0)).collect();
        for cutoff in [5.0, 20.0, 77.0] {
            let edges = cross_edges(&ligand, &residues, cutoff);
            let brute: BTreeSet<_> = (0..ligand.len())
                .flat_map(|i| (0..residues.len()).map(move |j| (i, j)))
                .filter(|&(i, j)| (ligand[i] - residues[j]).norm() <= cutoff)
                .collect();
            assert_eq!(edge_set(&edges), brute, "cutoff {cutoff}");
            assert_eq!(edges.len(), brute.len());
        }
    }

    /// Timings on a 4,000-residue / 32,000-atom sized problem (run with `--ignored --nocapture`).
    #[test]
    #[ignore]
    fn timing_large_protein() {
        let atoms = random_points(32_000, 150.0, 3);
        let residues = random_points(4000, 150.0, 4);
        let ligand: Vec<Vec3> = random_points(50, 12.0, 5).iter().map(|p| p + Vec3::repeat(70.0)).collect();
        let t = std::time::Instant::now();
        let grid = CellList::new(&atoms, 4.0);
        let build = t.elapsed();
        let t = std::time::Instant::now();
        let found: usize = residues.iter().map(|q| grid.within(q, 4.0).len()).sum();
        eprintln!("cell list over 32k atoms: build {build:.2?}, 4000 queries r=4 {:.2?} ({found} hits)", t.elapsed());
        let t = std::time::Instant::now();
        let graph = radius_graph(&residues, 15.0, 24);
        eprintln!("radius_graph 4000 residues 15 Å k=24: {:.2?} ({} edges)", t.elapsed(), graph.len());
        for cutoff in [20.0, 77.0] {
            let t = std::time::Instant::now();
            let edges = cross_edges(&ligand, &residues, cutoff);
            let once = t.elapsed();
            let grid = CellList::new(&residues, cutoff);
            let t = std::time::Instant::now();
            let reps = 100;
            for _ in 0..reps {
                std::hint::black_box(cross_edges_in(&grid, &ligand, cutoff));
            }
            eprintln!(
                "cross_edges 50 atoms x 4000 residues cutoff {cutoff}: {once:.2?} with grid build, {:.2?} per call reusing it ({} edges)",
                t.elapsed() / reps,
                edges.len()
            );
        }
    }
}
