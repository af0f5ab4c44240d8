//! What docked poses' Vina-like energies are made of: for every pose in a confidence-training
//! pose cache (`train confidence --docking` writes `confidence_poses_*.jsonl`), the unweighted
//! sums of Vina's five terms between ligand and protein and within the ligand, with the pose's
//! RMSD label, docking rank, energy and population, and two counts Vina's terms lack: the
//! ligand's hydrogen-bond donors and acceptors buried in the protein (at least
//! [`BURIED_NEIGHBOURS`] protein heavy atoms within [`BURIED_REACH`]), and those of them without a partner
//! (no complementary protein atom within [`PARTNER_REACH`]): a buried polar group that makes no
//! hydrogen bond pays its desolvation for nothing, which Vina does not charge. A `coulomb` column
//! holds the electrostatic energy Vina also lacks: formal charges at pH 7 (ionised acids,
//! protonated amines, amidines and guanidines; Asp, Glu, Lys, Arg and lone metal ions on the
//! protein side) under Coulomb's law with the dielectric 4r. Input for studies
//! of ranking rules (`scripts/term_study.py`, `scripts/extra_term_study.py`). Also reads the pose
//! cache a benchmark writes (`benchmark --poses-cache`). Given a pair potential
//! (`train potential`), a last column holds each pose's score under it.
//!
//! Run: `cargo run --release --example pose_terms -- ../shared/data runs/conf7/confidence_poses_val.jsonl [potential.json] > val_terms.csv`.

use anyhow::{Context, Result};
use disco_dock::chem::conformer::ConformerOptions;
use disco_dock::chem::Vec3;
use disco_dock::io::dataset::{complex_files, PrepareCache};
use disco_dock::chem::{Hybridization, Ligand, Protein};
use disco_dock::graph::CellList;
use disco_dock::physics::{protein_types, ContactAtoms, PairPotential, PocketBox, VinaLigand, VinaScorer, XsType, TERM_NAMES};
use disco_dock::train::confidence::{read_pose_cache, CachedComplex};
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// Protein heavy atoms within [`BURIED_REACH`] that make a ligand atom buried.
const BURIED_NEIGHBOURS: usize = 8;
/// Distance (Å) within which protein heavy atoms count towards burial.
const BURIED_REACH: f64 = 4.5;
/// Largest donor-acceptor distance (Å) that counts as a hydrogen-bond partner.
const PARTNER_REACH: f64 = 3.6;

/// The protein's heavy atoms in a cell list, with their XS types.
struct ProteinAtoms {
    cells: CellList,
    types: Vec<XsType>,
}

impl ProteinAtoms {
    fn new(protein: &Protein) -> Self {
        let coords: Vec<Vec3> = protein.atoms.iter().map(|a| a.coord).collect();
        ProteinAtoms { cells: CellList::new(&coords, BURIED_REACH), types: protein_types(protein) }
    }

    /// (buried donors/acceptors, of them without a partner) of a pose.
    fn buried_polar(&self, types: &[XsType], pose: &[Vec3]) -> (usize, usize) {
        let polar = |t: &XsType| t.is_donor() || t.is_acceptor();
        let mut counts = (0, 0);
        for (t, p) in types.iter().zip(pose).filter(|(t, _)| polar(t)) {
            let (mut near, mut partner) = (0, false);
            self.cells.for_each_within(p, BURIED_REACH, |j, d2| {
                near += 1;
                partner |= d2 <= PARTNER_REACH * PARTNER_REACH && t.hbond_pair(self.types[j]);
            });
            if near >= BURIED_NEIGHBOURS {
                counts.0 += 1;
                counts.1 += usize::from(!partner);
            }
        }
        counts
    }
}

/// Coulomb constant (kcal·Å/(mol·e²)).
const COULOMB: f64 = 332.06;
/// Pairs farther apart than this (Å) add no electrostatics.
const COULOMB_CUTOFF: f64 = 8.0;
/// Closest distance (Å) the electrostatic term reads, so that a clash cannot dominate it.
const COULOMB_FLOOR: f64 = 2.0;

/// Charge (e) of a protein atom at pH 7: carboxylates and ammonium/guanidinium share their unit
/// charge over their terminal atoms, histidine is neutral, lone metal ions carry their usual
/// charge.
fn protein_charge(residue: &str, atom: &str, element: u8, lone: bool) -> f64 {
    match (residue, atom) {
        ("ASP", "OD1" | "OD2") | ("GLU", "OE1" | "OE2") => -0.5,
        ("LYS", "NZ") => 1.0,
        ("ARG", "NE" | "NH1" | "NH2") => 1.0 / 3.0,
        _ if lone => match element {
            11 | 19 => 1.0,
            12 | 20 | 25..=30 | 48 => 2.0,
            _ => 0.0,
        },
        _ => 0.0,
    }
}

/// The charged protein atoms: positions and charges.
fn protein_charges(protein: &Protein) -> Vec<(Vec3, f64)> {
    let mut size = vec![0usize; protein.residues.len()];
    protein.atoms.iter().for_each(|a| size[a.residue] += 1);
    protein
        .atoms
        .iter()
        .map(|a| (a.coord, protein_charge(&protein.residues[a.residue].name, &a.name, a.element, a.hetero && size[a.residue] == 1)))
        .filter(|(_, q)| *q != 0.0)
        .collect()
}

/// Kekulé order of the bond between atoms `i` and `j`, if they are bonded.
fn bond_order(ligand: &Ligand, i: usize, j: usize) -> Option<u8> {
    ligand.bonds.iter().find(|b| (b.begin, b.end) == (i, j) || (b.begin, b.end) == (j, i)).map(|b| b.kekule_order)
}

/// Charges (e) of a ligand's heavy atoms at pH 7. Written formal charges count, except pairs of
/// bonded opposite charges (nitro groups, N-oxides), which cancel; acid groups (carboxylic,
/// sulfonic, phosphoric) are ionised and aliphatic amines, amidines and guanidines protonated,
/// each group's charge shared over its terminal atoms.
fn ligand_charges(ligand: &Ligand) -> Vec<f64> {
    let nbrs = ligand.neighbours();
    let atoms = &ligand.atoms;
    let order = |i: usize, j: usize| bond_order(ligand, i, j);
    let mut q: Vec<f64> = atoms.iter().map(|a| f64::from(a.formal_charge)).collect();
    for b in &ligand.bonds {
        if i32::from(atoms[b.begin].formal_charge) * i32::from(atoms[b.end].formal_charge) < 0 {
            q[b.begin] = 0.0;
            q[b.end] = 0.0;
        }
    }
    let terminal_o = |c: usize| -> Vec<usize> { nbrs[c].iter().copied().filter(|&o| atoms[o].element == 8 && atoms[o].degree == 1).collect() };
    let acidic = |c: usize, o: usize| order(c, o) == Some(1) && (atoms[o].num_hs > 0 || atoms[o].formal_charge < 0);
    let share = |q: &mut Vec<f64>, group: &[usize], total: f64| group.iter().for_each(|&i| q[i] = total / group.len() as f64);
    for c in 0..atoms.len() {
        let (e, arom) = (atoms[c].element, atoms[c].aromatic);
        let oxygens = terminal_o(c);
        let acids = oxygens.iter().filter(|&&o| acidic(c, o)).count();
        match e {
            6 if !arom && oxygens.len() == 2 && acids == 1 => share(&mut q, &oxygens, -1.0),
            16 if oxygens.len() == 3 && acids >= 1 => share(&mut q, &oxygens, -1.0),
            15 if acids >= 1 && oxygens.len() >= 2 => share(&mut q, &oxygens, if acids >= 2 { -1.5 } else { -1.0 }),
            6 if !arom && atoms[c].hybridization == Hybridization::Sp2 => {
                let ns: Vec<usize> = nbrs[c].iter().copied().filter(|&n| atoms[n].element == 7 && !atoms[n].aromatic).collect();
                let double = ns.iter().any(|&n| order(c, n) == Some(2));
                let acyl = ns.iter().any(|&n| nbrs[n].iter().any(|&x| x != c && is_carbonyl_like(ligand, &nbrs, x)));
                if ns.len() >= 2 && double && !acyl {
                    share(&mut q, &ns, 1.0);
                }
            }
            7 if is_basic_amine(ligand, &nbrs, c) => q[c] = 1.0,
            _ => {}
        }
    }
    q
}

/// True for a carbon or sulfur double-bonded to oxygen (or carbon double-bonded to nitrogen/sulfur),
/// whose neighbours lose their basicity.
fn is_carbonyl_like(ligand: &Ligand, nbrs: &[Vec<usize>], x: usize) -> bool {
    let atoms = &ligand.atoms;
    matches!(atoms[x].element, 6 | 16 | 15)
        && nbrs[x].iter().any(|&y| atoms[y].element != 6 && bond_order(ligand, x, y) == Some(2))
}

/// An uncharged sp3 nitrogen bonded only to sp3 carbons that are not carbonyl-like or aromatic:
/// an aliphatic amine, protonated at pH 7.
fn is_basic_amine(ligand: &Ligand, nbrs: &[Vec<usize>], n: usize) -> bool {
    let a = &ligand.atoms[n];
    a.formal_charge == 0
        && !a.aromatic
        && a.hybridization == Hybridization::Sp3
        && !nbrs[n].is_empty()
        && nbrs[n].iter().all(|&c| {
            let c_atom = &ligand.atoms[c];
            c_atom.element == 6 && !c_atom.aromatic && c_atom.hybridization == Hybridization::Sp3 && !is_carbonyl_like(ligand, nbrs, c)
        })
}

/// Electrostatic energy (kcal/mol) of a pose: Coulomb with the distance-dependent dielectric
/// ε = 4r, pairs within [`COULOMB_CUTOFF`], distances floored at [`COULOMB_FLOOR`].
fn coulomb(ligand_q: &[f64], protein_q: &[(Vec3, f64)], pose: &[Vec3]) -> f64 {
    let mut e = 0.0;
    for (q, p) in ligand_q.iter().zip(pose).filter(|(q, _)| **q != 0.0) {
        for (x, qp) in protein_q {
            let r = (p - x).norm();
            if r < COULOMB_CUTOFF {
                let r = r.max(COULOMB_FLOOR);
                e += COULOMB * q * qp / (4.0 * r * r);
            }
        }
    }
    e
}

/// CSV lines of one complex's poses.
fn complex_lines(data: &Path, cache: &PrepareCache, entry: &CachedComplex, potential: Option<&PairPotential>) -> Result<Vec<String>> {
    let files = complex_files(data, &entry.id)?;
    let (complex, _) = cache.get_or_prepare(&files, &ConformerOptions::default())?;
    let vina = VinaLigand::new(&complex.ligand.ligand, complex.ligand.torsions.len());
    let all: Vec<Vec3> = entry.poses.iter().flat_map(|p| p.coords.iter().copied()).collect();
    let scorer = VinaScorer::new(&complex.protein, &PocketBox::around(&all, 1.0), 1.0)?;
    let protein = ProteinAtoms::new(&complex.protein);
    let contacts = ContactAtoms::new(protein.cells.points(), protein.types.clone());
    let (ligand_q, protein_q) = (ligand_charges(&complex.ligand.ligand), protein_charges(&complex.protein));
    let fmt = |v: Option<f64>| v.map_or(String::new(), |x| format!("{x:.4}"));
    entry
        .poses
        .iter()
        .map(|p| {
            let t = scorer.terms_exact(&vina, &p.coords)?;
            let terms: Vec<String> = t.inter.iter().chain(&t.intra).map(|v| format!("{v:.4}")).collect();
            let (buried, unpaired) = protein.buried_polar(&vina.types, &p.coords);
            let pmf = potential.map_or(String::new(), |pot| format!(",{:.4}", pot.score(&contacts, &vina.types, &p.coords)));
            let elec = coulomb(&ligand_q, &protein_q, &p.coords);
            Ok(format!(
                "{},{},{:.4},{},{},{},{},{},{buried},{unpaired},{elec:.4}{pmf}",
                entry.id,
                p.rank.map_or(String::new(), |r| r.to_string()),
                p.rmsd,
                fmt(p.energy),
                p.population.map_or(String::new(), |n| n.to_string()),
                vina.len(),
                vina.num_torsions(),
                terms.join(",")
            ))
        })
        .collect()
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: pose_terms DATA POSES.jsonl [POTENTIAL.json]";
    let data = PathBuf::from(args.first().context(usage)?);
    let path = PathBuf::from(args.get(1).context(usage)?);
    let entries = read_pose_cache(&path)?;
    let potential = args.get(2).map(|p| PairPotential::load(Path::new(p))).transpose()?;
    let cache = PrepareCache::new(PrepareCache::default_dir());
    let names: Vec<String> = TERM_NAMES.iter().map(|n| format!("inter_{n}")).chain(TERM_NAMES.iter().map(|n| format!("intra_{n}"))).collect();
    println!("id,rank,rmsd,energy,population,atoms,torsions,{},buried_polar,unpaired_polar,coulomb{}", names.join(","), if potential.is_some() { ",pmf" } else { "" });
    let lines: Vec<Result<Vec<String>>> = entries.par_iter().map(|e| complex_lines(&data, &cache, e, potential.as_ref())).collect();
    for (entry, lines) in entries.iter().zip(lines) {
        match lines {
            Ok(lines) => lines.iter().for_each(|l| println!("{l}")),
            Err(e) => eprintln!("{}: skipped ({e:#})", entry.id),
        }
    }
    Ok(())
}
