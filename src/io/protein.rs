//! Protein input (PDB, mmCIF, PDBQT, optionally gzip-compressed) and complex output as PDB.
//!
//! PDB and mmCIF files are parsed by pdbtbx in its loose mode; PDBQT files by [`super::pdbqt`].
//! Every reader yields the same flat list of [`AtomRecord`]s, and one function
//! ([`build_protein`]) applies the rules shared by all formats:
//! - first model only;
//! - waters (`HOH`, `WAT`, `DOD`, `H2O`) dropped, hydrogens (element H or D) ignored;
//! - alternate locations: per residue, atoms without an alternate location plus those of the
//!   first alternate location seen;
//! - HETATM groups (metals, cofactors) kept as residues with `ca: None`; several chains.
//!
//! A residue is an amino acid (and gets `ca`, `n`, `c`) when it has carbon `CA`, `N` and `C`
//! atoms, whether written as ATOM or HETATM (so modified residues such as MSE count).

use std::borrow::Cow;
use std::path::Path;

use pdbtbx::{Context, Format, PDBError, ReadOptions, StrictnessLevel};

use crate::chem::{elements, Ligand, Protein, ProteinAtom, Residue, Vec3};
use crate::error::{Error, Result};
use crate::io::read_text;

/// Residue names of water molecules, which are dropped.
const WATERS: [&str; 4] = ["HOH", "WAT", "DOD", "H2O"];

/// Backbone atom names; every other heavy atom of an amino acid belongs to the side chain.
const BACKBONE: [&str; 5] = ["N", "CA", "C", "O", "OXT"];

/// One atom as read from any structure format, before the protein rules are applied.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct AtomRecord {
    /// True for HETATM records.
    pub hetero: bool,
    /// Atom name, trimmed.
    pub name: String,
    /// Alternate location indicator, when any.
    pub alt_loc: Option<String>,
    /// Residue name, trimmed.
    pub res_name: String,
    /// Chain identifier.
    pub chain: String,
    /// Residue sequence number.
    pub res_number: isize,
    /// Insertion code (empty when none).
    pub insertion: String,
    /// Coordinates in Å.
    pub coord: Vec3,
    /// Atomic number (1 for hydrogen and deuterium).
    pub element: u8,
}

/// Input formats recognised by [`read_protein`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StructureFormat {
    Pdb,
    Mmcif,
    Pdbqt,
}

impl StructureFormat {
    /// Picks the format from the extension (ignoring `.gz`), falling back to the content.
    fn detect(path: &Path, text: &str) -> Self {
        let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
        let name = name.strip_suffix(".gz").unwrap_or(&name);
        let extension = name.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
        match extension {
            "pdbqt" => StructureFormat::Pdbqt,
            "cif" | "mmcif" => StructureFormat::Mmcif,
            "pdb" | "ent" | "pdb1" => StructureFormat::Pdb,
            _ if text.trim_start().starts_with("data_") => StructureFormat::Mmcif,
            _ => StructureFormat::Pdb,
        }
    }
}

/// Reads a protein from a PDB, mmCIF or PDBQT file, each optionally gzip-compressed (`.gz`).
///
/// Malformed files give [`Error::Parse`] with the file and, where known, the line; a file without
/// atoms or without amino acids gives [`Error::Invalid`] naming the file.
pub fn read_protein(path: &Path) -> Result<Protein> {
    let text = read_text(path)?;
    let atoms = match StructureFormat::detect(path, &text) {
        StructureFormat::Pdb => pdb_records(&text, path)?,
        StructureFormat::Mmcif => mmcif_records(&text, path)?,
        StructureFormat::Pdbqt => super::pdbqt::protein_records(&text, path)?,
    };
    build_protein(&structure_name(path), path, atoms)
}

/// The structure's name: the file name without `.gz` and the format extension.
pub(crate) fn structure_name(path: &Path) -> String {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    name.rsplit_once('.').map(|(stem, _)| stem).unwrap_or(name).to_string()
}

/// True for `ATOM` and `HETATM` lines.
pub(crate) fn is_atom_line(line: &str) -> bool {
    line.starts_with("ATOM") || line.starts_with("HETATM")
}

/// Parses the fixed columns shared by PDB and PDBQT ATOM/HETATM records (1-based columns:
/// name 13-16, altloc 17, residue name 18-20, chain 22, number 23-26, insertion 27,
/// x/y/z 31-54). The element is left 0 for the caller to fill.
pub(crate) fn parse_atom_line(line: &str, line_no: usize, path: &Path) -> Result<AtomRecord> {
    let fail = |message: String| Error::parse(path, Some(line_no), message);
    if !line.is_ascii() {
        return Err(fail("atom record contains non-ASCII characters".into()));
    }
    if line.len() < 54 {
        return Err(fail(format!(
            "atom record truncated: {} columns, coordinates need 54",
            line.len()
        )));
    }
    let field = |range: std::ops::Range<usize>| line.get(range).unwrap_or("").trim();
    let coordinate = |range: std::ops::Range<usize>, axis: &str| -> Result<f64> {
        let text = field(range);
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(fail(format!("bad {axis} coordinate '{text}'"))),
        }
    };
    let coord = Vec3::new(coordinate(30..38, "x")?, coordinate(38..46, "y")?, coordinate(46..54, "z")?);
    let number = field(22..26);
    let res_number = number
        .parse::<isize>()
        .map_err(|_| fail(format!("bad residue number '{number}'")))?;
    let alt_loc = Some(field(16..17)).filter(|a| !a.is_empty()).map(str::to_string);
    Ok(AtomRecord {
        hetero: line.starts_with("HETATM"),
        name: field(12..16).to_string(),
        alt_loc,
        res_name: field(17..20).to_string(),
        chain: field(21..22).to_string(),
        res_number,
        insertion: field(26..27).to_string(),
        coord,
        element: 0,
    })
}

/// Atomic number of an element symbol (case-insensitive); deuterium counts as hydrogen.
pub(crate) fn element_number(symbol: &str) -> Option<u8> {
    let symbol = symbol.trim();
    if symbol.eq_ignore_ascii_case("D") {
        return Some(1);
    }
    elements::atomic_number(symbol)
}

/// Element symbol as written in PDB element columns (upper case).
fn element_symbol(number: u8) -> String {
    elements::symbol(number).to_uppercase()
}

/// Guesses the element from a 4-column PDB atom name, after the PDB convention: two-letter
/// symbols start in column 13 (HETATM groups, or a bare two-letter ATOM name such as `ZN`), one-letter
/// symbols sit in column 14 (`" CA "` is carbon). A HETATM atom named like its residue is an ion
/// (`MG` in `MG`, `CA` in `CA`) whatever its alignment and record type.
fn element_from_atom_name(name_field: &str, res_name: &str, hetero: bool) -> Option<u8> {
    let name = name_field.trim();
    // single-atom groups (ions) are named after their element, also when written as ATOM
    if name == res_name {
        if let Some(z) = element_number(name) {
            return Some(z);
        }
    }
    let bytes = name_field.as_bytes();
    let two_letters = bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1].is_ascii_alphabetic();
    // two-letter elements start in column 13 (no leading blank) by PDB convention
    if (hetero || (name.len() == 2 && bytes.first() != Some(&b' '))) && two_letters {
        if let Some(z) = element_number(&name_field[..2]).filter(|&z| z > 1 || bytes[0] == b'D') {
            return Some(z);
        }
    }
    let first = name.chars().find(|c| c.is_ascii_alphabetic())?;
    element_number(&first.to_string())
}

/// Reads the ATOM/HETATM records of a PDB file through pdbtbx.
///
/// A pre-pass validates the coordinates of every atom line (so pdbtbx never sees non-finite
/// numbers), fills blank element columns from the atom names, writes deuterium as hydrogen and
/// replaces non-ASCII characters of other lines, keeping the line numbering.
fn pdb_records(text: &str, path: &Path) -> Result<Vec<AtomRecord>> {
    let cleaned = prepare_pdb_text(text, path)?;
    let mut options = ReadOptions::new();
    options
        .set_format(Format::Pdb)
        .set_level(StrictnessLevel::Loose)
        .set_only_first_model(true)
        .set_only_atomic_coords(true);
    pdbtbx_records(&options, &cleaned, path)
}

/// Reads the atoms of an mmCIF file through pdbtbx.
fn mmcif_records(text: &str, path: &Path) -> Result<Vec<AtomRecord>> {
    let mut options = ReadOptions::new();
    options
        .set_format(Format::Mmcif)
        .set_level(StrictnessLevel::Loose)
        .set_only_first_model(true);
    pdbtbx_records(&options, text, path)
}

/// Rewrites a PDB text so that pdbtbx can read it safely (see [`pdb_records`]).
fn prepare_pdb_text(text: &str, path: &Path) -> Result<String> {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for (i, line) in text.lines().enumerate() {
        if is_atom_line(line) {
            let record = parse_atom_line(line, i + 1, path)?;
            out.push_str(&with_element_column(line, &record, path, i + 1)?);
        } else if line.is_ascii() {
            out.push_str(line);
        } else {
            out.extend(line.chars().map(|c| if c.is_ascii() { c } else { '?' }));
        }
        out.push('\n');
    }
    Ok(out)
}

/// Returns the atom line with a valid element in columns 77-78: a blank or unknown element is
/// guessed from the atom name, deuterium (`D`) is written as hydrogen.
fn with_element_column<'a>(line: &'a str, record: &AtomRecord, path: &Path, line_no: usize) -> Result<Cow<'a, str>> {
    let given = line.get(76..78).unwrap_or("").trim();
    let from_column = element_number(given);
    if from_column.is_some() && given != "D" {
        return Ok(Cow::Borrowed(line));
    }
    let element = from_column
        .or_else(|| element_from_atom_name(line.get(12..16).unwrap_or(""), &record.res_name, record.hetero))
        .ok_or_else(|| {
            let message = format!("cannot tell the element of atom '{}' (columns 77-78 or 13-16)", record.name);
            Error::parse(path, Some(line_no), message)
        })?;
    let head = line.get(..76).unwrap_or(line);
    let tail = line.get(78..).unwrap_or("");
    Ok(Cow::Owned(format!("{head:<76}{:>2}{tail}", element_symbol(element))))
}

/// Runs pdbtbx on `text` and flattens its first model into atom records.
fn pdbtbx_records(options: &ReadOptions, text: &str, path: &Path) -> Result<Vec<AtomRecord>> {
    let reader = std::io::BufReader::new(text.as_bytes());
    // pdbtbx documents no panics but uses `expect` internally; keep a panic a parse error.
    let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| options.read_raw(reader)))
        .map_err(|_| Error::parse(path, None, "the structure parser failed on this file"))?;
    let (pdb, _warnings) = match parsed {
        Ok(parsed) => parsed,
        // An atom-less file is an empty structure: `build_protein` reports it as invalid.
        Err(errors) if errors.iter().any(|e| e.short_description() == "No Atoms") => return Ok(Vec::new()),
        Err(errors) => return Err(pdbtbx_error(path, &errors)),
    };
    let Some(model) = pdb.models().next() else {
        return Ok(Vec::new());
    };
    let mut records = Vec::with_capacity(model.atom_count());
    for chain in model.chains() {
        for residue in chain.residues() {
            for conformer in residue.conformers() {
                for atom in conformer.atoms() {
                    let (x, y, z) = atom.pos();
                    let element = atom.element().and_then(|e| u8::try_from(e.atomic_number()).ok());
                    records.push(AtomRecord {
                        hetero: atom.hetero(),
                        name: atom.name().to_string(),
                        alt_loc: conformer.alternative_location().map(str::to_string),
                        res_name: conformer.name().to_string(),
                        chain: chain.id().to_string(),
                        res_number: residue.serial_number(),
                        insertion: residue.insertion_code().unwrap_or("").to_string(),
                        coord: Vec3::new(x, y, z),
                        element: element.unwrap_or(0),
                    });
                }
            }
        }
    }
    Ok(records)
}

/// Turns pdbtbx's error list into one parse error with the first breaking error's line.
fn pdbtbx_error(path: &Path, errors: &[PDBError]) -> Error {
    let Some(error) = errors.iter().find(|e| e.fails(StrictnessLevel::Loose)).or(errors.first()) else {
        return Error::parse(path, None, "unreadable structure file");
    };
    let message = format!("{}: {}", error.short_description(), error.long_description());
    Error::parse(path, context_line(error.context()), message)
}

/// The (first) 1-based line number a pdbtbx error context points at.
fn context_line(context: &Context) -> Option<usize> {
    match context {
        Context::FullLine { linenumber, .. } | Context::Line { linenumber, .. } => Some(*linenumber),
        Context::Range { start_linenumber, .. } | Context::RangeHighlights { start_linenumber, .. } => {
            Some(*start_linenumber)
        }
        Context::Multiple { contexts } => contexts.iter().find_map(|(_, c)| context_line(c)),
        Context::None | Context::Show { .. } => None,
    }
}

/// True when two records belong to the same residue.
fn same_residue(a: &AtomRecord, b: &AtomRecord) -> bool {
    a.chain == b.chain && a.res_number == b.res_number && a.insertion == b.insertion
}

/// Applies the protein rules (see the module documentation) to atom records in file order and
/// builds the protein; `path` names the file in errors.
pub(crate) fn build_protein(name: &str, path: &Path, records: Vec<AtomRecord>) -> Result<Protein> {
    let mut protein = Protein { name: name.to_string(), residues: Vec::new(), atoms: Vec::new() };
    let kept = records
        .into_iter()
        .filter(|r| r.element != 1 && !WATERS.contains(&r.res_name.as_str()));
    let mut group: Vec<AtomRecord> = Vec::new();
    for record in kept {
        if group.last().is_some_and(|last| !same_residue(last, &record)) {
            push_residue(&mut protein, std::mem::take(&mut group), path)?;
        }
        group.push(record);
    }
    push_residue(&mut protein, group, path)?;
    let context = path.display().to_string();
    if protein.atoms.is_empty() {
        return Err(Error::invalid(context, "the protein file has no heavy atoms"));
    }
    if protein.residues.iter().all(|r| r.ca.is_none()) {
        return Err(Error::invalid(context, "the protein file has no amino-acid residues (no N/CA/C backbone)"));
    }
    Ok(protein)
}

/// Appends one residue (the records of one chain/number/insertion) to the protein, keeping
/// atoms without alternate location and those of the first alternate location.
fn push_residue(protein: &mut Protein, group: Vec<AtomRecord>, path: &Path) -> Result<()> {
    let first_alt = group.iter().find_map(|r| r.alt_loc.clone());
    let atoms: Vec<AtomRecord> = group
        .into_iter()
        .filter(|r| r.alt_loc.is_none() || r.alt_loc == first_alt)
        .collect();
    let Some(head) = atoms.first() else {
        return Ok(());
    };
    if let Some(bad) = atoms.iter().find(|r| r.element == 0) {
        return Err(Error::parse(
            path,
            None,
            format!("unknown element of atom {} in residue {} {}", bad.name, bad.res_name, bad.res_number),
        ));
    }
    let index = protein.residues.len();
    let start = protein.atoms.len();
    let mut residue = Residue {
        name: head.res_name.clone(),
        chain: head.chain.clone(),
        number: head.res_number,
        insertion: head.insertion.clone(),
        atoms: start..start + atoms.len(),
        ca: None,
        n: None,
        c: None,
        side_chain: None,
    };
    fill_backbone(&mut residue, &atoms);
    protein.residues.push(residue);
    protein.atoms.extend(atoms.into_iter().map(|r| ProteinAtom {
        name: r.name,
        element: r.element,
        coord: r.coord,
        residue: index,
        hetero: r.hetero,
    }));
    Ok(())
}

/// Sets `ca`, `n`, `c` and the side-chain centroid when the residue is an amino acid.
fn fill_backbone(residue: &mut Residue, atoms: &[AtomRecord]) {
    let find = |name: &str, element: u8| atoms.iter().find(|a| a.name == name && a.element == element);
    let (Some(ca), Some(n), Some(c)) = (find("CA", 6), find("N", 7), find("C", 6)) else {
        return;
    };
    residue.ca = Some(ca.coord);
    residue.n = Some(n.coord);
    residue.c = Some(c.coord);
    let side: Vec<Vec3> = atoms
        .iter()
        .filter(|a| !BACKBONE.contains(&a.name.as_str()))
        .map(|a| a.coord)
        .collect();
    residue.side_chain = (!side.is_empty()).then(|| crate::chem::centroid(&side));
}

/// Formats one PDB ATOM/HETATM record with standard columns.
#[allow(clippy::too_many_arguments)]
fn atom_record_line(
    hetero: bool,
    serial: usize,
    name: &str,
    res_name: &str,
    chain: &str,
    res_number: isize,
    insertion: &str,
    coord: &Vec3,
    element: u8,
) -> String {
    let symbol = element_symbol(element);
    // One-letter elements start their names in column 14, longer names in column 13.
    let name = if symbol.len() == 1 && name.len() < 4 { format!(" {name}") } else { name.to_string() };
    let name: String = name.chars().take(4).collect();
    let res_name: String = res_name.chars().take(3).collect();
    let chain = chain.chars().next().unwrap_or(' ');
    let insertion = insertion.chars().next().unwrap_or(' ');
    format!(
        "{:<6}{:>5} {:<4} {:>3} {}{:>4}{}   {:>8.3}{:>8.3}{:>8.3}{:>6.2}{:>6.2}          {:>2}\n",
        if hetero { "HETATM" } else { "ATOM" },
        serial % 100_000,
        name,
        res_name,
        chain,
        if (-999..=9999).contains(&res_number) { res_number } else { res_number.rem_euclid(10_000) },
        insertion,
        coord.x,
        coord.y,
        coord.z,
        1.0,
        0.0,
        symbol,
    )
}

/// Writes a protein-ligand complex as PDB text: the protein atoms (ATOM/HETATM as read), a TER
/// record, the ligand at `coords` as HETATM records (residue `ligand_resname`, chain `L`, atom
/// names element + index), CONECT records for the ligand bonds, and END.
///
/// PDB limits apply: chain identifiers are cut to one character, serial numbers wrap after
/// 99,999 and residue numbers after 9,999.
pub fn write_complex_pdb(protein: &Protein, ligand: &Ligand, coords: &[Vec3], ligand_resname: &str) -> String {
    let mut out = String::with_capacity(81 * (protein.atoms.len() + 2 * ligand.len() + 4));
    for (i, atom) in protein.atoms.iter().enumerate() {
        let residue = &protein.residues[atom.residue];
        out.push_str(&atom_record_line(
            atom.hetero,
            i + 1,
            &atom.name,
            &residue.name,
            &residue.chain,
            residue.number,
            &residue.insertion,
            &atom.coord,
            atom.element,
        ));
    }
    out.push_str("TER\n");
    let first_serial = protein.atoms.len() + 1;
    for (i, (atom, coord)) in ligand.atoms.iter().zip(coords).enumerate() {
        let name = format!("{}{}", element_symbol(atom.element), i + 1);
        out.push_str(&atom_record_line(true, first_serial + i, &name, ligand_resname, "L", 1, "", coord, atom.element));
    }
    for (i, partners) in ligand.neighbours().iter().enumerate().take(coords.len()) {
        for chunk in partners.chunks(4) {
            out.push_str(&format!("CONECT{:>5}", (first_serial + i) % 100_000));
            for &j in chunk {
                out.push_str(&format!("{:>5}", (first_serial + j) % 100_000));
            }
            out.push('\n');
        }
    }
    out.push_str("END\n");
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::chem::{BondOrder, Chirality, Hybridization, LigandAtom, LigandBond};
    use std::path::PathBuf;

    /// The shared data folder, `../shared/data` relative to the crate, when present.
    pub(crate) fn shared_data_dir() -> Option<PathBuf> {
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data")).filter(|p| p.join("complexes").is_dir())
    }

    /// Path of a complex's protein file, or `None` (with a skip message) when the data is absent.
    pub(crate) fn complex_protein(id: &str) -> Option<PathBuf> {
        let Some(dir) = shared_data_dir() else {
            eprintln!("skipped: shared data (../shared/data) not found");
            return None;
        };
        Some(dir.join(format!("complexes/{id}/{id}_protein.pdb.gz")))
    }

    fn write_temp(name: &str, content: &[u8]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(name);
        std::fs::write(&path, content).expect("write temp file");
        (dir, path)
    }

    const TWO_RESIDUES: &str = "\
HEADER    TEST
ATOM      1  N   ALA A   1      11.104   6.134  -6.504  1.00  0.00           N
ATOM      2  CA  ALA A   1      11.639   6.071  -5.147  1.00  0.00           C
ATOM      3  C   ALA A   1      13.167   5.961  -5.193  1.00  0.00           C
ATOM      4  O   ALA A   1      13.760   5.486  -6.153  1.00  0.00           O
ATOM      5  CB AALA A   1      11.230   7.322  -4.378  0.50  0.00           C
ATOM      6  CB BALA A   1      11.930   7.322  -4.378  0.50  0.00           C
ATOM      7  H   ALA A   1      10.104   6.134  -6.504  1.00  0.00           H
ATOM      8  N   GLY B   2      13.789   6.400  -4.100  1.00  0.00
ATOM      9  CA  GLY B   2      15.240   6.350  -4.000  1.00  0.00
ATOM     10  C   GLY B   2      15.800   7.700  -3.600  1.00  0.00
HETATM   11 ZN    ZN B 101      20.000  20.000  20.000  1.00  0.00          ZN
HETATM   12  O   HOH B 201      21.000  20.000  20.000  1.00  0.00           O
END
";

    #[test]
    fn reads_pdb_rules() {
        let (_dir, path) = write_temp("tiny.pdb", TWO_RESIDUES.as_bytes());
        let protein = read_protein(&path).expect("tiny protein");
        assert_eq!(protein.name, "tiny");
        assert_eq!(protein.residues.len(), 3, "ALA, GLY, ZN; water dropped");
        assert_eq!(protein.atoms.len(), 4 + 1 + 3 + 1, "hydrogen and altloc B dropped");
        let ala = &protein.residues[0];
        assert_eq!((ala.name.as_str(), ala.chain.as_str(), ala.number), ("ALA", "A", 1));
        assert!((ala.side_chain.expect("CB").x - 11.230).abs() < 1e-9, "first altloc kept");
        let gly = &protein.residues[1];
        assert!(gly.ca.is_some() && gly.side_chain.is_none());
        assert_eq!(protein.atoms[gly.atoms.start + 1].element, 6, "blank element column: CA is carbon");
        let zn = &protein.residues[2];
        assert!(zn.ca.is_none());
        assert_eq!(protein.atoms[zn.atoms.start].element, 30);
        assert!(protein.atoms[zn.atoms.start].hetero);
        assert_eq!(protein.amino_acids(), vec![0, 1]);
    }

    #[test]
    fn elements_from_names_and_odd_columns() {
        assert_eq!(element_from_atom_name(" CA ", "ALA", false), Some(6));
        assert_eq!(element_from_atom_name("CA  ", "CA", true), Some(20));
        assert_eq!(element_from_atom_name(" MG ", "MG", true), Some(12), "misaligned ion");
        assert_eq!(element_from_atom_name("CL1 ", "LIG", true), Some(17));
        assert_eq!(element_from_atom_name("C10 ", "LIG", true), Some(6));
        assert_eq!(element_from_atom_name("1HB ", "ALA", false), Some(1));
        assert_eq!(element_from_atom_name("HG21", "THR", false), Some(1));
        let path = Path::new("x.pdb");
        let line = "HETATM 4693  MG  MG  D   1      25.495  52.095  34.290  1.00  0.00           M";
        let record = parse_atom_line(line, 1, path).expect("record");
        let fixed = with_element_column(line, &record, path, 1).expect("guessed");
        assert_eq!(&fixed[76..78], "MG");
        let deuterium = "ATOM      7  D   ALA A   1      10.104   6.134  -6.504  1.00  0.00           D";
        let record = parse_atom_line(deuterium, 1, path).expect("record");
        assert_eq!(&with_element_column(deuterium, &record, path, 1).expect("D")[76..78], " H");
    }

    #[test]
    fn reads_gzip_and_first_model_only() {
        let models = format!("MODEL        1\n{TWO_RESIDUES}ENDMDL\nMODEL        2\n{TWO_RESIDUES}ENDMDL\n")
            .replace("END\n", "");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, models.as_bytes()).expect("gzip");
        let (_dir, path) = write_temp("models.pdb.gz", &gz.finish().expect("gzip"));
        let protein = read_protein(&path).expect("gzipped models");
        assert_eq!(protein.name, "models");
        assert_eq!(protein.residues.len(), 3);
    }

    fn parse_error_line(result: Result<Protein>) -> Option<usize> {
        match result {
            Err(Error::Parse { line, .. }) => line,
            other => panic!("expected a parse error, got {other:?}"),
        }
    }

    #[test]
    fn malformed_pdb_files_are_errors() {
        let truncated = TWO_RESIDUES.replace("ATOM      3  C   ALA A   1      13.167   5.961", "ATOM      3  C   ALA A   1      13.1");
        let (_d1, p1) = write_temp("truncated.pdb", truncated.as_bytes());
        assert_eq!(parse_error_line(read_protein(&p1)), Some(4));
        let bad_number = TWO_RESIDUES.replace("13.167", "13.1x7");
        let (_d2, p2) = write_temp("bad.pdb", bad_number.as_bytes());
        assert_eq!(parse_error_line(read_protein(&p2)), Some(4));
        let nan = TWO_RESIDUES.replace("  13.167", "     nan");
        let (_d3, p3) = write_temp("nan.pdb", nan.as_bytes());
        assert_eq!(parse_error_line(read_protein(&p3)), Some(4));
        let (_d4, p4) = write_temp("garbage.pdb", &[0u8, 159, 146, 150, 255, 10, 1, 2, 3]);
        let err = read_protein(&p4).expect_err("binary garbage");
        assert!(err.to_string().contains("garbage.pdb"), "{err}");
        let (_d5, p5) = write_temp("empty.pdb", b"");
        let err = read_protein(&p5).expect_err("empty file");
        assert!(matches!(err, Error::Invalid { .. }) && err.to_string().contains("empty.pdb"), "{err}");
        let (_d6, p6) = write_temp("zn.pdb", TWO_RESIDUES.lines().nth(11).unwrap_or("").as_bytes());
        let err = read_protein(&p6).expect_err("no amino acids");
        assert!(matches!(err, Error::Invalid { .. }) && err.to_string().contains("zn.pdb"), "{err}");
        let (_d7, p7) = write_temp("bad.cif", b"data_x\nloop_\n_atom_site.id\n_atom_site.Cartn_x\n1\n");
        assert!(read_protein(&p7).is_err());
        let (_d8, p8) = write_temp("junk.pdb.gz", &[0x1f, 0x8b, 1, 2, 3]);
        assert!(matches!(read_protein(&p8), Err(Error::Parse { .. })));
        assert!(matches!(read_protein(Path::new("/nonexistent/x.pdb")), Err(Error::Io { .. })));
        let random: Vec<u8> = (0..4000u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
        let (_d9, p9) = write_temp("random.pdb", &random);
        assert!(read_protein(&p9).is_err());
    }

    #[test]
    fn reads_real_pdb_files() {
        let path = Path::new("/usr/share/RDKit/Contrib/CalcLigRMSD/data/aurka_protein_2c6e.pdb");
        if !path.exists() {
            eprintln!("skipped: {} not found", path.display());
            return;
        }
        let protein = read_protein(path).expect("2c6e");
        assert!(protein.amino_acids().len() > 200);
        let other = Path::new("/usr/share/RDKit/Contrib/CalcLigRMSD/data/5dpv.pdb");
        if other.exists() {
            let protein = read_protein(other).expect("5dpv");
            assert!(protein.amino_acids().len() > 100);
        }
    }

    #[test]
    fn reads_shared_complex_protein() {
        let Some(path) = complex_protein("1a30") else { return };
        let protein = read_protein(&path).expect("1a30 protein");
        assert!(protein.amino_acids().len() > 150, "{}", protein.amino_acids().len());
        assert!(protein.atoms.iter().all(|a| a.element > 1));
        assert_eq!(protein.name, "1a30_protein");
    }

    #[test]
    fn reads_mmcif_written_by_pdbtbx() {
        let Some(path) = complex_protein("1a30") else { return };
        let protein = read_protein(&path).expect("1a30 protein");
        let (pdb, _) = ReadOptions::new()
            .set_format(Format::Pdb)
            .set_level(StrictnessLevel::Loose)
            .read_raw(std::io::BufReader::new(
                crate::io::read_text(&path).expect("text").as_bytes(),
            ))
            .expect("pdbtbx");
        let dir = tempfile::tempdir().expect("temp dir");
        let cif = dir.path().join("1a30.cif");
        pdbtbx::save(&pdb, cif.to_string_lossy(), StrictnessLevel::Loose).expect("save mmCIF");
        let from_cif = read_protein(&cif).expect("mmCIF");
        assert_eq!(from_cif.atoms.len(), protein.atoms.len());
        assert_eq!(from_cif.amino_acids().len(), protein.amino_acids().len());
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &std::fs::read(&cif).expect("cif bytes")).expect("gzip");
        let cif_gz = dir.path().join("1a30.cif.gz");
        std::fs::write(&cif_gz, gz.finish().expect("gzip")).expect("write");
        assert_eq!(read_protein(&cif_gz).expect("mmCIF.gz").residues, from_cif.residues);
    }

    pub(crate) fn tiny_ligand() -> Ligand {
        let atom = |element| LigandAtom {
            element,
            formal_charge: 0,
            aromatic: false,
            hybridization: Hybridization::Sp3,
            degree: 1,
            num_hs: 0,
            in_ring: false,
            chirality: Chirality::None,
        };
        let bond = |begin, end| LigandBond {
            begin,
            end,
            order: BondOrder::Single,
            kekule_order: 1,
            in_ring: false,
            conjugated: false,
        };
        Ligand {
            name: "etoh".into(),
            atoms: vec![atom(6), atom(6), atom(8)],
            bonds: vec![bond(0, 1), bond(1, 2)],
            coords: vec![Vec3::new(0.0, 0.0, 0.0), Vec3::new(1.5, 0.0, 0.0), Vec3::new(2.0, 1.4, 0.0)],
        }
    }

    #[test]
    fn complex_pdb_reads_back() {
        let (_dir, path) = write_temp("tiny.pdb", TWO_RESIDUES.as_bytes());
        let protein = read_protein(&path).expect("tiny protein");
        let ligand = tiny_ligand();
        let text = write_complex_pdb(&protein, &ligand, &ligand.coords, "LIG");
        assert!(text.lines().all(|l| l.len() <= 80));
        let (pdb, _) = ReadOptions::new()
            .set_format(Format::Pdb)
            .set_level(StrictnessLevel::Strict)
            .read_raw(std::io::BufReader::new(text.as_bytes()))
            .expect("pdbtbx reads the complex");
        assert_eq!(pdb.atom_count(), protein.atoms.len() + 3);
        // pdbtbx ignores CONECT records: check them as text.
        let serial = protein.atoms.len() + 1;
        let conect: Vec<&str> = text.lines().filter(|l| l.starts_with("CONECT")).collect();
        assert_eq!(conect.len(), 3);
        assert_eq!(conect[1], format!("CONECT{:>5}{:>5}{:>5}", serial + 1, serial, serial + 2));
        let (_dir2, out) = write_temp("complex.pdb", text.as_bytes());
        let back = read_protein(&out).expect("complex reads back");
        let lig = back.residues.last().expect("ligand residue");
        assert_eq!((lig.name.as_str(), lig.chain.as_str(), lig.ca), ("LIG", "L", None));
        assert_eq!(back.atoms[lig.atoms.start + 2].element, 8);
        assert!((back.atoms[lig.atoms.start + 2].coord - ligand.coords[2]).norm() < 1e-3);
        assert_eq!(back.atoms.len(), protein.atoms.len() + 3);
    }

    /// Reads every validation protein (run with `--ignored`); prints the timing.
    #[test]
    #[ignore]
    fn reads_all_validation_proteins() {
        let Some(dir) = shared_data_dir() else {
            eprintln!("skipped: shared data (../shared/data) not found");
            return;
        };
        let ids = std::fs::read_to_string(dir.join("splits/val.txt")).expect("val split");
        let start = std::time::Instant::now();
        let mut atoms = 0;
        for id in ids.split_whitespace() {
            let path = dir.join(format!("complexes/{id}/{id}_protein.pdb.gz"));
            let protein = read_protein(&path).unwrap_or_else(|e| panic!("{e}"));
            atoms += protein.atoms.len();
        }
        eprintln!("read {} val proteins ({atoms} atoms) in {:.2?}", ids.split_whitespace().count(), start.elapsed());
    }
}
