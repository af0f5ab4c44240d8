//! A knowledge-based pair potential between ligand and protein heavy atoms (DrugScore-style
//! potential of mean force), learned from crystal complexes.
//!
//! Vina's terms are a handful of hand-shaped functions shared by all atom pairs; a potential of
//! mean force instead reads, for each pair of XS types, how the distances between them in real
//! complexes differ from those of all pairs: ΔW_ab(r) = −ln(p_ab(r) / p(r)), with p_ab(r) the
//! share of the (a, b) contacts within the cutoff that fall in distance bin r and p(r) the same
//! share over all type pairs (Gohlke, Hendlich & Klebe 2000). Rare pairs are shrunk towards p(r)
//! by pseudo-counts, so a pair seen a few times scores about zero (units: kT per pair). The same
//! values can instead be fitted to docked poses (`train::potential`), in kcal/mol, as a
//! correction docking adds to the Vina-like energy. Lower is more native-like, as with an energy.

use super::{protein_types, XsType};
use crate::chem::{Protein, Vec3};
use crate::error::{Error, Result};
use crate::graph::CellList;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Width (Å) of a distance bin.
pub const PMF_BIN: f64 = 0.5;
/// Pairs farther apart than this (Å) do not count.
pub const PMF_CUTOFF: f64 = 6.0;
/// Pseudo-counts that shrink a type pair's distance distribution towards that of all pairs.
const PSEUDO_COUNTS: f64 = 50.0;
/// Largest penalty (kT) for one pair: bins never seen in crystals (clashes) get this.
const MAX_PENALTY: f64 = 3.0;

/// Distance bins of a pair.
pub const PMF_BINS: usize = (PMF_CUTOFF / PMF_BIN) as usize;
const BINS: usize = PMF_BINS;

fn bin_of(d2: f64) -> Option<usize> {
    let k = (d2.sqrt() / PMF_BIN) as usize;
    (k < BINS).then_some(k)
}

/// Number of atom classes the potential tells apart.
const CLASSES: usize = 9;

/// The class of an XS type: XS types merged where they interact alike (donors, acceptors,
/// halogens), so that a potential fitted to a few hundred complexes has few values.
fn class(t: XsType) -> usize {
    use XsType::*;
    match t {
        CarbonHydrophobic => 0,
        CarbonPolar => 1,
        NitrogenDonor | OxygenDonor => 2,
        NitrogenAcceptor | OxygenAcceptor => 3,
        NitrogenDonorAcceptor | OxygenDonorAcceptor => 4,
        NitrogenPolar | OxygenPolar | Phosphorus => 5,
        Sulfur => 6,
        Fluorine | Chlorine | Bromine | Iodine => 7,
        Metal | Other => 8,
    }
}

fn slot(ligand: XsType, protein: XsType, bin: usize) -> usize {
    (class(ligand) * CLASSES + class(protein)) * BINS + bin
}

/// The protein's heavy atoms in a cell list with their XS types, for counting and scoring pairs.
pub struct ContactAtoms {
    cells: CellList,
    types: Vec<XsType>,
}

impl ContactAtoms {
    /// Indexes protein atom `coords` of XS `types` (same order).
    pub fn new(coords: &[Vec3], types: Vec<XsType>) -> Self {
        ContactAtoms { cells: CellList::new(coords, PMF_CUTOFF), types }
    }

    /// Indexes a protein's heavy atoms with their XS types.
    pub fn of_protein(protein: &Protein) -> Self {
        let coords: Vec<Vec3> = protein.atoms.iter().map(|a| a.coord).collect();
        Self::new(&coords, protein_types(protein))
    }

    /// Contact counts of a pose per (ligand class, protein class, distance bin), in the order of
    /// the potential's values: a pose's score is their dot product with them.
    pub fn histogram(&self, ligand_types: &[XsType], pose: &[Vec3]) -> Vec<f32> {
        let mut counts = vec![0.0; PairPotential::LEN];
        self.for_each_pair(ligand_types, pose, |s| counts[s] += 1.0);
        counts
    }

    /// Each pose atom's protein surroundings, row-major `[atoms, CONTACT_FEATURES]`: ln(1 + the
    /// number of protein heavy atoms) per protein atom class and 1 Å distance shell within the
    /// cutoff. An atom-level view of the pocket for networks whose protein nodes are residues.
    pub fn environment(&self, pose: &[Vec3]) -> Vec<f32> {
        let mut out = vec![0.0f32; pose.len() * CONTACT_FEATURES];
        for (p, row) in pose.iter().zip(out.chunks_mut(CONTACT_FEATURES)) {
            self.for_each_contact(p, |t, k| row[class(t) * CONTACT_SHELLS + k / 2] += 1.0);
            row.iter_mut().for_each(|x| *x = x.ln_1p());
        }
        out
    }

    /// Calls `visit(slot)` for every ligand-protein pair within the cutoff.
    fn for_each_pair(&self, ligand_types: &[XsType], pose: &[Vec3], mut visit: impl FnMut(usize)) {
        for (&a, p) in ligand_types.iter().zip(pose) {
            self.for_each_contact(p, |t, k| visit(slot(a, t, k)));
        }
    }

    /// Calls `visit(type, bin)` for every protein atom within the cutoff of `p`.
    fn for_each_contact(&self, p: &Vec3, mut visit: impl FnMut(XsType, usize)) {
        self.cells.for_each_within(p, PMF_CUTOFF, |j, d2| {
            if let Some(k) = bin_of(d2) {
                visit(self.types[j], k);
            }
        });
    }
}

/// Distance shells (1 Å wide, up to the cutoff) of [`ContactAtoms::environment`].
pub const CONTACT_SHELLS: usize = BINS / 2;

/// Width of one ligand atom's row of [`ContactAtoms::environment`].
pub const CONTACT_FEATURES: usize = CLASSES * CONTACT_SHELLS;

/// Contact counts per (ligand class, protein class, distance bin), summed over crystal complexes.
#[derive(Clone, Debug)]
pub struct PairCounts {
    counts: Vec<f64>,
    complexes: usize,
}

impl Default for PairCounts {
    fn default() -> Self {
        PairCounts { counts: vec![0.0; PairPotential::LEN], complexes: 0 }
    }
}

impl PairCounts {
    /// Adds the contacts of one crystal pose.
    pub fn add(&mut self, protein: &ContactAtoms, ligand_types: &[XsType], pose: &[Vec3]) {
        protein.for_each_pair(ligand_types, pose, |s| self.counts[s] += 1.0);
        self.complexes += 1;
    }

    /// Sums two sets of counts (for parallel counting).
    pub fn merge(mut self, other: PairCounts) -> PairCounts {
        self.counts.iter_mut().zip(&other.counts).for_each(|(a, b)| *a += b);
        self.complexes += other.complexes;
        self
    }

    /// The potential ΔW_ab(r) = −ln(p_ab(r) / p(r)), rare pairs shrunk towards p(r).
    pub fn potential(&self) -> PairPotential {
        let mut all = [0.0; BINS];
        for pair in self.counts.chunks(BINS) {
            all.iter_mut().zip(pair).for_each(|(a, n)| *a += n);
        }
        let total: f64 = all.iter().sum();
        let reference: Vec<f64> = all.iter().map(|n| n / total.max(1.0)).collect();
        let values = self
            .counts
            .chunks(BINS)
            .flat_map(|pair| {
                let n: f64 = pair.iter().sum();
                pair.iter().zip(&reference).map(move |(&nr, &pr)| {
                    let p = (nr + PSEUDO_COUNTS * pr) / (n + PSEUDO_COUNTS);
                    if pr <= 0.0 { MAX_PENALTY } else { (-(p / pr).ln()).clamp(-MAX_PENALTY, MAX_PENALTY) }
                })
            })
            .collect();
        PairPotential { bin: PMF_BIN, cutoff: PMF_CUTOFF, complexes: self.complexes, values }
    }
}

/// A learned pair potential: a value per (ligand atom class, protein atom class, distance bin),
/// classes being merged XS types.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PairPotential {
    /// Bin width (Å); must equal [`PMF_BIN`].
    pub bin: f64,
    /// Cutoff (Å); must equal [`PMF_CUTOFF`].
    pub cutoff: f64,
    /// Number of crystal complexes it was learned from.
    pub complexes: usize,
    /// Values, indexed by ligand class, protein class, bin.
    values: Vec<f64>,
}

impl PairPotential {
    /// Number of values: ligand atom classes × protein atom classes × distance bins.
    pub const LEN: usize = CLASSES * CLASSES * BINS;

    /// A potential with the given values (e.g. fitted to docked poses), in [`ContactAtoms::histogram`] order.
    pub fn from_values(values: Vec<f64>, complexes: usize) -> Result<Self> {
        if values.len() != Self::LEN {
            return Err(Error::invalid("pair potential", format!("{} values, expected {}", values.len(), Self::LEN)));
        }
        Ok(PairPotential { bin: PMF_BIN, cutoff: PMF_CUTOFF, complexes, values })
    }

    /// Sum of ΔW over the pose's ligand-protein pairs within the cutoff (kT; lower is better).
    pub fn score(&self, protein: &ContactAtoms, ligand_types: &[XsType], pose: &[Vec3]) -> f64 {
        let mut sum = 0.0;
        protein.for_each_pair(ligand_types, pose, |s| sum += self.values[s]);
        sum
    }

    /// Score of a pose given its contact histogram ([`ContactAtoms::histogram`]).
    pub fn dot(&self, histogram: &[f32]) -> f64 {
        self.values.iter().zip(histogram).map(|(v, &n)| v * f64::from(n)).sum()
    }

    /// ΔW of one type pair at distance `d` (Å); zero beyond the cutoff.
    pub fn value(&self, ligand: XsType, protein: XsType, d: f64) -> f64 {
        bin_of(d * d).map_or(0.0, |k| self.values[slot(ligand, protein, k)])
    }

    /// ΔW of one type pair at distance `d` (Å), interpolated linearly between bin centres and
    /// falling to zero half a bin beyond the cutoff: the same potential made continuous, so that a local
    /// optimiser can follow it (the search grids, [`super::VinaScorer::with_potential`]).
    pub fn smooth_value(&self, ligand: XsType, protein: XsType, d: f64) -> f64 {
        let at = |k: usize| if k < BINS { self.values[slot(ligand, protein, k)] } else { 0.0 };
        let x = (d / PMF_BIN - 0.5).max(0.0);
        let k = x as usize;
        if k >= BINS {
            return 0.0;
        }
        let f = x - k as f64;
        at(k) * (1.0 - f) + at(k + 1) * f
    }

    /// Reads a potential written by [`PairPotential::save`].
    pub fn load(path: &Path) -> Result<Self> {
        let text = crate::io::read_text(path)?;
        let pot: PairPotential = serde_json::from_str(&text).map_err(|e| Error::invalid(path.display().to_string(), e.to_string()))?;
        let expected = Self::LEN;
        if pot.bin != PMF_BIN || pot.cutoff != PMF_CUTOFF || pot.values.len() != expected {
            return Err(Error::invalid(path.display().to_string(), format!("pair potential with bin {} Å, cutoff {} Å and {} values; expected {PMF_BIN}, {PMF_CUTOFF} and {expected}", pot.bin, pot.cutoff, pot.values.len())));
        }
        Ok(pot)
    }

    /// Writes the potential as JSON.
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string(self).map_err(|e| Error::invalid(path.display().to_string(), e.to_string()))?;
        std::fs::write(path, text).map_err(|e| Error::io(path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(x: f64, y: f64, z: f64) -> Vec3 {
        Vec3::new(x, y, z)
    }

    /// Crystals where acceptor oxygens always sit 2.9 Å from donor nitrogens and carbons 4 Å
    /// from carbons: the potential must favour exactly those distances.
    #[test]
    fn potential_favours_the_distances_seen_in_crystals() {
        use XsType::*;
        let protein_coords = vec![v(0.0, 0.0, 0.0), v(10.0, 0.0, 0.0)];
        let protein_types = vec![NitrogenDonor, CarbonHydrophobic];
        let protein = ContactAtoms::new(&protein_coords, protein_types);
        let ligand_types = vec![OxygenAcceptor, CarbonHydrophobic];
        let mut counts = PairCounts::default();
        for _ in 0..500 {
            counts.add(&protein, &ligand_types, &[v(0.0, 2.9, 0.0), v(10.0, 4.0, 0.0)]);
        }
        let pot = counts.potential();
        assert_eq!(pot.complexes, 500);
        assert!(pot.value(OxygenAcceptor, NitrogenDonor, 2.9) < -0.5);
        assert!(pot.value(OxygenAcceptor, NitrogenDonor, 4.0) > 0.5);
        assert!(pot.value(CarbonHydrophobic, CarbonHydrophobic, 4.0) < -0.5);
        assert!(pot.value(CarbonHydrophobic, CarbonHydrophobic, 2.9) > 0.5);
        // A pair never seen stays at the reference: zero.
        assert!(pot.value(Sulfur, Metal, 4.0).abs() < 1e-9);
        let native = pot.score(&protein, &ligand_types, &[v(0.0, 2.9, 0.0), v(10.0, 4.0, 0.0)]);
        let swapped = pot.score(&protein, &ligand_types, &[v(0.0, 4.0, 0.0), v(10.0, 2.9, 0.0)]);
        assert!(native < swapped, "native {native} against swapped {swapped}");
    }

    #[test]
    fn the_smooth_potential_meets_the_binned_one_at_bin_centres_and_fades_at_the_cutoff() {
        use XsType::*;
        let values: Vec<f64> = (0..PairPotential::LEN).map(|i| ((i * 7) % 11) as f64 - 5.0).collect();
        let pot = PairPotential::from_values(values, 1).unwrap();
        let (l, p) = (OxygenAcceptor, NitrogenDonor);
        for k in 0..BINS {
            let centre = (k as f64 + 0.5) * PMF_BIN;
            assert!((pot.smooth_value(l, p, centre) - pot.value(l, p, centre)).abs() < 1e-12, "bin {k}");
        }
        assert_eq!(pot.smooth_value(l, p, 0.1), pot.value(l, p, 0.1), "flat below the first centre");
        assert_eq!(pot.smooth_value(l, p, PMF_CUTOFF + PMF_BIN / 2.0), 0.0);
        assert_eq!(pot.smooth_value(l, p, 9.0), 0.0);
        // continuous: no jump across a bin edge, unlike the binned value
        let edge = 2.0 * PMF_BIN;
        let jump = (pot.smooth_value(l, p, edge + 1e-9) - pot.smooth_value(l, p, edge - 1e-9)).abs();
        assert!(jump < 1e-6, "{jump}");
    }

    #[test]
    fn environment_counts_protein_atoms_per_class_and_shell() {
        use XsType::*;
        let protein_coords = vec![v(0.0, 3.5, 0.0), v(0.0, -3.2, 0.0), v(4.5, 0.0, 0.0), v(0.0, 0.0, 6.5)];
        let protein = ContactAtoms::new(&protein_coords, vec![NitrogenDonor, NitrogenDonor, CarbonHydrophobic, OxygenAcceptor]);
        let env = protein.environment(&[v(0.0, 0.0, 0.0), v(100.0, 0.0, 0.0)]);
        assert_eq!(env.len(), 2 * CONTACT_FEATURES);
        let donor_3 = class(NitrogenDonor) * CONTACT_SHELLS + 3;
        let carbon_4 = class(CarbonHydrophobic) * CONTACT_SHELLS + 4;
        assert!((env[donor_3] - 3.0f32.ln()).abs() < 1e-6, "two donors 3-4 Å away: ln 3");
        assert!((env[carbon_4] - 2.0f32.ln()).abs() < 1e-6, "one carbon 4-5 Å away: ln 2");
        let nonzero = env.iter().filter(|&&x| x != 0.0).count();
        assert_eq!(nonzero, 2, "the acceptor beyond the cutoff and the far atom count nothing");
    }

    #[test]
    fn saved_potential_loads_back_and_bad_files_are_named() {
        let protein_coords = vec![v(0.0, 0.0, 0.0)];
        let types = vec![XsType::CarbonPolar];
        let mut counts = PairCounts::default();
        counts.add(&ContactAtoms::new(&protein_coords, types.clone()), &types, &[v(3.7, 0.0, 0.0)]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("potential.json");
        let pot = counts.potential();
        pot.save(&path).unwrap();
        assert_eq!(PairPotential::load(&path).unwrap(), pot);
        std::fs::write(&path, "{\"bin\": 1.0}").unwrap();
        let err = PairPotential::load(&path).unwrap_err().to_string();
        assert!(err.contains("potential.json"), "{err}");
    }
}
