//! SDF (MDL V2000) writing with per-record properties, and SDF record splitting for reading.

use crate::chem::{elements, BondOrder, Ligand, Vec3};
use std::fmt::Write;

/// One SDF record as text: the mol block, its data fields and where it starts in the file.
#[derive(Clone, Debug, PartialEq)]
pub struct SdfRecord {
    /// The mol block (header, counts, atoms, bonds, up to and including `M  END`).
    pub molblock: String,
    /// Data fields (`> <name>` followed by value lines).
    pub properties: Vec<(String, String)>,
    /// 1-based line where the record starts.
    pub line: usize,
}

impl SdfRecord {
    /// The record's title (first line of the mol block).
    pub fn title(&self) -> &str {
        self.molblock.lines().next().unwrap_or("").trim()
    }
}

/// Splits SDF text into records at `$$$$` lines; a trailing record without `$$$$` is kept.
pub fn split_sdf(text: &str) -> Vec<SdfRecord> {
    let mut records = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    let mut start = 1;
    for (i, line) in text.lines().enumerate() {
        if line.trim_end() == "$$$$" {
            records.push(record_from_lines(&current, start));
            current.clear();
            start = i + 2;
        } else {
            current.push(line);
        }
    }
    if current.iter().any(|l| !l.trim().is_empty()) {
        records.push(record_from_lines(&current, start));
    }
    records
}

fn record_from_lines(lines: &[&str], start: usize) -> SdfRecord {
    let end = lines.iter().position(|l| l.starts_with("M  END")).map(|i| i + 1).unwrap_or(lines.len());
    let mut molblock = lines[..end].join("\n");
    molblock.push('\n');
    SdfRecord { molblock, properties: parse_properties(&lines[end..]), line: start }
}

fn parse_properties(lines: &[&str]) -> Vec<(String, String)> {
    let mut props = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if let (true, Some(open), Some(close)) = (line.starts_with('>'), line.find('<'), line.rfind('>')) {
            if close > open {
                let name = line[open + 1..close].to_string();
                let mut value = Vec::new();
                i += 1;
                while i < lines.len() && !lines[i].trim().is_empty() {
                    value.push(lines[i]);
                    i += 1;
                }
                props.push((name, value.join("\n")));
            }
        }
        i += 1;
    }
    props
}

/// Writes one SDF record (V2000, Kekulé bonds, formal charges) for `ligand` at `coords`,
/// with the given properties, terminated by `$$$$`.
pub fn sdf_record(ligand: &Ligand, coords: &[Vec3], properties: &[(String, String)]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", ligand.name);
    let _ = writeln!(out, "  disco-dock      3D");
    let _ = writeln!(out);
    let _ = writeln!(out, "{:>3}{:>3}  0  0  0  0  0  0  0  0999 V2000", ligand.atoms.len(), ligand.bonds.len());
    for (atom, p) in ligand.atoms.iter().zip(coords) {
        let _ = writeln!(
            out,
            "{:>10.4}{:>10.4}{:>10.4} {:<3} 0  0  0  0  0  0  0  0  0  0  0  0",
            p.x,
            p.y,
            p.z,
            elements::symbol(atom.element)
        );
    }
    // ligands without a Kekulé structure (e.g. from PDBQT) write aromatic bonds as MDL type 4
    let kekulized = ligand.bonds.iter().any(|b| b.order == BondOrder::Aromatic && b.kekule_order == 2);
    for b in &ligand.bonds {
        let order = if b.order == BondOrder::Aromatic && !kekulized { 4 } else { b.kekule_order };
        let _ = writeln!(out, "{:>3}{:>3}{:>3}  0", b.begin + 1, b.end + 1, order);
    }
    let charged: Vec<(usize, i8)> =
        ligand.atoms.iter().enumerate().filter(|(_, a)| a.formal_charge != 0).map(|(i, a)| (i, a.formal_charge)).collect();
    for chunk in charged.chunks(8) {
        let _ = write!(out, "M  CHG{:>3}", chunk.len());
        for (i, q) in chunk {
            let _ = write!(out, " {:>3} {:>3}", i + 1, q);
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(out, "M  END");
    for (name, value) in properties {
        let _ = writeln!(out, "> <{name}>\n{value}\n");
    }
    out.push_str("$$$$\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_keeps_properties_and_lines() {
        let text = "a\n  x\n\n  0  0  0  0  0  0  0  0  0  0999 V2000\nM  END\n> <score>\n1.5\n\n$$$$\nb\n\n\n  0  0  0  0  0  0  0  0  0  0999 V2000\nM  END\n$$$$\n";
        let recs = split_sdf(text);
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].title(), "a");
        assert_eq!(recs[0].properties, vec![("score".to_string(), "1.5".to_string())]);
        assert_eq!(recs[1].line, 10);
    }

    #[test]
    fn write_read_round_trip_keeps_atoms_bonds_and_coordinates() {
        use crate::chem::conformer::{prepare_ligand, ConformerOptions};
        use crate::io::ligand::{read_ligand_file, LigandText};
        let prepared =
            prepare_ligand(&LigandText::smiles("C[N+](C)(C)CC(=O)[O-]", "betaine"), &ConformerOptions::default()).unwrap();
        let lig = &prepared.ligand;
        let props = vec![("confidence".to_string(), "0.75".to_string())];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.sdf");
        let text = sdf_record(lig, &lig.coords, &props) + &sdf_record(lig, &lig.coords, &[]);
        std::fs::write(&path, &text).unwrap();
        let records = read_ligand_file(&path).unwrap();
        assert_eq!(records.len(), 2);
        let back = prepare_ligand(&records[0], &ConformerOptions { generate: false, ..Default::default() }).unwrap();
        assert_eq!(back.ligand.atoms, lig.atoms);
        assert_eq!(back.ligand.bonds, lig.bonds);
        for (a, b) in back.ligand.coords.iter().zip(&lig.coords) {
            assert!((a - b).norm() < 1e-3);
        }
        assert_eq!(split_sdf(&text)[0].properties, props);
    }
}
