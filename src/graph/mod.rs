//! Geometric graphs of a complex: residue graph, ligand graph, ligand-residue cross edges, and
//! pocket selection. All builders return directed edge lists with both directions present where
//! the relation is symmetric; "within r" means a distance ≤ r.

mod neighbors;
mod pocket;

pub use neighbors::{cross_edges, cross_edges_in, ligand_graph, radius_graph, CellList, EdgeList, LigandEdgeKind};
pub use pocket::{crop, pocket_residues};
