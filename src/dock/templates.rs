//! Template ligands: crystal ligands of known complexes whose protein is homologous to the one
//! being docked, superposed onto it by the C-alphas around the template's ligand. A pose's
//! overlap with them is a ranking term: a ligand usually binds where, and often how, ligands of
//! the same protein bound before (template-based docking).
//!
//! The library (`templates.json.gz` in a model folder) holds, for each training complex, the
//! protein's amino-acid sequence, the C-alphas of the residues near its ligand and the ligand's
//! heavy atoms: enough to find homologues by shared sequence words and superpose their pockets,
//! without the structures themselves. `disco-dock train templates` builds it.

use crate::chem::{fingerprint, Ligand, Protein, Vec3};
use crate::error::{Error, Result};
use crate::geometry::kabsch;
use super::align;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::Path;

/// File of the template library in a model folder.
pub const TEMPLATES_FILE: &str = "templates.json.gz";

/// Length of the sequence words close homologues are matched by.
const WORD: usize = 6;

/// Share of the target's sequence words a template's protein must hold for the words to pair
/// the residues (6-mer containment; 0.5 keeps about the same protein family, and pairs chains
/// in any order). Other templates are paired by a local alignment.
pub const WORD_CONTAINMENT: f64 = 0.5;

/// Least local-alignment score (BLOSUM62 units) worth a traceback: unrelated proteins of a few
/// hundred residues score 30–50, homologues hundreds.
const MIN_SCORE: i32 = 60;

/// Longest target sequence (residues) aligned against the library: the scan costs its length
/// times the library's 0.75 million residues, so a larger complex finds templates by shared
/// words only.
pub const MAX_ALIGNED: usize = 3000;

/// C-alphas within this distance (Å) of a template ligand atom superpose its pocket.
pub const POCKET_RADIUS: f64 = 12.0;

/// Least share of identical aligned residues (of the shorter sequence) of a distant homologue,
/// a protein sharing too few words to be a close one: 30 %, the usual floor of safe homology
/// (kept on val, twenty-eighth session).
pub const MIN_IDENTITY: f64 = 0.3;

/// Least similarity (Tanimoto, circular fingerprints) of a distant template's ligand to the
/// docked ligand for the template to count as a close one (`template_similarity` in a model's
/// `sampling.json`).
pub const MIN_SIMILARITY: f64 = 0.3;

/// Weight of the overlap with a distant template's ligand, one unlike the docked ligand, in
/// ranking, relative to a close one's: such a ligand tells where ligands bind more than how
/// (0.25 to 0.5 gave the same val results offline, 0.1 and 1 fewer; twenty-ninth session).
pub const DISTANT_RANKING_WEIGHT: f64 = 0.3;

/// Fewest matched pocket C-alphas a superposition is trusted with.
const MIN_PAIRS: usize = 8;

/// Matched C-alphas farther apart than this (Å) after a first superposition are dropped and the
/// superposition is redone (loops that moved, misaligned words); fewer than [`MIN_PAIRS`] left
/// and the template is not used.
const OUTLIER: f64 = 2.0;

/// Width (Å) of the Gaussian by which a pose atom overlaps a template atom.
const OVERLAP_SIGMA: f64 = 1.0;

/// Overlap credit of a template atom of another element (a same-element atom gives 1).
const OTHER_ELEMENT: f64 = 0.5;

/// One known complex of the library.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TemplateEntry {
    /// Complex id (e.g. the PDB id).
    pub id: String,
    /// One-letter sequence of the protein's amino acids in file order, chains concatenated.
    pub sequence: String,
    /// Residues near the ligand: (index into `sequence`, C-alpha).
    pub pocket: Vec<(usize, [f32; 3])>,
    /// Ligand heavy atoms: (atomic number, position).
    pub ligand: Vec<(u8, [f32; 3])>,
    /// The ligand's circular fingerprint ([`fingerprint::morgan`]); empty in libraries built
    /// before the twenty-ninth session.
    #[serde(default)]
    pub fingerprint: Vec<u32>,
}

/// A template ligand placed in the frame of the protein being docked.
#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    /// Id of the complex it came from.
    pub id: String,
    /// Sequence identity: for a protein holding [`WORD_CONTAINMENT`] of the target's sequence
    /// words, that share; else identical aligned residues as a share of the shorter sequence.
    pub identity: f64,
    /// RMSD (Å) of the matched pocket C-alphas after superposition.
    pub pocket_rmsd: f64,
    /// Ligand heavy atoms (atomic number, position) in the target's frame.
    pub atoms: Vec<(u8, Vec3)>,
    /// Paired by sequence alignment, sharing too few words for a close homologue: its ligand
    /// tells where ligands bind more reliably than how ([`Target`](super::Target) uses it for
    /// the blind site when no close homologue exists, and ranks by it at
    /// [`DISTANT_RANKING_WEIGHT`] unless the docked ligand resembles its own).
    pub distant: bool,
    /// The ligand's circular fingerprint ([`fingerprint::morgan`]; empty when unknown), which
    /// tells how alike it is to the ligand being docked.
    pub fingerprint: Vec<u32>,
}

impl Template {
    /// A reference ligand given in the target's own frame (e.g. a co-crystallised ligand the user
    /// supplies): a template that needs no superposition.
    pub fn from_ligand(id: &str, ligand: &Ligand) -> Template {
        let atoms = ligand.atoms.iter().zip(&ligand.coords).map(|(a, p)| (a.element, *p)).collect();
        Template { id: id.to_string(), identity: 1.0, pocket_rmsd: 0.0, atoms, distant: false, fingerprint: fingerprint::morgan(ligand) }
    }
}

/// The template library of a model folder.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TemplateLibrary {
    /// Known complexes.
    pub entries: Vec<TemplateEntry>,
}

/// One-letter code of an amino-acid residue name (`X` when unknown; MSE counts as methionine).
fn one_letter(name: &str) -> u8 {
    match name {
        "ALA" => b'A',
        "ARG" => b'R',
        "ASN" => b'N',
        "ASP" => b'D',
        "CYS" => b'C',
        "GLN" => b'Q',
        "GLU" => b'E',
        "GLY" => b'G',
        "HIS" => b'H',
        "ILE" => b'I',
        "LEU" => b'L',
        "LYS" => b'K',
        "MET" | "MSE" => b'M',
        "PHE" => b'F',
        "PRO" => b'P',
        "SER" => b'S',
        "THR" => b'T',
        "TRP" => b'W',
        "TYR" => b'Y',
        "VAL" => b'V',
        _ => b'X',
    }
}

/// The protein's amino-acid sequence and the C-alpha of each letter.
fn sequence(protein: &Protein) -> (Vec<u8>, Vec<Vec3>) {
    protein.residues.iter().filter_map(|r| r.ca.map(|ca| (one_letter(&r.name), ca))).unzip()
}

/// Start positions of each word of a sequence.
fn words(sequence: &[u8]) -> HashMap<&[u8], Vec<usize>> {
    let mut out: HashMap<&[u8], Vec<usize>> = HashMap::new();
    for (start, word) in sequence.windows(WORD).enumerate() {
        out.entry(word).or_default().push(start);
    }
    out
}

/// The sequence of a protein being docked, read both ways templates are matched by.
struct TargetSequence<'a> {
    /// Start positions of each sequence word.
    words: HashMap<&'a [u8], Vec<usize>>,
    /// The sequence as [`align::encode`] gives it.
    encoded: Vec<u8>,
}

fn to_vec3(p: &[f32; 3]) -> Vec3 {
    Vec3::new(p[0] as f64, p[1] as f64, p[2] as f64)
}

fn to_f32(p: &Vec3) -> [f32; 3] {
    [p.x as f32, p.y as f32, p.z as f32]
}

impl TemplateEntry {
    /// The entry of one known complex: its protein's sequence, the C-alphas within
    /// [`POCKET_RADIUS`] of the ligand and the ligand's heavy atoms at `coords`.
    pub fn new(id: &str, protein: &Protein, ligand: &Ligand, coords: &[Vec3]) -> TemplateEntry {
        let (letters, ca) = sequence(protein);
        let near = |p: &Vec3| coords.iter().any(|q| (p - q).norm() < POCKET_RADIUS);
        TemplateEntry {
            id: id.to_string(),
            sequence: String::from_utf8_lossy(&letters).into_owned(),
            pocket: ca.iter().enumerate().filter(|(_, p)| near(p)).map(|(i, p)| (i, to_f32(p))).collect(),
            ligand: ligand.atoms.iter().zip(coords).map(|(a, p)| (a.element, to_f32(p))).collect(),
            fingerprint: fingerprint::morgan(ligand),
        }
    }

    /// Template residue index -> target residue index, with the sequence identity: through
    /// shared words when the template holds [`WORD_CONTAINMENT`] of the target's (words that
    /// occur as often in each sequence, once or once per chain of a homodimer; the identity is
    /// that share), else through the best local alignment, `None` when its identical residues
    /// are fewer than `min_identity` of the shorter sequence.
    fn residue_map(&self, target: &TargetSequence, min_identity: f64) -> Option<(f64, bool, HashMap<usize, usize>)> {
        let own = words(self.sequence.as_bytes());
        let shared = target.words.keys().filter(|w| own.contains_key(*w)).count();
        let containment = shared as f64 / target.words.len().max(1) as f64;
        if containment >= WORD_CONTAINMENT {
            return Some((containment, false, word_map(&own, &target.words)));
        }
        if target.encoded.len() > MAX_ALIGNED || min_identity > 1.0 {
            return None;
        }
        let encoded = align::encode(self.sequence.as_bytes());
        if align::local_score(&target.encoded, &encoded) < MIN_SCORE {
            return None;
        }
        let alignment = align::align(&encoded, &target.encoded);
        let identity = alignment.identity(encoded.len(), target.encoded.len());
        (identity >= min_identity).then(|| (identity, true, alignment.pairs.into_iter().collect()))
    }

    /// This template placed in the target's frame, when enough pocket C-alphas match.
    fn place(&self, target: &TargetSequence, target_ca: &[Vec3], min_identity: f64) -> Option<Template> {
        let (identity, distant, map) = self.residue_map(target, min_identity)?;
        let (mut from, mut to): (Vec<Vec3>, Vec<Vec3>) = self
            .pocket
            .iter()
            .filter_map(|(i, p)| map.get(i).and_then(|&j| target_ca.get(j)).map(|q| (to_vec3(p), *q)))
            .unzip();
        if from.len() < MIN_PAIRS {
            return None;
        }
        let (mut r, mut t) = kabsch(&from, &to);
        let kept: Vec<bool> = from.iter().zip(&to).map(|(p, q)| (r * p + t - q).norm() < OUTLIER).collect();
        let n_kept = kept.iter().filter(|&&k| k).count();
        if n_kept < MIN_PAIRS {
            // the pocket moved, or the words matched the wrong residues
            return None;
        }
        if n_kept < from.len() {
            let keep = |v: Vec<Vec3>| v.into_iter().zip(&kept).filter(|(_, &k)| k).map(|(p, _)| p).collect::<Vec<_>>();
            (from, to) = (keep(from), keep(to));
            (r, t) = kabsch(&from, &to);
        }
        let pocket_rmsd = (from.iter().zip(&to).map(|(p, q)| (r * p + t - q).norm_squared()).sum::<f64>() / from.len() as f64).sqrt();
        let atoms = self.ligand.iter().map(|(e, p)| (*e, r * to_vec3(p) + t)).collect();
        Some(Template { id: self.id.clone(), identity, pocket_rmsd, atoms, distant, fingerprint: self.fingerprint.clone() })
    }
}

/// Template residue index -> target residue index through the words that occur as often in
/// both sequences (the chains of a homodimer, written in the same order, pair in order).
fn word_map(own: &HashMap<&[u8], Vec<usize>>, target: &HashMap<&[u8], Vec<usize>>) -> HashMap<usize, usize> {
    let mut map = HashMap::new();
    for (word, starts) in own {
        match target.get(word) {
            Some(t_starts) if t_starts.len() == starts.len() => {
                for (s, t) in starts.iter().zip(t_starts) {
                    for o in 0..WORD {
                        map.entry(s + o).or_insert(t + o);
                    }
                }
            }
            _ => {}
        }
    }
    map
}

impl TemplateLibrary {
    /// Reads a gzip-compressed JSON library.
    pub fn load(path: &Path) -> Result<TemplateLibrary> {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let mut text = String::new();
        flate2::read::GzDecoder::new(file).read_to_string(&mut text).map_err(|e| Error::io(path, e))?;
        serde_json::from_str(&text).map_err(|e| Error::parse(path, None, e.to_string()))
    }

    /// Writes the library as gzip-compressed JSON.
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string(self).map_err(|e| Error::invalid(path.display().to_string(), e.to_string()))?;
        let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
        let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::best());
        gz.write_all(text.as_bytes()).and_then(|_| gz.finish().map(|_| ())).map_err(|e| Error::io(path, e))
    }

    /// The templates of homologues of `protein` ([`MIN_IDENTITY`] or more), placed in its frame,
    /// best superposed first.
    pub fn find(&self, protein: &Protein) -> Vec<Template> {
        self.find_with(protein, MIN_IDENTITY)
    }

    /// The templates of homologues of `protein` whose aligned sequence identity is at least
    /// `min_identity`, placed in its frame, best superposed first.
    pub fn find_with(&self, protein: &Protein, min_identity: f64) -> Vec<Template> {
        let (letters, ca) = sequence(protein);
        let target = TargetSequence { words: words(&letters), encoded: align::encode(&letters) };
        if target.words.is_empty() {
            return Vec::new();
        }
        let mut found: Vec<Template> = self
            .entries
            .par_iter()
            .filter_map(|e| e.place(&target, &ca, min_identity))
            .collect();
        found.sort_by(|a, b| a.pocket_rmsd.total_cmp(&b.pocket_rmsd));
        found
    }
}

/// How well a pose covers its best template ligand (0 to 1): the mean over the pose's atoms of
/// the Gaussian overlap with the nearest template atom (width [`OVERLAP_SIGMA`]), halved for an
/// atom of another element; 0 without templates.
pub fn template_overlap(templates: &[Template], elements: &[u8], pose: &[Vec3]) -> f64 {
    let n = pose.len().min(elements.len());
    if n == 0 {
        return 0.0;
    }
    let cover = |t: &Template| -> f64 {
        let atom = |(e, p): (&u8, &Vec3)| {
            t.atoms.iter().map(|(f, q)| (-(p - q).norm_squared() / (2.0 * OVERLAP_SIGMA * OVERLAP_SIGMA)).exp() * if e == f { 1.0 } else { OTHER_ELEMENT }).fold(0.0, f64::max)
        };
        elements.iter().zip(pose).take(n).map(atom).sum::<f64>() / n as f64
    };
    templates.iter().map(cover).fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chem::Residue;
    use crate::geometry::rmsd;
    use crate::model::tests::{toy_ligand, toy_protein};
    use nalgebra::{Rotation3, Unit};

    /// The toy protein with a pseudo-random sequence (its own repeats every 8 residues, so no
    /// word would be unique), `seed` picking the sequence.
    fn varied(n: usize, seed: u64) -> Protein {
        const NAMES: [&str; 20] = ["ALA", "ARG", "ASN", "ASP", "CYS", "GLN", "GLU", "GLY", "HIS", "ILE", "LEU", "LYS", "MET", "PHE", "PRO", "SER", "THR", "TRP", "TYR", "VAL"];
        let mut protein = toy_protein(n);
        let mut state = seed;
        for r in &mut protein.residues {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            r.name = NAMES[(state >> 33) as usize % NAMES.len()].into();
        }
        protein
    }

    /// A protein moved rigidly (rotation about an axis, then a shift).
    fn moved(protein: &Protein, r: &Rotation3<f64>, t: Vec3) -> Protein {
        let mut out = protein.clone();
        for res in &mut out.residues {
            res.ca = res.ca.map(|p| r * p + t);
        }
        for a in &mut out.atoms {
            a.coord = r * a.coord + t;
        }
        out
    }

    #[test]
    fn a_homologue_in_another_frame_places_its_ligand_on_the_target() {
        let protein = varied(40, 1);
        let (ligand, _) = toy_ligand("CC(=O)Nc1ccc(O)cc1");
        let centre = protein.residues[20].ca.unwrap();
        let coords: Vec<Vec3> = ligand.coords.iter().map(|p| p + centre).collect();
        let r = Rotation3::from_axis_angle(&Unit::new_normalize(Vec3::new(1.0, 2.0, 3.0)), 1.1);
        let t = Vec3::new(30.0, -5.0, 12.0);
        let library = TemplateLibrary { entries: vec![TemplateEntry::new("tmpl", &moved(&protein, &r, t), &ligand, &coords.iter().map(|p| r * p + t).collect::<Vec<_>>())] };
        let found = library.find(&protein);
        assert_eq!(found.len(), 1);
        let placed: Vec<Vec3> = found[0].atoms.iter().map(|a| a.1).collect();
        assert!(rmsd(&placed, &coords) < 1e-3, "template ligand lands on the crystal pose: {}", rmsd(&placed, &coords));
        assert!(found[0].identity > 0.99 && found[0].pocket_rmsd < 1e-3 && !found[0].distant);
        assert_eq!(found[0].fingerprint, fingerprint::morgan(&ligand), "the ligand's fingerprint travels with it");
        let elements = ligand.elements();
        assert!((template_overlap(&found, &elements, &coords) - 1.0).abs() < 1e-9);
        let shifted: Vec<Vec3> = coords.iter().map(|p| p + Vec3::new(2.0, 0.0, 0.0)).collect();
        let partial = template_overlap(&found, &elements, &shifted);
        assert!(partial > 0.0 && partial < 0.7, "a pose 2 Å off overlaps less: {partial}");
        assert_eq!(template_overlap(&[], &elements, &coords), 0.0);
    }

    #[test]
    fn a_library_written_before_fingerprints_still_loads() {
        let text = r#"{"entries":[{"id":"old","sequence":"ACDEFGHIK","pocket":[[0,[1.0,2.0,3.0]]],"ligand":[[6,[1.0,2.0,3.0]]]}]}"#;
        let library: TemplateLibrary = serde_json::from_str(text).unwrap();
        assert!(library.entries[0].fingerprint.is_empty());
    }

    #[test]
    fn a_distant_homologue_sharing_no_words_is_paired_by_alignment_down_to_the_identity_asked() {
        let protein = varied(60, 5);
        // every third residue mutated: no 6-residue word survives, two thirds stay identical
        let mut homologue = protein.clone();
        for r in homologue.residues.iter_mut().step_by(3) {
            r.name = if r.name == "TRP" { "CYS".into() } else { "TRP".into() };
        }
        let (ligand, _) = toy_ligand("CC(=O)Nc1ccc(O)cc1");
        let centre = protein.residues[30].ca.unwrap();
        let coords: Vec<Vec3> = ligand.coords.iter().map(|p| p + centre).collect();
        let r = Rotation3::from_axis_angle(&Unit::new_normalize(Vec3::new(-1.0, 0.5, 2.0)), 2.0);
        let t = Vec3::new(-8.0, 14.0, 3.0);
        let library = TemplateLibrary { entries: vec![TemplateEntry::new("far", &moved(&homologue, &r, t), &ligand, &coords.iter().map(|p| r * p + t).collect::<Vec<_>>())] };
        let found = library.find_with(&protein, 0.5);
        assert_eq!(found.len(), 1, "two thirds identical is found at 0.5");
        assert!((found[0].identity - 2.0 / 3.0).abs() < 0.05, "{}", found[0].identity);
        assert!(found[0].distant);
        let placed: Vec<Vec3> = found[0].atoms.iter().map(|a| a.1).collect();
        assert!(rmsd(&placed, &coords) < 1e-3, "{}", rmsd(&placed, &coords));
        assert!(library.find_with(&protein, 0.8).is_empty(), "not at 0.8");
        assert!(library.find_with(&protein, 1.01).is_empty(), "above 1: shared words only");
    }

    #[test]
    fn a_homodimer_whose_words_occur_once_per_chain_still_finds_its_template() {
        // chain B repeats chain A's sequence 30 Å away, so every word occurs twice
        let chain = varied(30, 3);
        let mut dimer = chain.clone();
        let offset = dimer.atoms.len();
        for (k, r) in chain.residues.iter().enumerate() {
            let shift = |p: Vec3| p + Vec3::new(30.0, 0.0, 0.0);
            dimer.residues.push(Residue { chain: "B".into(), ca: r.ca.map(shift), atoms: r.atoms.start + offset..r.atoms.end + offset, ..r.clone() });
            for a in &chain.atoms[r.atoms.clone()] {
                dimer.atoms.push(crate::chem::ProteinAtom { coord: shift(a.coord), residue: chain.residues.len() + k, ..a.clone() });
            }
        }
        let (ligand, _) = toy_ligand("CC(=O)Nc1ccc(O)cc1");
        let coords: Vec<Vec3> = ligand.coords.iter().map(|p| p + Vec3::new(15.0, 0.0, 0.0)).collect();
        let r = Rotation3::from_axis_angle(&Unit::new_normalize(Vec3::new(0.0, 1.0, 1.0)), 0.7);
        let t = Vec3::new(-4.0, 9.0, 2.0);
        let library = TemplateLibrary { entries: vec![TemplateEntry::new("dimer", &moved(&dimer, &r, t), &ligand, &coords.iter().map(|p| r * p + t).collect::<Vec<_>>())] };
        let found = library.find(&dimer);
        assert_eq!(found.len(), 1);
        let placed: Vec<Vec3> = found[0].atoms.iter().map(|a| a.1).collect();
        assert!(rmsd(&placed, &coords) < 1e-3, "{}", rmsd(&placed, &coords));
    }

    #[test]
    fn an_unrelated_protein_finds_no_template_and_the_library_round_trips() {
        let protein = varied(40, 1);
        let (ligand, _) = toy_ligand("c1ccccc1O");
        let other = varied(40, 2);
        let library = TemplateLibrary { entries: vec![TemplateEntry::new("x", &other, &ligand, &ligand.coords)] };
        assert!(library.find(&protein).is_empty());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(TEMPLATES_FILE);
        library.save(&path).unwrap();
        assert_eq!(TemplateLibrary::load(&path).unwrap(), library);
        std::fs::write(&path, "not gzip").unwrap();
        assert!(TemplateLibrary::load(&path).unwrap_err().to_string().contains(TEMPLATES_FILE));
    }
}
