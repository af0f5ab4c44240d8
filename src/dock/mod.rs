//! Docking: one ligand against a receptor (pocket box or blind), with pose sampling, physics
//! refinement, validity checks, confidence, ranking and output files; plus screening and CSV batches.

pub mod align;
pub mod models;
pub mod output;
pub mod pockets;
pub mod sampling;
pub mod screen;
pub mod templates;

use crate::chem::conformer::PreparedLigand;
use crate::chem::fingerprint::{self, tanimoto};
use crate::chem::{centroid, Ligand, Protein, Vec3};
use pockets::{find_pockets, PocketSearch};
use crate::diffusion::sampler::SamplerConfig;
use crate::error::{Error, Result};
use crate::geometry::{bounding_box, rmsd};
use crate::graph::{crop, pocket_residues};
use crate::model::{pose_features, ComplexGraph};
use crate::physics::{check_pose, monte_carlo, ContactAtoms, PairPotential, PocketBox, PoseChecks, PoseTerms, RefineOptions, SearchOptions, VinaLigand, VinaScorer};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use models::{InferenceDefaults, Models};
use rayon::prelude::*;
use sampling::{confidence_logits, sample_poses, SamplingOptions};
use templates::{template_overlap, Template, TemplateLibrary, DISTANT_RANKING_WEIGHT};
use serde::Serialize;
use std::time::Instant;

/// Candidate pockets docked into by blind docking unless told otherwise.
pub const DEFAULT_BLIND_POCKETS: usize = 3;

/// Largest protein (amino-acid residues) accepted for blind docking over the whole protein.
pub const MAX_RESIDUES: usize = 6000;

/// Where to dock.
#[derive(Clone, Debug, PartialEq)]
pub enum Pocket {
    /// A box (centre and edge lengths, Å), as Vina's --center/--size or gnina's --autobox_ligand.
    Box {
        /// Box centre.
        center: Vec3,
        /// Edge lengths.
        size: Vec3,
    },
    /// The whole protein (blind docking).
    Blind,
}

impl Pocket {
    /// A box around a reference ligand's atoms grown by `padding` Å on each side (gnina's autobox).
    pub fn around_ligand(coords: &[Vec3], padding: f64) -> Pocket {
        let b = PocketBox::around(coords, padding);
        Pocket::Box { center: b.centre, size: b.size }
    }
}

/// How poses are ordered. Both rules put PB-invalid poses last. `Energy` is the default: on all
/// 100 val complexes (pocket given, 40 samples, Monte Carlo search) it put a pose within 2 Å
/// first for 41 %, against 9 % by the first confidence model (see the model card).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub enum Ranking {
    /// By the Vina-like total energy after refinement, less the population and confidence terms
    /// of [`RankWeights`] (ties: confidence).
    #[default]
    Energy,
    /// By the confidence model (ties: energy); poses without confidence by energy.
    Confidence,
}

impl std::str::FromStr for Ranking {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "energy" => Ok(Ranking::Energy),
            "confidence" => Ok(Ranking::Confidence),
            other => Err(Error::invalid("--ranking", format!("unknown rule '{other}': use energy or confidence"))),
        }
    }
}

/// A flexible ligand's search grows to at most this many times the base steps: three times was
/// the most tried on training and val complexes, and a peptide-like ligand with 60 torsions
/// would otherwise take minutes.
pub const MAX_SEARCH_GROWTH: usize = 3;

/// Docking settings.
#[derive(Clone, Debug)]
pub struct DockOptions {
    /// Sampling settings (samples, steps, seed, temperatures).
    pub sampling: SamplingOptions,
    /// Refine poses with the Vina-like scoring function.
    pub refine: bool,
    /// Monte Carlo steps (mutate, minimise, accept) after refining each sampled pose; 0 only
    /// refines. Seeded from the sampling seed and the pose index.
    pub search_steps: usize,
    /// Monte Carlo steps per torsion of the ligand: a flexible ligand is searched for
    /// `max(search_steps, search_steps_per_torsion × torsions)` steps (at most
    /// [`MAX_SEARCH_GROWTH`] × `search_steps`), as Vina's search grows with the degrees of
    /// freedom (0: `search_steps` for every ligand).
    pub search_steps_per_torsion: f64,
    /// Ranking rule.
    pub ranking: Ranking,
    /// Weights of the population and confidence terms in energy ranking.
    pub weights: RankWeights,
    /// Radius of the residue crop around the pocket centre, beyond the box (Å).
    pub crop_margin: f64,
    /// Blind docking: dock into this many of the pockets found (0: the whole protein).
    pub blind_pockets: usize,
    /// Blind docking into several pockets: share of the samples spread over them before the
    /// rest goes to the leading one ([`EXPLORE_FRACTION`] by default; 1: an even split).
    pub explore_fraction: f64,
    /// Blind docking into several pockets: how many of the docked conformers (the first ones)
    /// explore them; all of them share the leading pocket's samples (0: all explore). One keeps
    /// the choice of pocket as with one conformer, whose exploring samples it gets whole.
    pub explore_conformers: usize,
    /// A learned pair potential and its weight added to the energy that refinement and the
    /// search minimise in pocket boxes ([`VinaScorer::with_potential`]; none: Vina alone).
    pub search_potential: Option<(std::sync::Arc<PairPotential>, f64)>,
    /// Known complexes whose ligands, where their protein is homologous, become the target's
    /// templates ([`Target::templates`]; none: no templates).
    pub templates: Option<std::sync::Arc<TemplateLibrary>>,
    /// Weight (kcal/mol per ligand atom) of the bias towards template ligands that refinement
    /// and the search minimise in pocket boxes ([`VinaScorer::with_template_bias`]; 0: none).
    pub search_template_weight: f64,
    /// Least aligned sequence identity of a distant homologue in the library, a protein sharing
    /// too few sequence words with the target to be a close one
    /// ([`TemplateLibrary::find_with`]; above 1: close homologues only).
    pub template_identity: f64,
    /// Least similarity (Tanimoto, circular fingerprints) of a distant template's ligand to the
    /// docked ligand for it to count as a close one ([`Target::for_ligand`]; above 1: never).
    pub template_similarity: f64,
    /// RDKit conformers docked per ligand in a given box ([`dock_conformers`]): the samples are
    /// shared among them and all poses ranked together.
    pub conformers: usize,
    /// RDKit conformers docked per ligand in blind docking.
    pub blind_conformers: usize,
    /// ETKDG conformers generated per ligand in a given box, of which the most typical are
    /// docked ([`crate::chem::conformer::typical_conformers`]; no more than the docked ones:
    /// seed order).
    pub conformer_candidates: usize,
    /// ETKDG conformers generated per ligand in blind docking.
    pub blind_conformer_candidates: usize,
}

impl DockOptions {
    /// Monte Carlo steps per sampled pose of a ligand with `torsions` rotatable bonds:
    /// [`DockOptions::search_steps`], or more for a flexible ligand
    /// ([`DockOptions::search_steps_per_torsion`]), at most [`MAX_SEARCH_GROWTH`] times as many.
    pub fn search_steps_for(&self, torsions: usize) -> usize {
        let grown = (self.search_steps_per_torsion * torsions as f64).round() as usize;
        self.search_steps.max(grown.min(MAX_SEARCH_GROWTH * self.search_steps))
    }

    /// The library's templates for `protein` (none without a library): close homologues and
    /// distant ones down to [`DockOptions::template_identity`] (these place blind docking's
    /// site, and count as close for ligands like theirs: [`Target::for_ligand`]).
    pub fn library_templates(&self, protein: &Protein) -> Vec<Template> {
        self.templates.as_ref().map(|library| library.find_with(protein, self.template_identity)).unwrap_or_default()
    }

    /// Conformers to dock per ligand: [`DockOptions::blind_conformers`] for blind docking, else
    /// [`DockOptions::conformers`].
    pub fn conformers_for(&self, blind: bool) -> usize {
        if blind {
            self.blind_conformers
        } else {
            self.conformers
        }
    }

    /// ETKDG conformers to generate per ligand, the docked ones chosen among them:
    /// [`DockOptions::blind_conformer_candidates`] for blind docking, else
    /// [`DockOptions::conformer_candidates`].
    pub fn candidates_for(&self, blind: bool) -> usize {
        if blind {
            self.blind_conformer_candidates
        } else {
            self.conformer_candidates
        }
    }
}

impl Default for DockOptions {
    fn default() -> Self {
        DockOptions { sampling: SamplingOptions::default(), refine: true, search_steps: models::DEFAULT_SEARCH_STEPS, search_steps_per_torsion: 0.0, ranking: Ranking::Energy, weights: RankWeights::default(), crop_margin: 8.0, blind_pockets: DEFAULT_BLIND_POCKETS, explore_fraction: EXPLORE_FRACTION, explore_conformers: 0, search_potential: None, templates: None, search_template_weight: 0.0, template_identity: templates::MIN_IDENTITY, template_similarity: templates::MIN_SIMILARITY, conformers: 1, blind_conformers: 1, conformer_candidates: 1, blind_conformer_candidates: 1 }
    }
}

/// Terms energy ranking adds to each pose's energy (kcal/mol per unit).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RankWeights {
    /// Subtracted times ln(1 + population), so a binding mode many samples reached beats a lone
    /// one of slightly lower energy.
    pub population: f64,
    /// Subtracted times the confidence logit, so the confidence model can overrule small energy
    /// differences (no effect on poses without confidence).
    pub confidence: f64,
    /// Added times the pose's learned pair-potential score (no effect on poses without one).
    pub potential: f64,
    /// Subtracted times the pose's overlap with template ligands (0 to 1; no effect without
    /// templates).
    pub template: f64,
}

impl Default for RankWeights {
    fn default() -> Self {
        RankWeights { population: models::DEFAULT_POPULATION_WEIGHT, confidence: models::DEFAULT_CONFIDENCE_WEIGHT, potential: models::DEFAULT_POTENTIAL_WEIGHT, template: 0.0 }
    }
}

impl RankWeights {
    /// Energy-ranking key of a pose: energy less the population, confidence and template terms,
    /// plus the pair-potential term.
    fn key(&self, pose: &DockedPose) -> f64 {
        let Some(energy) = pose.energy else { return f64::MAX };
        let logit = pose.confidence.map_or(0.0, |c| {
            let c = c.clamp(1e-6, 1.0 - 1e-6);
            (c / (1.0 - c)).ln()
        });
        energy - self.population * (pose.population as f64).ln_1p() - self.confidence * logit + self.potential * pose.potential.unwrap_or(0.0) - self.template * pose.template.unwrap_or(0.0)
    }
}

/// One docked pose with everything known about it.
#[derive(Clone, Debug, Serialize)]
pub struct DockedPose {
    /// Rank, 1 = best.
    pub rank: usize,
    /// Index of the target's site the pose was docked in (blind docking: the pocket's rank).
    pub site: usize,
    /// Index of the ligand conformer (bond lengths, angles, rings) the pose was docked with
    /// ([`DockOptions::conformers`]; 0 with one conformer).
    pub conformer: usize,
    /// Ligand heavy-atom coordinates.
    #[serde(skip)]
    pub coords: Vec<Vec3>,
    /// Confidence: probability that the pose is within 2 Å of the true pose (when a confidence model is loaded).
    pub confidence: Option<f64>,
    /// Vina-like affinity (kcal/mol), lower is better.
    pub affinity: Option<f64>,
    /// Vina-like inter + intra energy that refinement minimised (kcal/mol).
    pub energy: Option<f64>,
    /// Score of the model's learned pair potential (kcal/mol, lower is better), which ranking
    /// adds to the energy; none without a potential in the model folder.
    pub potential: Option<f64>,
    /// Overlap (0 to 1) with the best template ligand of the target ([`template_overlap`]),
    /// which ranking rewards; none without templates.
    pub template: Option<f64>,
    /// Other poses of the same docking run within [`POPULATION_RMSD`] of this one: how often
    /// independent samples reached this binding mode (AutoDock's cluster population).
    pub population: usize,
    /// RMSD (Å) between the pose the diffusion model sampled and this pose after refinement and
    /// search: how far the physics moved it from the model's proposal.
    pub drift: f64,
    /// Latents the pose was sampled with (node indices in its site's graph: ligand atoms first,
    /// then residues).
    pub latents: Option<Vec<usize>>,
    /// PoseBusters-style validity checks.
    pub checks: Option<PoseChecks>,
}

impl DockedPose {
    /// The overall PoseBusters-style verdict, when the pose was checked.
    pub fn pb_valid(&self) -> Option<bool> {
        self.checks.as_ref().map(|c| c.pb_valid)
    }
}

/// The result of docking one ligand.
#[derive(Clone, Debug, Serialize)]
pub struct DockResult {
    /// Ligand name.
    pub name: String,
    /// Poses, best first.
    pub poses: Vec<DockedPose>,
    /// Centre the ligand was docked around.
    pub center: [f64; 3],
    /// Residues in the graph the networks saw.
    pub residues: usize,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// Edge of the box docked into around each pocket found for blind docking (Å): the box the
/// networks were trained and validated with.
pub const SITE_BOX: f64 = 25.0;

/// One place of a receptor that ligands are docked into: the residue crop the networks see and
/// the scoring function around it.
pub struct Site {
    /// The box (or the whole protein) this site covers.
    pub pocket: Pocket,
    /// The (possibly cropped) protein the networks see.
    pub protein: Protein,
    /// Docking centre.
    pub center: Vec3,
    /// Scoring function over the pocket (or over the whole protein).
    pub scorer: Option<VinaScorer>,
    /// Score by direct sums instead of grids (whole protein: grids over a whole protein cost
    /// more than they save for a few dozen poses).
    pub exact_scoring: bool,
}

/// The receptor prepared once for many ligands: one site for a box; for blind docking one site
/// per candidate pocket (or the whole protein as one site).
pub struct Target {
    /// The full protein (for the complex PDB and clash checks).
    pub full: Protein,
    /// Where ligands are docked; samples are shared among the sites.
    pub sites: Vec<Site>,
    /// Whether it was prepared for blind docking (no box given).
    pub blind: bool,
    /// Ligands of close homologues' known complexes (and references the user gave) in the
    /// protein's frame, whose overlap with a pose ranking rewards.
    pub templates: Vec<Template>,
    /// Ligands of distant homologues ([`Template::distant`]): ranking rewards overlap with them
    /// at [`DISTANT_RANKING_WEIGHT`], and they count as close ones for a ligand that resembles
    /// theirs ([`Target::for_ligand`]).
    pub distant: Vec<Template>,
}

/// The target's templates split three ways: the close ones (shared sequence words, or given by
/// the user), which guide the search and the ranking; the distant ones (paired by alignment),
/// which do so fully only for a ligand like theirs ([`Target::for_ligand`]); and those that
/// lead blind docking: the close ones, or without any the distant ones, being surer of the site
/// than of the pose.
fn split_templates(templates: Vec<Template>) -> (Vec<Template>, Vec<Template>, Vec<Template>) {
    let (close, distant): (Vec<Template>, Vec<Template>) = templates.into_iter().partition(|t| !t.distant);
    let leading = if close.is_empty() { distant.clone() } else { close.clone() };
    (close, distant, leading)
}

impl Target {
    /// Prepares a receptor for `pocket`. A box gives one site. Blind docking finds pockets and
    /// docks into the best `options.blind_pockets` of them (25 Å boxes), or into the whole
    /// protein when that is 0 or no pocket is found.
    pub fn new(protein: &Protein, pocket: &Pocket, options: &DockOptions) -> Result<Target> {
        let templates = options.library_templates(protein);
        if !templates.is_empty() {
            let distant = templates.iter().filter(|t| t.distant).count();
            log::info!("{}: {} template ligands from homologous complexes, {distant} of them distant (best: {})", protein.name, templates.len(), templates[0].id);
        }
        Target::with_templates(protein, pocket, options, templates)
    }

    /// [`Target::new`] with the given template ligands (in the protein's frame) instead of those
    /// found in `options.templates`.
    pub fn with_templates(protein: &Protein, pocket: &Pocket, options: &DockOptions, templates: Vec<Template>) -> Result<Target> {
        let (templates, distant, leading) = split_templates(templates);
        let sites = match pocket {
            Pocket::Box { .. } => vec![Site::new(protein, pocket, options, &templates)?],
            Pocket::Blind => {
                let found = if options.blind_pockets > 0 { find_pockets(protein, &PocketSearch::default()) } else { Vec::new() };
                let centres = blind_centres(found.iter().map(|site| site.center).collect(), &leading, options.blind_pockets);
                log::info!("{}: {} pockets found, docking into {}", protein.name, found.len(), centres.len().max(1));
                let boxes: Vec<Pocket> = centres.into_iter().map(|center| Pocket::Box { center, size: Vec3::repeat(SITE_BOX) }).collect();
                if boxes.is_empty() {
                    check_blind_size(protein)?;
                    vec![Site::new(protein, &Pocket::Blind, options, &templates)?]
                } else {
                    boxes.iter().map(|b| Site::new(protein, b, options, &templates)).collect::<Result<_>>()?
                }
            }
        };
        Ok(Target { full: protein.clone(), sites, blind: matches!(pocket, Pocket::Blind), templates, distant })
    }

    /// The target as `ligand` is docked into it: where distant templates' ligands resemble it
    /// (Tanimoto similarity of circular fingerprints at least `options.template_similarity`),
    /// a copy whose sites and ranking use them as close ones; none (the target as it is)
    /// otherwise. Ligands of one chemical series bind alike, so a homologue's ligand of the
    /// series tells the pose even where the protein is only distantly related.
    pub fn for_ligand(&self, ligand: &Ligand, options: &DockOptions) -> Result<Option<Target>> {
        if self.distant.is_empty() {
            return Ok(None);
        }
        let fingerprint = fingerprint::morgan(ligand);
        let (similar, other): (Vec<Template>, Vec<Template>) = self.distant.iter().cloned().partition(|t| tanimoto(&fingerprint, &t.fingerprint) >= options.template_similarity);
        if similar.is_empty() {
            return Ok(None);
        }
        log::info!("{}: {} distant template ligand(s) resemble {} and count as close ones", self.full.name, similar.len(), ligand.name);
        let templates: Vec<Template> = self.templates.iter().cloned().chain(similar).collect();
        let sites = self.sites.iter().map(|site| Site::new(&self.full, &site.pocket, options, &templates)).collect::<Result<_>>()?;
        Ok(Some(Target { full: self.full.clone(), sites, blind: self.blind, templates, distant: other }))
    }
}

/// Pockets whose centres lie within this distance (Å) of the template site count as that site.
const TEMPLATE_SITE_MERGE: f64 = 6.0;

/// The centre of the ligand site most templates agree on: the template ligand centroid with the
/// most others within [`TEMPLATE_SITE_MERGE`] (ties: the best superposed template); none without
/// templates.
fn template_site(templates: &[Template]) -> Option<Vec3> {
    let centres: Vec<Vec3> = templates.iter().map(|t| centroid(&t.atoms.iter().map(|a| a.1).collect::<Vec<_>>())).collect();
    let support = |c: &Vec3| centres.iter().filter(|d| (*d - c).norm() < TEMPLATE_SITE_MERGE).count();
    // max_by_key keeps the last maximum; reversing keeps the first (best superposed) one
    centres.iter().rev().max_by_key(|c| support(c)).copied()
}

/// Blind docking's site centres: the `n` best pockets found, led by the template site when the
/// protein has templates (a found pocket near it gives way to it).
fn blind_centres(found: Vec<Vec3>, templates: &[Template], n: usize) -> Vec<Vec3> {
    let Some(site) = template_site(templates).filter(|_| n > 0) else { return found.into_iter().take(n).collect() };
    std::iter::once(site).chain(found.into_iter().filter(|c| (c - site).norm() >= TEMPLATE_SITE_MERGE)).take(n).collect()
}

/// Blind docking over the whole protein refuses proteins above [`MAX_RESIDUES`] amino acids
/// (docking into found pockets has no limit: the networks see only crops).
fn check_blind_size(protein: &Protein) -> Result<()> {
    let residues = protein.amino_acids().len();
    if residues > MAX_RESIDUES {
        return Err(Error::invalid(
            protein.name.clone(),
            format!("{residues} residues: too large for blind docking (limit {MAX_RESIDUES}); give a pocket box"),
        ));
    }
    Ok(())
}

impl Site {
    /// Crops residues near a box and builds its scoring box (biased towards the `templates`
    /// atoms inside it when `options.search_template_weight` says so); for `Pocket::Blind`, the
    /// whole protein with a scoring box around all C-alphas.
    fn new(protein: &Protein, pocket: &Pocket, options: &DockOptions, templates: &[Template]) -> Result<Site> {
        let (center, cropped, pbox) = match pocket {
            Pocket::Box { center, size } => {
                let radius = size.max() / 2.0 + options.crop_margin;
                let residues = pocket_residues(protein, center, radius)?;
                (*center, crop(protein, &residues), PocketBox { centre: *center, size: *size + Vec3::repeat(2.0 * GRID_MARGIN) })
            }
            Pocket::Blind => {
                let ca: Vec<Vec3> = protein.residues.iter().filter_map(|r| r.ca).collect();
                let (lo, hi) = bounding_box(&ca);
                let pbox = PocketBox { centre: (lo + hi) / 2.0, size: hi - lo + Vec3::repeat(10.0) };
                (centroid(&ca), protein.clone(), pbox)
            }
        };
        let exact_scoring = matches!(pocket, Pocket::Blind);
        let scorer = VinaScorer::new(protein, &pbox, grid_spacing(&pbox)).ok().map(|s| match &options.search_potential {
            Some((potential, weight)) if !exact_scoring => s.with_potential(potential.clone(), *weight),
            _ => s,
        });
        let inside = |p: &Vec3| (0..3).all(|k| (p[k] - pbox.centre[k]).abs() <= pbox.size[k] / 2.0);
        let bias: Vec<(u8, Vec3)> = templates.iter().flat_map(|t| t.atoms.iter().copied()).filter(|(_, p)| inside(p)).collect();
        let scorer = match scorer {
            Some(s) if !exact_scoring && options.search_template_weight > 0.0 && !bias.is_empty() => Some(s.with_template_bias(std::sync::Arc::new(bias), options.search_template_weight)),
            other => other,
        };
        Ok(Site { pocket: pocket.clone(), protein: cropped, center, scorer, exact_scoring })
    }
}

/// Grid spacing: Vina's 0.375 Å for pockets, coarser for big (blind) boxes to bound memory.
fn grid_spacing(b: &PocketBox) -> f64 {
    let volume = b.size.x * b.size.y * b.size.z;
    let points = volume / 0.375f64.powi(3);
    if points < 2.0e6 {
        0.375
    } else {
        (volume / 2.0e6).cbrt()
    }
}

/// Default share of the samples spent exploring when a target has several sites (blind
/// docking): they are spread over the sites, and the rest go to the site holding the best pose
/// so far ([`DockOptions::explore_fraction`]). Half: on val's first 60 blind it put a pose within
/// 2 Å first for 25.0 % against 23.3 % with a quarter (twelfth session, MODEL_CARD.md).
pub const EXPLORE_FRACTION: f64 = 0.5;

/// Samples spread over `n_sites` sites before the rest goes to the leading one: `fraction` of
/// `total`, at least one per site, all of them for a single site.
fn explore_samples(total: usize, n_sites: usize, fraction: f64) -> usize {
    if n_sites > 1 {
        ((total as f64 * fraction).ceil() as usize).max(n_sites).min(total)
    } else {
        total
    }
}

/// Conformers (the first ones of `n`) that explore `n_sites` sites: `limit` of them (0: all)
/// with several sites; a single site gets every conformer, all its samples being exploring ones.
fn exploring_conformers(n: usize, n_sites: usize, limit: usize) -> usize {
    if n_sites > 1 && limit > 0 {
        limit.min(n)
    } else {
        n
    }
}

/// Docks one prepared ligand (one conformer) into a prepared target: [`dock_conformers`] with
/// one conformer.
pub fn dock(models: &Models, target: &Target, ligand: &PreparedLigand, options: &DockOptions) -> Result<DockResult> {
    dock_conformers(models, target, std::slice::from_ref(ligand), options)
}

/// Added to the sampling seed per conformer after the first, so that each conformer's samples
/// have their own noise (batches of blind docking add their index to the seed).
pub const CONFORMER_SEED_STRIDE: u64 = 1000;

/// Samples of `total` docked with conformer `k` of `n`: an even split, the first ones taking
/// the remainder.
fn conformer_samples(total: usize, n: usize, k: usize) -> usize {
    total / n + usize::from(k < total % n)
}

/// Docks the conformers of one ligand (same atoms in the same order; bond lengths, angles and
/// rings differ) into a prepared target and ranks all poses together, the confidence read
/// among all of them. Every batch of samples is shared among the conformers. With several
/// sites, `options.explore_fraction` of the samples (at least one per site) are spread over
/// them by the first `options.explore_conformers` conformers (0: all) and the rest go to the
/// site of the best-ranked pose (ranked by the full rule, confidence included), shared among
/// all conformers; each batch and conformer has its own seed (the first conformer's batches as
/// with one conformer).
/// Distant templates whose ligand resembles this one count as close ones ([`Target::for_ligand`]).
pub fn dock_conformers(models: &Models, target: &Target, ligands: &[PreparedLigand], options: &DockOptions) -> Result<DockResult> {
    let Some(first) = ligands.first() else { return Err(Error::invalid("dock", "no conformer to dock")) };
    let start = Instant::now();
    let specific = target.for_ligand(&first.ligand, options)?;
    let target = specific.as_ref().unwrap_or(target);
    let total = options.sampling.samples;
    let n_sites = target.sites.len();
    let explore = explore_samples(total, n_sites, options.explore_fraction);
    let explorers = &ligands[..exploring_conformers(ligands.len(), n_sites, options.explore_conformers)];
    let run = |k: usize, samples: usize, batch: usize, ligands: &[PreparedLigand]| -> (Vec<DockedPose>, Vec<Error>) {
        let (mut found, mut errors) = (Vec::new(), Vec::new());
        for (c, ligand) in ligands.iter().enumerate() {
            let elements = ligand.ligand.elements();
            let mut site_options = options.clone();
            site_options.sampling.samples = conformer_samples(samples, ligands.len(), c);
            site_options.sampling.sampler.seed = options.sampling.sampler.seed.wrapping_add(batch as u64 + CONFORMER_SEED_STRIDE * c as u64);
            site_options.sampling.initial_sigma = initial_sigma(&target.sites[k].pocket);
            if site_options.sampling.samples == 0 {
                continue;
            }
            match dock_site(models, &target.sites[k], &target.full, ligand, &site_options) {
                Ok(poses) => found.extend(poses.into_iter().map(|p| DockedPose { site: k, conformer: c, template: pose_template(target, &elements, &p.coords), ..p })),
                Err(e) => errors.push(e),
            }
        }
        (found, errors)
    };
    let mut poses = Vec::new();
    let mut errors = Vec::new();
    for k in 0..n_sites {
        let (found, failed) = run(k, explore / n_sites + usize::from(k < explore % n_sites), k, explorers);
        poses.extend(found);
        errors.extend(failed);
    }
    if total > explore {
        // the leader is chosen by the same rule as the final ranking, confidence included
        rank_poses(&mut poses, options.ranking, &options.weights);
        if attach_confidence(models, target, first, &mut poses) {
            rank_poses(&mut poses, options.ranking, &options.weights);
        }
        if let Some(k) = poses.first().map(|p| p.site) {
            log::info!("{}: site {k} leads after {explore} samples; it gets the other {}", first.ligand.name, total - explore);
            let (found, failed) = run(k, total - explore, n_sites, ligands);
            poses.extend(found);
            errors.extend(failed);
        }
    }
    if poses.is_empty() {
        return Err(errors.into_iter().next().unwrap_or_else(|| Error::invalid(first.ligand.name.clone(), "no site to dock into")));
    }
    rank_poses(&mut poses, options.ranking, &options.weights);
    if attach_confidence(models, target, first, &mut poses) {
        rank_poses(&mut poses, options.ranking, &options.weights);
    }
    let best = &target.sites[poses[0].site];
    log::info!("{}: docked {} conformer(s) into {} site(s) in {:.1} s", first.ligand.name, ligands.len(), n_sites, start.elapsed().as_secs_f64());
    Ok(DockResult {
        name: first.ligand.name.clone(),
        poses,
        center: [best.center.x, best.center.y, best.center.z],
        residues: best.protein.amino_acids().len(),
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// A pose's overlap with the target's template ligands, a distant one's counting
/// [`DISTANT_RANKING_WEIGHT`] of a close one's; none without templates.
fn pose_template(target: &Target, elements: &[u8], coords: &[Vec3]) -> Option<f64> {
    (!target.templates.is_empty() || !target.distant.is_empty())
        .then(|| template_overlap(&target.templates, elements, coords).max(DISTANT_RANKING_WEIGHT * template_overlap(&target.distant, elements, coords)))
}

/// Samples, refines, checks and scores poses of `ligand` in one site (unranked).
fn dock_site(models: &Models, site: &Site, full: &Protein, ligand: &PreparedLigand, options: &DockOptions) -> Result<Vec<DockedPose>> {
    let start = Instant::now();
    let graph = ComplexGraph::new(&ligand.ligand, &site.protein, ligand.torsions.clone());
    if graph.n_residues() == 0 {
        return Err(Error::invalid(ligand.ligand.name.clone(), "the pocket holds no amino-acid residues"));
    }
    let sampled = sample_poses(models, &graph, &ligand.ligand.coords, &site.center, &options.sampling)?;
    log::info!("{}: sampled {} poses in {:.1} s", ligand.ligand.name, sampled.poses.len(), start.elapsed().as_secs_f64());
    let vina = VinaLigand::new(&ligand.ligand, ligand.torsions.len());
    let finish_with_drift = |(i, pose): (usize, Vec<Vec3>)| {
        let (coords, energy) = finish_pose(site, &vina, ligand, pose.clone(), options, i);
        (rmsd(&pose, &coords), coords, energy)
    };
    let finished: Vec<(f64, Vec<Vec3>, Option<(f64, f64)>)> = sampled.poses.into_par_iter().enumerate().map(finish_with_drift).collect();
    log::info!("{}: refined and scored in {:.1} s", ligand.ligand.name, start.elapsed().as_secs_f64());
    Ok(assemble_poses(models, site, full, ligand, &vina, finished, sampled.latents.as_deref()))
}

/// A finished pose: (RMSD moved by refinement, coordinates, Some((affinity, energy)) when scored).
type FinishedPose = (f64, Vec<Vec3>, Option<(f64, f64)>);

/// Unranked docked poses from finished ones of one site: their pair-potential scores and
/// PoseBusters-style checks added (confidence comes later, over all poses of the ligand).
fn assemble_poses(models: &Models, site: &Site, full: &Protein, ligand: &PreparedLigand, vina: &VinaLigand, finished: Vec<FinishedPose>, latents: Option<&[Vec<usize>]>) -> Vec<DockedPose> {
    let potentials = potential_scores(models.potential.as_ref(), &site.protein, vina, finished.iter().map(|f| f.1.as_slice()));
    finished
        .into_iter()
        .zip(potentials)
        .enumerate()
        .map(|(i, ((drift, coords, energy), potential))| {
            let checks = check_pose(&ligand.ligand, &coords, &ligand.ligand.coords, full).ok();
            DockedPose {
                rank: 0,
                site: 0,
                conformer: 0,
                population: 0,
                drift,
                confidence: None,
                affinity: energy.map(|e| e.0),
                energy: energy.map(|e| e.1),
                potential,
                template: None,
                latents: latents.map(|l| l[i].clone()),
                checks,
                coords,
            }
        })
        .collect()
}

/// Unweighted sums of Vina's five terms between the protein and a pose of `ligand` in the
/// target's first site (what `vina --score_only` lists before weighting); none without a scorer.
pub fn pose_terms(target: &Target, ligand: &PreparedLigand, coords: &[Vec3]) -> Option<PoseTerms> {
    let scorer = target.sites.first()?.scorer.as_ref()?;
    scorer.terms_exact(&VinaLigand::new(&ligand.ligand, ligand.torsions.len()), coords).ok()
}

/// Margin (Å) the scoring grid adds beyond each face of a pocket box: how far past the box a
/// ligand atom may reach and still be scored.
const GRID_MARGIN: f64 = 4.0;

/// Scores a ligand's own pose (its input coordinates) in the target's first site as docking
/// scores its poses (Vina-like affinity and energy, pair potential, PoseBusters-style checks,
/// confidence), so a modelled, crystal or other program's pose can be compared with docked
/// ones; with `minimize`, after a local optimisation of position, orientation and torsions
/// (Vina's `--local_only`; `drift` is how far it moved; the input pose is kept when the
/// optimisation, which follows the grid-interpolated energy, would end higher under the exact
/// energy). The site's box must hold the pose.
pub fn score_pose(models: &Models, target: &Target, ligand: &PreparedLigand, minimize: bool) -> Result<DockResult> {
    let start = Instant::now();
    let name = ligand.ligand.name.clone();
    let pose = ligand.reference.clone().ok_or_else(|| Error::invalid(name.clone(), "no 3D coordinates: scoring needs a pose (SDF, MOL2 or PDBQT with coordinates)"))?;
    let site = target.sites.first().ok_or_else(|| Error::invalid(name.clone(), "no site to score in"))?;
    if let Pocket::Box { center, size } = &site.pocket {
        let half = size / 2.0 + Vec3::repeat(GRID_MARGIN);
        if pose.iter().any(|p| (0..3).any(|k| (p[k] - center[k]).abs() > half[k])) {
            return Err(Error::invalid(name, format!("the pose lies outside the scoring box (centre {:.1} {:.1} {:.1}, size {:.1} {:.1} {:.1}): give a box that holds it, or none", center.x, center.y, center.z, size.x, size.y, size.z)));
        }
    }
    let vina = VinaLigand::new(&ligand.ligand, ligand.torsions.len());
    let (coords, energy) = if minimize { local_minimum(site, &vina, ligand, &pose) } else { scored_as_is(site, &vina, ligand, &pose) };
    let mut poses = assemble_poses(models, site, &target.full, ligand, &vina, vec![(rmsd(&pose, &coords), coords, energy)], None);
    let elements = ligand.ligand.elements();
    poses[0].template = pose_template(target, &elements, &poses[0].coords);
    rank_poses(&mut poses, Ranking::Energy, &RankWeights::default());
    attach_confidence(models, target, ligand, &mut poses);
    Ok(DockResult {
        name,
        poses,
        center: [site.center.x, site.center.y, site.center.z],
        residues: site.protein.amino_acids().len(),
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// `pose` scored in `site` without moving it: (coords, Some((affinity, energy))) when the site
/// can score.
fn scored_as_is(site: &Site, vina: &VinaLigand, ligand: &PreparedLigand, pose: &[Vec3]) -> (Vec<Vec3>, Option<(f64, f64)>) {
    finish_pose(site, vina, ligand, pose.to_vec(), &DockOptions { refine: false, ..Default::default() }, 0)
}

/// `pose` locally optimised in `site` over position, orientation and torsions (Vina's
/// `--local_only`), with its (affinity, energy). The optimiser follows the grid-interpolated
/// energy, so the input pose is kept when the optimum would end above the input's exact energy.
/// Used by `score --minimize` and for the benchmark's minimised crystal pose.
pub fn local_minimum(site: &Site, vina: &VinaLigand, ligand: &PreparedLigand, pose: &[Vec3]) -> (Vec<Vec3>, Option<(f64, f64)>) {
    let (coords, energy) = finish_pose(site, vina, ligand, pose.to_vec(), &DockOptions { refine: true, search_steps: 0, ..Default::default() }, 0);
    let (_, before) = scored_as_is(site, vina, ligand, pose);
    match (before, energy) {
        (Some(b), Some(a)) if b.1 < a.1 => (pose.to_vec(), before),
        _ => (coords, energy),
    }
}

/// Each pose's score under the learned pair potential (none for all without one).
fn potential_scores<'a>(potential: Option<&PairPotential>, protein: &Protein, vina: &VinaLigand, poses: impl Iterator<Item = &'a [Vec3]>) -> Vec<Option<f64>> {
    let Some(potential) = potential else { return poses.map(|_| None).collect() };
    let contacts = ContactAtoms::of_protein(protein);
    poses.map(|pose| Some(potential.score(&contacts, &vina.types, pose))).collect()
}

/// Sets each pose's confidence (when a confidence model is loaded) from its site's graph and
/// its physics features among all poses of the ligand (so populations must be counted first);
/// returns whether any pose got one.
fn attach_confidence(models: &Models, target: &Target, ligand: &PreparedLigand, poses: &mut [DockedPose]) -> bool {
    if models.confidence.is_empty() {
        return false;
    }
    let energies: Vec<Option<f64>> = poses.iter().map(|p| p.energy).collect();
    let populations: Vec<usize> = poses.iter().map(|p| p.population).collect();
    let features = pose_features(&energies, &populations);
    let mut any = false;
    for (k, site) in target.sites.iter().enumerate() {
        let members: Vec<usize> = (0..poses.len()).filter(|&i| poses[i].site == k).collect();
        if members.is_empty() {
            continue;
        }
        let graph = ComplexGraph::new(&ligand.ligand, &site.protein, ligand.torsions.clone());
        let coords: Vec<Vec<Vec3>> = members.iter().map(|&i| poses[i].coords.clone()).collect();
        let site_features: Vec<[f32; 2]> = members.iter().map(|&i| features[i]).collect();
        let Some(logits) = confidence_logits(models, &graph, &site.protein, &coords, &site_features) else { continue };
        for (&i, logit) in members.iter().zip(logits) {
            poses[i].confidence = Some(1.0 / (1.0 + (-logit).exp()));
            any = true;
        }
    }
    any
}

/// Refines a pose (when asked and possible) and scores it: (coords, Some((affinity, energy))).
/// With `options.search_steps > 0` the refinement is a Monte Carlo search seeded by `index`.
fn finish_pose(
    site: &Site,
    vina: &VinaLigand,
    ligand: &PreparedLigand,
    pose: Vec<Vec3>,
    options: &DockOptions,
    index: usize,
) -> (Vec<Vec3>, Option<(f64, f64)>) {
    let Some(scorer) = &site.scorer else { return (pose, None) };
    if options.refine {
        let refine = RefineOptions { exact: site.exact_scoring, ..Default::default() };
        let search = SearchOptions { steps: options.search_steps_for(ligand.torsions.len()), refine, ..Default::default() };
        let mut rng = ChaCha8Rng::seed_from_u64(options.sampling.sampler.seed.wrapping_mul(0x9E37_79B9).wrapping_add(index as u64));
        if let Ok(r) = monte_carlo(scorer, vina, &ligand.torsions, &pose, &search, &mut rng) {
            return (r.coords, Some((r.energy.total, r.energy.objective())));
        }
    }
    let energy = scorer.score_exact(vina, &pose).ok().map(|e| (e.total, e.objective()));
    (pose, energy)
}

/// A pose within this heavy-atom RMSD (Å, same atom order) of a better-ranked one is a duplicate:
/// the Monte Carlo search often brings several samples into the same minimum.
pub const DUPLICATE_RMSD: f64 = 1.0;

/// Two poses within this heavy-atom RMSD (Å) share a binding mode when counting populations.
pub const POPULATION_RMSD: f64 = 2.0;

/// Heavy-atom RMSD between every pair of poses (symmetric, zero diagonal), computed once for
/// both populations and duplicates.
fn pairwise_rmsd(poses: &[DockedPose]) -> Vec<Vec<f64>> {
    let n = poses.len();
    let mut d = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in i + 1..n {
            d[i][j] = rmsd(&poses[i].coords, &poses[j].coords);
            d[j][i] = d[i][j];
        }
    }
    d
}

/// Sets each pose's population (the other poses within [`POPULATION_RMSD`] of it), sorts poses
/// by the ranking rule (energy lowered by the terms of `weights`), moves
/// duplicates (within [`DUPLICATE_RMSD`] of a better distinct pose) behind the distinct poses,
/// and numbers them from 1.
pub fn rank_poses(poses: &mut [DockedPose], ranking: Ranking, weights: &RankWeights) {
    let distances = pairwise_rmsd(poses);
    for (i, p) in poses.iter_mut().enumerate() {
        p.population = distances[i].iter().enumerate().filter(|&(j, &d)| j != i && d < POPULATION_RMSD).count();
    }
    let key = |p: &DockedPose| -> (i32, f64, f64) {
        let energy = weights.key(p);
        let conf = -p.confidence.unwrap_or(0.0);
        let invalid = (p.pb_valid() == Some(false)) as i32;
        match ranking {
            Ranking::Confidence if p.confidence.is_some() => (invalid, conf, energy),
            Ranking::Confidence | Ranking::Energy => (invalid, energy, conf),
        }
    };
    let mut order: Vec<usize> = (0..poses.len()).collect();
    order.sort_by(|&a, &b| key(&poses[a]).partial_cmp(&key(&poses[b])).unwrap_or(std::cmp::Ordering::Equal));
    let mut distinct: Vec<usize> = Vec::new();
    let mut repeats: Vec<usize> = Vec::new();
    for i in order {
        let repeat = distinct.iter().any(|&j| distances[i][j] < DUPLICATE_RMSD);
        if repeat { &mut repeats } else { &mut distinct }.push(i);
    }
    let ordered: Vec<DockedPose> = distinct.iter().chain(&repeats).map(|&i| poses[i].clone()).collect();
    poses.clone_from_slice(&ordered);
    for (i, p) in poses.iter_mut().enumerate() {
        p.rank = i + 1;
    }
}

/// Sigma of the initial translation around the centre: a quarter of the box's longest edge
/// (2-19 Å), the schedule's maximum (19 Å) for blind docking.
pub fn initial_sigma(pocket: &Pocket) -> f64 {
    match pocket {
        Pocket::Box { size, .. } => (size.max() / 4.0).clamp(2.0, 19.0),
        Pocket::Blind => 19.0,
    }
}

/// Sampler settings for docking with `samples` poses and `steps` steps from `seed`, with the
/// temperatures of `defaults` (a model's tuned settings, possibly overridden by the user).
/// The initial sigma is set per site when docking.
pub fn sampling_options(samples: usize, steps: usize, seed: u64, defaults: &InferenceDefaults) -> SamplingOptions {
    let sampler = SamplerConfig { steps, seed, temperatures: defaults.temperatures, ..Default::default() };
    SamplingOptions { samples, sampler, latent_temperature: defaults.latent_temperature, ..Default::default() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flexible_ligands_get_more_search_steps_and_rigid_ones_the_base() {
        let plain = DockOptions { search_steps: 100, ..Default::default() };
        assert_eq!((plain.search_steps_for(0), plain.search_steps_for(30)), (100, 100));
        let scaled = DockOptions { search_steps: 100, search_steps_per_torsion: 15.0, ..Default::default() };
        assert_eq!(scaled.search_steps_for(3), 100);
        assert_eq!(scaled.search_steps_for(7), 105);
        assert_eq!(scaled.search_steps_for(20), 300);
        assert_eq!(scaled.search_steps_for(61), 300, "growth is capped");
    }

    #[test]
    fn exploration_takes_its_share_at_least_one_per_site() {
        assert_eq!(explore_samples(40, 3, 0.25), 10);
        assert_eq!(explore_samples(40, 3, 0.5), 20);
        assert_eq!(explore_samples(40, 3, 1.0), 40);
        assert_eq!(explore_samples(4, 3, 0.25), 3);
        assert_eq!(explore_samples(2, 3, 0.25), 2);
        assert_eq!(explore_samples(40, 1, 0.25), 40);
    }

    #[test]
    fn the_site_most_templates_agree_on_leads_blind_docking() {
        let at = |x: f64, rmsd: f64| Template { id: format!("t{x}"), identity: 1.0, pocket_rmsd: rmsd, atoms: vec![(6, Vec3::new(x, 0.0, 0.0)), (8, Vec3::new(x + 1.0, 0.0, 0.0))], distant: false, fingerprint: Vec::new() };
        // the best superposed template sits alone at 30; two agree near 0
        let templates = [at(30.0, 0.1), at(0.0, 0.5), at(1.0, 0.6)];
        let site = template_site(&templates).unwrap();
        assert!((site - Vec3::new(0.5, 0.0, 0.0)).norm() < 1e-9, "{site}");
        let found = vec![Vec3::new(2.0, 0.0, 0.0), Vec3::new(50.0, 0.0, 0.0), Vec3::new(80.0, 0.0, 0.0)];
        assert_eq!(blind_centres(found.clone(), &templates, 3), vec![site, found[1], found[2]], "the pocket near the template site gives way");
        assert_eq!(blind_centres(found.clone(), &templates, 1), vec![site]);
        assert_eq!(blind_centres(found.clone(), &[], 2), found[..2].to_vec(), "no templates: the pockets found");
        assert!(blind_centres(found, &templates, 0).is_empty(), "0 pockets: the whole protein");
        assert_eq!(template_site(&[]), None);
    }

    #[test]
    fn distant_templates_only_place_the_blind_site_and_only_without_close_ones() {
        let at = |id: &str, distant: bool| Template { id: id.into(), identity: if distant { 0.4 } else { 0.9 }, pocket_rmsd: 0.5, atoms: vec![(6, Vec3::zeros())], distant, fingerprint: Vec::new() };
        let (close, distant, leading) = split_templates(vec![at("far", true), at("near", false)]);
        assert_eq!((close.len(), close[0].id.as_str()), (1, "near"));
        assert_eq!((distant.len(), distant[0].id.as_str()), (1, "far"), "kept for ligands like its own");
        assert_eq!(leading, close, "a close homologue sets all distant ones aside");
        let (close, distant, leading) = split_templates(vec![at("far", true), at("farther", true)]);
        assert_eq!((close.len(), distant.len(), leading.len()), (0, 2, 2), "without one the distant ones place the site");
    }

    #[test]
    fn a_distant_template_counts_as_close_for_a_ligand_like_its_own() {
        use crate::model::tests::{toy_ligand, toy_protein};
        let (ligand, _) = toy_ligand("CC(=O)Nc1ccc(O)cc1");
        let (other, _) = toy_ligand("OCC1OC(O)C(O)C(O)C1O");
        let distant = Template { identity: 0.4, pocket_rmsd: 0.5, distant: true, ..Template::from_ligand("homologue", &ligand) };
        let options = DockOptions::default();
        let pocket = Pocket::Box { center: Vec3::zeros(), size: Vec3::repeat(20.0) };
        let target = Target::with_templates(&toy_protein(30), &pocket, &options, vec![distant]).unwrap();
        assert!(target.templates.is_empty() && target.distant.len() == 1, "distant: no guide by itself");
        let specific = target.for_ligand(&ligand, &options).unwrap().expect("its own ligand is alike");
        assert_eq!((specific.templates.len(), specific.sites.len()), (1, 1));
        assert!(specific.distant.is_empty());
        // a pose on the template ligand: a fraction of the credit as distant, all of it as close
        let elements = ligand.elements();
        assert!((pose_template(&target, &elements, &ligand.coords).unwrap() - DISTANT_RANKING_WEIGHT).abs() < 1e-9);
        assert!((pose_template(&specific, &elements, &ligand.coords).unwrap() - 1.0).abs() < 1e-9);
        let bare = Target::with_templates(&toy_protein(30), &pocket, &options, Vec::new()).unwrap();
        assert_eq!(pose_template(&bare, &elements, &ligand.coords), None);
        assert!(target.for_ligand(&other, &options).unwrap().is_none(), "an unrelated ligand docks as before");
        let never = DockOptions { template_similarity: 1.01, ..options };
        assert!(target.for_ligand(&ligand, &never).unwrap().is_none(), "above 1: never");
    }

    #[test]
    fn blind_docking_can_explore_with_the_first_conformers() {
        assert_eq!(exploring_conformers(2, 3, 1), 1);
        assert_eq!(exploring_conformers(2, 3, 0), 2);
        assert_eq!(exploring_conformers(2, 3, 5), 2);
        assert_eq!(exploring_conformers(2, 1, 1), 2, "one site: every conformer docks");
    }

    #[test]
    fn conformers_share_the_samples_evenly() {
        assert_eq!((0..2).map(|k| conformer_samples(40, 2, k)).collect::<Vec<_>>(), [20, 20]);
        assert_eq!((0..3).map(|k| conformer_samples(5, 3, k)).collect::<Vec<_>>(), [2, 2, 1]);
        assert_eq!(conformer_samples(7, 1, 0), 7);
    }

    #[test]
    fn blind_docking_has_its_own_conformer_count() {
        let options = DockOptions { conformers: 2, blind_conformers: 1, conformer_candidates: 8, ..Default::default() };
        assert_eq!((options.candidates_for(false), options.candidates_for(true)), (8, 1));
        assert_eq!(options.conformers_for(false), 2);
        assert_eq!(options.conformers_for(true), 1);
    }

    /// A toy score network, two conformers of one ligand (the second scaled by 1 %) and
    /// options for a quick docking of them.
    fn two_conformers() -> (Models, [PreparedLigand; 2], DockOptions) {
        use crate::model::tests::toy_ligand;
        use crate::model::{PainnConfig, ScoreConfig, ScoreModel};
        let core = PainnConfig { hidden: 8, layers: 1, rbf: 8, ..Default::default() };
        let cfg = ScoreConfig { core: PainnConfig { node_extra: 8, ..core }, time_dim: 8, ..Default::default() };
        let vs = tch::nn::VarStore::new(tch::Device::Cpu);
        let models = Models::from_parts(ScoreModel::new(&vs.root(), &cfg), None, Vec::new(), tch::Device::Cpu);
        let (ligand, torsions) = toy_ligand("CC(=O)Nc1ccc(O)cc1");
        let other = crate::chem::Ligand { coords: ligand.coords.iter().map(|p| p * 1.01).collect(), ..ligand.clone() };
        let ligands = [ligand, other].map(|l| PreparedLigand { ligand: l, reference: None, torsions: torsions.clone() });
        let mut options = DockOptions { search_steps: 2, conformers: 2, ..Default::default() };
        options.sampling.samples = 5;
        options.sampling.sampler.steps = 3;
        (models, ligands, options)
    }

    /// Sorted coordinates of the poses of conformer `c`, to compare two dockings.
    fn conformer_coords(poses: &[DockedPose], c: usize) -> Vec<String> {
        let mut v: Vec<String> = poses.iter().filter(|p| p.conformer == c).map(|p| format!("{:?}", p.coords)).collect();
        v.sort();
        v
    }

    #[test]
    fn several_conformers_dock_their_share_and_rank_together() {
        use crate::model::tests::toy_protein;
        let (models, ligands, options) = two_conformers();
        let target = Target::new(&toy_protein(30), &Pocket::Box { center: Vec3::zeros(), size: Vec3::repeat(20.0) }, &options).unwrap();
        assert!(!target.blind);
        let result = dock_conformers(&models, &target, &ligands, &options).unwrap();
        assert_eq!(result.poses.iter().map(|p| p.rank).collect::<Vec<_>>(), [1, 2, 3, 4, 5], "ranked together");
        assert_eq!(result.poses.iter().filter(|p| p.conformer == 0).count(), 3);
        assert_eq!(result.poses.iter().filter(|p| p.conformer == 1).count(), 2);
        // the first conformer's share is what docking it alone with that many samples gives
        let mut alone = options.clone();
        alone.sampling.samples = 3;
        let plain = dock(&models, &target, &ligands[0], &alone).unwrap();
        assert_eq!(conformer_coords(&result.poses, 0), conformer_coords(&plain.poses, 0));
        assert!(dock_conformers(&models, &target, &[], &options).is_err());
    }

    #[test]
    fn the_first_conformer_explores_the_sites_and_both_share_the_leading_one() {
        use crate::model::tests::toy_protein;
        let (models, ligands, mut options) = two_conformers();
        options.sampling.samples = 8;
        options.explore_conformers = 1;
        let protein = toy_protein(30);
        let sites = [-5.0, 5.0].map(|z| Site::new(&protein, &Pocket::Box { center: Vec3::new(0.0, 0.0, z), size: Vec3::repeat(20.0) }, &options, &[]).unwrap());
        let target = Target { full: protein, sites: sites.into(), blind: true, templates: Vec::new(), distant: Vec::new() };
        let result = dock_conformers(&models, &target, &ligands, &options).unwrap();
        // 4 exploring samples, 2 per site, by the first conformer; 4 in the leading site, 2 each
        let leader = result.poses.iter().find(|p| p.conformer == 1).unwrap().site;
        let count = |site: usize, c: usize| result.poses.iter().filter(|p| p.site == site && p.conformer == c).count();
        assert_eq!([count(leader, 0), count(leader, 1), count(1 - leader, 0), count(1 - leader, 1)], [4, 2, 2, 0]);
        // exploring as one conformer does, it picks the pocket one conformer picks
        let alone = dock_conformers(&models, &target, &ligands[..1], &options).unwrap();
        assert_eq!(alone.poses.iter().filter(|p| p.site == leader).count(), 6);
        let explored = |poses: &[DockedPose], site: usize| conformer_coords(&poses.iter().filter(|p| p.site == site).cloned().collect::<Vec<_>>(), 0);
        assert_eq!(explored(&result.poses, 1 - leader), explored(&alone.poses, 1 - leader));
    }

    fn pose(tag: f64, energy: f64, confidence: Option<f64>, valid: bool) -> DockedPose {
        let checks = PoseChecks {
            bond_lengths_ok: true,
            bond_angles_ok: true,
            internal_clash_free: true,
            aromatic_planar: true,
            protein_clash_free: valid,
            volume_overlap_ok: true,
            min_protein_distance: 3.0,
            volume_overlap: 0.0,
            pb_valid: valid,
        };
        DockedPose { rank: 0, site: 0, conformer: 0, population: 0, drift: 0.0, coords: vec![Vec3::repeat(tag)], confidence, affinity: Some(energy), energy: Some(energy), potential: None, template: None, latents: None, checks: Some(checks) }
    }

    fn weights(population: f64, confidence: f64) -> RankWeights {
        RankWeights { population, confidence, potential: 0.0, template: 0.0 }
    }

    fn order(poses: &[DockedPose]) -> Vec<f64> {
        poses.iter().map(|p| p.coords[0].x).collect()
    }

    #[test]
    fn duplicates_follow_the_distinct_poses() {
        // 0.0 and 0.5 are within 1 Å of each other: the worse one goes behind 3.0
        let mut poses = vec![pose(0.5, -8.0, None, true), pose(3.0, -7.0, None, true), pose(0.0, -9.0, None, true)];
        rank_poses(&mut poses, Ranking::Energy, &weights(0.0, 0.0));
        assert_eq!(order(&poses), vec![0.0, 3.0, 0.5]);
        assert_eq!(poses.iter().map(|p| p.rank).collect::<Vec<_>>(), vec![1, 2, 3]);
    }

    #[test]
    fn populations_count_the_other_poses_within_two_angstrom() {
        // one-atom poses at x = 0, 1.5, 3.2 and 10: 1.5 neighbours both others, 10 none
        let mut poses = vec![pose(0.0, -9.0, None, true), pose(1.5 / 3f64.sqrt(), -8.0, None, true), pose(3.2 / 3f64.sqrt(), -7.0, None, true), pose(10.0, -6.0, None, true)];
        rank_poses(&mut poses, Ranking::Energy, &weights(0.0, 0.0));
        assert_eq!(poses.iter().map(|p| p.population).collect::<Vec<_>>(), vec![1, 2, 1, 0]);
    }

    #[test]
    fn a_population_weight_lifts_a_crowded_binding_mode_over_a_lone_lower_energy() {
        // a lone pose at -9 against three mutually close poses at -8.5, -8.4, -8.3
        let make = || vec![pose(10.0, -9.0, None, true), pose(0.0, -8.5, None, true), pose(0.7, -8.4, None, true), pose(1.1, -8.3, None, true)];
        let mut plain = make();
        rank_poses(&mut plain, Ranking::Energy, &weights(0.0, 0.0));
        assert_eq!(order(&plain)[0], 10.0);
        let mut weighted = make();
        rank_poses(&mut weighted, Ranking::Energy, &weights(1.0, 0.0));
        assert_eq!(order(&weighted)[0], 0.0, "-8.5 - ln 3 beats -9");
    }

    #[test]
    fn a_confidence_weight_lets_a_confident_pose_overrule_a_small_energy_gap() {
        // -9.0 at confidence 0.1 (logit -2.2) against -8.5 at 0.9 (logit +2.2)
        let make = || vec![pose(0.0, -9.0, Some(0.1), true), pose(5.0, -8.5, Some(0.9), true)];
        let mut plain = make();
        rank_poses(&mut plain, Ranking::Energy, &weights(0.0, 0.0));
        assert_eq!(order(&plain)[0], 0.0);
        let mut weighted = make();
        rank_poses(&mut weighted, Ranking::Energy, &weights(0.0, 0.2));
        assert_eq!(order(&weighted)[0], 5.0, "-8.5 - 0.2 * 2.2 beats -9 + 0.2 * 2.2");
    }

    #[test]
    fn the_pair_potential_adds_to_the_energy_by_its_weight() {
        // -9.0 with potential +1 against -8.5 with potential -1
        let make = || {
            let mut poses = vec![pose(0.0, -9.0, None, true), pose(5.0, -8.5, None, true)];
            poses[0].potential = Some(1.0);
            poses[1].potential = Some(-1.0);
            poses
        };
        let mut plain = make();
        rank_poses(&mut plain, Ranking::Energy, &weights(0.0, 0.0));
        assert_eq!(order(&plain)[0], 0.0);
        let mut weighted = make();
        rank_poses(&mut weighted, Ranking::Energy, &RankWeights { potential: 0.5, ..weights(0.0, 0.0) });
        assert_eq!(order(&weighted)[0], 5.0, "-8.5 - 0.5 beats -9 + 0.5");
    }

    #[test]
    fn ranking_puts_invalid_poses_last_then_sorts_by_rule() {
        let make = || vec![pose(0.0, -9.0, Some(0.1), false), pose(1.0, -5.0, Some(0.9), true), pose(2.0, -7.0, Some(0.2), true)];
        let mut by_energy = make();
        rank_poses(&mut by_energy, Ranking::Energy, &weights(0.0, 0.0));
        assert_eq!(order(&by_energy), vec![2.0, 1.0, 0.0]);
        assert_eq!(by_energy.iter().map(|p| p.rank).collect::<Vec<_>>(), vec![1, 2, 3]);
        let mut by_confidence = make();
        rank_poses(&mut by_confidence, Ranking::Confidence, &weights(0.0, 0.0));
        assert_eq!(order(&by_confidence), vec![1.0, 2.0, 0.0]);
    }

    #[test]
    fn ranking_parses_known_rules_only() {
        assert_eq!("energy".parse::<Ranking>().unwrap(), Ranking::Energy);
        assert_eq!("confidence".parse::<Ranking>().unwrap(), Ranking::Confidence);
        let err = "combined".parse::<Ranking>().unwrap_err().to_string();
        assert!(err.contains("combined") && err.contains("energy"), "{err}");
    }
}
