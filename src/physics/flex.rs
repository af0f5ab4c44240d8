//! Flexible (Cartesian) refinement: a last polish in which every ligand atom moves, so that bond
//! angles, ring puckers and planarity can give a little where the pocket pushes.
//!
//! Docking keeps the RDKit conformer's internal geometry, and AutoDock Vina docks val's complexes
//! from the crystal ligand's own geometry markedly better than from an RDKit conformer (seventeenth
//! session, MODEL_CARD): part of what ranks a wrong pose first is a conformer that cannot quite fit
//! the real site. Here the ligand is held together by an elastic model of its starting geometry
//! instead: harmonic restraints on 1-2 (bond), 1-3 (angle) and 1-4 distances across bonds that are
//! not rotatable (rings, double bonds, amides), each pulling towards its starting length. Torsions
//! about rotatable bonds stay free, as in rigid refinement.

use std::collections::HashMap;

use super::refine::{lbfgs, score_with_gradient, RefineOptions};
use super::vina::{Energy, VinaLigand, VinaScorer};
use crate::chem::{Ligand, Torsion, Vec3};
use crate::error::{Error, Result};

/// Force constants (kcal/mol/Å², energy `k (d − d0)²`) of the elastic model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stiffness {
    /// Bonded pairs.
    pub bond: f64,
    /// Pairs two bonds apart (bond angles).
    pub angle: f64,
    /// Pairs three bonds apart across a bond that is not rotatable (rings, planarity).
    pub dihedral: f64,
}

impl Stiffness {
    /// The default constants scaled by `factor` (smaller: a softer ligand).
    pub fn scaled(factor: f64) -> Self {
        let d = Stiffness::default();
        Stiffness { bond: d.bond * factor, angle: d.angle * factor, dihedral: d.dihedral * factor }
    }
}

impl Default for Stiffness {
    /// Roughly MMFF's bond and angle stiffness expressed on distances.
    fn default() -> Self {
        Stiffness { bond: 300.0, angle: 60.0, dihedral: 15.0 }
    }
}

/// One distance restraint of the elastic model.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Restraint {
    i: usize,
    j: usize,
    length: f64,
    k: f64,
}

/// The elastic model of a ligand's internal geometry around a reference pose.
#[derive(Clone, Debug, PartialEq)]
pub struct ElasticModel {
    restraints: Vec<Restraint>,
    atoms: usize,
}

impl ElasticModel {
    /// Restrains `ligand`'s 1-2, 1-3 and non-rotatable 1-4 distances to their lengths in
    /// `reference` (a pose of it); `torsions` name the rotatable bonds, whose 1-4 pairs stay free.
    pub fn new(ligand: &Ligand, torsions: &[Torsion], reference: &[Vec3], stiffness: Stiffness) -> Result<Self> {
        let n = ligand.atoms.len();
        if reference.len() != n {
            return Err(Error::invalid("flexible refinement", format!("{} coordinates for {n} atoms", reference.len())));
        }
        let neighbours = ligand.neighbours();
        let rotatable = |a: usize, b: usize| torsions.iter().any(|t| t.axis == (a, b) || t.axis == (b, a));
        // The closest relation wins when a pair is reached twice (small rings): first come, kept.
        let mut pairs: HashMap<(usize, usize), f64> = HashMap::new();
        let mut add = |i: usize, j: usize, k: f64| {
            if i != j {
                pairs.entry((i.min(j), i.max(j))).or_insert(k);
            }
        };
        for (b, near) in neighbours.iter().enumerate() {
            near.iter().for_each(|&a| add(a, b, stiffness.bond));
        }
        for near in &neighbours {
            for (x, &a) in near.iter().enumerate() {
                near[x + 1..].iter().for_each(|&c| add(a, c, stiffness.angle));
            }
        }
        for (b, near) in neighbours.iter().enumerate() {
            for &c in near.iter().filter(|&&c| c > b && !rotatable(b, c)) {
                for &a in near.iter().filter(|&&a| a != c) {
                    neighbours[c].iter().filter(|&&d| d != b).for_each(|&d| add(a, d, stiffness.dihedral));
                }
            }
        }
        let mut restraints: Vec<Restraint> =
            pairs.into_iter().map(|((i, j), k)| Restraint { i, j, length: (reference[i] - reference[j]).norm(), k }).collect();
        restraints.sort_by_key(|r| (r.i, r.j));
        Ok(ElasticModel { restraints, atoms: n })
    }

    /// Number of restrained pairs.
    pub fn len(&self) -> usize {
        self.restraints.len()
    }

    /// Whether nothing is restrained (a single atom).
    pub fn is_empty(&self) -> bool {
        self.restraints.is_empty()
    }

    /// Strain energy of `coords` (kcal/mol), adding its gradient to `grad` when given.
    pub fn strain(&self, coords: &[Vec3], mut grad: Option<&mut [Vec3]>) -> f64 {
        let mut energy = 0.0;
        for r in &self.restraints {
            let delta = coords[r.i] - coords[r.j];
            let d = delta.norm();
            let stretch = d - r.length;
            energy += r.k * stretch * stretch;
            if let (Some(g), true) = (grad.as_deref_mut(), d > 1e-12) {
                let force = delta * (2.0 * r.k * stretch / d);
                g[r.i] += force;
                g[r.j] -= force;
            }
        }
        energy
    }
}

/// Result of a flexible refinement.
#[derive(Clone, Debug, PartialEq)]
pub struct FlexRefined {
    /// Refined coordinates.
    pub coords: Vec<Vec3>,
    /// Their exact Vina-like energy (no strain).
    pub energy: Energy,
    /// Strain of the elastic model at the refined coordinates (kcal/mol).
    pub strain: f64,
    /// L-BFGS iterations taken.
    pub steps: usize,
}

impl FlexRefined {
    /// What the refinement minimised: `inter + intra + strain`.
    pub fn objective(&self) -> f64 {
        self.energy.objective() + self.strain
    }
}

/// Minimises `inter + intra + strain` over every atom's coordinates from `coords`, with the
/// elastic `model` built around `coords` (or another pose of the same ligand).
pub fn refine_flexible(
    scorer: &VinaScorer,
    ligand: &VinaLigand,
    model: &ElasticModel,
    coords: &[Vec3],
    options: &RefineOptions,
) -> Result<FlexRefined> {
    if coords.len() != ligand.len() || coords.len() != model.atoms {
        return Err(Error::invalid("flexible refinement", format!("{} coordinates for {} atoms", coords.len(), ligand.len())));
    }
    let unpack = |x: &[f64]| -> Vec<Vec3> { coords.iter().enumerate().map(|(i, p)| p + Vec3::new(x[3 * i], x[3 * i + 1], x[3 * i + 2])).collect() };
    let objective = |x: &[f64]| {
        let pose = unpack(x);
        match score_with_gradient(scorer, ligand, &pose, options) {
            Ok((energy, mut grad)) => {
                let strain = model.strain(&pose, Some(&mut grad));
                (energy.objective() + strain, grad.iter().flat_map(|g| [g.x, g.y, g.z]).collect())
            }
            Err(_) => (f64::INFINITY, vec![0.0; x.len()]),
        }
    };
    let (x, steps) = lbfgs(&objective, vec![0.0; 3 * coords.len()], options);
    let refined = unpack(&x);
    let energy = scorer.score_exact(ligand, &refined)?;
    let strain = model.strain(&refined, None);
    Ok(FlexRefined { coords: refined, energy, strain, steps })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chem::torsion::tests::molecule;
    use crate::chem::BondOrder::Single;
    use crate::diffusion::pose::tests::hexane as hexane_pose;

    /// Hexane with the test pose's coordinates and its two torsions (about bonds 1-2 and 2-3).
    fn hexane() -> (Ligand, Vec<Torsion>) {
        let (coords, torsions, _) = hexane_pose();
        let bonds: Vec<(usize, usize, _)> = (0..5).map(|i| (i, i + 1, Single)).collect();
        let mut ligand = molecule(&[6; 6], &bonds);
        ligand.coords = coords;
        (ligand, torsions)
    }

    #[test]
    fn the_reference_pose_has_no_strain_and_a_stretched_bond_has_some() {
        let (ligand, torsions) = hexane();
        let model = ElasticModel::new(&ligand, &torsions, &ligand.coords, Stiffness::default()).unwrap();
        assert!(model.strain(&ligand.coords, None).abs() < 1e-12);
        let mut moved = ligand.coords.clone();
        moved[0].x += 0.1;
        assert!(model.strain(&moved, None) > 0.1);
    }

    #[test]
    fn rotatable_bonds_leave_their_one_four_pairs_free() {
        let (ligand, torsions) = hexane();
        let free = ElasticModel::new(&ligand, &torsions, &ligand.coords, Stiffness::default()).unwrap();
        let rigid = ElasticModel::new(&ligand, &[], &ligand.coords, Stiffness::default()).unwrap();
        // Each inner bond of hexane has one 1-4 pair; the two rotatable ones are left out.
        assert_eq!(rigid.len() - free.len(), 2);
    }

    #[test]
    fn the_strain_gradient_matches_finite_differences() {
        let (ligand, torsions) = hexane();
        let model = ElasticModel::new(&ligand, &torsions, &ligand.coords, Stiffness::default()).unwrap();
        let pose: Vec<Vec3> = ligand.coords.iter().enumerate().map(|(i, p)| p + Vec3::new(0.03 * i as f64, -0.02, 0.01 * (i % 2) as f64)).collect();
        let mut grad = vec![Vec3::zeros(); pose.len()];
        model.strain(&pose, Some(&mut grad));
        let h = 1e-6;
        for i in 0..pose.len() {
            let mut plus = pose.clone();
            plus[i].y += h;
            let mut minus = pose.clone();
            minus[i].y -= h;
            let numeric = (model.strain(&plus, None) - model.strain(&minus, None)) / (2.0 * h);
            assert!((numeric - grad[i].y).abs() < 1e-5, "atom {i}: {numeric} vs {}", grad[i].y);
        }
    }

    #[test]
    fn flexible_refinement_lowers_the_objective_and_keeps_bonds_close() {
        use crate::physics::refine;
        use crate::physics::vina::tests::{toy_ligand, toy_scorer};
        let (ligand, torsions) = toy_ligand();
        let vina = VinaLigand::new(&ligand, torsions.len());
        let scorer = toy_scorer();
        let options = RefineOptions { exact: true, ..Default::default() };
        let rigid = refine(&scorer, &vina, &torsions, &ligand.coords, &options).unwrap();
        let model = ElasticModel::new(&ligand, &torsions, &rigid.coords, Stiffness::default()).unwrap();
        let flexible = refine_flexible(&scorer, &vina, &model, &rigid.coords, &options).unwrap();
        // From the rigid minimum, freeing the atoms can only lower inter + intra + strain.
        assert!(flexible.objective() < rigid.energy.objective() - 1e-6, "{} vs {}", flexible.objective(), rigid.energy.objective());
        assert!(flexible.strain > 0.0);
        for b in &ligand.bonds {
            let length = |c: &[Vec3]| (c[b.begin] - c[b.end]).norm();
            assert!((length(&flexible.coords) - length(&rigid.coords)).abs() < 0.05);
        }
        let wrong = refine_flexible(&scorer, &vina, &model, &rigid.coords[..4], &options);
        assert!(wrong.is_err());
    }

    #[test]
    fn a_pose_of_the_wrong_size_is_an_error() {
        let (ligand, torsions) = hexane();
        assert!(ElasticModel::new(&ligand, &torsions, &ligand.coords[..3], Stiffness::default()).is_err());
    }
}
