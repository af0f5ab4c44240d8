//! PDBBind-style datasets (`<id>/<id>_protein.pdb[.gz]` + `<id>_ligand.sdf|.mol2`), split files,
//! parallel preparation with rayon and an on-disk cache of prepared complexes keyed by the input
//! bytes and the code version, so a second preparation is cheap.

use crate::chem::conformer::{prepare_ligand, ConformerOptions, PreparedLigand};
use crate::chem::Protein;
use crate::error::{Error, Result};
use crate::io::ligand::read_ligand_file;
use crate::io::protein::read_protein;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Bumped whenever preparation changes, so stale cache entries are never reused (2: mol blocks
/// with query bonds or SGroups keep no hydrogens).
pub const PREPARE_VERSION: u32 = 2;

/// A protein-ligand complex ready for training or evaluation.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PreparedComplex {
    /// Complex id (folder name).
    pub id: String,
    /// The full protein.
    pub protein: Protein,
    /// The ligand with an RDKit conformer, its crystal coordinates as `reference`, and torsions.
    pub ligand: PreparedLigand,
}

/// The input files of one complex.
#[derive(Clone, Debug)]
pub struct ComplexFiles {
    /// Complex id.
    pub id: String,
    /// Protein file.
    pub protein: PathBuf,
    /// Ligand file.
    pub ligand: PathBuf,
}

/// Reads a split file: one complex id per line (blank lines and `#` comments skipped).
pub fn read_split(path: &Path) -> Result<Vec<String>> {
    let text = crate::io::read_text(path)?;
    Ok(text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(String::from).collect())
}

fn first_existing(dir: &Path, names: &[String]) -> Option<PathBuf> {
    names.iter().map(|n| dir.join(n)).find(|p| p.exists())
}

/// Locates the protein and ligand files of complex `id` under `data` (`data/<id>` or `data/complexes/<id>`).
pub fn complex_files(data: &Path, id: &str) -> Result<ComplexFiles> {
    let dir = [data.join(id), data.join("complexes").join(id)].into_iter().find(|d| d.is_dir()).ok_or_else(|| {
        Error::invalid(id, format!("no folder {id} under {} (or its complexes/)", data.display()))
    })?;
    let protein = first_existing(&dir, &[format!("{id}_protein.pdb"), format!("{id}_protein.pdb.gz"), format!("{id}_protein.cif"), format!("{id}_protein.cif.gz"), format!("{id}_protein.pdbqt")])
        .ok_or_else(|| Error::invalid(id, format!("no {id}_protein.pdb[.gz] in {}", dir.display())))?;
    let ligand = first_existing(&dir, &[format!("{id}_ligand.sdf"), format!("{id}_ligand.mol2"), format!("{id}_ligand.pdbqt")])
        .ok_or_else(|| Error::invalid(id, format!("no {id}_ligand.sdf or .mol2 in {}", dir.display())))?;
    Ok(ComplexFiles { id: id.to_string(), protein, ligand })
}

/// Prepares one complex from its files (no cache).
pub fn prepare_complex(files: &ComplexFiles, options: &ConformerOptions) -> Result<PreparedComplex> {
    let protein = read_protein(&files.protein)?;
    let records = read_ligand_file(&files.ligand)?;
    let ligand = prepare_ligand(&records[0], options)?;
    if ligand.reference.is_none() {
        return Err(Error::invalid(files.ligand.display().to_string(), "the crystal ligand has no 3D coordinates"));
    }
    Ok(PreparedComplex { id: files.id.clone(), protein, ligand })
}

/// An on-disk cache of prepared complexes (bincode files named by a content hash).
#[derive(Clone, Debug)]
pub struct PrepareCache {
    dir: PathBuf,
}

impl PrepareCache {
    /// A cache in `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        PrepareCache { dir: dir.into() }
    }

    /// The default cache folder: `$DISCO_DOCK_CACHE`, else `.cache/disco-dock` under the current directory's repo root.
    pub fn default_dir() -> PathBuf {
        std::env::var_os("DISCO_DOCK_CACHE").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(".cache/disco-dock"))
    }

    fn key(files: &ComplexFiles, options: &ConformerOptions) -> Result<String> {
        let mut h = Sha256::new();
        h.update(PREPARE_VERSION.to_le_bytes());
        h.update(options.seed.to_le_bytes());
        h.update([options.generate as u8]);
        h.update(options.force_field_iters.to_le_bytes());
        for p in [&files.protein, &files.ligand] {
            h.update(std::fs::read(p).map_err(|e| Error::io(p, e))?);
        }
        Ok(format!("{}_{:x}", files.id, h.finalize()))
    }

    /// Loads a prepared complex from the cache or prepares and stores it; returns (complex, was cached).
    pub fn get_or_prepare(&self, files: &ComplexFiles, options: &ConformerOptions) -> Result<(PreparedComplex, bool)> {
        let key = Self::key(files, options)?;
        let path = self.dir.join(format!("{key}.bin"));
        if let Some(c) = std::fs::read(&path).ok().and_then(|b| bincode::deserialize::<PreparedComplex>(&b).ok()) {
            return Ok((c, true));
        }
        // failures are remembered too (same key), so a slow failing embedding is not retried
        let failed = self.dir.join(format!("{key}.err"));
        if let Ok(message) = std::fs::read_to_string(&failed) {
            return Err(Error::invalid(files.id.clone(), format!("{message} (cached failure)")));
        }
        let complex = match prepare_complex(files, options) {
            Ok(c) => c,
            Err(e) => {
                if std::fs::create_dir_all(&self.dir).is_ok() {
                    let _ = std::fs::write(&failed, e.to_string());
                }
                return Err(e);
            }
        };
        if std::fs::create_dir_all(&self.dir).is_ok() {
            if let Ok(bytes) = bincode::serialize(&complex) {
                let tmp = path.with_extension("tmp");
                if std::fs::write(&tmp, bytes).is_ok() {
                    let _ = std::fs::rename(&tmp, &path);
                }
            }
        }
        Ok((complex, false))
    }
}

/// Outcome of preparing a split.
pub struct PreparedSplit {
    /// Successfully prepared complexes, in split order.
    pub complexes: Vec<PreparedComplex>,
    /// Failures: (id, error message).
    pub failures: Vec<(String, String)>,
    /// How many came from the cache.
    pub cached: usize,
}

/// Prepares every complex of a split in parallel (rayon), through the cache.
pub fn prepare_split(
    data: &Path,
    ids: &[String],
    cache: &PrepareCache,
    options: &ConformerOptions,
    progress: Option<&indicatif::ProgressBar>,
) -> PreparedSplit {
    let results: Vec<(String, Result<(PreparedComplex, bool)>)> = ids
        .par_iter()
        .map(|id| {
            let r = complex_files(data, id).and_then(|f| cache.get_or_prepare(&f, options));
            if let Some(p) = progress {
                p.inc(1);
            }
            (id.clone(), r)
        })
        .collect();
    let mut out = PreparedSplit { complexes: Vec::new(), failures: Vec::new(), cached: 0 };
    for (id, r) in results {
        match r {
            Ok((c, was_cached)) => {
                out.cached += was_cached as usize;
                out.complexes.push(c);
            }
            Err(e) => out.failures.push((id, e.to_string())),
        }
    }
    out
}

/// Crops a complex's protein to the residues within `radius` Å of the crystal ligand centroid, so a
/// prepared dataset travels small (training crops 20 Å around a jittered centre; docking a 25 Å box
/// needs about 30 Å). With `residues_only` the atoms are dropped too (the score network and the
/// prior see residues only; physics needs atoms), which makes a pack about ten times smaller.
pub fn crop_to_ligand(complex: &PreparedComplex, radius: f64, residues_only: bool) -> Result<PreparedComplex> {
    let reference = complex.ligand.reference.as_ref().ok_or_else(|| Error::invalid(&complex.id, "no crystal ligand coordinates"))?;
    let residues = crate::graph::pocket_residues(&complex.protein, &crate::chem::centroid(reference), radius)?;
    let mut protein = crate::graph::crop(&complex.protein, &residues);
    if residues_only {
        protein.atoms.clear();
        for r in &mut protein.residues {
            r.atoms = 0..0;
        }
    }
    Ok(PreparedComplex { protein, ..complex.clone() })
}

/// Writes prepared complexes as one gzip-compressed bincode file (a "pack"): a dataset that needs
/// neither the source files nor RDKit preparation to be read, e.g. on a training machine.
pub fn write_pack(path: &Path, complexes: &[PreparedComplex]) -> Result<()> {
    let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    let mut gz = flate2::write::GzEncoder::new(std::io::BufWriter::new(file), flate2::Compression::default());
    bincode::serialize_into(&mut gz, &(PREPARE_VERSION, complexes))
        .map_err(|e| Error::invalid(path.display().to_string(), format!("cannot write pack: {e}")))?;
    gz.finish().map_err(|e| Error::io(path, e))?;
    Ok(())
}

/// Reads a pack written by [`write_pack`]; refuses packs of another preparation version.
pub fn read_pack(path: &Path) -> Result<Vec<PreparedComplex>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let gz = flate2::read::GzDecoder::new(std::io::BufReader::new(file));
    let (version, complexes): (u32, Vec<PreparedComplex>) = bincode::deserialize_from(gz)
        .map_err(|e| Error::invalid(path.display().to_string(), format!("not a disco-dock pack: {e}")))?;
    if version != PREPARE_VERSION {
        return Err(Error::invalid(path.display().to_string(), format!("pack version {version}, this build reads {PREPARE_VERSION}")));
    }
    Ok(complexes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::protein::tests::shared_data_dir;

    #[test]
    fn pack_round_trip_keeps_cropped_complex() {
        let Some(data) = shared_data_dir() else { return };
        let files = complex_files(&data, "1a30").expect("files");
        let complex = prepare_complex(&files, &ConformerOptions::default()).expect("prepared");
        let cropped = crop_to_ligand(&complex, 15.0, false).expect("cropped");
        let bare = crop_to_ligand(&complex, 15.0, true).expect("residues only");
        assert!(bare.protein.atoms.is_empty());
        assert_eq!(bare.protein.residues.len(), cropped.protein.residues.len());
        assert!(cropped.protein.residues.len() < complex.protein.residues.len());
        assert!(!cropped.protein.residues.is_empty());
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("val.pack");
        write_pack(&path, &[cropped.clone()]).expect("written");
        let back = read_pack(&path).expect("read");
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].id, "1a30");
        assert_eq!(back[0].protein.atoms.len(), cropped.protein.atoms.len());
        assert_eq!(back[0].ligand.ligand.coords, cropped.ligand.ligand.coords);
    }

    #[test]
    fn a_failed_preparation_is_remembered() {
        let Some(data) = shared_data_dir() else { return };
        let dir = tempfile::tempdir().expect("temp dir");
        let ligand = dir.path().join("bad_ligand.sdf");
        std::fs::write(&ligand, "bad\n  not a mol block\n\n  0  0\nM  END\n$$$$\n").expect("written");
        let files = ComplexFiles { id: "bad".into(), protein: complex_files(&data, "1a30").expect("files").protein, ligand };
        let cache = PrepareCache::new(dir.path().join("cache"));
        let first = cache.get_or_prepare(&files, &ConformerOptions::default()).unwrap_err().to_string();
        assert!(!first.contains("cached failure"), "{first}");
        let names: Vec<String> = std::fs::read_dir(dir.path().join("cache")).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        assert!(names.len() == 1 && names[0].ends_with(".err"), "{names:?}");
        let again = cache.get_or_prepare(&files, &ConformerOptions::default()).unwrap_err().to_string();
        assert!(again.contains("cached failure"), "{again}");
    }

    #[test]
    fn read_pack_rejects_other_files() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("bad.pack");
        std::fs::write(&path, b"not a pack").expect("written");
        let err = read_pack(&path).unwrap_err().to_string();
        assert!(err.contains("bad.pack"), "{err}");
    }
}
