//! Rotatable bonds of a ligand and the atoms each one moves.

use petgraph::graph::{EdgeIndex, NodeIndex, UnGraph};
use petgraph::visit::{Dfs, EdgeFiltered, EdgeRef};

use crate::chem::{BondOrder, Ligand, Torsion};

/// The ligand's bond graph: one node per atom, one edge per bond (weight = bond index).
fn bond_graph(ligand: &Ligand) -> UnGraph<(), usize> {
    let mut graph = UnGraph::with_capacity(ligand.len(), ligand.bonds.len());
    for _ in 0..ligand.len() {
        graph.add_node(());
    }
    for (i, bond) in ligand.bonds.iter().enumerate() {
        graph.add_edge(NodeIndex::new(bond.begin), NodeIndex::new(bond.end), i);
    }
    graph
}

/// Atoms reachable from `start` without crossing edge `cut` (including `start`).
fn side_without_edge(graph: &UnGraph<(), usize>, cut: EdgeIndex, start: usize) -> Vec<usize> {
    let filtered = EdgeFiltered::from_fn(graph, |e| e.id() != cut);
    let mut dfs = Dfs::new(&filtered, NodeIndex::new(start));
    let mut side = Vec::new();
    while let Some(node) = dfs.next(&filtered) {
        side.push(node.index());
    }
    side
}

/// For each bond of the ligand, whether it lies in a ring (its atoms stay connected without it).
/// Computed from the bond graph, so it does not rely on the `in_ring` flags.
pub fn ring_bonds(ligand: &Ligand) -> Vec<bool> {
    let graph = bond_graph(ligand);
    graph
        .edge_indices()
        .map(|e| {
            let bond = &ligand.bonds[graph[e]];
            side_without_edge(&graph, e, bond.end).contains(&bond.begin)
        })
        .collect()
}

/// True for the carbon of a C(=O)–N or C(=S)–N amide/thioamide bond seen from `carbon`.
fn is_amide_carbon(ligand: &Ligand, carbon: usize, partner: usize) -> bool {
    ligand.atoms[carbon].element == 6
        && ligand.atoms[partner].element == 7
        && ligand.bonds.iter().any(|b| {
            let other = if b.begin == carbon { b.end } else if b.end == carbon { b.begin } else { return false };
            b.order == BondOrder::Double && matches!(ligand.atoms[other].element, 8 | 16)
        })
}

/// True when the atom takes part in a triple bond (a linear sp centre).
fn has_triple_bond(ligand: &Ligand, atom: usize) -> bool {
    ligand
        .bonds
        .iter()
        .any(|b| b.order == BondOrder::Triple && (b.begin == atom || b.end == atom))
}

/// Whether a non-ring bond between `a` and `b` is rotatable (ring membership checked elsewhere).
fn rotatable_candidate(ligand: &Ligand, degree: &[usize], a: usize, b: usize, order: BondOrder) -> bool {
    order == BondOrder::Single
        && degree[a] >= 2
        && degree[b] >= 2
        && !is_amide_carbon(ligand, a, b)
        && !is_amide_carbon(ligand, b, a)
        && !has_triple_bond(ligand, a)
        && !has_triple_bond(ligand, b)
}

/// The rotatable bonds of a ligand, in bond order, each with the atoms it moves.
///
/// A bond is rotatable when it is a single, non-ring bond between two heavy atoms that each have
/// another heavy neighbour (so terminal groups such as CH3, OH, NH2 and halogens do not count).
/// Excluded as well: amide and thioamide C–N bonds (C(=O)–N, C(=S)–N; planar, so they keep the
/// conformer's geometry) and bonds next to a triple bond (rotating about a linear sp chain moves
/// nothing). Amides are recognised from bond orders, so they rotate in ligands read without
/// bond orders (PDBQT).
///
/// The moving side is the smaller of the two components left after removing the bond (on a
/// tie, the side of the bond's `end`); `axis = (fixed atom, moving atom)` and `moving` excludes
/// `axis.1`.
pub fn rotatable_bonds(ligand: &Ligand) -> Vec<Torsion> {
    let graph = bond_graph(ligand);
    let degree: Vec<usize> = graph.node_indices().map(|n| graph.neighbors(n).count()).collect();
    let mut torsions = Vec::new();
    for edge in graph.edge_indices() {
        let bond = &ligand.bonds[graph[edge]];
        let (a, b) = (bond.begin, bond.end);
        if !rotatable_candidate(ligand, &degree, a, b, bond.order) {
            continue;
        }
        let side_b = side_without_edge(&graph, edge, b);
        if side_b.contains(&a) {
            continue; // ring bond
        }
        let side_a = side_without_edge(&graph, edge, a);
        let (fixed, mut moving, pivot) = if side_a.len() < side_b.len() { (b, side_a, a) } else { (a, side_b, b) };
        moving.retain(|&i| i != pivot);
        moving.sort_unstable();
        torsions.push(Torsion { axis: (fixed, pivot), moving });
    }
    torsions
}

/// Boolean masks of the moving atoms: `mask[t][i]` is true when torsion `t` moves atom `i`.
pub fn torsion_mask(ligand: &Ligand, torsions: &[Torsion]) -> Vec<Vec<bool>> {
    torsions
        .iter()
        .map(|t| {
            let mut mask = vec![false; ligand.len()];
            for &i in &t.moving {
                if let Some(m) = mask.get_mut(i) {
                    *m = true;
                }
            }
            mask
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::chem::{Chirality, Hybridization, LigandAtom, LigandBond, Vec3};

    /// Builds a ligand from elements and (begin, end, order) bonds; coordinates are dummies.
    pub(crate) fn molecule(elements: &[u8], bonds: &[(usize, usize, BondOrder)]) -> Ligand {
        let atoms = elements
            .iter()
            .map(|&element| LigandAtom {
                element,
                formal_charge: 0,
                aromatic: false,
                hybridization: Hybridization::Sp3,
                degree: 0,
                num_hs: 0,
                in_ring: false,
                chirality: Chirality::None,
            })
            .collect();
        let bonds = bonds
            .iter()
            .map(|&(begin, end, order)| LigandBond {
                begin,
                end,
                order,
                kekule_order: if order == BondOrder::Double { 2 } else { 1 },
                in_ring: false,
                conjugated: false,
            })
            .collect();
        let coords = (0..elements.len()).map(|i| Vec3::new(i as f64, 0.0, 0.0)).collect();
        Ligand { name: "test".into(), atoms, bonds, coords }
    }

    use BondOrder::{Aromatic as Ar, Double as D, Single as S, Triple as T};

    fn ring(start: usize, len: usize, order: BondOrder) -> Vec<(usize, usize, BondOrder)> {
        (0..len).map(|i| (start + i, start + (i + 1) % len, order)).collect()
    }

    #[test]
    fn butane_has_one_torsion() {
        let butane = molecule(&[6, 6, 6, 6], &[(0, 1, S), (1, 2, S), (2, 3, S)]);
        let torsions = rotatable_bonds(&butane);
        assert_eq!(torsions.len(), 1);
        // Tie (2 atoms each side): the end side moves.
        assert_eq!(torsions[0], Torsion { axis: (1, 2), moving: vec![3] });
    }

    #[test]
    fn benzene_and_biphenyl() {
        assert!(rotatable_bonds(&molecule(&[6; 6], &ring(0, 6, Ar))).is_empty());
        let mut bonds = ring(0, 6, Ar);
        bonds.extend(ring(6, 6, Ar));
        bonds.push((0, 6, S));
        let biphenyl = molecule(&[6; 12], &bonds);
        let torsions = rotatable_bonds(&biphenyl);
        assert_eq!(torsions.len(), 1);
        assert_eq!(torsions[0].axis, (0, 6));
        assert_eq!(torsions[0].moving, (7..12).collect::<Vec<_>>());
        assert_eq!(ring_bonds(&biphenyl).iter().filter(|&&r| r).count(), 12);
    }

    #[test]
    fn terminal_groups_and_amides_do_not_rotate() {
        let ethanol = molecule(&[6, 6, 8], &[(0, 1, S), (1, 2, S)]);
        assert!(rotatable_bonds(&ethanol).is_empty());
        // N-methylacetamide: C0-C1(=O2)-N3-C4.
        let nma = molecule(&[6, 6, 8, 7, 6], &[(0, 1, S), (1, 2, D), (1, 3, S), (3, 4, S)]);
        let torsions = rotatable_bonds(&nma);
        assert!(torsions.is_empty(), "{torsions:?}");
        // Thioamide with an extra ethyl: C-C(=S)-N-C-C: only N-C rotates.
        let thio = molecule(&[6, 6, 16, 7, 6, 6], &[(0, 1, S), (1, 2, D), (1, 3, S), (3, 4, S), (4, 5, S)]);
        let torsions = rotatable_bonds(&thio);
        assert_eq!(torsions.len(), 1);
        assert_eq!(torsions[0].axis, (3, 4));
        // But-2-yne with methyls: C-C#C-C and a longer chain C-C-C#C-C.
        let alkyne = molecule(&[6, 6, 6, 6, 6], &[(0, 1, S), (1, 2, S), (2, 3, T), (3, 4, S)]);
        assert_eq!(rotatable_bonds(&alkyne).len(), 0, "C0-C1 terminal, C1-C2 next to the triple bond");
    }

    #[test]
    fn two_torsions_move_the_smaller_sides() {
        // Phenyl(0-5)-C6-C7-O8-C9-C10: bonds 0-6, 6-7, 7-8, 8-9 rotatable (9-10 terminal).
        let mut bonds = ring(0, 6, Ar);
        bonds.extend([(0, 6, S), (6, 7, S), (7, 8, S), (8, 9, S), (9, 10, S)]);
        let ligand = molecule(&[6, 6, 6, 6, 6, 6, 6, 6, 8, 6, 6], &bonds);
        let torsions = rotatable_bonds(&ligand);
        let axes: Vec<_> = torsions.iter().map(|t| t.axis).collect();
        assert_eq!(axes, vec![(0, 6), (6, 7), (7, 8), (8, 9)]);
        assert_eq!(torsions[0].moving, vec![7, 8, 9, 10], "chain (5 atoms) smaller than the ring (6)");
        assert_eq!(torsions[1].moving, vec![8, 9, 10]);
        assert_eq!(torsions[2].moving, vec![9, 10]);
        assert_eq!(torsions[3].moving, vec![10]);
        let mask = torsion_mask(&ligand, &torsions);
        assert_eq!(mask.len(), 4);
        assert_eq!(mask[2].iter().filter(|&&m| m).count(), 2);
        assert!(mask[2][9] && mask[2][10] && !mask[2][8]);
        for t in &torsions {
            assert!(!t.moving.contains(&t.axis.0) && !t.moving.contains(&t.axis.1));
            assert!(2 * (t.moving.len() + 1) <= ligand.len());
        }
    }

    #[test]
    fn disconnected_and_empty_ligands() {
        assert!(rotatable_bonds(&molecule(&[], &[])).is_empty());
        // Two butanes as separate fragments: one torsion each, moving only their own atoms.
        let two = molecule(&[6; 8], &[(0, 1, S), (1, 2, S), (2, 3, S), (4, 5, S), (5, 6, S), (6, 7, S)]);
        let torsions = rotatable_bonds(&two);
        assert_eq!(torsions.len(), 2);
        assert_eq!(torsions[1].moving, vec![7]);
    }
}
