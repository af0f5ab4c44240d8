//! Learning the pair potential ([`PairPotential`]) that docking adds to the Vina-like energy
//! when it ranks poses: either as contact statistics of crystal complexes (a potential of mean
//! force, seconds, no decoys) or fitted to docked poses of training complexes, so that energy
//! plus potential ranks each complex's poses within 2 Å first (a listwise loss, as the
//! confidence model's), i.e. learning what Vina gets wrong on the poses docking makes.

use super::confidence::CachedComplex;
use super::data::TrainingComplex;
use crate::chem::conformer::ConformerOptions;
use crate::error::{Error, Result};
use crate::chem::Vec3;
use crate::io::dataset::{complex_files, PrepareCache, PreparedComplex};
use crate::physics::{native_pose, ContactAtoms, PairCounts, PairPotential, PMF_BINS, VinaLigand};
use rayon::prelude::*;
use std::path::Path;
use tch::{nn, nn::OptimizerConfig, Device, Kind, Tensor};

/// Poses closer than this (Å, symmetry-corrected RMSD) to the crystal ligand are right.
const RIGHT_RMSD: f64 = 2.0;

/// Counts every training complex's crystal ligand-protein contacts (against its pocket crop)
/// and turns them into a potential of mean force.
pub fn learn_potential(complexes: &[TrainingComplex]) -> PairPotential {
    complexes
        .par_iter()
        .map(|c| {
            let ligand = VinaLigand::new(&c.graph.ligand, c.graph.torsions.len());
            let mut counts = PairCounts::default();
            counts.add(&ContactAtoms::of_protein(&c.pocket), &ligand.types, &c.crystal);
            counts
        })
        .reduce(PairCounts::default, PairCounts::merge)
        .potential()
}

/// One complex's docked poses as contact histograms, with the energies docking ranked them by
/// and their RMSDs to the crystal ligand.
pub struct PoseSet {
    /// Complex id.
    pub id: String,
    /// Row-major contact counts, one [`PairPotential::LEN`] row per pose.
    pub histograms: Vec<f32>,
    /// Vina-like energy of each pose (kcal/mol).
    pub energies: Vec<f64>,
    /// RMSD of each pose to the crystal ligand (Å).
    pub rmsds: Vec<f64>,
}

impl PoseSet {
    /// Number of poses.
    pub fn len(&self) -> usize {
        self.energies.len()
    }

    /// True when the complex has no poses.
    pub fn is_empty(&self) -> bool {
        self.energies.is_empty()
    }

    /// Contact counts of pose `i`.
    pub fn histogram(&self, i: usize) -> &[f32] {
        &self.histograms[i * PairPotential::LEN..(i + 1) * PairPotential::LEN]
    }

    /// RMSD of the pose that energy + `weight` × potential puts first.
    pub fn top1_rmsd(&self, potential: &PairPotential, weight: f64) -> f64 {
        let key = |i: usize| self.energies[i] + weight * potential.dot(self.histogram(i));
        (0..self.len()).min_by(|&a, &b| key(a).total_cmp(&key(b))).map_or(f64::INFINITY, |i| self.rmsds[i])
    }

    /// Positions of the right poses, when there are right and wrong ones (else nothing to learn).
    fn right_poses(&self) -> Option<Vec<i64>> {
        let right: Vec<i64> = (0..self.len()).filter(|&i| self.rmsds[i] < RIGHT_RMSD).map(|i| i as i64).collect();
        (!right.is_empty() && right.len() < self.len()).then_some(right)
    }
}

/// Monte Carlo steps that turn a perturbed native pose into a docked-looking one (as
/// `train confidence --docking --search-steps 30` docks).
const NATIVE_SEARCH_STEPS: usize = 30;

/// A complex's [`native_pose`] against its whole protein, with its energy and RMSD to the
/// crystal ligand (plain RMSD in the shared atom order, an upper bound of the
/// symmetry-corrected RMSD docked poses carry).
fn complex_native_pose(complex: &PreparedComplex, ligand: &VinaLigand) -> Result<(Vec<Vec3>, f64, f64)> {
    let crystal = complex.ligand.reference.as_ref().ok_or_else(|| Error::invalid(complex.id.clone(), "no crystal ligand pose"))?;
    let torsions = &complex.ligand.torsions;
    let (coords, energy) = native_pose(&complex.protein, ligand, &complex.ligand.ligand.coords, torsions, crystal, NATIVE_SEARCH_STEPS, 0)?;
    let rmsd = crate::geometry::rmsd(&coords, crystal);
    Ok((coords, energy, rmsd))
}

/// Contact histograms of a pose cache's complexes (proteins from `data`, prepared or read from
/// the prepare cache); with `natives`, each complex also gets its [`native_pose`] (a right pose
/// for every complex, where docking found one for fewer than half). A complex that fails to load
/// is reported through `skipped` and left out.
pub fn pose_sets(data: &Path, entries: &[CachedComplex], natives: bool, skipped: &(dyn Fn(&str, &Error) + Sync)) -> Vec<PoseSet> {
    let cache = PrepareCache::new(PrepareCache::default_dir());
    entries
        .par_iter()
        .filter_map(|entry| {
            let load = || -> Result<PoseSet> {
                let files = complex_files(data, &entry.id)?;
                let (complex, _) = cache.get_or_prepare(&files, &ConformerOptions::default())?;
                let ligand = VinaLigand::new(&complex.ligand.ligand, complex.ligand.torsions.len());
                let contacts = ContactAtoms::of_protein(&complex.protein);
                let mut set = PoseSet { id: entry.id.clone(), histograms: Vec::new(), energies: Vec::new(), rmsds: Vec::new() };
                let mut add = |coords: &[Vec3], energy: f64, rmsd: f64| {
                    set.histograms.extend(contacts.histogram(&ligand.types, coords));
                    set.energies.push(energy);
                    set.rmsds.push(rmsd);
                };
                for pose in entry.poses.iter().filter(|p| p.coords.len() == ligand.len()) {
                    if let Some(energy) = pose.energy {
                        add(&pose.coords, energy, pose.rmsd);
                    }
                }
                if natives {
                    let (coords, energy, rmsd) = complex_native_pose(&complex, &ligand)?;
                    add(&coords, energy, rmsd);
                }
                Ok(set)
            };
            load().map_err(|e| skipped(&entry.id, &e)).ok().filter(|s| !s.is_empty())
        })
        .collect()
}

/// % of complexes whose first pose by energy + `weight` × potential lies within 2 Å.
pub fn top1(sets: &[PoseSet], potential: &PairPotential, weight: f64) -> f64 {
    let right = sets.iter().filter(|s| s.top1_rmsd(potential, weight) < RIGHT_RMSD).count();
    100.0 * right as f64 / sets.len().max(1) as f64
}

/// Settings of [`fit_potential`].
#[derive(Clone, Copy, Debug)]
pub struct FitOptions {
    /// L2 penalty on the potential's values (pulls unused or noisy pairs to zero).
    pub l2: f64,
    /// Penalty on the squared differences of neighbouring distance bins of a pair (smoothness).
    pub smooth: f64,
    /// Full-batch Adam steps.
    pub epochs: usize,
    /// Adam learning rate.
    pub lr: f64,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions { l2: 0.1, smooth: 0.0, epochs: 300, lr: 0.01 }
    }
}

/// Fits a potential so that energy + potential ranks each complex's right poses first: per
/// complex, −log of the softmax mass (over −(energy + potential), kcal/mol) on its poses within
/// 2 Å, averaged over complexes with right and wrong poses, plus L2 and smoothness penalties. Starts from zero,
/// i.e. from energy ranking. `report(epoch, loss)` is called every 50 epochs and at the end.
pub fn fit_potential(sets: &[PoseSet], options: &FitOptions, report: &mut dyn FnMut(usize, f64)) -> Result<PairPotential> {
    let groups: Vec<(&PoseSet, Vec<i64>)> = sets.iter().filter_map(|s| s.right_poses().map(|r| (s, r))).collect();
    if groups.is_empty() {
        return Err(Error::invalid("pair potential fit", "no complex has both poses within 2 Å and poses beyond"));
    }
    let rows: usize = groups.iter().map(|(s, _)| s.len()).sum();
    let histograms: Vec<f32> = groups.iter().flat_map(|(s, _)| s.histograms.iter().copied()).collect();
    let energies: Vec<f32> = groups.iter().flat_map(|(s, _)| s.energies.iter().map(|&e| e as f32)).collect();
    let x = Tensor::from_slice(&histograms).view([rows as i64, PairPotential::LEN as i64]);
    let energy = Tensor::from_slice(&energies);
    let vs = nn::VarStore::new(Device::Cpu);
    let w = vs.root().zeros("values", &[PairPotential::LEN as i64]);
    let mut opt = nn::Adam::default().build(&vs, options.lr).map_err(|e| Error::Model(e.to_string()))?;
    let right: Vec<Tensor> = groups.iter().map(|(_, r)| Tensor::from_slice(r)).collect();
    for epoch in 1..=options.epochs {
        let logits = -(&energy + x.mv(&w));
        let mut start = 0;
        let mut listwise = Tensor::zeros([], (Kind::Float, Device::Cpu));
        for ((set, _), right) in groups.iter().zip(&right) {
            let own = logits.narrow(0, start, set.len() as i64);
            listwise = listwise + own.logsumexp([0], false) - own.index_select(0, right).logsumexp([0], false);
            start += set.len() as i64;
        }
        let bins = w.view([-1, PMF_BINS as i64]);
        let roughness = (bins.narrow(1, 1, PMF_BINS as i64 - 1) - bins.narrow(1, 0, PMF_BINS as i64 - 1)).square().sum(Kind::Float);
        let loss = listwise / groups.len() as f64 + w.square().sum(Kind::Float) * options.l2 + roughness * options.smooth;
        opt.backward_step(&loss);
        if epoch % 50 == 0 || epoch == options.epochs {
            report(epoch, loss.double_value(&[]));
        }
    }
    let values: Vec<f64> = Vec::<f32>::try_from(&w.detach()).map_err(|e| Error::Model(e.to_string()))?.into_iter().map(f64::from).collect();
    PairPotential::from_values(values, groups.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::physics::XsType;

    /// Contact histogram of one pose: `n` carbon-carbon contacts at 4.2 Å, for a toy protein of
    /// one hydrophobic carbon per contact.
    fn pose_with_contacts(n: usize) -> Vec<f32> {
        let protein: Vec<Vec3> = (0..n).map(|i| Vec3::new(20.0 * i as f64, 0.0, 0.0)).collect();
        let types = vec![XsType::CarbonHydrophobic; n];
        let ligand: Vec<Vec3> = protein.iter().map(|p| p + Vec3::new(0.0, 4.2, 0.0)).collect();
        ContactAtoms::new(&protein, types).histogram(&vec![XsType::CarbonHydrophobic; n], &ligand)
    }

    /// Complexes whose right pose makes more carbon contacts but has a worse energy than a
    /// decoy: energy ranks the decoy first, the fitted potential the right pose.
    #[test]
    fn the_fit_learns_what_energy_misses() {
        let sets: Vec<PoseSet> = (0..6)
            .map(|k| {
                let mut histograms = pose_with_contacts(4 + k);
                histograms.extend(pose_with_contacts(1));
                PoseSet { id: format!("c{k}"), histograms, energies: vec![-7.0, -8.0], rmsds: vec![0.8, 6.0] }
            })
            .collect();
        let zero = PairPotential::from_values(vec![0.0; PairPotential::LEN], 0).unwrap();
        assert_eq!(top1(&sets, &zero, 1.0), 0.0);
        let fitted = fit_potential(&sets, &FitOptions { l2: 1e-3, smooth: 0.0, epochs: 200, lr: 0.05 }, &mut |_, _| {}).unwrap();
        assert_eq!(fitted.complexes, 6);
        assert_eq!(top1(&sets, &fitted, 1.0), 100.0);
        assert!(fitted.value(XsType::CarbonHydrophobic, XsType::CarbonHydrophobic, 4.2) < 0.0);
    }

    #[test]
    fn a_fit_without_right_and_wrong_poses_is_an_error() {
        let set = PoseSet { id: "c".into(), histograms: pose_with_contacts(2), energies: vec![-7.0], rmsds: vec![5.0] };
        assert!(fit_potential(&[set], &FitOptions::default(), &mut |_, _| {}).is_err());
    }
}
