//! Training examples: prepared complexes cropped to their pocket, with static graphs built once.

use crate::chem::{centroid, Protein, Vec3};
use crate::graph::{crop, pocket_residues};
use crate::io::dataset::PreparedComplex;
use crate::model::ComplexGraph;
use rand::Rng;
use rayon::prelude::*;

/// Radius of the training pocket crop around the (jittered) crystal ligand centre (Å).
pub const CROP_RADIUS: f64 = 20.0;

/// One training complex: pocket-cropped static graph, crystal pose and RDKit conformer.
pub struct TrainingComplex {
    /// Complex id.
    pub id: String,
    /// Static graph of the pocket-cropped complex.
    pub graph: ComplexGraph,
    /// Crystal ligand coordinates.
    pub crystal: Vec<Vec3>,
    /// RDKit conformer coordinates (the docking starting geometry).
    pub conformer: Vec<Vec3>,
    /// Centre of the crop (crystal centroid plus jitter).
    pub pocket_center: Vec3,
    /// The pocket-cropped protein (for physics refinement of sampled poses).
    pub pocket: Protein,
}

/// Builds training complexes (pocket crop around the crystal ligand centre jittered by
/// `jitter` Å, so the model does not learn that the answer is the crop centre).
pub fn training_complexes(complexes: &[PreparedComplex], jitter: f64, seed: u64) -> Vec<TrainingComplex> {
    complexes
        .par_iter()
        .enumerate()
        .filter_map(|(i, c)| {
            use rand::SeedableRng;
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ (i as u64).wrapping_mul(0x9e37_79b9));
            let crystal = c.ligand.reference.clone()?;
            let shift = Vec3::new(rng.gen_range(-1.0..1.0), rng.gen_range(-1.0..1.0), rng.gen_range(-1.0..1.0)) * jitter;
            let center = centroid(&crystal) + shift;
            let residues = pocket_residues(&c.protein, &center, CROP_RADIUS).ok()?;
            let pocket = crop(&c.protein, &residues);
            let graph = ComplexGraph::new(&c.ligand.ligand, &pocket, c.ligand.torsions.clone());
            Some(TrainingComplex {
                id: c.id.clone(),
                graph,
                crystal,
                conformer: c.ligand.ligand.coords.clone(),
                pocket_center: center,
                pocket,
            })
        })
        .collect()
}
