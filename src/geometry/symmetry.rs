//! Symmetry-corrected RMSD: automorphisms of the element-labelled heavy-atom graph, enumerated by
//! backtracking over colour classes refined by element, degree and neighbour classes.

use std::collections::BTreeMap;

use super::rmsd::rmsd;
use crate::chem::{Ligand, Vec3};

/// Search nodes visited before enumeration gives up (keeps very symmetric graphs bounded).
const NODE_BUDGET: usize = 2_000_000;

/// Automorphisms (bond-preserving, element-preserving atom permutations) of a molecular graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Automorphisms {
    /// Permutations: `perms[k][i]` is the atom that atom `i` maps to. The identity comes first.
    pub perms: Vec<Vec<usize>>,
    /// True when enumeration stopped at the bound, so `perms` is only a subset.
    pub truncated: bool,
}

/// Enumerates up to `max` automorphisms of the graph with atom labels `elements` and `bonds`.
///
/// Bonds naming atoms out of range and self-bonds are ignored; bond orders play no role, so that
/// carboxylate oxygens and Kekulé rings are symmetric. The identity is always the first
/// permutation (when `max > 0`).
pub fn automorphisms(elements: &[u8], bonds: &[(usize, usize)], max: usize) -> Automorphisms {
    let adj = adjacency(elements.len(), bonds);
    let colour = refined_classes(elements, &adj);
    let mut search = Search::new(&adj, colour, max);
    search.extend(0);
    let truncated = search.truncated;
    Automorphisms {
        perms: search.found,
        truncated,
    }
}

/// Most automorphisms enumerated for a ligand when scoring poses against its crystal pose.
pub const MAX_LIGAND_AUTOMORPHISMS: usize = 1000;

/// Automorphisms of a ligand's heavy-atom graph (elements and bonds), up to
/// [`MAX_LIGAND_AUTOMORPHISMS`]: what symmetry-corrected RMSDs of its poses need.
pub fn ligand_automorphisms(ligand: &Ligand) -> Automorphisms {
    let elements = ligand.elements();
    let bonds: Vec<(usize, usize)> = ligand.bonds.iter().map(|b| (b.begin, b.end)).collect();
    automorphisms(&elements, &bonds, MAX_LIGAND_AUTOMORPHISMS)
}

/// Minimum RMSD over the automorphisms `autos` between `pose` and `reference`, without alignment.
///
/// Atom `i` of the reference is compared with atom `perm[i]` of the pose. Permutations that do not
/// fit the number of atoms are skipped; with none left this is the plain RMSD (NaN when the
/// lengths differ).
pub fn symmetry_rmsd(pose: &[Vec3], reference: &[Vec3], autos: &Automorphisms) -> f64 {
    let n = reference.len();
    if pose.len() != n || n == 0 {
        return rmsd(pose, reference);
    }
    let mut best = f64::INFINITY;
    for perm in autos
        .perms
        .iter()
        .filter(|p| p.len() == n && p.iter().all(|&j| j < n))
    {
        best = best.min(permuted_sum(pose, reference, perm, best));
    }
    if best.is_finite() {
        (best / n as f64).sqrt()
    } else {
        rmsd(pose, reference)
    }
}

/// Sum of squared deviations under `perm`, stopping early once it exceeds `bound`.
fn permuted_sum(pose: &[Vec3], reference: &[Vec3], perm: &[usize], bound: f64) -> f64 {
    let mut sum = 0.0;
    for (i, &j) in perm.iter().enumerate() {
        sum += (pose[j] - reference[i]).norm_squared();
        if sum > bound {
            return f64::INFINITY;
        }
    }
    sum
}

/// Sorted, de-duplicated neighbour lists.
fn adjacency(n: usize, bonds: &[(usize, usize)]) -> Vec<Vec<usize>> {
    let mut adj = vec![Vec::new(); n];
    for &(a, b) in bonds.iter().filter(|&&(a, b)| a < n && b < n && a != b) {
        adj[a].push(b);
        adj[b].push(a);
    }
    for list in &mut adj {
        list.sort_unstable();
        list.dedup();
    }
    adj
}

/// Colour classes from (element, degree), refined by neighbour-class multisets until stable.
fn refined_classes(elements: &[u8], adj: &[Vec<usize>]) -> Vec<usize> {
    let keys = elements
        .iter()
        .zip(adj)
        .map(|(&e, a)| vec![e as usize, a.len()])
        .collect();
    let (mut colour, mut count) = relabel(keys);
    loop {
        let keys = (0..adj.len())
            .map(|i| {
                let mut key: Vec<usize> = adj[i].iter().map(|&j| colour[j]).collect();
                key.sort_unstable();
                key.insert(0, colour[i]);
                key
            })
            .collect();
        let (next, next_count) = relabel(keys);
        if next_count == count {
            return next;
        }
        (colour, count) = (next, next_count);
    }
}

/// Replaces keys by dense class ids (in key order) and returns them with the number of classes.
fn relabel(keys: Vec<Vec<usize>>) -> (Vec<usize>, usize) {
    let mut ids = BTreeMap::new();
    for key in &keys {
        ids.entry(key.clone()).or_insert(0);
    }
    for (id, value) in ids.values_mut().enumerate() {
        *value = id;
    }
    let count = ids.len();
    (keys.iter().map(|k| ids[k]).collect(), count)
}

/// Visiting order: breadth-first within each component, each component started from an atom of
/// the rarest colour, so that every later atom has an already-mapped neighbour (its parent).
fn search_order(adj: &[Vec<usize>], colour: &[usize]) -> (Vec<usize>, Vec<Option<usize>>) {
    let n = adj.len();
    let mut class_size = vec![0usize; n];
    colour.iter().for_each(|&c| class_size[c] += 1);
    let mut starts: Vec<usize> = (0..n).collect();
    starts.sort_by_key(|&i| (class_size[colour[i]], i));
    let (mut order, mut parent, mut seen) = (Vec::with_capacity(n), vec![None; n], vec![false; n]);
    for start in starts {
        if seen[start] {
            continue;
        }
        seen[start] = true;
        let first = order.len();
        order.push(start);
        let mut head = first;
        while head < order.len() {
            let i = order[head];
            head += 1;
            for &j in &adj[i] {
                if !seen[j] {
                    seen[j] = true;
                    parent[j] = Some(i);
                    order.push(j);
                }
            }
        }
    }
    (order, parent)
}

/// Backtracking state of the automorphism enumeration.
struct Search<'a> {
    adj: &'a [Vec<usize>],
    colour: Vec<usize>,
    order: Vec<usize>,
    parent: Vec<Option<usize>>,
    image: Vec<Option<usize>>,
    used: Vec<bool>,
    found: Vec<Vec<usize>>,
    max: usize,
    budget: usize,
    truncated: bool,
}

impl<'a> Search<'a> {
    fn new(adj: &'a [Vec<usize>], colour: Vec<usize>, max: usize) -> Self {
        let n = adj.len();
        let (order, parent) = search_order(adj, &colour);
        Search {
            adj,
            colour,
            order,
            parent,
            image: vec![None; n],
            used: vec![false; n],
            found: Vec::new(),
            max,
            budget: NODE_BUDGET,
            truncated: false,
        }
    }

    /// Maps `order[depth..]` in every consistent way, until the bound is hit.
    fn extend(&mut self, depth: usize) {
        let Some(&atom) = self.order.get(depth) else {
            if self.found.len() >= self.max {
                self.truncated = true;
            } else {
                self.found
                    .push(self.image.iter().map(|m| m.unwrap_or(usize::MAX)).collect());
            }
            return;
        };
        for candidate in self.candidates(atom) {
            if self.budget == 0 {
                self.truncated = true;
                return;
            }
            self.budget -= 1;
            if !self.consistent(atom, candidate) {
                continue;
            }
            self.image[atom] = Some(candidate);
            self.used[candidate] = true;
            self.extend(depth + 1);
            self.image[atom] = None;
            self.used[candidate] = false;
            if self.truncated {
                return;
            }
        }
    }

    /// Unused atoms of the same colour (neighbours of the parent's image when there is a parent),
    /// with `atom` itself first so that the identity is found first.
    fn candidates(&self, atom: usize) -> Vec<usize> {
        let pool: Vec<usize> = match self.parent[atom].and_then(|p| self.image[p]) {
            Some(parent_image) => self.adj[parent_image].clone(),
            None => (0..self.adj.len()).collect(),
        };
        let mut list: Vec<usize> = pool
            .into_iter()
            .filter(|&c| !self.used[c] && self.colour[c] == self.colour[atom])
            .collect();
        list.sort_by_key(|&c| (c != atom, c));
        list
    }

    /// Mapping `atom` to `candidate` keeps bonds and non-bonds among the atoms mapped so far.
    fn consistent(&self, atom: usize, candidate: usize) -> bool {
        let mut mapped = 0;
        for &j in &self.adj[atom] {
            if let Some(image) = self.image[j] {
                if self.adj[candidate].binary_search(&image).is_err() {
                    return false;
                }
                mapped += 1;
            }
        }
        mapped
            == self.adj[candidate]
                .iter()
                .filter(|&&c| self.used[c])
                .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    fn ring(n: usize) -> Vec<(usize, usize)> {
        (0..n).map(|i| (i, (i + 1) % n)).collect()
    }

    fn benzene() -> Vec<Vec3> {
        (0..6)
            .map(|i| {
                1.39 * Vec3::new(
                    (i as f64 * PI / 3.0).cos(),
                    (i as f64 * PI / 3.0).sin(),
                    0.0,
                )
            })
            .collect()
    }

    #[test]
    fn benzene_has_twelve_automorphisms_and_swapped_atoms_give_zero() {
        let autos = automorphisms(&[6; 6], &ring(6), 1000);
        assert_eq!(autos.perms.len(), 12);
        assert!(!autos.truncated);
        assert_eq!(autos.perms[0], (0..6).collect::<Vec<_>>());
        let reference = benzene();
        // a rotation by one atom combined with a mirror image of the ring
        let pose: Vec<Vec3> = (0..6).map(|i| reference[(7 - i) % 6]).collect();
        assert!(rmsd(&pose, &reference) > 1.0);
        assert!(symmetry_rmsd(&pose, &reference, &autos) < 1e-12);
    }

    #[test]
    fn carboxylate_oxygens_are_interchangeable() {
        // acetate: C0-C1, C1-O2, C1-O3 (bond orders do not matter)
        let elements = [6, 6, 8, 8];
        let bonds = [(0, 1), (1, 2), (1, 3)];
        let autos = automorphisms(&elements, &bonds, 100);
        assert_eq!(autos.perms.len(), 2);
        let reference = vec![
            Vec3::new(0.0, 0.0, 0.0),
            Vec3::new(1.5, 0.0, 0.0),
            Vec3::new(2.1, 1.1, 0.0),
            Vec3::new(2.1, -1.1, 0.0),
        ];
        let mut pose = reference.clone();
        pose.swap(2, 3);
        assert!(rmsd(&pose, &reference) > 1.0);
        assert!(symmetry_rmsd(&pose, &reference, &autos) < 1e-12);
    }

    #[test]
    fn asymmetric_molecule_has_only_the_identity() {
        // 2-butanol-like heavy atoms: C0-C1(-O4)-C2-C3
        let autos = automorphisms(&[6, 6, 6, 6, 8], &[(0, 1), (1, 2), (2, 3), (1, 4)], 100);
        assert_eq!(autos.perms, vec![vec![0, 1, 2, 3, 4]]);
    }

    #[test]
    fn long_chain_and_cage_stay_bounded() {
        let n = 200;
        let chain: Vec<(usize, usize)> = (0..n - 1).map(|i| (i, i + 1)).collect();
        let autos = automorphisms(&vec![6; n], &chain, 1000);
        assert_eq!(autos.perms.len(), 2);
        // 3-regular cage-like graph (prism of two 30-rings), 120 automorphisms of D30 x Z2
        let mut cage = ring(30);
        cage.extend(ring(30).iter().map(|&(a, b)| (a + 30, b + 30)));
        cage.extend((0..30).map(|i| (i, i + 30)));
        let autos = automorphisms(&[6; 60], &cage, 10_000);
        assert_eq!(autos.perms.len(), 120);
        let bounded = automorphisms(&[6; 60], &cage, 10);
        assert_eq!(bounded.perms.len(), 10);
        assert!(bounded.truncated);
        // many symmetric groups: (3!)^8 permutations, truncated at the bound
        let mut bonds = Vec::new();
        let mut elements = vec![6u8; 8];
        for c in 0..8 {
            if c > 0 {
                bonds.push((c - 1, c));
            }
            for _ in 0..3 {
                elements.push(9);
                bonds.push((c, elements.len() - 1));
            }
        }
        let autos = automorphisms(&elements, &bonds, 5000);
        assert!(autos.truncated);
        assert_eq!(autos.perms.len(), 5000);
    }

    #[test]
    fn bad_input_does_not_panic() {
        let autos = automorphisms(&[6, 6], &[(0, 5), (1, 1)], 10);
        assert_eq!(autos.perms.len(), 2);
        let wrong = Automorphisms {
            perms: vec![vec![7, 0]],
            truncated: false,
        };
        let pts = [Vec3::zeros(), Vec3::x()];
        assert_eq!(symmetry_rmsd(&pts, &pts, &wrong), 0.0);
        assert!(symmetry_rmsd(&pts, &pts[..1], &wrong).is_nan());
    }
}
