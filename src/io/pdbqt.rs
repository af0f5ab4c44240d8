//! PDBQT input (AutoDock): receptors and ligands.
//!
//! PDBQT atom records are PDB ATOM/HETATM records with a partial charge (columns 71-76) and an
//! AutoDock atom type (columns 78-79) in place of the element. Only the first model is read;
//! `ROOT`/`BRANCH`/`TORSDOF` lines are ignored (rotatable bonds are perceived again by
//! [`crate::chem::torsion::rotatable_bonds`]).
//!
//! PDBQT carries no bond orders, so ligand chemistry is approximate: bonds are perceived from
//! distances, aromatic rings from the `A` type, double bonds only to terminal oxygens
//! (carbonyl, sulfonyl, phosphoryl), every other bond is single, formal charges are zero and
//! aromatic bonds get Kekulé order 1. Prefer SDF or SMILES input for ligands; PDBQT ligands are
//! accepted for Vina users.

use std::path::Path;

use crate::chem::torsion::ring_bonds;
use crate::chem::{
    BondOrder, Chirality, Hybridization, Ligand, LigandAtom, LigandBond, Protein, Vec3,
};
use crate::error::{Error, Result};
use crate::io::protein::{build_protein, element_number, is_atom_line, parse_atom_line, structure_name, AtomRecord};

/// Extra distance (Å) over the sum of covalent radii within which two atoms are bonded.
const BOND_TOLERANCE: f64 = 0.45;

/// Atoms closer than this (Å) are overlapping duplicates, not bonded.
const MIN_BOND_LENGTH: f64 = 0.4;

/// What an AutoDock atom type stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AdType {
    /// A heavy atom with its atomic number and aromatic flag.
    Heavy { element: u8, aromatic: bool },
    /// A hydrogen (`H`, `HD`, `HS`).
    Hydrogen,
    /// A dummy atom (Meeko's `G0`-`G3` macrocycle glue atoms).
    Dummy,
}

/// Decodes an AutoDock atom type (`A` aromatic carbon, `NA`/`NS` nitrogen acceptors,
/// `OA`/`OS` oxygens, `SA` sulfur, `HD` polar hydrogen, `CG0`-`CG3` glue carbons, and element
/// symbols such as `Cl`, `Br`, `Mg`, `Zn`).
fn decode_ad_type(ad_type: &str) -> Option<AdType> {
    let heavy = |element, aromatic| Some(AdType::Heavy { element, aromatic });
    match ad_type.to_ascii_uppercase().as_str() {
        "A" => heavy(6, true),
        "C" | "CG0" | "CG1" | "CG2" | "CG3" => heavy(6, false),
        "N" | "NA" | "NS" => heavy(7, false),
        "O" | "OA" | "OS" => heavy(8, false),
        "S" | "SA" => heavy(16, false),
        "H" | "HD" | "HS" => Some(AdType::Hydrogen),
        "G0" | "G1" | "G2" | "G3" => Some(AdType::Dummy),
        _ => element_number(ad_type).map(|element| AdType::Heavy { element, aromatic: false }),
    }
}

/// An atom record with its decoded AutoDock type.
struct PdbqtAtom {
    record: AtomRecord,
    aromatic: bool,
}

/// Reads the atom records of the first model with elements from the AutoDock types; dummy atoms
/// are skipped and hydrogens get element 1.
fn pdbqt_atoms(text: &str, path: &Path) -> Result<Vec<PdbqtAtom>> {
    let mut atoms = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.starts_with("ENDMDL") {
            break;
        }
        if !is_atom_line(line) {
            continue;
        }
        let mut record = parse_atom_line(line, i + 1, path)?;
        let ad_type = line.get(66..).and_then(|rest| rest.split_whitespace().last()).unwrap_or("");
        let (element, aromatic) = match decode_ad_type(ad_type) {
            Some(AdType::Heavy { element, aromatic }) => (element, aromatic),
            Some(AdType::Hydrogen) => (1, false),
            Some(AdType::Dummy) => continue,
            None => {
                let message = format!("unknown AutoDock atom type '{ad_type}' (columns 78-79)");
                return Err(Error::parse(path, Some(i + 1), message));
            }
        };
        record.element = element;
        atoms.push(PdbqtAtom { record, aromatic });
    }
    Ok(atoms)
}

/// Atom records of a PDBQT receptor, for [`crate::io::protein::read_protein`].
pub(crate) fn protein_records(text: &str, path: &Path) -> Result<Vec<AtomRecord>> {
    Ok(pdbqt_atoms(text, path)?.into_iter().map(|a| a.record).collect())
}

/// Reads a PDBQT receptor from its text; `path` names the file in errors and gives the name.
/// The same rules as for PDB files apply (see [`crate::io::protein`]).
pub fn read_pdbqt_protein(text: &str, path: &Path) -> Result<Protein> {
    build_protein(&structure_name(path), path, protein_records(text, path)?)
}

/// Covalent radius (Å, Cordero et al. 2008) used for bond perception; 1.5 Å for other elements.
fn covalent_radius(element: u8) -> f64 {
    match element {
        1 => 0.31,
        5 => 0.84,
        6 => 0.76,
        7 => 0.71,
        8 => 0.66,
        9 => 0.57,
        11 => 1.66,
        12 => 1.41,
        14 => 1.11,
        15 => 1.07,
        16 => 1.05,
        17 => 1.02,
        19 => 2.03,
        20 => 1.76,
        25 => 1.39,
        26 => 1.32,
        27 => 1.26,
        28 => 1.24,
        29 => 1.32,
        30 => 1.22,
        33 => 1.19,
        34 => 1.20,
        35 => 1.20,
        53 => 1.39,
        _ => 1.5,
    }
}

/// True when two atoms are close enough to be covalently bonded.
fn bonded(a: (u8, &Vec3), b: (u8, &Vec3)) -> bool {
    let distance = (a.1 - b.1).norm();
    distance > MIN_BOND_LENGTH && distance < covalent_radius(a.0) + covalent_radius(b.0) + BOND_TOLERANCE
}

/// Reads a ligand from PDBQT text (first model); `path` names the file in errors.
///
/// Heavy atoms keep their coordinates; hydrogens (`HD`, `H`) only count towards `num_hs` of the
/// nearest bonded heavy atom. Bonds come from distances (covalent radii + 0.45 Å). Atoms of
/// type `A`, and N/O/S ring atoms between two of them, are aromatic; ring bonds between
/// aromatic atoms are aromatic; bonds from C, S or P to a terminal oxygen without hydrogen are
/// double; all others single (bond orders are approximate: prefer SDF or SMILES).
/// Hybridisation is guessed: aromatic and doubly bonded atoms sp2, others sp3.
pub fn read_pdbqt_ligand(text: &str, path: &Path) -> Result<Ligand> {
    let atoms = pdbqt_atoms(text, path)?;
    let (heavy, hydrogens): (Vec<PdbqtAtom>, Vec<PdbqtAtom>) =
        atoms.into_iter().partition(|a| a.record.element > 1);
    if heavy.is_empty() {
        return Err(Error::invalid(path.display().to_string(), "the PDBQT ligand has no heavy atoms"));
    }
    let mut ligand = Ligand {
        name: structure_name(path),
        atoms: heavy.iter().map(|a| initial_atom(a.record.element, a.aromatic)).collect(),
        bonds: perceive_bonds(&heavy),
        coords: heavy.iter().map(|a| a.record.coord).collect(),
    };
    count_hydrogens(&mut ligand, &hydrogens);
    assign_rings_and_aromaticity(&mut ligand);
    assign_terminal_double_bonds(&mut ligand);
    Ok(ligand)
}

/// Most double bonds to terminal oxygens per central element: carbonyl C, sulfonyl S, P=O.
fn max_oxo_bonds(element: u8) -> usize {
    match element {
        6 | 15 => 1,
        16 => 2,
        _ => 0,
    }
}

/// Makes bonds from C, S or P to terminal oxygens without hydrogen double bonds (carbonyls,
/// sulfonyls, phosphoryls; for carboxylates one of the two oxygens), so that amides are
/// recognised; both atoms become sp2.
fn assign_terminal_double_bonds(ligand: &mut Ligand) {
    let degree: Vec<u8> = ligand.atoms.iter().map(|a| a.degree).collect();
    let mut oxo_count = vec![0usize; ligand.len()];
    for bond in &mut ligand.bonds {
        for (centre, oxygen) in [(bond.begin, bond.end), (bond.end, bond.begin)] {
            let o = &ligand.atoms[oxygen];
            let is_oxo = o.element == 8 && o.num_hs == 0 && degree[oxygen] == 1 && bond.order == BondOrder::Single;
            if is_oxo && oxo_count[centre] < max_oxo_bonds(ligand.atoms[centre].element) {
                oxo_count[centre] += 1;
                bond.order = BondOrder::Double;
                bond.kekule_order = 2;
                ligand.atoms[centre].hybridization = Hybridization::Sp2;
                ligand.atoms[oxygen].hybridization = Hybridization::Sp2;
            }
        }
    }
}

/// A ligand atom with the features known before bonds are perceived.
fn initial_atom(element: u8, aromatic: bool) -> LigandAtom {
    LigandAtom {
        element,
        formal_charge: 0,
        aromatic,
        hybridization: Hybridization::Sp3,
        degree: 0,
        num_hs: 0,
        in_ring: false,
        chirality: Chirality::None,
    }
}

/// Single bonds between heavy atoms within bonding distance.
fn perceive_bonds(heavy: &[PdbqtAtom]) -> Vec<LigandBond> {
    let mut bonds = Vec::new();
    for (i, a) in heavy.iter().enumerate() {
        for (j, b) in heavy.iter().enumerate().skip(i + 1) {
            if bonded((a.record.element, &a.record.coord), (b.record.element, &b.record.coord)) {
                bonds.push(LigandBond {
                    begin: i,
                    end: j,
                    order: BondOrder::Single,
                    kekule_order: 1,
                    in_ring: false,
                    conjugated: false,
                });
            }
        }
    }
    bonds
}

/// Adds each hydrogen to `num_hs` of the nearest heavy atom it is bonded to.
fn count_hydrogens(ligand: &mut Ligand, hydrogens: &[PdbqtAtom]) {
    for h in hydrogens {
        let nearest = ligand
            .coords
            .iter()
            .enumerate()
            .filter(|&(i, c)| bonded((1, &h.record.coord), (ligand.atoms[i].element, c)))
            .min_by(|(_, a), (_, b)| {
                let (da, db) = ((*a - h.record.coord).norm(), (*b - h.record.coord).norm());
                da.total_cmp(&db)
            });
        if let Some((i, _)) = nearest {
            ligand.atoms[i].num_hs = ligand.atoms[i].num_hs.saturating_add(1);
        }
    }
}

/// Sets ring flags, degrees, aromaticity of ring heteroatoms, aromatic bonds and hybridisation.
fn assign_rings_and_aromaticity(ligand: &mut Ligand) {
    let in_ring = ring_bonds(ligand);
    let mut ring_neighbours = vec![Vec::new(); ligand.len()];
    for (bond, &ring) in ligand.bonds.iter_mut().zip(&in_ring) {
        bond.in_ring = ring;
        ligand.atoms[bond.begin].degree = ligand.atoms[bond.begin].degree.saturating_add(1);
        ligand.atoms[bond.end].degree = ligand.atoms[bond.end].degree.saturating_add(1);
        if ring {
            ring_neighbours[bond.begin].push(bond.end);
            ring_neighbours[bond.end].push(bond.begin);
        }
    }
    let aromatic_heteroatoms: Vec<usize> = (0..ligand.len())
        .filter(|&i| matches!(ligand.atoms[i].element, 7 | 8 | 16) && !ligand.atoms[i].aromatic)
        .filter(|&i| ring_neighbours[i].iter().filter(|&&j| ligand.atoms[j].aromatic).count() >= 2)
        .collect();
    for i in aromatic_heteroatoms {
        ligand.atoms[i].aromatic = true;
    }
    for (i, atom) in ligand.atoms.iter_mut().enumerate() {
        atom.in_ring = !ring_neighbours[i].is_empty();
        atom.hybridization = if atom.aromatic { Hybridization::Sp2 } else { Hybridization::Sp3 };
    }
    for bond in &mut ligand.bonds {
        if bond.in_ring && ligand.atoms[bond.begin].aromatic && ligand.atoms[bond.end].aromatic {
            bond.order = BondOrder::Aromatic;
            bond.conjugated = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chem::torsion::rotatable_bonds;
    use crate::io::protein::read_protein;

    const VINA_DATA: &str = "/usr/share/doc/autodock-vina/test-data";

    #[test]
    fn reads_vina_ligand() {
        let path = Path::new(VINA_DATA).join("ligand.pdbqt");
        let Ok(text) = std::fs::read_to_string(&path) else {
            eprintln!("skipped: {} not found", path.display());
            return;
        };
        let ligand = read_pdbqt_ligand(&text, &path).expect("imatinib");
        // Imatinib (STI): C29 N7 O, 37 heavy atoms, 4 aromatic rings + piperazine.
        assert_eq!(ligand.len(), 37);
        assert_eq!(ligand.bonds.len(), 41, "37 atoms, 5 rings");
        let aromatic = ligand.atoms.iter().filter(|a| a.aromatic).count();
        assert_eq!(aromatic, 4 * 6, "pyridine, pyrimidine and two benzenes");
        let rings = ligand.atoms.iter().filter(|a| a.in_ring).count();
        assert_eq!(rings, 30);
        assert!(ligand.atoms.iter().any(|a| a.num_hs == 1 && a.element == 7), "amide/amine NH");
        let doubles: Vec<_> = ligand.bonds.iter().filter(|b| b.order == BondOrder::Double).collect();
        assert_eq!(doubles.len(), 1, "the amide C=O");
        assert_eq!((doubles[0].begin, doubles[0].end), (21, 22), "C22=O29 (0-based 21, 22)");
        // The same 7 active torsions as the file's header; the amide N21-C22 is fixed.
        let axes: Vec<_> = rotatable_bonds(&ligand).iter().map(|t| (t.axis.0 + 1, t.axis.1 + 1)).collect();
        assert_eq!(axes, vec![(7, 5), (13, 9), (14, 13), (16, 21), (22, 24), (27, 30), (30, 31)]);
    }

    #[test]
    fn reads_vina_receptor() {
        let path = Path::new(VINA_DATA).join("protein.pdbqt.gz");
        if !path.exists() {
            eprintln!("skipped: {} not found", path.display());
            return;
        }
        let protein = read_protein(&path).expect("receptor");
        assert!(protein.atoms.iter().all(|a| a.element > 1));
        assert_eq!(protein.atoms.len(), 1199 + 236 + 362 + 414 + 18);
        assert!(protein.amino_acids().len() > 250);
    }

    const SMALL: &str = "\
ROOT
HETATM    1  C1  LIG     1       0.000   0.000   0.000  1.00  0.00     0.000 C 
HETATM    2  O1  LIG     1       1.430   0.000   0.000  1.00  0.00    -0.300 OA
HETATM    3  H1  LIG     1       1.750   0.900   0.000  1.00  0.00     0.200 HD
ENDROOT
TORSDOF 0
";

    #[test]
    fn hydrogens_count_on_heavy_atoms() {
        let ligand = read_pdbqt_ligand(SMALL, Path::new("meoh.pdbqt")).expect("methanol");
        assert_eq!(ligand.len(), 2);
        assert_eq!(ligand.bonds.len(), 1);
        assert_eq!((ligand.atoms[0].num_hs, ligand.atoms[1].num_hs), (0, 1));
        assert_eq!(ligand.name, "meoh");
    }

    #[test]
    fn bad_pdbqt_is_an_error_with_line() {
        let path = Path::new("bad.pdbqt");
        let bad = SMALL.replace("1.430", "1.4x0");
        match read_pdbqt_ligand(&bad, path) {
            Err(Error::Parse { line: Some(3), path: p, .. }) => assert_eq!(p, path),
            other => panic!("expected a parse error at line 3, got {other:?}"),
        }
        let unknown = SMALL.replace("0.000 C ", "0.000 Qq");
        assert!(matches!(read_pdbqt_ligand(&unknown, path), Err(Error::Parse { line: Some(2), .. })));
        let truncated = SMALL.replace("HETATM    2  O1  LIG     1       1.430   0.000", "HETATM    2  O1  LIG");
        assert!(matches!(read_pdbqt_ligand(&truncated, path), Err(Error::Parse { line: Some(3), .. })));
        assert!(matches!(read_pdbqt_ligand("", path), Err(Error::Invalid { .. })));
        assert!(read_pdbqt_ligand("\u{0}\u{1}garbage\u{7f}", path).is_err());
        assert!(matches!(read_pdbqt_protein(&bad, path), Err(Error::Parse { line: Some(3), .. })));
    }
}
