//! Training examples: prepared complexes cropped to their pocket, with static graphs built once.

use crate::chem::{centroid, Protein, Vec3};
use crate::graph::{crop, pocket_residues};
use crate::io::dataset::PreparedComplex;
use crate::model::ComplexGraph;
use crate::physics::match_conformer;
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
    /// Crystal ligand coordinates (what sampled poses are measured against).
    pub crystal: Vec<Vec3>,
    /// The pose the networks learn to generate: the crystal ligand, or with conformer matching
    /// the RDKit conformer fitted to it (DiffDock), so that training sees the bond lengths,
    /// angles and rings docking keeps.
    pub pose: Vec<Vec3>,
    /// RDKit conformer coordinates (the docking starting geometry).
    pub conformer: Vec<Vec3>,
    /// Centre of the crop (crystal centroid plus jitter).
    pub pocket_center: Vec3,
    /// The pocket-cropped protein (for physics refinement of sampled poses).
    pub pocket: Protein,
}

/// Random torsion restarts of conformer matching for training poses.
const MATCHING_RESTARTS: usize = 8;

/// Builds training complexes (pocket crop around the crystal ligand centre jittered by
/// `jitter` Å, so the model does not learn that the answer is the crop centre); with
/// `conformer_matching` the training pose is the conformer fitted to the crystal ligand
/// (complexes where fitting fails keep the crystal pose).
pub fn training_complexes(complexes: &[PreparedComplex], jitter: f64, seed: u64, conformer_matching: bool) -> Vec<TrainingComplex> {
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
            let pose = conformer_matching
                .then(|| match_conformer(&c.ligand.ligand.coords, &c.ligand.torsions, &crystal, MATCHING_RESTARTS, &mut rng).ok())
                .flatten()
                .map_or_else(|| crystal.clone(), |m| m.coords);
            Some(TrainingComplex {
                id: c.id.clone(),
                graph,
                crystal,
                pose,
                conformer: c.ligand.ligand.coords.clone(),
                pocket_center: center,
                pocket,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chem::conformer::PreparedLigand;
    use crate::diffusion::pose::apply_torsions;
    use crate::geometry::{aligned_rmsd, rmsd};
    use crate::model::tests::{toy_ligand, toy_protein};

    /// A complex whose crystal pose is the conformer with other torsions and one atom nudged.
    fn toy_complex() -> PreparedComplex {
        let (ligand, torsions) = toy_ligand("CC(=O)Nc1ccc(OCCN)cc1");
        let mut crystal = ligand.coords.clone();
        apply_torsions(&mut crystal, &torsions, &vec![1.3; torsions.len()]);
        crystal[0] += Vec3::new(0.3, -0.2, 0.1);
        let prepared = PreparedLigand { ligand, reference: Some(crystal), torsions };
        PreparedComplex { id: "toy".into(), protein: toy_protein(40), ligand: prepared }
    }

    #[test]
    fn conformer_matching_trains_on_the_conformer_geometry_closest_to_the_crystal() {
        let complex = toy_complex();
        let plain = training_complexes(std::slice::from_ref(&complex), 2.0, 0, false);
        assert_eq!(plain[0].pose, plain[0].crystal);
        let matched = training_complexes(std::slice::from_ref(&complex), 2.0, 0, true);
        let (pose, crystal, conformer) = (&matched[0].pose, &matched[0].crystal, &matched[0].conformer);
        assert_eq!(matched[0].pocket_center, plain[0].pocket_center, "matching leaves the crop alone");
        assert!(rmsd(pose, crystal) < 0.2, "{}", rmsd(pose, crystal));
        assert!(rmsd(pose, crystal) < aligned_rmsd(conformer, crystal) - 0.2);
        let bonds = |c: &[Vec3]| complex.ligand.ligand.bonds.iter().map(|b| (c[b.begin] - c[b.end]).norm()).collect::<Vec<_>>();
        assert!(bonds(pose).iter().zip(bonds(conformer)).all(|(a, b)| (a - b).abs() < 1e-6), "the conformer's bonds are kept");
    }
}
