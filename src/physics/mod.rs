//! Physics of poses: a Vina-like empirical scoring function with precomputed grids
//! ([`VinaScorer`]), local refinement of poses over translation, rotation and torsions by L-BFGS
//! ([`refine()`]), conformer matching to a target pose ([`match_conformer`]), Vina-style Monte
//! Carlo search around a pose ([`monte_carlo`]), PoseBusters-style validity checks
//! ([`check_pose`]), a knowledge-based pair potential learned from crystals ([`PairPotential`]),
//! and a flexible last polish in which every atom moves under an elastic model of the conformer
//! ([`refine_flexible`]).
//!
//! Otherwise poses move only rigidly and through torsions, so bond lengths, angles and rings keep
//! the geometry of the RDKit conformer they came from.

pub mod checks;
pub mod flex;
mod grid;
pub mod matching;
pub mod pmf;
pub mod refine;
pub mod search;
pub mod typing;
pub mod vina;

pub use checks::{check_pose, PoseChecks};
pub use flex::{refine_flexible, ElasticModel, FlexRefined, Stiffness};
pub use matching::{match_conformer, Matched};
pub use pmf::{ContactAtoms, PairCounts, PairPotential, CONTACT_FEATURES, PMF_BINS};
pub use refine::{refine, Refined, RefineOptions};
pub use search::{monte_carlo, native_pose, SearchOptions};
pub use typing::{ligand_types, protein_types, XsType};
pub use vina::{pair_energy, pair_terms, Energy, PocketBox, PoseTerms, VinaLigand, VinaScorer, TERM_NAMES};

use crate::chem::{Ligand, Protein, Torsion, Vec3};

/// Refines poses of one ligand in a pocket with exact (grid-free) scoring; poses that fail to
/// refine are returned unchanged. Used to make confidence training data look like docking output.
pub fn refine_in_pocket(ligand: &Ligand, torsions: &[Torsion], protein: &Protein, center: &Vec3, poses: Vec<Vec<Vec3>>) -> Vec<Vec<Vec3>> {
    use rayon::prelude::*;
    let Ok(scorer) = VinaScorer::new(protein, &PocketBox::from_centre_radius(*center, 15.0), 1.0) else { return poses };
    let vina = VinaLigand::new(ligand, torsions.len());
    let options = RefineOptions { exact: true, ..Default::default() };
    poses
        .into_par_iter()
        .map(|p| refine(&scorer, &vina, torsions, &p, &options).map(|r| r.coords).unwrap_or(p))
        .collect()
}
