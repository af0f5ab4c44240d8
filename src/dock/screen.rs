//! Many ligands: `screen` (one receptor, a many-record SDF or .smi) and `batch` (DiffDock's CSV
//! with complex_name, protein_path, ligand_description). Results stream into a CSV, a row per
//! ligand; a rerun skips finished items; `--shard I/N` splits the work across machines.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};

/// One row of the results CSV.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ResultRow {
    /// Item name (unique within the run).
    pub name: String,
    /// `ok` or `failed`.
    pub status: String,
    /// Confidence of the top pose.
    pub best_confidence: Option<f64>,
    /// Vina-like affinity of the top pose (kcal/mol).
    pub best_affinity: Option<f64>,
    /// Whether the top pose passes the validity checks.
    pub pb_valid: Option<bool>,
    /// Number of poses written.
    pub poses: usize,
    /// Seconds spent on the item.
    pub seconds: f64,
    /// Folder with the item's pose files.
    pub output: String,
    /// The error, for failed items.
    pub error: String,
}

/// A `--shard I/N` selection: item k belongs to shard `k % N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// This shard (0-based).
    pub index: usize,
    /// Number of shards.
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = Error;
    fn from_str(s: &str) -> Result<Shard> {
        let bad = || Error::invalid("--shard", format!("'{s}' is not I/N with 0 <= I < N"));
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (usize, usize) = (i.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// Whether item `k` belongs to this shard.
    pub fn contains(&self, k: usize) -> bool {
        k % self.count == self.index
    }

    /// The results file name of this shard.
    pub fn csv_name(shard: Option<Shard>) -> String {
        match shard {
            Some(s) => format!("results.shard-{}-of-{}.csv", s.index, s.count),
            None => "results.csv".to_string(),
        }
    }
}

/// Makes names unique and safe as folder names (duplicates get `_2`, `_3`, ...).
pub fn unique_names(names: &[String]) -> Vec<String> {
    let mut seen = std::collections::HashMap::<String, usize>::new();
    names
        .iter()
        .map(|n| {
            let clean: String = n.chars().map(|c| if c.is_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect();
            let clean = if clean.is_empty() { "ligand".to_string() } else { clean };
            let k = seen.entry(clean.clone()).or_insert(0);
            *k += 1;
            if *k == 1 {
                clean
            } else {
                format!("{clean}_{k}")
            }
        })
        .collect()
}

/// The streaming, resumable results CSV.
pub struct ResultsCsv {
    path: PathBuf,
    done: HashSet<String>,
    file: std::fs::File,
}

impl ResultsCsv {
    /// Opens (or creates) the CSV, dropping a partial last line left by a killed run and
    /// remembering the finished items.
    pub fn open(path: &Path) -> Result<ResultsCsv> {
        let mut done = HashSet::new();
        if let Ok(text) = std::fs::read_to_string(path) {
            let complete = match text.rfind('\n') {
                Some(i) => &text[..=i],
                None => "",
            };
            if complete.len() != text.len() {
                std::fs::write(path, complete).map_err(|e| Error::io(path, e))?;
            }
            let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(complete.as_bytes());
            for row in reader.deserialize::<ResultRow>().flatten() {
                done.insert(row.name);
            }
        }
        let new = !path.exists() || std::fs::metadata(path).map(|m| m.len() == 0).unwrap_or(true);
        let mut file =
            std::fs::OpenOptions::new().create(true).append(true).open(path).map_err(|e| Error::io(path, e))?;
        if new {
            let header = "name,status,best_confidence,best_affinity,pb_valid,poses,seconds,output,error\n";
            file.write_all(header.as_bytes()).map_err(|e| Error::io(path, e))?;
        }
        Ok(ResultsCsv { path: path.to_path_buf(), done, file })
    }

    /// Whether an item already has a row.
    pub fn is_done(&self, name: &str) -> bool {
        self.done.contains(name)
    }

    /// Appends one row (written in one call and flushed, so a kill loses at most the item in flight).
    pub fn append(&mut self, row: &ResultRow) -> Result<()> {
        let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
        w.serialize(row).map_err(|e| Error::Model(e.to_string()))?;
        let bytes = w.into_inner().map_err(|e| Error::Model(e.to_string()))?;
        self.file.write_all(&bytes).map_err(|e| Error::io(&self.path, e))?;
        self.file.flush().map_err(|e| Error::io(&self.path, e))?;
        self.done.insert(row.name.clone());
        Ok(())
    }

    /// Number of finished items.
    pub fn finished(&self) -> usize {
        self.done.len()
    }
}

/// One row of DiffDock's batch CSV.
#[derive(Clone, Debug, Deserialize)]
pub struct BatchRow {
    /// Name of the complex (output folder).
    pub complex_name: String,
    /// Protein file.
    pub protein_path: String,
    /// SMILES or a ligand file.
    pub ligand_description: String,
    /// Ignored (disco-dock needs a structure).
    #[serde(default)]
    pub protein_sequence: Option<String>,
}

/// Reads DiffDock's batch CSV; returns the rows and warnings (e.g. ignored sequences).
pub fn read_batch_csv(path: &Path) -> Result<(Vec<BatchRow>, Vec<String>)> {
    let text = crate::io::read_text(path)?;
    let mut reader = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut warnings = Vec::new();
    for (i, r) in reader.deserialize::<BatchRow>().enumerate() {
        let row = r.map_err(|e| Error::parse(path, Some(i + 2), e.to_string()))?;
        if row.protein_sequence.as_deref().is_some_and(|s| !s.is_empty()) {
            warnings.push(format!("{}: protein_sequence ignored (disco-dock docks into the given structure)", row.complex_name));
        }
        rows.push(row);
    }
    Ok((rows, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_parsing() {
        assert_eq!("1/4".parse::<Shard>().unwrap(), Shard { index: 1, count: 4 });
        assert!("4/4".parse::<Shard>().is_err());
        assert!("x".parse::<Shard>().is_err());
    }

    #[test]
    fn csv_resume_drops_partial_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.csv");
        {
            let mut csv = ResultsCsv::open(&p).unwrap();
            csv.append(&ResultRow { name: "a".into(), status: "ok".into(), ..Default::default() }).unwrap();
        }
        let mut text = std::fs::read_to_string(&p).unwrap();
        text.push_str("b,ok,0.5");
        std::fs::write(&p, text).unwrap();
        let csv = ResultsCsv::open(&p).unwrap();
        assert!(csv.is_done("a"));
        assert!(!csv.is_done("b"));
        assert_eq!(csv.finished(), 1);
    }

    #[test]
    fn names_are_made_unique() {
        let names = unique_names(&["x".into(), "x".into(), "a/b".into()]);
        assert_eq!(names, vec!["x", "x_2", "a_b"]);
    }
}
