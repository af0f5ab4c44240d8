//! The benchmark command: dock every complex of a split from an RDKit conformer (never from the
//! crystal pose), measure symmetry-corrected RMSD to the crystal ligand, write a row per complex
//! and summarise top-1/top-5 success, median RMSD, speed and PB-validity.

use crate::chem::{centroid, Vec3};
use crate::chem::conformer::{prepare_ligand, with_more_conformers, ConformerOptions, PreparedLigand};
use crate::io::ligand::read_ligand_file;
use crate::dock::models::Models;
use crate::dock::{dock_conformers, local_minimum, DockOptions, DockedPose, Pocket, Target};
use crate::error::{Error, Result};
use crate::geometry::{aligned_rmsd, ligand_automorphisms, rmsd, symmetry_rmsd};
pub use crate::physics::matching::conformer_floor;
use crate::physics::VinaLigand;
use crate::io::dataset::{complex_files, ComplexFiles, PrepareCache, PreparedComplex};
use serde::{Deserialize, Serialize};
use crate::train::confidence::{CachedComplex, LabelledPose};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Edge of the pocket box centred on the crystal ligand in `--pocket crystal` mode (Å).
pub const CRYSTAL_BOX: f64 = 25.0;

/// Which pocket the benchmark gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum BenchPocket {
    /// A 25 Å box centred on the crystal ligand.
    Crystal,
    /// Blind docking over the whole protein.
    None,
}

impl std::str::FromStr for BenchPocket {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "crystal" => Ok(BenchPocket::Crystal),
            "none" | "blind" => Ok(BenchPocket::None),
            _ => Err(Error::invalid("--pocket", format!("'{s}' is not crystal or none"))),
        }
    }
}

/// One benchmark row (columns missing from older reports read as empty).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct BenchRow {
    /// Complex id.
    pub id: String,
    /// `ok` or `failed`.
    pub status: String,
    /// Ligand heavy atoms.
    pub atoms: usize,
    /// Rotatable bonds.
    pub torsions: usize,
    /// RMSD of the top-ranked pose (Å).
    pub top1_rmsd: Option<f64>,
    /// Best RMSD among the top 5 (Å).
    pub top5_rmsd: Option<f64>,
    /// Best RMSD among all poses (Å).
    pub best_rmsd: Option<f64>,
    /// Confidence of the top pose.
    pub top1_confidence: Option<f64>,
    /// Top pose passes the validity checks.
    pub top1_pb_valid: Option<bool>,
    /// Vina-like energy (`inter + intra`) of the top-ranked pose.
    pub top1_energy: Option<f64>,
    /// Energy of the crystal pose after local minimisation with the same scoring function: when it
    /// is below `top1_energy` while the top pose is wrong, the search missed a better minimum near
    /// the crystal pose (a search failure); otherwise the scoring function prefers the wrong pose.
    pub crystal_energy: Option<f64>,
    /// RMSD (Å) of the minimised crystal pose to the crystal pose (how far minimisation moved it).
    pub crystal_shift: Option<f64>,
    /// Symmetry-corrected RMSD (Å) to the crystal ligand of the docking conformer matched to it
    /// ([`conformer_floor`]): no pose of this conformer comes closer, as far as the fit finds.
    pub conformer_rmsd: Option<f64>,
    /// Seconds for this complex (docking only).
    pub seconds: f64,
    /// Error message for failures.
    pub error: String,
}

/// Aggregate figures of a benchmark.
#[derive(Clone, Debug, Default, Serialize)]
pub struct BenchSummary {
    /// Complexes docked.
    pub n: usize,
    /// Failures.
    pub failures: usize,
    /// % with top-1 RMSD < 2 Å.
    pub top1_lt2: f64,
    /// % with a top-5 RMSD < 2 Å.
    pub top5_lt2: f64,
    /// Median top-1 RMSD.
    pub median_rmsd: f64,
    /// Mean seconds per complex.
    pub mean_seconds: f64,
    /// Median seconds per complex.
    pub median_seconds: f64,
    /// % of top-1 poses that pass the validity checks.
    pub pb_valid: f64,
    /// % of complexes whose top-1 pose is both < 2 Å and PB-valid.
    pub lt2_and_pb_valid: f64,
    /// % of complexes with a wrong top-1 pose whose conformer cannot come within 2 Å of the
    /// crystal ligand at all (bond angles or rings differ too much); `None` for reports without
    /// conformer RMSDs.
    pub conformer_failures: Option<f64>,
    /// % of complexes failed by the search: top-1 ≥ 2 Å, yet the minimised crystal pose stays
    /// within 2 Å of the crystal and scores better than the top-1 pose (`None` for reports
    /// without crystal energies).
    pub search_failures: Option<f64>,
    /// % of complexes failed by the scoring function: top-1 ≥ 2 Å and the minimised crystal pose
    /// scores no better than it (or drifts 2 Å or more away).
    pub scoring_failures: Option<f64>,
}

/// Why a wrong top-1 pose was wrong: first the conformer's floor, then the minimised crystal pose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureCause {
    /// No pose of the docking conformer lies within 2 Å of the crystal ligand.
    Conformer,
    /// The scoring prefers a crystal-like minimum the search did not find.
    Search,
    /// The scoring prefers the wrong pose (or holds no minimum at the crystal pose).
    Scoring,
}

impl BenchRow {
    /// The cause of a wrong top-1 pose; `None` when it is right or the crystal was not scored.
    pub fn failure_cause(&self) -> Option<FailureCause> {
        if self.top1_rmsd? < 2.0 {
            return None;
        }
        if self.conformer_rmsd.is_some_and(|floor| floor >= 2.0) {
            return Some(FailureCause::Conformer);
        }
        let (top1, crystal, shift) = (self.top1_energy?, self.crystal_energy?, self.crystal_shift?);
        Some(if shift < 2.0 && crystal < top1 { FailureCause::Search } else { FailureCause::Scoring })
    }
}

fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Summarises benchmark rows.
pub fn summarise(rows: &[BenchRow]) -> BenchSummary {
    let ok: Vec<&BenchRow> = rows.iter().filter(|r| r.status == "ok").collect();
    let n = ok.len().max(1) as f64;
    let pct = |f: &dyn Fn(&BenchRow) -> bool| 100.0 * ok.iter().filter(|r| f(r)).count() as f64 / n;
    let mut top1: Vec<f64> = ok.iter().filter_map(|r| r.top1_rmsd).collect();
    let mut secs: Vec<f64> = ok.iter().map(|r| r.seconds).collect();
    let judged = ok.iter().any(|r| r.crystal_energy.is_some());
    let floors = ok.iter().any(|r| r.conformer_rmsd.is_some());
    BenchSummary {
        n: ok.len(),
        failures: rows.len() - ok.len(),
        top1_lt2: pct(&|r| r.top1_rmsd.is_some_and(|x| x < 2.0)),
        top5_lt2: pct(&|r| r.top5_rmsd.is_some_and(|x| x < 2.0)),
        median_rmsd: median(&mut top1),
        mean_seconds: secs.iter().sum::<f64>() / n,
        median_seconds: median(&mut secs),
        pb_valid: pct(&|r| r.top1_pb_valid == Some(true)),
        lt2_and_pb_valid: pct(&|r| r.top1_pb_valid == Some(true) && r.top1_rmsd.is_some_and(|x| x < 2.0)),
        conformer_failures: floors.then(|| pct(&|r| r.failure_cause() == Some(FailureCause::Conformer))),
        search_failures: judged.then(|| pct(&|r| r.failure_cause() == Some(FailureCause::Search))),
        scoring_failures: judged.then(|| pct(&|r| r.failure_cause() == Some(FailureCause::Scoring))),
    }
}

/// Settings of a benchmark run.
#[derive(Clone, Debug)]
pub struct BenchOptions {
    /// Pocket mode.
    pub pocket: BenchPocket,
    /// Docking settings.
    pub dock: DockOptions,
    /// Dock the crystal ligand's own geometry instead of an RDKit conformer (re-docking).
    pub crystal_geometry: bool,
}

/// One docked pose of a benchmark complex, for studying ranking rules after the run.
#[derive(Clone, Debug, Serialize)]
pub struct PoseRow {
    /// Complex id.
    pub id: String,
    /// Rank given by the docking run's ranking.
    pub rank: usize,
    /// Symmetry-corrected RMSD to the crystal ligand (Å).
    pub rmsd: f64,
    /// Confidence (the model's probability that the pose is within 2 Å), when a confidence model ran.
    pub confidence: Option<f64>,
    /// Vina-like inter-molecular energy (kcal/mol).
    pub affinity: Option<f64>,
    /// Total Vina-like energy used in ranking.
    pub energy: Option<f64>,
    /// Learned pair-potential score, when the model has a potential.
    pub potential: Option<f64>,
    /// Overlap with the complex's template ligands, when it has any.
    pub template: Option<f64>,
    /// PoseBusters-style validity.
    pub pb_valid: Option<bool>,
    /// Other poses within 2 Å of this one.
    pub population: usize,
    /// RMSD between the sampled pose and the refined one (Å).
    pub drift: f64,
    /// Conformer the pose was docked with (`--conformers`).
    pub conformer: usize,
    /// Site the pose was docked in (blind docking: 0 is the leading template site when the
    /// protein has templates, then the pockets found).
    pub site: usize,
    /// Ligand heavy-atom coordinates (not in the CSV; see [`BenchOutputs::poses_cache`]).
    #[serde(skip)]
    pub coords: Vec<Vec3>,
}

impl PoseRow {
    /// The pose as a labelled pose of the confidence-training cache format.
    fn labelled(&self) -> LabelledPose {
        LabelledPose {
            complex: 0,
            coords: self.coords.clone(),
            rmsd: self.rmsd,
            rank: Some(self.rank),
            energy: self.energy,
            population: Some(self.population),
            features: [0.0; 2],
        }
    }
}

/// Where a benchmark writes its results, each file growing as complexes complete.
#[derive(Clone, Debug, Default)]
pub struct BenchOutputs {
    /// CSV, one row per complex.
    pub report: PathBuf,
    /// CSV, one row per pose (rank, RMSD, confidence, energies, PB-valid), for comparing
    /// ranking rules without docking again.
    pub poses_csv: Option<PathBuf>,
    /// JSON lines, one per complex, with every pose's coordinates, RMSD, rank, energy and
    /// population in the format of the confidence-training pose cache, so that
    /// `train confidence --evaluate-only` can score this benchmark's poses with any confidence model.
    pub poses_cache: Option<PathBuf>,
}

/// The conformers a benchmark complex docks with: its prepared (cached) ligand and more from its
/// ligand file's first record, as preparation made the first, the `n` most typical of
/// `max(n, candidates)` kept ([`with_more_conformers`]; the protein is not read again). One when
/// the crystal geometry is kept.
fn bench_conformers(files: &ComplexFiles, first: &PreparedLigand, conformer: &ConformerOptions, n: usize, candidates: usize) -> Result<Vec<PreparedLigand>> {
    if n.max(candidates) <= 1 || !conformer.generate {
        return Ok(vec![first.clone()]);
    }
    let records = read_ligand_file(&files.ligand)?;
    Ok(with_more_conformers(first.clone(), conformer, n, candidates, &files.id, |o| prepare_ligand(&records[0], o)))
}

/// Docks one complex and measures its RMSDs; also returns every pose's row.
pub fn bench_complex(models: &Models, data: &Path, id: &str, cache: &PrepareCache, options: &BenchOptions) -> Result<(BenchRow, Vec<PoseRow>)> {
    let files = complex_files(data, id)?;
    let conformer = ConformerOptions { seed: options.dock.sampling.sampler.seed as u32, generate: !options.crystal_geometry, ..Default::default() };
    let (complex, _) = cache.get_or_prepare(&files, &conformer)?;
    let crystal = complex.ligand.reference.clone().ok_or_else(|| Error::invalid(id, "no crystal coordinates"))?;
    let pocket = match options.pocket {
        BenchPocket::Crystal => Pocket::Box { center: centroid(&crystal), size: Vec3::repeat(CRYSTAL_BOX) },
        BenchPocket::None => Pocket::Blind,
    };
    let blind = matches!(pocket, Pocket::Blind);
    let ligands = bench_conformers(&files, &complex.ligand, &conformer, options.dock.conformers_for(blind), options.dock.candidates_for(blind))?;
    let start = Instant::now();
    // a complex of the template library must not find its own ligand
    let templates = options.dock.library_templates(&complex.protein);
    let target = Target::with_templates(&complex.protein, &pocket, &options.dock, templates.into_iter().filter(|t| t.id != id).collect())?;
    let result = dock_conformers(models, &target, &ligands, &options.dock)?;
    let seconds = start.elapsed().as_secs_f64();
    let crystal_min = crystal_minimum(&target, &complex.ligand, &crystal);
    let lig = &complex.ligand.ligand;
    let autos = ligand_automorphisms(lig);
    let rmsds: Vec<f64> = result.poses.iter().map(|p| symmetry_rmsd(&p.coords, &crystal, &autos)).collect();
    let floor = ligands.iter().filter_map(|l| conformer_floor(l, &crystal, &autos)).reduce(f64::min);
    let min_of = |k: usize| rmsds.iter().take(k).copied().fold(f64::INFINITY, f64::min);
    let top = result.poses.first();
    let pose_rows = result
        .poses
        .iter()
        .zip(&rmsds)
        .map(|(p, &rmsd)| PoseRow {
            id: id.to_string(),
            rank: p.rank,
            rmsd,
            confidence: p.confidence,
            affinity: p.affinity,
            energy: p.energy,
            potential: p.potential,
            template: p.template,
            pb_valid: p.pb_valid(),
            population: p.population,
            drift: p.drift,
            conformer: p.conformer,
            site: p.site,
            coords: p.coords.clone(),
        })
        .collect();
    let row = BenchRow {
        id: id.to_string(),
        status: "ok".into(),
        atoms: lig.atoms.len(),
        torsions: complex.ligand.torsions.len(),
        top1_rmsd: rmsds.first().copied(),
        top5_rmsd: Some(min_of(5)),
        best_rmsd: Some(min_of(rmsds.len())),
        top1_confidence: top.and_then(|p| p.confidence),
        top1_pb_valid: top.and_then(DockedPose::pb_valid),
        top1_energy: top.and_then(|p| p.energy),
        crystal_energy: crystal_min.map(|m| m.0),
        crystal_shift: crystal_min.map(|m| m.1),
        conformer_rmsd: floor,
        seconds,
        error: String::new(),
    };
    Ok((row, pose_rows))
}

/// How close one complex's docking conformer can come to its crystal ligand.
#[derive(Clone, Debug, Serialize)]
pub struct ConformerRow {
    /// Complex id.
    pub id: String,
    /// Ligand heavy atoms.
    pub atoms: usize,
    /// Rotatable bonds.
    pub torsions: usize,
    /// RMSD after rigid superposition only (Å): what the torsions have to make up.
    pub rigid_rmsd: f64,
    /// [`conformer_floor`] (Å), empty when matching failed.
    pub conformer_rmsd: Option<f64>,
}

/// The conformer floor of each prepared complex (complexes without crystal coordinates skipped).
pub fn conformer_rows(complexes: &[PreparedComplex]) -> Vec<ConformerRow> {
    use rayon::prelude::*;
    complexes
        .par_iter()
        .filter_map(|c| {
            let crystal = c.ligand.reference.as_ref()?;
            let autos = ligand_automorphisms(&c.ligand.ligand);
            Some(ConformerRow {
                id: c.id.clone(),
                atoms: crystal.len(),
                torsions: c.ligand.torsions.len(),
                rigid_rmsd: aligned_rmsd(&c.ligand.ligand.coords, crystal),
                conformer_rmsd: conformer_floor(&c.ligand, crystal, &autos),
            })
        })
        .collect()
}

/// Writes conformer rows to a CSV file.
pub fn write_conformer_rows(path: &Path, rows: &[ConformerRow]) -> Result<()> {
    crate::io::write_csv(path, rows)
}

/// The crystal pose locally minimised in the site nearest to it, with the scoring that ranks
/// docked poses ([`local_minimum`]: never above the crystal pose's own energy): (`inter + intra`,
/// RMSD moved). `None` when the site has no scoring function.
fn crystal_minimum(target: &Target, ligand: &PreparedLigand, crystal: &[Vec3]) -> Option<(f64, f64)> {
    let c = centroid(crystal);
    let site = target.sites.iter().min_by(|a, b| (a.center - c).norm().total_cmp(&(b.center - c).norm()))?;
    let vina = VinaLigand::new(&ligand.ligand, ligand.torsions.len());
    let (coords, energy) = local_minimum(site, &vina, ligand, crystal);
    Some((energy?.1, rmsd(&coords, crystal)))
}

/// Reads a benchmark report CSV (also a partial one from an interrupted run: a cut last line is
/// dropped), for summarising it again or comparing runs.
pub fn read_report(path: &Path) -> Result<Vec<BenchRow>> {
    let mut reader = csv::Reader::from_path(path).map_err(|e| Error::io(path, std::io::Error::other(e.to_string())))?;
    let records: Vec<std::result::Result<BenchRow, csv::Error>> = reader.deserialize().collect();
    let last = records.len();
    let mut rows = Vec::with_capacity(last);
    for (k, record) in records.into_iter().enumerate() {
        match record {
            Ok(row) => rows.push(row),
            Err(_) if k + 1 == last => log::warn!("{}: dropping the unfinished last line", path.display()),
            Err(e) => return Err(Error::parse(path, Some(k + 2), e.to_string())),
        }
    }
    Ok(rows)
}

fn csv_writer(path: &Path) -> Result<csv::Writer<std::fs::File>> {
    csv::Writer::from_path(path).map_err(|e| Error::io(path, std::io::Error::other(e.to_string())))
}

fn write_row<T: Serialize>(writer: &mut csv::Writer<std::fs::File>, path: &Path, row: &T) -> Result<()> {
    writer.serialize(row).map_err(|e| Error::io(path, std::io::Error::other(e.to_string())))?;
    writer.flush().map_err(|e| Error::io(path, e))
}

/// Runs the benchmark over `ids`, writing `outputs` as complexes complete; returns all complex rows.
pub fn run_benchmark(
    models: &Models,
    data: &Path,
    ids: &[String],
    cache: &PrepareCache,
    options: &BenchOptions,
    outputs: &BenchOutputs,
    progress: &indicatif::ProgressBar,
) -> Result<Vec<BenchRow>> {
    let out = &outputs.report;
    let mut writer = csv_writer(out)?;
    let mut pose_writer = outputs.poses_csv.as_deref().map(|p| csv_writer(p).map(|w| (w, p))).transpose()?;
    let mut cache_file = outputs.poses_cache.as_deref().map(|p| std::fs::File::create(p).map(|f| (f, p)).map_err(|e| Error::io(p, e))).transpose()?;
    let mut rows = Vec::with_capacity(ids.len());
    for id in ids {
        let (row, poses) = bench_complex(models, data, id, cache, options).unwrap_or_else(|e| {
            (BenchRow { id: id.clone(), status: "failed".into(), error: e.to_string(), ..Default::default() }, Vec::new())
        });
        if row.status != "ok" {
            progress.println(format!("{id}: {}", row.error));
        }
        write_row(&mut writer, out, &row)?;
        if let Some((w, path)) = pose_writer.as_mut() {
            for pose in &poses {
                write_row(w, path, pose)?;
            }
        }
        if let Some((file, path)) = cache_file.as_mut().filter(|_| !poses.is_empty()) {
            let line = CachedComplex { id: id.clone(), poses: poses.iter().map(PoseRow::labelled).collect() }.to_line()?;
            writeln!(file, "{line}").map_err(|e| Error::io(*path, e))?;
        }
        rows.push(row);
        progress.inc(1);
    }
    Ok(rows)
}

/// The summary lines printed at the end; the last one is machine-readable.
pub fn summary_lines(s: &BenchSummary) -> String {
    let conformer = s.conformer_failures.map(|c| format!("conformer {c:.1}%  ")).unwrap_or_default();
    let causes = match (s.search_failures, s.scoring_failures) {
        (Some(search), Some(scoring)) => format!("{conformer}search {search:.1}%  scoring {scoring:.1}%"),
        _ => "not judged (no crystal energies in this report)".into(),
    };
    format!(
        "n {} failures {}\ntop-1 RMSD < 2 Å: {:.1}%  top-5: {:.1}%  median top-1 RMSD {:.2} Å\nseconds per complex: mean {:.1} median {:.1}\nPB-valid top-1: {:.1}%  RMSD < 2 Å and PB-valid: {:.1}%\nwrong top-1 by cause: {}\ntop1_lt2 {:.1}% top5_lt2 {:.1}% median_rmsd {:.2} n {} s_per_complex {:.1}",
        s.n, s.failures, s.top1_lt2, s.top5_lt2, s.median_rmsd, s.mean_seconds, s.median_seconds, s.pb_valid,
        s.lt2_and_pb_valid, causes, s.top1_lt2, s.top5_lt2, s.median_rmsd, s.n, s.mean_seconds
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, top1: f64, top5: f64) -> BenchRow {
        BenchRow { id: id.into(), status: "ok".into(), top1_rmsd: Some(top1), top5_rmsd: Some(top5), top1_pb_valid: Some(true), seconds: 2.0, ..Default::default() }
    }

    #[test]
    fn report_reads_back_and_a_cut_last_line_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.csv");
        let mut writer = csv_writer(&path).unwrap();
        for r in [row("a", 1.0, 1.0), row("b", 3.0, 1.5), row("c", 5.0, 4.0)] {
            write_row(&mut writer, &path, &r).unwrap();
        }
        drop(writer);
        let rows = read_report(&path).unwrap();
        assert_eq!(rows.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["a", "b", "c"]);
        let s = summarise(&rows);
        assert!((s.top1_lt2 - 100.0 / 3.0).abs() < 1e-9 && (s.top5_lt2 - 200.0 / 3.0).abs() < 1e-9);
        assert_eq!(s.median_rmsd, 3.0);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, &text[..text.len() - 12]).unwrap();
        assert_eq!(read_report(&path).unwrap().len(), 2);
        std::fs::write(&path, text.replacen("1.0", "x", 1)).unwrap();
        assert!(read_report(&path).unwrap_err().to_string().contains("report.csv"));
        std::fs::write(&path, "id,status,top1_rmsd\nold,ok,1.5\n").unwrap();
        assert_eq!(read_report(&path).unwrap()[0].top1_rmsd, Some(1.5), "reports without the newer columns still read");
    }

    #[test]
    fn wrong_poses_are_blamed_on_search_or_scoring() {
        let with = |top1: f64, top1_energy: f64, crystal: f64, shift: f64| BenchRow {
            top1_energy: Some(top1_energy),
            crystal_energy: Some(crystal),
            crystal_shift: Some(shift),
            ..row("x", top1, top1)
        };
        assert_eq!(with(1.0, -8.0, -9.0, 0.5).failure_cause(), None, "a right pose has no failure");
        assert_eq!(with(5.0, -8.0, -9.0, 0.5).failure_cause(), Some(FailureCause::Search));
        assert_eq!(with(5.0, -9.0, -8.0, 0.5).failure_cause(), Some(FailureCause::Scoring));
        assert_eq!(with(5.0, -8.0, -9.0, 2.5).failure_cause(), Some(FailureCause::Scoring), "crystal pose is no minimum");
        assert_eq!(row("y", 5.0, 5.0).failure_cause(), None, "unscored crystal pose: unknown");
        let s = summarise(&[with(5.0, -8.0, -9.0, 0.5), with(5.0, -9.0, -8.0, 0.5), with(1.0, -9.0, -8.0, 0.5), row("y", 5.0, 5.0)]);
        assert_eq!((s.search_failures, s.scoring_failures), (Some(25.0), Some(25.0)));
        assert_eq!(summarise(&[row("y", 5.0, 5.0)]).search_failures, None, "old reports are not judged");
        let unreachable = BenchRow { conformer_rmsd: Some(2.4), ..with(5.0, -8.0, -9.0, 0.5) };
        assert_eq!(unreachable.failure_cause(), Some(FailureCause::Conformer), "the conformer floor comes first");
        let reachable = BenchRow { conformer_rmsd: Some(0.8), ..with(5.0, -8.0, -9.0, 0.5) };
        assert_eq!(reachable.failure_cause(), Some(FailureCause::Search));
        assert_eq!(summarise(&[unreachable, reachable]).conformer_failures, Some(50.0));
    }
}
