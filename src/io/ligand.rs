//! Ligand input: SDF/MOL (V2000 and V3000, one or many records), MOL2, PDBQT and SMILES
//! (a string or a .smi file), split into per-molecule records that are parsed later, one
//! molecule per thread (RDKit objects are not `Send`).

use crate::error::{Error, Result};
use crate::io::read_text;
use crate::io::sdf::split_sdf;
use std::path::{Path, PathBuf};

/// The format of one ligand record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum LigandFormat {
    /// An MDL mol block (SDF record).
    MolBlock,
    /// A Tripos Mol2 block.
    Mol2,
    /// AutoDock PDBQT.
    Pdbqt,
    /// A SMILES string.
    Smiles,
}

/// One ligand as read from its source, not yet parsed by RDKit.
#[derive(Clone, Debug, PartialEq)]
pub struct LigandText {
    /// Name: the record title, the SMILES name column, or `<file stem>_<index>`.
    pub name: String,
    /// Format of `text`.
    pub format: LigandFormat,
    /// The record's text.
    pub text: String,
    /// File it came from (`<smiles>` for a command-line string).
    pub source: PathBuf,
    /// 1-based line where the record starts.
    pub line: usize,
}

impl LigandText {
    /// A ligand given as a SMILES string on the command line.
    pub fn smiles(smiles: &str, name: &str) -> Self {
        LigandText {
            name: name.to_string(),
            format: LigandFormat::Smiles,
            text: smiles.trim().to_string(),
            source: PathBuf::from("<smiles>"),
            line: 1,
        }
    }

    /// Where this record is, for error messages: `file:line`.
    pub fn location(&self) -> PathBuf {
        PathBuf::from(format!("{}:{}", self.source.display(), self.line))
    }
}

fn stem(path: &Path) -> String {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("ligand");
    name.split('.').next().unwrap_or(name).to_string()
}

fn record_name(title: &str, path: &Path, index: usize) -> String {
    let t = title.trim();
    if t.is_empty() {
        format!("{}_{}", stem(path), index + 1)
    } else {
        t.replace(|c: char| c.is_whitespace() || c == '/' || c == '\\', "_")
    }
}

/// Reads every ligand record of a file, choosing the parser by extension
/// (.sdf/.sd/.mol[.gz], .mol2, .pdbqt, .smi/.smiles/.txt); an empty file is an error.
pub fn read_ligand_file(path: &Path) -> Result<Vec<LigandText>> {
    let text = read_text(path)?;
    if text.trim().is_empty() {
        return Err(Error::parse(path, None, "the file is empty"));
    }
    let lower = path.to_string_lossy().to_lowercase();
    let lower = lower.trim_end_matches(".gz");
    let records = if lower.ends_with(".mol2") {
        split_mol2(&text, path)
    } else if lower.ends_with(".pdbqt") {
        split_pdbqt(&text, path)
    } else if lower.ends_with(".smi") || lower.ends_with(".smiles") || lower.ends_with(".txt") {
        split_smiles(&text, path)
    } else if lower.ends_with(".sdf") || lower.ends_with(".sd") || lower.ends_with(".mol") {
        split_sdf(&text)
            .into_iter()
            .enumerate()
            .map(|(i, r)| LigandText {
                name: record_name(r.title(), path, i),
                format: LigandFormat::MolBlock,
                text: r.molblock,
                source: path.to_path_buf(),
                line: r.line,
            })
            .collect()
    } else {
        return Err(Error::parse(path, None, "unknown ligand format (use .sdf, .mol, .mol2, .pdbqt or .smi)"));
    };
    if records.is_empty() {
        return Err(Error::parse(path, None, "no molecule records found"));
    }
    Ok(records)
}

fn split_mol2(text: &str, path: &Path) -> Vec<LigandText> {
    let mut out = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let starts: Vec<usize> =
        lines.iter().enumerate().filter(|(_, l)| l.trim_start().starts_with("@<TRIPOS>MOLECULE")).map(|(i, _)| i).collect();
    for (k, &s) in starts.iter().enumerate() {
        let e = starts.get(k + 1).copied().unwrap_or(lines.len());
        let title = lines.get(s + 1).copied().unwrap_or("");
        out.push(LigandText {
            name: record_name(title, path, k),
            format: LigandFormat::Mol2,
            text: lines[s..e].join("\n") + "\n",
            source: path.to_path_buf(),
            line: s + 1,
        });
    }
    out
}

fn split_pdbqt(text: &str, path: &Path) -> Vec<LigandText> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut start = 0;
    let mut current = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.starts_with("MODEL") {
            start = i + 1;
            current.clear();
        } else if line.starts_with("ENDMDL") {
            push_pdbqt(&mut out, &current, path, start);
            current.clear();
        } else {
            current.push(*line);
        }
    }
    push_pdbqt(&mut out, &current, path, start);
    out
}

fn push_pdbqt(out: &mut Vec<LigandText>, lines: &[&str], path: &Path, start: usize) {
    if lines.iter().any(|l| l.starts_with("ATOM") || l.starts_with("HETATM")) {
        let index = out.len();
        out.push(LigandText {
            name: record_name("", path, index),
            format: LigandFormat::Pdbqt,
            text: lines.join("\n") + "\n",
            source: path.to_path_buf(),
            line: start + 1,
        });
    }
}

fn split_smiles(text: &str, path: &Path) -> Vec<LigandText> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut parts = line.split_whitespace();
        let smiles = parts.next().unwrap_or("");
        if smiles.eq_ignore_ascii_case("smiles") {
            continue; // a header line
        }
        let title = parts.collect::<Vec<_>>().join("_");
        let index = out.len();
        out.push(LigandText {
            name: record_name(&title, path, index),
            format: LigandFormat::Smiles,
            text: smiles.to_string(),
            source: path.to_path_buf(),
            line: i + 1,
        });
    }
    out
}

/// Interprets a `--ligand` argument: an existing file, else a SMILES string.
pub fn read_ligand_argument(arg: &str) -> Result<Vec<LigandText>> {
    let path = Path::new(arg);
    if path.exists() {
        return read_ligand_file(path);
    }
    let looks_like_path = arg.contains('/') || [".sdf", ".mol2", ".mol", ".pdbqt", ".smi"].iter().any(|e| arg.ends_with(e));
    if looks_like_path {
        return Err(Error::io(path, std::io::Error::new(std::io::ErrorKind::NotFound, "no such file")));
    }
    Ok(vec![LigandText::smiles(arg, "ligand")])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smiles_file_skips_header_and_comments() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("lib.smi");
        std::fs::write(&p, "smiles name\n# comment\nCCO ethanol\n\nc1ccccc1\n").unwrap();
        let recs = read_ligand_file(&p).unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].name, "ethanol");
        assert_eq!(recs[1].name, "lib_2");
        assert_eq!(recs[1].line, 5);
    }

    #[test]
    fn empty_and_unknown_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("empty.sdf");
        std::fs::write(&p, "").unwrap();
        assert!(read_ligand_file(&p).unwrap_err().to_string().contains("empty"));
        let q = dir.path().join("x.xyz");
        std::fs::write(&q, "1\n\nC 0 0 0\n").unwrap();
        assert!(read_ligand_file(&q).is_err());
    }
}
