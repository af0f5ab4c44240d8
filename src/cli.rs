//! The command line: raw flags are parsed here once and turned into typed library settings;
//! the library never sees clap.

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use disco_dock::bench::{
    conformer_rows, read_report, run_benchmark, summarise, summary_lines, write_conformer_rows, BenchOptions, BenchOutputs, BenchPocket,
};
use disco_dock::chem::conformer::{prepare_conformers, prepare_ligand, ConformerOptions, PreparedLigand};
use disco_dock::chem::{centroid, Ligand, Protein, Vec3};
use disco_dock::dock::templates::Template;
use disco_dock::diffusion::sampler::{SamplerConfig, Temperature};
use disco_dock::dock::models::{default_model_dir, InferenceDefaults, Models};
use disco_dock::dock::output::{pose_properties, summary_table, write_outputs};
use disco_dock::dock::screen::{read_batch_csv, unique_names, ResultRow, ResultsCsv, Shard};
use disco_dock::dock::pockets::{find_pockets, PocketSearch};
use disco_dock::dock::{dock_conformers, pose_terms, sampling_options, score_pose, DockOptions, DockResult, DockedPose, Pocket, Target, SITE_BOX};
use disco_dock::io::sdf::sdf_record;
use disco_dock::io::write_csv;
use disco_dock::physics::{PoseTerms, TERM_NAMES};
use disco_dock::io::dataset::{crop_to_ligand, prepare_split, read_pack, read_split, write_pack, PrepareCache, PreparedComplex};
use disco_dock::io::ligand::{read_ligand_argument, read_ligand_file, LigandText};
use disco_dock::io::protein::read_protein;
use disco_dock::model::score::TorsionHead;
use disco_dock::model::{select_device, set_threads, DeviceChoice};
use disco_dock::train;
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// disco-dock: molecular docking by discrete-continuous latent diffusion.
#[derive(Parser, Debug)]
#[command(version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Print no progress bars or tables.
    #[arg(long, global = true)]
    pub quiet: bool,
    /// More log output (-v info, -vv debug).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
}

/// Subcommands (`disco-dock --protein P --ligand L` means `disco-dock dock ...`).
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Dock one ligand (or every record of a ligand file) into a protein.
    Dock(DockCmd),
    /// Dock many ligands against one receptor, resumable, streaming results to CSV.
    Screen(ScreenCmd),
    /// Dock the rows of a DiffDock-style CSV (complex_name, protein_path, ligand_description).
    Batch(BatchCmd),
    /// Score (or locally minimise and score) given ligand poses in a protein, as docking scores
    /// its poses: Vina-like affinity, confidence, pair potential, PoseBusters-style checks.
    Score(ScoreCmd),
    /// Dock every complex of a split and measure RMSD to the crystal ligand.
    Benchmark(BenchCmd),
    /// Prepare (parse, featurise, cache) every complex of a split.
    Prepare(PrepareCmd),
    /// List the pockets blind docking would dock into (centre, volume, buriedness), best first.
    Pockets(PocketsCmd),
    /// Summarise benchmark report CSVs again (also partial ones from interrupted runs).
    Summarise(SummariseCmd),
    /// Train the networks.
    #[command(subcommand)]
    Train(TrainCmd),
}

#[derive(Args, Debug)]
pub struct SummariseCmd {
    /// Report CSVs written by `benchmark --out`.
    #[arg(required = true)]
    pub reports: Vec<PathBuf>,
}

#[derive(Args, Debug)]
pub struct PocketsCmd {
    /// Protein: PDB, mmCIF or PDBQT (optionally .gz).
    #[arg(long, short = 'r', alias = "receptor")]
    pub protein: PathBuf,
    /// How many pockets to list.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Settings shared by all docking commands.
#[derive(Args, Debug, Clone)]
pub struct DockSettings {
    /// Poses per ligand.
    #[arg(long, default_value_t = 40)]
    pub samples: usize,
    /// Reverse-diffusion steps.
    #[arg(long, default_value_t = 20)]
    pub steps: usize,
    /// Random seed (runs are reproducible for a given seed and device; on the CPU the thread count changes nothing).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[command(flatten)]
    pub runtime: ModelArgs,
    /// Skip the physics refinement of poses.
    #[arg(long)]
    pub no_refine: bool,
    /// Monte Carlo steps (Vina-style mutate, minimise, accept) after refining each sampled pose
    /// (0: refinement only) [default: the model's sampling.json, else 100].
    #[arg(long)]
    pub search_steps: Option<usize>,
    /// Monte Carlo steps per rotatable bond: a flexible ligand is searched for the larger of
    /// --search-steps and this times its torsions, at most three times --search-steps (0:
    /// --search-steps for every ligand)
    /// [default: the model's sampling.json, else 0].
    #[arg(long)]
    pub search_steps_per_torsion: Option<f64>,
    /// RDKit conformers (ETKDG seeds; bond lengths, angles, ring shapes) docked per ligand,
    /// sharing the samples; all poses are ranked together [default: the model's sampling.json
    /// (`conformers` in a box, `blind_conformers` blind), else 1].
    #[arg(long)]
    pub conformers: Option<usize>,
    /// ETKDG conformers generated per ligand; the `--conformers` most typical of them (k-medoids
    /// by shape, torsions aside) are docked [default: the model's sampling.json
    /// (`conformer_candidates` in a box, `blind_conformer_candidates` blind), else 1: the first
    /// seeds' conformers].
    #[arg(long)]
    pub conformer_candidates: Option<usize>,
    /// Temperature of the latent prior (> 1 explores more binding modes) [default: the model's
    /// sampling.json, else 1.5].
    #[arg(long)]
    pub latent_temperature: Option<f64>,
    /// Low-temperature sampling: inverse temperatures of translation, rotation and torsions
    /// (DiffDock's temp_sampling; 1 = plain sampling) [default: the model's sampling.json].
    #[arg(long, num_args = 3, value_names = ["TR", "ROT", "TOR"])]
    pub temp_sampling: Option<Vec<f64>>,
    /// Low-temperature sampling: extra Langevin noise and drift per component (DiffDock's temp_psi).
    #[arg(long, num_args = 3, value_names = ["TR", "ROT", "TOR"])]
    pub temp_psi: Option<Vec<f64>>,
    /// Low-temperature sampling: data sigma per component, 0..1 between the schedule's smallest
    /// and largest sigma in log (DiffDock's temp_sigma_data).
    #[arg(long, num_args = 3, value_names = ["TR", "ROT", "TOR"])]
    pub temp_sigma_data: Option<Vec<f64>>,
    /// Pose ranking: energy (PB-valid first, then Vina-like energy; chosen on val) or confidence.
    #[arg(long, default_value = "energy")]
    pub ranking: String,
    /// Energy ranking: kcal/mol subtracted per unit of ln(1 + population), the number of other
    /// poses within 2 Å (0: energy alone) [default: the model's sampling.json, else 1].
    #[arg(long)]
    pub population_weight: Option<f64>,
    /// Energy ranking: kcal/mol subtracted per unit of the confidence logit (0: confidence
    /// ignored) [default: the model's sampling.json, else 0].
    #[arg(long)]
    pub confidence_weight: Option<f64>,
    /// Energy ranking: weight of the learned pair potential added to the energy, when the model
    /// folder holds one (potential.json; 0: ignored) [default: the model's sampling.json, else 1].
    #[arg(long)]
    pub potential_weight: Option<f64>,
    /// Weight of the learned pair potential in the energy that refinement and the Monte Carlo
    /// search minimise inside pocket boxes, when the model folder holds one (0: Vina-like energy
    /// alone; the reported and ranked energies never include it) [default: the model's
    /// sampling.json, else 0].
    #[arg(long)]
    pub search_potential_weight: Option<f64>,
    /// Energy ranking: kcal/mol subtracted per unit of a pose's overlap (0 to 1) with template
    /// ligands: the ligands of homologous complexes in the model's templates.json.gz and any
    /// --reference ligand (0: ignored) [default: the model's sampling.json, else 0].
    #[arg(long)]
    pub template_weight: Option<f64>,
    /// Weight (kcal/mol per ligand atom on a template atom) of a bias towards template ligands
    /// in the energy that refinement and the Monte Carlo search minimise inside pocket boxes (0:
    /// none; reported and ranked energies never include it) [default: the model's sampling.json,
    /// else 0].
    #[arg(long)]
    pub search_template_weight: Option<f64>,
    /// Least sequence identity (aligned identical residues as a share of the shorter sequence)
    /// of a distant homologue in the library, whose ligands place blind docking's first site
    /// when no close homologue (half of the target's 6-residue words shared) exists; close
    /// ones always count, and also guide the search and ranking (above 1: close ones only)
    /// [default: the model's sampling.json, else 0.3].
    #[arg(long)]
    pub template_identity: Option<f64>,
    /// Least similarity (Tanimoto of circular fingerprints) of a distant homologue's ligand to
    /// the docked ligand for it to guide the search and ranking as a close homologue's does
    /// (above 1: never) [default: the model's sampling.json, else 0.3].
    #[arg(long)]
    pub template_similarity: Option<f64>,
    /// Do not look for template ligands in the model's library.
    #[arg(long)]
    pub no_templates: bool,
    /// Blind docking (no box): dock into this many of the pockets found on the protein surface,
    /// sharing the samples (0: sample over the whole protein).
    #[arg(long, default_value_t = disco_dock::dock::DEFAULT_BLIND_POCKETS)]
    pub blind_pockets: usize,
    /// Blind docking into several pockets: share of the samples spread over them first; the
    /// rest goes to the pocket of the best pose so far (1: an even split).
    #[arg(long, default_value_t = disco_dock::dock::EXPLORE_FRACTION)]
    pub explore_fraction: f64,
    /// Blind docking into several pockets: how many of the conformers (the first ones) explore
    /// them; all share the leading pocket's samples (0: all explore) [default: the model's
    /// sampling.json, else 0].
    #[arg(long)]
    pub explore_conformers: Option<usize>,
    #[command(flatten)]
    pub pocket: BoxArgs,
}

/// Which trained model runs, and on what.
#[derive(Args, Debug, Clone)]
pub struct ModelArgs {
    /// auto, cpu or cuda.
    #[arg(long, default_value = "auto")]
    pub device: String,
    /// CPU threads (0: all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Model folder (default: the shipped model, data/models/default).
    #[arg(long)]
    pub model: Option<PathBuf>,
}

/// The box ligands go in (none: blind docking).
#[derive(Args, Debug, Clone)]
pub struct BoxArgs {
    /// Box centre (Å), with --size.
    #[arg(long, num_args = 3, value_names = ["X", "Y", "Z"], allow_negative_numbers = true)]
    pub center: Option<Vec<f64>>,
    /// Box edge lengths (Å), with --center.
    #[arg(long, num_args = 3, value_names = ["X", "Y", "Z"])]
    pub size: Option<Vec<f64>>,
    /// Box around the atoms of this ligand file, all its records (gnina's --autobox_ligand).
    #[arg(long)]
    pub autobox_ligand: Option<PathBuf>,
    /// Padding around --autobox-ligand (Å).
    #[arg(long, default_value_t = 4.0)]
    pub autobox_add: f64,
}

#[derive(Args, Debug)]
pub struct DockCmd {
    /// Protein: PDB, mmCIF or PDBQT (optionally .gz).
    #[arg(long, short = 'r', alias = "receptor", alias = "protein_path")]
    pub protein: PathBuf,
    /// Ligand: SDF/MOL, MOL2, PDBQT, .smi file or a SMILES string.
    #[arg(long, short = 'l', alias = "ligand_description")]
    pub ligand: String,
    /// Output folder (default ./disco-dock-out/<ligand name>).
    #[arg(long, short = 'o', alias = "out_dir")]
    pub out: Option<PathBuf>,
    /// Write poses with hydrogens placed by RDKit.
    #[arg(long)]
    pub hydrogens: bool,
    /// Reference ligands in the protein's frame (SDF/MOL, MOL2 or PDBQT with 3D coordinates,
    /// e.g. a co-crystallised ligand of a related compound): templates whose overlap ranking and
    /// search reward, with the library's (--template-weight, --search-template-weight).
    #[arg(long)]
    pub reference: Option<PathBuf>,
    #[command(flatten)]
    pub settings: DockSettings,
}

/// The reference ligands of a file as templates (their input coordinates, no conformer made).
fn reference_templates(path: &Path) -> Result<Vec<Template>> {
    let records = read_ligand_file(path)?;
    let options = ConformerOptions { generate: false, ..Default::default() };
    records
        .iter()
        .map(|r| {
            let ligand = prepare_ligand(r, &options)?;
            let coords = ligand.reference.clone().ok_or_else(|| disco_dock::Error::invalid(path.display().to_string(), format!("{}: a reference ligand needs 3D coordinates", r.name)))?;
            Ok(Template::from_ligand(&r.name, &Ligand { coords, ..ligand.ligand }))
        })
        .collect::<disco_dock::Result<_>>()
        .map_err(Into::into)
}

#[derive(Args, Debug)]
pub struct ScoreCmd {
    /// Protein: PDB, mmCIF or PDBQT (optionally .gz).
    #[arg(long, short = 'r', alias = "receptor")]
    pub protein: PathBuf,
    /// Ligand poses: SDF/MOL, MOL2 or PDBQT with 3D coordinates (every record is scored).
    #[arg(long, short = 'l')]
    pub ligand: PathBuf,
    /// Minimise each pose locally first (position, orientation, torsions; Vina's --local_only).
    #[arg(long)]
    pub minimize: bool,
    /// Write the scored (or minimised) poses with their scores as SDF properties.
    #[arg(long, short = 'o')]
    pub out: Option<PathBuf>,
    /// Write one CSV row of scores per pose.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    #[command(flatten)]
    pub runtime: ModelArgs,
    /// The scoring box (default: a 25 Å box centred on each pose, the crop the networks were
    /// trained on). The box must hold the poses.
    #[command(flatten)]
    pub pocket: BoxArgs,
}

#[derive(Args, Debug)]
pub struct ScreenCmd {
    /// Receptor.
    #[arg(long, short = 'r', alias = "receptor")]
    pub protein: PathBuf,
    /// Ligands: a many-record SDF, MOL2 or a .smi file.
    #[arg(long)]
    pub ligands: PathBuf,
    /// Output folder (results CSV plus one folder of poses per ligand).
    #[arg(long, short = 'o', default_value = "disco-dock-screen")]
    pub out: PathBuf,
    #[command(flatten)]
    pub run: ItemsRun,
}

/// Settings shared by the many-ligand commands (screen, batch).
#[derive(Args, Debug)]
pub struct ItemsRun {
    /// Only items k with k % N == I (I/N, 0-based), for cluster job arrays.
    #[arg(long)]
    pub shard: Option<String>,
    #[command(flatten)]
    pub settings: DockSettings,
}

#[derive(Args, Debug)]
pub struct BatchCmd {
    /// CSV with complex_name, protein_path, ligand_description[, protein_sequence].
    #[arg(long, alias = "protein_ligand_csv")]
    pub csv: PathBuf,
    /// Output folder.
    #[arg(long, short = 'o', default_value = "disco-dock-batch")]
    pub out: PathBuf,
    #[command(flatten)]
    pub run: ItemsRun,
}

#[derive(Args, Debug)]
pub struct BenchCmd {
    /// Dataset folder (PDBBind layout).
    #[arg(long)]
    pub data: PathBuf,
    /// Split file (one id per line).
    #[arg(long)]
    pub split: PathBuf,
    /// crystal (25 Å box on the crystal ligand) or none (blind).
    #[arg(long, default_value = "crystal")]
    pub pocket: String,
    /// Only the first N complexes of the split.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Report CSV.
    #[arg(long, default_value = "benchmark.csv")]
    pub out: PathBuf,
    /// Also write every pose (rank, RMSD, confidence, energies, PB-valid) to this CSV, for
    /// comparing ranking rules without docking again.
    #[arg(long)]
    pub poses_out: Option<PathBuf>,
    /// Also write every pose with its coordinates as JSON lines in the confidence-training
    /// cache format (name it <run>/confidence_poses_val.jsonl and run `train confidence --run <run>
    /// --docking --evaluate-only` to score these poses with the confidence model(s) in <run>/best).
    #[arg(long)]
    pub poses_cache: Option<PathBuf>,
    /// Dock the crystal ligand's own geometry (bond angles, rings) instead of an RDKit conformer,
    /// as re-docking benchmarks of Vina and GNINA do: an upper bound for what a better conformer
    /// could give, not a docking result.
    #[arg(long)]
    pub crystal_geometry: bool,
    #[command(flatten)]
    pub settings: DockSettings,
}

#[derive(Args, Debug)]
pub struct PrepareCmd {
    /// Dataset folder.
    #[arg(long)]
    pub data: PathBuf,
    /// Split file.
    #[arg(long)]
    pub split: PathBuf,
    /// Cache folder (default .cache/disco-dock or $DISCO_DOCK_CACHE).
    #[arg(long)]
    pub cache: Option<PathBuf>,
    /// CPU threads.
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Also write the prepared complexes, proteins cropped around the crystal ligand, into this
    /// pack file (gzip bincode) for training elsewhere without the source files.
    #[arg(long)]
    pub pack: Option<PathBuf>,
    /// Crop radius of the pack's proteins around the crystal ligand centroid (Å).
    #[arg(long, default_value_t = 32.0)]
    pub pack_radius: f64,
    /// Drop the protein atoms from the pack, keeping residues (enough for `train score` and
    /// `train prior`, not for physics or `train confidence --refine`).
    #[arg(long)]
    pub pack_residues_only: bool,
    /// ETKDG seed of the conformers (`benchmark --seed S` docks from the seed-S conformers).
    #[arg(long, default_value_t = 42)]
    pub seed: u32,
    /// Also write, per complex, how close its conformer can come to the crystal ligand (RMSD of
    /// the conformer fitted over translation, rotation and torsions) to this CSV.
    #[arg(long)]
    pub conformer_report: Option<PathBuf>,
}

/// Settings shared by the training commands.
#[derive(Args, Debug, Clone)]
pub struct TrainData {
    /// Dataset folder.
    #[arg(long, default_value = "../shared/data")]
    pub data: PathBuf,
    /// Training split.
    #[arg(long, default_value = "../shared/data/splits/train.txt")]
    pub train_split: PathBuf,
    /// Validation split.
    #[arg(long, default_value = "../shared/data/splits/val.txt")]
    pub val_split: PathBuf,
    /// Read the training complexes from this pack (`prepare --pack`) instead of --data/--train-split.
    #[arg(long)]
    pub train_pack: Option<PathBuf>,
    /// Read the validation complexes from this pack instead of --data/--val-split.
    #[arg(long)]
    pub val_pack: Option<PathBuf>,
    /// Run folder (checkpoints, logs).
    #[arg(long, default_value = "runs/default")]
    pub run: PathBuf,
    /// Only the first N training complexes.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Train on the RDKit conformer fitted to each crystal ligand over translation, rotation and
    /// torsions (DiffDock's conformer matching) instead of the crystal pose, so training sees the
    /// geometry docking keeps; give `train prior` the same setting as `train score`.
    #[arg(long)]
    pub conformer_matching: bool,
    /// Wall-clock budget (minutes).
    #[arg(long, default_value_t = 60.0)]
    pub minutes: f64,
    /// auto, cpu or cuda.
    #[arg(long, default_value = "auto")]
    pub device: String,
    /// CPU threads (0: all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Random seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

#[derive(Subcommand, Debug)]
pub enum TrainCmd {
    /// Encoder and score network, end-to-end (DisCo-Diff).
    Score {
        #[command(flatten)]
        data: TrainData,
        /// Number of discrete latents (0: the ablation without latents).
        #[arg(long, default_value_t = 2)]
        latents: i64,
        /// Hidden channels of the score network.
        #[arg(long, default_value_t = 32)]
        hidden: i64,
        /// Interaction layers of the score network.
        #[arg(long, default_value_t = 3)]
        layers: i64,
        /// Torsion read-out of the score network: `atom` (the shipped networks) or `dihedral`
        /// (also reads each rotatable bond's dihedral angle; learns torsions faster).
        #[arg(long, value_enum, default_value_t = TorsionHead::Atom)]
        torsion_head: TorsionHead,
        /// Complexes per step.
        #[arg(long, default_value_t = 4)]
        batch_size: usize,
        /// Learning rate.
        #[arg(long, default_value_t = 1e-3)]
        lr: f64,
        /// Validation complexes docked after each epoch (checkpoint selection).
        #[arg(long, default_value_t = 12)]
        val_complexes: usize,
        /// Validate every this many epochs (and after the last).
        #[arg(long, default_value_t = 1)]
        val_every: u64,
        /// Start from this model folder's score network (and encoder, if it holds one) instead of
        /// random weights: fine-tuning, e.g. `--init data/models/default --conformer-matching`.
        #[arg(long)]
        init: Option<PathBuf>,
    },
    /// The autoregressive latent prior (needs a trained encoder in <run>/best).
    Prior {
        #[command(flatten)]
        data: TrainData,
    },
    /// The pair potential docking adds to the energy when ranking (`potential.json` in
    /// <run>/best): fitted to docked training poses (--poses), or else the potential of mean
    /// force of the training split's crystal contacts.
    Potential {
        #[command(flatten)]
        data: TrainData,
        /// Docked training poses (`train confidence --docking` writes
        /// confidence_poses_train.jsonl): fit the potential so that energy plus potential ranks
        /// each complex's poses within 2 Å first.
        #[arg(long)]
        poses: Option<PathBuf>,
        /// Docked val poses (a pose cache, e.g. `benchmark --poses-cache`) to report top-1 on.
        #[arg(long)]
        val_poses: Option<PathBuf>,
        /// Add to each training complex a native pose (its conformer fitted to the crystal ligand,
        /// perturbed and searched like a docked pose), so that complexes where docking found no
        /// right pose teach too.
        #[arg(long)]
        natives: bool,
        /// L2 penalty of the fit.
        #[arg(long, default_value_t = 0.1)]
        l2: f64,
        /// Smoothness penalty of the fit (squared differences of neighbouring distance bins).
        #[arg(long, default_value_t = 0.0)]
        smooth: f64,
        /// Full-batch steps of the fit.
        #[arg(long, default_value_t = 300)]
        epochs: usize,
    },
    /// The template library (`templates.json.gz` in <run>/best): each training complex's
    /// sequence, pocket C-alphas and crystal ligand, so that docking a homologous protein can
    /// reward poses overlapping its known ligands (`--template-weight`).
    Templates {
        #[command(flatten)]
        data: TrainData,
    },
    /// The confidence model (needs score network and prior in <run>/best).
    Confidence {
        #[command(flatten)]
        data: TrainData,
        /// Training complexes used to sample poses.
        #[arg(long, default_value_t = 300)]
        complexes: usize,
        /// Poses per complex.
        #[arg(long, default_value_t = 6)]
        samples: usize,
        /// Validation complexes used to sample poses (AUROC for checkpoint selection).
        #[arg(long, default_value_t = 30)]
        val_complexes: usize,
        /// Refine sampled poses before labelling (as docking does).
        #[arg(long)]
        refine: bool,
        /// Make the poses with the docking pipeline itself (sampling, refinement, Monte Carlo
        /// search, in a 25 Å box around the jittered pocket centre), cached in
        /// <run>/confidence_poses_{train,val}.jsonl so an interrupted run resumes.
        #[arg(long, conflicts_with = "refine")]
        docking: bool,
        /// Monte Carlo steps per pose with --docking (default: the model's sampling.json).
        #[arg(long)]
        search_steps: Option<usize>,
        /// Reverse-diffusion steps per pose with --docking (default: the sampler's 20).
        #[arg(long)]
        steps: Option<usize>,
        /// Do not train: score the val poses with the confidence model(s) already in <run>/best
        /// (an ensemble when confidence_2, confidence_3, ... are there too; AUROC, top-1,
        /// confidence_val_scores.csv), e.g. to compare models on the same poses.
        #[arg(long)]
        evaluate_only: bool,
        /// Let the model read each ligand atom's protein contacts (heavy atoms per atom class
        /// and 1 Å shell within 6 Å) besides the residue graph: an atom-level view of the pocket.
        #[arg(long)]
        contacts: bool,
        /// With --docking, add this many native poses per training complex (the RDKit conformer
        /// fitted to the crystal ligand, perturbed, then searched and refined as docked poses
        /// are; cached in <run>/confidence_natives_train.jsonl), so every complex shows the model
        /// a right pose among its wrong ones, not only those where docking found one.
        #[arg(long, default_value_t = 0)]
        natives: usize,
        /// With --docking, the model reads the structure only, not each pose's energy gap and
        /// population share among its complex's poses (which --docking adds otherwise), so that
        /// its logit adds to the energy in the ranking instead of repeating it.
        #[arg(long, requires = "docking")]
        structure_only: bool,
        /// With --docking, poses docked before (pose caches: `benchmark --poses-cache` files,
        /// other runs' confidence_poses_train.jsonl), merged into <run>/confidence_poses_train.jsonl:
        /// the training complexes are then those of the training split that these hold (all of
        /// them; --limit caps them, --complexes is ignored), none docked here.
        #[arg(long, num_args = 1.., requires = "docking")]
        train_poses: Vec<PathBuf>,
        /// With --docking, docked val poses (pose caches) merged into
        /// <run>/confidence_poses_val.jsonl: the val complexes are then those of the val split
        /// that these hold (--val-complexes is ignored).
        #[arg(long, num_args = 1.., requires = "docking")]
        val_poses: Vec<PathBuf>,
        /// Fine-tune the confidence model of this model folder (same --docking and --contacts)
        /// instead of starting from random weights; kept only where an epoch beats it on val.
        #[arg(long)]
        init: Option<PathBuf>,
        /// Learning rate (AdamW).
        #[arg(long, default_value_t = 1e-3)]
        lr: f64,
    },
}

fn progress(quiet: bool, len: u64, what: &str) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} {elapsed_precise} ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

fn device(choice: &str, threads: usize) -> Result<tch::Device> {
    set_threads(threads);
    if threads > 0 {
        let _ = rayon::ThreadPoolBuilder::new().num_threads(threads).build_global();
    }
    Ok(select_device(choice.parse::<DeviceChoice>()?)?)
}

fn load_models(settings: &ModelArgs) -> Result<Models> {
    let dev = device(&settings.device, settings.threads)?;
    let dir = settings.model.clone().unwrap_or_else(default_model_dir);
    Ok(Models::load(&dir, dev)?)
}

/// Turns --center/--size/--autobox-ligand into a pocket (none: blind docking).
fn pocket(settings: &BoxArgs) -> Result<Pocket> {
    if let Some(path) = &settings.autobox_ligand {
        // every record's atoms: the box holds all poses of the file
        let mut coords = Vec::new();
        for record in read_ligand_file(path)? {
            let lig = prepare_ligand(&record, &ConformerOptions { generate: false, ..Default::default() })?;
            coords.extend(lig.reference.with_context(|| format!("{}: the autobox ligand {} has no 3D coordinates", path.display(), record.name))?);
        }
        return Ok(Pocket::around_ligand(&coords, settings.autobox_add));
    }
    match (&settings.center, &settings.size) {
        (Some(c), Some(s)) => {
            if s.iter().any(|&x| !(x > 0.0 && x.is_finite())) {
                bail!("--size must be three positive numbers");
            }
            Ok(Pocket::Box { center: Vec3::new(c[0], c[1], c[2]), size: Vec3::new(s[0], s[1], s[2]) })
        }
        (Some(c), None) => Ok(Pocket::Box { center: Vec3::new(c[0], c[1], c[2]), size: Vec3::repeat(25.0) }),
        (None, Some(_)) => bail!("--size needs --center"),
        (None, None) => Ok(Pocket::Blind),
    }
}

/// The model's tuned inference settings with the user's overrides.
fn inference_settings(settings: &DockSettings, models: &Models) -> InferenceDefaults {
    let mut out = models.defaults.clone();
    out.search_steps = settings.search_steps.unwrap_or(out.search_steps);
    out.search_steps_per_torsion = settings.search_steps_per_torsion.unwrap_or(out.search_steps_per_torsion);
    out.conformers = settings.conformers.unwrap_or(out.conformers);
    out.blind_conformers = settings.conformers.unwrap_or(out.blind_conformers);
    out.conformer_candidates = settings.conformer_candidates.unwrap_or(out.conformer_candidates);
    out.blind_conformer_candidates = settings.conformer_candidates.unwrap_or(out.blind_conformer_candidates);
    out.explore_conformers = settings.explore_conformers.unwrap_or(out.explore_conformers);
    out.latent_temperature = settings.latent_temperature.unwrap_or(out.latent_temperature);
    out.population_weight = settings.population_weight.unwrap_or(out.population_weight);
    out.confidence_weight = settings.confidence_weight.unwrap_or(out.confidence_weight);
    out.potential_weight = settings.potential_weight.unwrap_or(out.potential_weight);
    out.search_potential_weight = settings.search_potential_weight.unwrap_or(out.search_potential_weight);
    out.template_weight = settings.template_weight.unwrap_or(out.template_weight);
    out.search_template_weight = settings.search_template_weight.unwrap_or(out.search_template_weight);
    out.template_identity = settings.template_identity.unwrap_or(out.template_identity);
    out.template_similarity = settings.template_similarity.unwrap_or(out.template_similarity);
    let t = &mut out.temperatures;
    let fields: [(&Option<Vec<f64>>, fn(&mut Temperature) -> &mut f64); 3] =
        [(&settings.temp_sampling, |t| &mut t.sampling), (&settings.temp_psi, |t| &mut t.psi), (&settings.temp_sigma_data, |t| &mut t.sigma_data)];
    for (values, field) in fields {
        if let Some(v) = values {
            for (component, value) in [&mut t.tr, &mut t.rot, &mut t.tor].into_iter().zip(v) {
                *field(component) = *value;
            }
        }
    }
    out
}

/// Most ETKDG conformers generated per ligand: their pairwise matching grows with the square.
const MAX_CONFORMER_CANDIDATES: usize = 64;

fn dock_options(settings: &DockSettings, models: &Models) -> Result<DockOptions> {
    let tuned = inference_settings(settings, models);
    let sampling = sampling_options(settings.samples, settings.steps, settings.seed, &tuned);
    sampling.sampler.validate()?;
    if !(tuned.latent_temperature > 0.0 && tuned.latent_temperature.is_finite()) {
        bail!("--latent-temperature must be a positive number, got {}", tuned.latent_temperature);
    }
    for (option, weight) in [("--population-weight", tuned.population_weight), ("--confidence-weight", tuned.confidence_weight), ("--potential-weight", tuned.potential_weight), ("--search-potential-weight", tuned.search_potential_weight), ("--template-weight", tuned.template_weight), ("--search-template-weight", tuned.search_template_weight), ("--search-steps-per-torsion", tuned.search_steps_per_torsion), ("--template-identity", tuned.template_identity), ("--template-similarity", tuned.template_similarity)] {
        if !(weight >= 0.0 && weight.is_finite()) {
            bail!("{option} must be a number of at least 0, got {weight}");
        }
    }
    if let Some(n) = settings.conformers.filter(|&n| n == 0 || n > settings.samples) {
        bail!("--conformers must lie between 1 and --samples ({}), got {n}", settings.samples);
    }
    if tuned.conformers == 0 || tuned.blind_conformers == 0 {
        bail!("the model's sampling.json must give conformers and blind_conformers of at least 1, got {} and {}", tuned.conformers, tuned.blind_conformers);
    }
    if let Some(n) = [tuned.conformer_candidates, tuned.blind_conformer_candidates].into_iter().find(|n| !(1..=MAX_CONFORMER_CANDIDATES).contains(n)) {
        bail!("--conformer-candidates (or the model's conformer_candidates and blind_conformer_candidates) must lie between 1 and {MAX_CONFORMER_CANDIDATES}, got {n}");
    }
    if !(settings.explore_fraction > 0.0 && settings.explore_fraction <= 1.0) {
        bail!("--explore-fraction must lie in (0, 1], got {}", settings.explore_fraction);
    }
    Ok(DockOptions {
        sampling,
        refine: !settings.no_refine,
        search_steps: tuned.search_steps,
        search_steps_per_torsion: tuned.search_steps_per_torsion,
        // the model's default never asks for more conformers than samples
        conformers: tuned.conformers.min(settings.samples.max(1)),
        blind_conformers: tuned.blind_conformers.min(settings.samples.max(1)),
        conformer_candidates: tuned.conformer_candidates,
        blind_conformer_candidates: tuned.blind_conformer_candidates,
        ranking: settings.ranking.parse()?,
        weights: tuned.rank_weights(),
        blind_pockets: settings.blind_pockets,
        explore_fraction: settings.explore_fraction,
        explore_conformers: tuned.explore_conformers,
        search_potential: models.potential.as_ref().filter(|_| tuned.search_potential_weight > 0.0).map(|p| (std::sync::Arc::new(p.clone()), tuned.search_potential_weight)),
        templates: models.templates.clone().filter(|_| !settings.no_templates && (tuned.template_weight > 0.0 || tuned.search_template_weight > 0.0)),
        search_template_weight: tuned.search_template_weight,
        template_identity: tuned.template_identity,
        template_similarity: tuned.template_similarity,
        ..Default::default()
    })
}

/// Prepares the conformers of one ligand record (ETKDG from `seed`), docks them and writes the
/// outputs into `out`.
fn dock_record(models: &Models, target: &Target, text: &LigandText, options: &DockOptions, out: &Path, hydrogens: bool, seed: u64) -> disco_dock::Result<DockResult> {
    let ligands = prepare_conformers(text, &ConformerOptions { seed: seed as u32, ..Default::default() }, options.conformers_for(target.blind), options.candidates_for(target.blind))?;
    let result = dock_conformers(models, target, &ligands, options)?;
    write_outputs(out, &ligands[0].ligand, &target.full, &result, hydrogens)?;
    Ok(result)
}

/// Docks one ligand record and writes its outputs into `out`; returns its CSV row.
fn dock_one(models: &Models, target: &Target, text: &LigandText, options: &DockOptions, out: &Path, hydrogens: bool, seed: u64) -> disco_dock::Result<ResultRow> {
    let start = Instant::now();
    let result = dock_record(models, target, text, options, out, hydrogens, seed)?;
    let top = result.poses.first();
    Ok(ResultRow {
        name: text.name.clone(),
        status: "ok".into(),
        best_confidence: top.and_then(|p| p.confidence),
        best_affinity: top.and_then(|p| p.affinity),
        pb_valid: top.and_then(DockedPose::pb_valid),
        poses: result.poses.len(),
        seconds: start.elapsed().as_secs_f64(),
        output: out.display().to_string(),
        error: String::new(),
    })
}

fn run_dock(cmd: &DockCmd, quiet: bool) -> Result<()> {
    let models = load_models(&cmd.settings.runtime)?;
    let protein = read_protein(&cmd.protein)?;
    let pocket = pocket(&cmd.settings.pocket)?;
    let options = dock_options(&cmd.settings, &models)?;
    let target = match &cmd.reference {
        None => Target::new(&protein, &pocket, &options)?,
        Some(path) => {
            if options.weights.template == 0.0 && options.search_template_weight == 0.0 {
                bail!("--reference needs --template-weight or --search-template-weight above 0 (the model's sampling.json sets neither)");
            }
            let mut templates = reference_templates(path)?;
            templates.extend(options.library_templates(&protein));
            Target::with_templates(&protein, &pocket, &options, templates)?
        }
    };
    let records = read_ligand_argument(&cmd.ligand)?;
    let names = unique_names(&records.iter().map(|r| r.name.clone()).collect::<Vec<_>>());
    let mut failures = 0;
    for (text, name) in records.iter().zip(&names) {
        let out = match (&cmd.out, records.len()) {
            (Some(o), 1) => o.clone(),
            (Some(o), _) => o.join(name),
            (None, _) => PathBuf::from("disco-dock-out").join(name),
        };
        match dock_record(&models, &target, text, &options, &out, cmd.hydrogens, cmd.settings.seed) {
            Ok(r) => {
                if !quiet {
                    print!("{}", summary_table(&r, 5));
                    println!("wrote {}", out.display());
                }
            }
            Err(e) => {
                failures += 1;
                eprintln!("error: {e}");
            }
        }
    }
    if failures == records.len() {
        bail!("no ligand could be docked");
    }
    Ok(())
}

/// One scored pose as a CSV row.
#[derive(Debug, Default, serde::Serialize)]
struct ScoreRow {
    name: String,
    status: String,
    affinity: Option<f64>,
    energy: Option<f64>,
    potential: Option<f64>,
    confidence: Option<f64>,
    pb_valid: Option<bool>,
    moved: Option<f64>,
    gauss1: Option<f64>,
    gauss2: Option<f64>,
    repulsion: Option<f64>,
    hydrophobic: Option<f64>,
    hbond: Option<f64>,
    error: String,
}

impl ScoreRow {
    fn scored(name: &str, pose: &DockedPose, minimized: bool, terms: Option<&PoseTerms>) -> ScoreRow {
        let term = |k: usize| terms.map(|t| t.inter[k]);
        ScoreRow {
            name: name.to_string(),
            status: "ok".into(),
            affinity: pose.affinity,
            energy: pose.energy,
            potential: pose.potential,
            confidence: pose.confidence,
            pb_valid: pose.pb_valid(),
            moved: minimized.then_some(pose.drift),
            gauss1: term(0),
            gauss2: term(1),
            repulsion: term(2),
            hydrophobic: term(3),
            hbond: term(4),
            error: String::new(),
        }
    }

    fn failed(name: &str, error: &str) -> ScoreRow {
        ScoreRow { name: name.to_string(), status: "error".into(), error: error.to_string(), ..Default::default() }
    }
}

/// Scores one pose record: in the given box, or in a 25 Å box centred on the pose.
fn score_record(models: &Models, protein: &Protein, fixed: Option<&Target>, text: &LigandText, minimize: bool) -> disco_dock::Result<(PreparedLigand, DockedPose, Option<PoseTerms>)> {
    let ligand = prepare_ligand(text, &ConformerOptions { generate: false, ..Default::default() })?;
    let own;
    let target = match (fixed, &ligand.reference) {
        (Some(t), _) => t,
        (None, Some(coords)) => {
            own = Target::new(protein, &Pocket::Box { center: centroid(coords), size: Vec3::repeat(SITE_BOX) }, &DockOptions::default())?;
            &own
        }
        (None, None) => return Err(disco_dock::Error::invalid(text.name.clone(), "no 3D coordinates: scoring needs a pose")),
    };
    let mut result = score_pose(models, target, &ligand, minimize)?;
    let pose = result.poses.remove(0);
    let terms = pose_terms(target, &ligand, &pose.coords);
    Ok((ligand, pose, terms))
}

fn run_score(cmd: &ScoreCmd, quiet: bool) -> Result<()> {
    let models = load_models(&cmd.runtime)?;
    let protein = read_protein(&cmd.protein)?;
    let fixed = match pocket(&cmd.pocket)? {
        Pocket::Blind => None,
        b => Some(Target::new(&protein, &b, &DockOptions::default())?),
    };
    let records = read_ligand_file(&cmd.ligand)?;
    let names = unique_names(&records.iter().map(|r| r.name.clone()).collect::<Vec<_>>());
    let mut sdf = String::new();
    let mut rows = Vec::new();
    let bar = progress(quiet, records.len() as u64, "scoring");
    for (text, name) in records.iter().zip(&names) {
        bar.inc(1);
        match score_record(&models, &protein, fixed.as_ref(), text, cmd.minimize) {
            Ok((ligand, pose, terms)) => {
                let mut properties = pose_properties(&pose);
                if let Some(t) = &terms {
                    properties.extend(TERM_NAMES.iter().zip(t.inter).map(|(n, v)| (n.to_string(), format!("{v:.4}"))));
                }
                sdf.push_str(&sdf_record(&ligand.ligand, &pose.coords, &properties));
                rows.push(ScoreRow::scored(name, &pose, cmd.minimize, terms.as_ref()));
            }
            Err(e) => {
                bar.suspend(|| eprintln!("error: {e}"));
                rows.push(ScoreRow::failed(name, &e.to_string()));
            }
        }
    }
    bar.finish_and_clear();
    if !quiet {
        print!("{}", score_table(&rows));
    }
    if let Some(path) = &cmd.out {
        std::fs::write(path, &sdf).with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &cmd.csv {
        write_csv(path, &rows)?;
    }
    if rows.iter().all(|r| r.status != "ok") {
        bail!("no pose in {} could be scored", cmd.ligand.display());
    }
    Ok(())
}

/// The printed table of scored poses.
fn score_table(rows: &[ScoreRow]) -> String {
    let cell = |v: Option<f64>, digits: usize| v.map(|x| format!("{x:.digits$}")).unwrap_or("-".into());
    let mut s = format!("{:<24} {:>9} {:>9} {:>9} {:>10} {:>8} {:>7}\n", "pose", "affinity", "energy", "potential", "confidence", "pb_valid", "moved");
    for r in rows {
        let valid = r.pb_valid.map(|v| v.to_string()).unwrap_or("-".into());
        s.push_str(&format!(
            "{:<24} {:>9} {:>9} {:>9} {:>10} {:>8} {:>7}\n",
            r.name,
            cell(r.affinity, 2),
            cell(r.energy, 2),
            cell(r.potential, 2),
            cell(r.confidence, 3),
            valid,
            cell(r.moved, 2)
        ));
    }
    s
}

/// Runs items through the resumable CSV: skips finished ones, appends a row per item.
fn run_items<F>(out: &Path, shard: Option<&str>, names: &[String], quiet: bool, mut work: F) -> Result<()>
where
    F: FnMut(usize, &Path) -> disco_dock::Result<ResultRow>,
{
    let shard: Option<Shard> = shard.map(str::parse).transpose()?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let mut csv = ResultsCsv::open(&out.join(Shard::csv_name(shard)))?;
    let todo: Vec<usize> =
        (0..names.len()).filter(|&k| shard.is_none_or(|s| s.contains(k)) && !csv.is_done(&names[k])).collect();
    let bar = progress(quiet, todo.len() as u64, "docking");
    let (mut ok, mut failed) = (0, 0);
    for k in todo {
        let dir = out.join("poses").join(&names[k]);
        let start = Instant::now();
        let row = work(k, &dir).unwrap_or_else(|e| ResultRow {
            name: names[k].clone(),
            status: "failed".into(),
            seconds: start.elapsed().as_secs_f64(),
            error: e.to_string(),
            ..Default::default()
        });
        if row.status == "ok" {
            ok += 1;
        } else {
            failed += 1;
            bar.println(format!("{}: {}", row.name, row.error));
        }
        csv.append(&ResultRow { name: names[k].clone(), ..row })?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    if !quiet {
        println!("docked {ok} failed {failed}; {} rows in {}", csv.finished(), out.display());
    }
    Ok(())
}

fn run_screen(cmd: &ScreenCmd, quiet: bool) -> Result<()> {
    let models = load_models(&cmd.run.settings.runtime)?;
    let protein = read_protein(&cmd.protein)?;
    let pocket = pocket(&cmd.run.settings.pocket)?;
    let options = dock_options(&cmd.run.settings, &models)?;
    let target = Target::new(&protein, &pocket, &options)?;
    let records = read_ligand_file(&cmd.ligands)?;
    let names = unique_names(&records.iter().map(|r| r.name.clone()).collect::<Vec<_>>());
    run_items(&cmd.out, cmd.run.shard.as_deref(), &names, quiet, |k, dir| {
        dock_one(&models, &target, &records[k], &options, dir, false, cmd.run.settings.seed)
    })
}

fn run_batch(cmd: &BatchCmd, quiet: bool) -> Result<()> {
    let models = load_models(&cmd.run.settings.runtime)?;
    let (rows, warnings) = read_batch_csv(&cmd.csv)?;
    for w in warnings {
        eprintln!("warning: {w}");
    }
    let names = unique_names(&rows.iter().map(|r| r.complex_name.clone()).collect::<Vec<_>>());
    let pocket = pocket(&cmd.run.settings.pocket)?;
    let options = dock_options(&cmd.run.settings, &models)?;
    let base = cmd.csv.parent().unwrap_or(Path::new("."));
    let mut targets: std::collections::HashMap<String, std::result::Result<std::rc::Rc<Target>, String>> = Default::default();
    run_items(&cmd.out, cmd.run.shard.as_deref(), &names, quiet, |k, dir| {
        let row = &rows[k];
        let protein_path = resolve(base, &row.protein_path);
        let target = targets
            .entry(row.protein_path.clone())
            .or_insert_with(|| {
                read_protein(&protein_path)
                    .and_then(|p| Target::new(&p, &pocket, &options))
                    .map(std::rc::Rc::new)
                    .map_err(|e| e.to_string())
            })
            .clone()
            .map_err(|e| disco_dock::Error::invalid(row.complex_name.clone(), e))?;
        let ligand_arg = {
            let p = resolve(base, &row.ligand_description);
            if p.exists() { p.display().to_string() } else { row.ligand_description.clone() }
        };
        let text = read_ligand_argument(&ligand_arg)?.into_iter().next().ok_or_else(|| {
            disco_dock::Error::invalid(row.complex_name.clone(), "no ligand in ligand_description")
        })?;
        let text = LigandText { name: row.complex_name.clone(), ..text };
        dock_one(&models, &target, &text, &options, dir, false, cmd.run.settings.seed)
    })
}

fn resolve(base: &Path, p: &str) -> PathBuf {
    let path = PathBuf::from(p);
    if path.is_absolute() || path.exists() {
        path
    } else {
        base.join(path)
    }
}

fn run_summarise(cmd: &SummariseCmd) -> Result<()> {
    for path in &cmd.reports {
        let rows = read_report(path)?;
        println!("{}\n{}\n", path.display(), summary_lines(&summarise(&rows)));
    }
    Ok(())
}

fn run_pockets(cmd: &PocketsCmd) -> Result<()> {
    let protein = read_protein(&cmd.protein)?;
    let mut sites = find_pockets(&protein, &PocketSearch::default());
    sites.truncate(cmd.top);
    if cmd.json {
        println!("{}", serde_json::to_string_pretty(&sites)?);
        return Ok(());
    }
    println!("{:>4}  {:>26}  {:>10}  {:>10}", "rank", "centre (Å)", "volume Å3", "buriedness");
    for (k, s) in sites.iter().enumerate() {
        let centre = format!("{:.1} {:.1} {:.1}", s.center.x, s.center.y, s.center.z);
        println!("{:>4}  {centre:>26}  {:>10.0}  {:>10.2}", k + 1, s.volume, s.buriedness);
    }
    if sites.is_empty() {
        println!("no buried pocket found in {}", cmd.protein.display());
    }
    Ok(())
}

fn run_benchmark_cmd(cmd: &BenchCmd, quiet: bool) -> Result<()> {
    let models = load_models(&cmd.settings.runtime)?;
    let mut ids = read_split(&cmd.split)?;
    if let Some(n) = cmd.limit {
        ids.truncate(n);
    }
    let pocket: BenchPocket = cmd.pocket.parse()?;
    let options = BenchOptions {
        pocket,
        dock: dock_options(&cmd.settings, &models)?,
        crystal_geometry: cmd.crystal_geometry,
    };
    let bar = progress(quiet, ids.len() as u64, "benchmark");
    let cache = PrepareCache::new(PrepareCache::default_dir());
    let outputs = BenchOutputs { report: cmd.out.clone(), poses_csv: cmd.poses_out.clone(), poses_cache: cmd.poses_cache.clone() };
    let rows = run_benchmark(&models, &cmd.data, &ids, &cache, &options, &outputs, &bar)?;
    bar.finish_and_clear();
    println!("{}", summary_lines(&summarise(&rows)));
    Ok(())
}

fn run_prepare(cmd: &PrepareCmd, quiet: bool) -> Result<()> {
    if cmd.threads > 0 {
        let _ = rayon::ThreadPoolBuilder::new().num_threads(cmd.threads).build_global();
    }
    let ids = read_split(&cmd.split)?;
    let cache = PrepareCache::new(cmd.cache.clone().unwrap_or_else(PrepareCache::default_dir));
    let bar = progress(quiet, ids.len() as u64, "preparing");
    let start = Instant::now();
    let out = prepare_split(&cmd.data, &ids, &cache, &ConformerOptions { seed: cmd.seed, ..Default::default() }, Some(&bar));
    bar.finish_and_clear();
    for (id, e) in &out.failures {
        println!("{id}: {e}");
    }
    println!("prepared {} failed {} in {:.1} s", out.complexes.len(), out.failures.len(), start.elapsed().as_secs_f64());
    if let Some(path) = &cmd.conformer_report {
        let rows = conformer_rows(&out.complexes);
        write_conformer_rows(path, &rows)?;
        let floors: Vec<f64> = rows.iter().filter_map(|r| r.conformer_rmsd).collect();
        let share = |cut: f64| 100.0 * floors.iter().filter(|&&x| x < cut).count() as f64 / floors.len().max(1) as f64;
        println!(
            "conformer floor (RMSD of the conformer fitted to the crystal ligand) of {} complexes: < 1 Å {:.1}%  < 2 Å {:.1}%; wrote {}",
            floors.len(),
            share(1.0),
            share(2.0),
            path.display()
        );
    }
    if let Some(pack) = &cmd.pack {
        let cropped: Vec<PreparedComplex> =
            out.complexes.iter().map(|c| crop_to_ligand(c, cmd.pack_radius, cmd.pack_residues_only)).collect::<disco_dock::Result<_>>()?;
        write_pack(pack, &cropped)?;
        println!("wrote {} complexes to {}", cropped.len(), pack.display());
    }
    Ok(())
}

/// Fits the pair potential to the docked training poses in `poses` (the first --limit
/// complexes), reporting top-1 on `val_poses` by energy and by energy plus potential.
fn fit_potential(data: &TrainData, poses: &Path, val_poses: Option<&Path>, natives: bool, options: &train::potential::FitOptions, log: &mut dyn FnMut(&str)) -> Result<disco_dock::physics::PairPotential> {
    use train::potential::{pose_sets, top1};
    let skipped = |id: &str, e: &disco_dock::Error| eprintln!("{id}: skipped ({e})");
    let mut entries = train::confidence::read_pose_cache(poses)?;
    entries.truncate(data.limit.unwrap_or(usize::MAX));
    let train_sets = pose_sets(&data.data, &entries, natives, &skipped);
    let val_sets = match val_poses {
        Some(path) => pose_sets(&data.data, &train::confidence::read_pose_cache(path)?, false, &skipped),
        None => Vec::new(),
    };
    let count = |sets: &[train::potential::PoseSet]| sets.iter().map(|s| s.len()).sum::<usize>();
    log(&format!("train potential: {} train complexes ({} poses), {} val complexes ({} poses)", train_sets.len(), count(&train_sets), val_sets.len(), count(&val_sets)));
    let zero = disco_dock::physics::PairPotential::from_values(vec![0.0; disco_dock::physics::PairPotential::LEN], 0)?;
    let report = |what: &str, potential: &disco_dock::physics::PairPotential, weight: f64| {
        let val = if val_sets.is_empty() { String::new() } else { format!(", val top-1 {:.1} %", top1(&val_sets, potential, weight)) };
        format!("{what}: train top-1 {:.1} %{val}", top1(&train_sets, potential, weight))
    };
    log(&report("energy alone", &zero, 0.0));
    let potential = train::potential::fit_potential(&train_sets, options, &mut |epoch, loss| log(&format!("epoch {epoch}: loss {loss:.4}")))?;
    for weight in [0.5, 1.0, 1.5] {
        log(&report(&format!("energy + {weight} x potential"), &potential, weight));
    }
    Ok(potential)
}

/// Training or validation complexes from a pack when given, else prepared from the split's files.
fn load_split(data: &TrainData, split: &Path, pack: Option<&PathBuf>, limit: Option<usize>, quiet: bool) -> Result<Vec<train::data::TrainingComplex>> {
    load_split_of(data, split, pack, limit, None, quiet)
}

/// [`load_split`] of only the complexes named in `keep`, when given.
fn load_split_of(data: &TrainData, split: &Path, pack: Option<&PathBuf>, limit: Option<usize>, keep: Option<&HashSet<String>>, quiet: bool) -> Result<Vec<train::data::TrainingComplex>> {
    let kept = |id: &String| keep.is_none_or(|k| k.contains(id));
    let mut complexes = match pack {
        Some(path) => read_pack(path)?.into_iter().filter(|c| kept(&c.id)).collect(),
        None => {
            let mut ids = read_split(split)?;
            ids.retain(|id| kept(id));
            if let Some(n) = limit {
                ids.truncate(n);
            }
            let cache = PrepareCache::new(PrepareCache::default_dir());
            let bar = progress(quiet, ids.len() as u64, "preparing");
            let out = prepare_split(&data.data, &ids, &cache, &ConformerOptions::default(), Some(&bar));
            bar.finish_and_clear();
            if !out.failures.is_empty() {
                eprintln!("{} complexes of {} failed to prepare", out.failures.len(), split.display());
            }
            out.complexes
        }
    };
    complexes.truncate(limit.unwrap_or(usize::MAX));
    Ok(train::data::training_complexes(&complexes, 2.0, data.seed, data.conformer_matching))
}

/// [`load_split`] restricted, when `poses` (pose caches) are given, to the complexes they hold,
/// after merging them into the run's cache `into`; at most `limit` complexes either way.
fn load_cached_split(data: &TrainData, split: &Path, pack: Option<&PathBuf>, limit: usize, poses: &[PathBuf], into: &Path, quiet: bool) -> Result<Vec<train::data::TrainingComplex>> {
    if poses.is_empty() || limit == 0 {
        return load_split(data, split, pack, Some(limit), quiet);
    }
    let cached = train::confidence::merge_pose_caches(poses, into)?;
    let complexes = load_split_of(data, split, pack, Some(limit), Some(&cached), quiet)?;
    if complexes.is_empty() {
        bail!("none of the complexes in {} is in {}", poses.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "), split.display());
    }
    Ok(complexes)
}

fn logger(run: &Path, quiet: bool) -> Result<impl FnMut(&str)> {
    std::fs::create_dir_all(run)?;
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(run.join("train.log"))?;
    Ok(move |line: &str| {
        use std::io::Write;
        let _ = writeln!(file, "{line}");
        if !quiet {
            eprintln!("{line}");
        }
    })
}

fn run_train(cmd: &TrainCmd, quiet: bool) -> Result<()> {
    match cmd {
        TrainCmd::Score { data, latents, hidden, layers, torsion_head, batch_size, lr, val_complexes, val_every, init } => {
            let dev = device(&data.device, data.threads)?;
            let train_set = load_split(data, &data.train_split, data.train_pack.as_ref(), data.limit, quiet)?;
            let val_set = load_split(data, &data.val_split, data.val_pack.as_ref(), None, quiet)?;
            let mut cfg = train::score::ScoreTrainConfig { batch_size: *batch_size, lr: *lr, max_minutes: data.minutes, seed: data.seed, val_complexes: *val_complexes, val_every: *val_every, init: init.clone(), ..Default::default() };
            cfg.model.core.flags = *latents;
            cfg.model.core.hidden = *hidden;
            cfg.model.core.layers = *layers;
            cfg.model.torsion_head = *torsion_head;
            cfg.encoder.latents = *latents;
            let mut log = logger(&data.run, quiet)?;
            log(&format!("train score: {} train / {} val complexes, latents {latents}, device {dev:?}", train_set.len(), val_set.len()));
            let state = train::score::train_score(&train_set, &val_set, &cfg, &data.run, dev, &mut log)?;
            log(&format!("done: {} epochs, {} steps, best val success {:?}", state.epoch, state.step, state.best_metric));
        }
        TrainCmd::Prior { data } => {
            let dev = device(&data.device, data.threads)?;
            let (_, best) = train::run_dirs(&data.run);
            let enc_cfg: disco_dock::model::EncoderConfig = disco_dock::model::store::load_config(&best, "encoder")?;
            let mut vs = tch::nn::VarStore::new(dev);
            let encoder = disco_dock::model::LatentEncoder::new(&vs.root(), &enc_cfg);
            disco_dock::model::store::load_weights(&best, "encoder", &mut vs)?;
            let train_set = load_split(data, &data.train_split, data.train_pack.as_ref(), data.limit, quiet)?;
            let val_set = load_split(data, &data.val_split, data.val_pack.as_ref(), None, quiet)?;
            let mut cfg = train::prior::PriorTrainConfig { max_minutes: data.minutes, seed: data.seed, ..Default::default() };
            cfg.model.latents = enc_cfg.latents;
            let mut log = logger(&data.run, quiet)?;
            train::prior::train_prior(&encoder, &train_set, &val_set, &cfg, &data.run, dev, &mut log)?;
        }
        TrainCmd::Potential { data, poses, val_poses, natives, l2, smooth, epochs } => {
            device("cpu", data.threads)?;
            let mut log = logger(&data.run, quiet)?;
            let start = Instant::now();
            let potential = match poses {
                Some(path) => fit_potential(data, path, val_poses.as_deref(), *natives, &train::potential::FitOptions { l2: *l2, smooth: *smooth, epochs: *epochs, ..Default::default() }, &mut log)?,
                None => {
                    let train_set = load_split(data, &data.train_split, data.train_pack.as_ref(), data.limit, quiet)?;
                    train::potential::learn_potential(&train_set)
                }
            };
            let (_, best) = train::run_dirs(&data.run);
            std::fs::create_dir_all(&best)?;
            let path = best.join("potential.json");
            potential.save(&path)?;
            log(&format!("train potential: {} complexes in {:.1} s; wrote {}", potential.complexes, start.elapsed().as_secs_f64(), path.display()));
        }
        TrainCmd::Templates { data } => {
            device("cpu", data.threads)?;
            let mut log = logger(&data.run, quiet)?;
            let start = Instant::now();
            let mut ids = read_split(&data.train_split)?;
            ids.truncate(data.limit.unwrap_or(usize::MAX));
            let (library, failures) = train::templates::build_library(&data.data, &ids);
            for (id, e) in &failures {
                log(&format!("{id}: {e}"));
            }
            let (_, best) = train::run_dirs(&data.run);
            std::fs::create_dir_all(&best)?;
            let path = best.join(disco_dock::dock::templates::TEMPLATES_FILE);
            library.save(&path)?;
            log(&format!("train templates: {} complexes ({} failed) in {:.1} s; wrote {}", library.entries.len(), failures.len(), start.elapsed().as_secs_f64(), path.display()));
        }
        TrainCmd::Confidence { data, complexes, samples, val_complexes, refine, docking, search_steps, steps, evaluate_only, contacts, natives, structure_only, train_poses, val_poses, init, lr } => {
            let dev = device(&data.device, data.threads)?;
            let (_, best) = train::run_dirs(&data.run);
            let models = Models::load(&best, dev)?;
            std::fs::create_dir_all(&data.run)?;
            let cache = |split: &str| data.run.join(format!("confidence_poses_{split}.jsonl"));
            // evaluation needs no training poses: none are loaded or docked
            let train_count = if *evaluate_only { 0 } else { data.limit.unwrap_or(if train_poses.is_empty() { *complexes } else { usize::MAX }) };
            let train_set = load_cached_split(data, &data.train_split, data.train_pack.as_ref(), train_count, train_poses, &cache("train"), quiet)?;
            let val_count = if val_poses.is_empty() { *val_complexes } else { usize::MAX };
            let val_set = load_cached_split(data, &data.val_split, data.val_pack.as_ref(), val_count, val_poses, &cache("val"), quiet)?;
            if (*refine || *docking || *contacts) && train_set.iter().chain(&val_set).any(|c| c.pocket.atoms.is_empty()) {
                bail!("--refine, --docking and --contacts need protein atoms, but the pack was written with --pack-residues-only");
            }
            if *natives > 0 && !*docking {
                bail!("--natives needs --docking");
            }
            let mut cfg = train::confidence::ConfidenceTrainConfig { samples_per_complex: *samples, max_minutes: data.minutes, seed: data.seed, lr: *lr, init: init.clone(), ..Default::default() };
            if *docking && !*structure_only {
                // docked poses carry energies and populations: the model reads them too
                cfg.model.pose_features = disco_dock::model::POSE_FEATURES;
            }
            if *contacts {
                cfg.model = cfg.model.with_contacts();
            }
            let mut log = logger(&data.run, quiet)?;
            let start = Instant::now();
            let (mut train_poses, mut val_poses) = if *docking {
                let defaults = &models.defaults;
                let steps = steps.unwrap_or(SamplerConfig::default().steps);
                let options = |seed: u64| DockOptions {
                    sampling: sampling_options(*samples, steps, seed, defaults),
                    search_steps: search_steps.unwrap_or(defaults.search_steps),
                    search_steps_per_torsion: defaults.search_steps_per_torsion,
                    weights: defaults.rank_weights(),
                    ..Default::default()
                };
                let box_size = disco_dock::bench::CRYSTAL_BOX;
                let train_poses = train::confidence::docked_poses(&models, &train_set, &options(data.seed), box_size, &cache("train"), &mut log)?;
                let val_poses = train::confidence::docked_poses(&models, &val_set, &options(data.seed + 7), box_size, &cache("val"), &mut log)?;
                (train_poses, val_poses)
            } else {
                let post = move |c: &train::data::TrainingComplex, poses: Vec<Vec<Vec3>>| -> Vec<Vec<Vec3>> {
                    if *refine { disco_dock::physics::refine_in_pocket(&c.graph.ligand, &c.graph.torsions, &c.pocket, &c.pocket_center, poses) } else { poses }
                };
                let train_poses = train::confidence::labelled_poses(&models, &train_set, cfg.samples_per_complex, cfg.steps, data.seed, &post, &mut log)?;
                let val_poses = train::confidence::labelled_poses(&models, &val_set, cfg.samples_per_complex, cfg.steps, data.seed + 7, &post, &mut log)?;
                (train_poses, val_poses)
            };
            train::confidence::set_pose_features(&mut train_poses);
            train::confidence::set_pose_features(&mut val_poses);
            if *natives > 0 && !*evaluate_only {
                let steps = search_steps.unwrap_or(models.defaults.search_steps);
                let cache = data.run.join("confidence_natives_train.jsonl");
                let made = train::confidence::native_poses(&train_set, &train_poses, *natives, steps, &cache, &mut log)?;
                train::confidence::add_natives(&mut train_poses, made);
            }
            let pos = train_poses.iter().filter(|p| p.rmsd < 2.0).count();
            log(&format!("sampled {} train poses ({pos} < 2 Å), {} val poses in {:.0} s", train_poses.len(), val_poses.len(), start.elapsed().as_secs_f64()));
            if !*evaluate_only {
                train::confidence::train_confidence(&train_set, &train_poses, &val_set, &val_poses, &cfg, &data.run, dev, &mut log)?;
            }
            let trained = Models::load(&best, dev)?;
            if trained.confidence.is_empty() {
                bail!("no confidence model in {}", best.display());
            }
            let path = data.run.join("confidence_val_scores.csv");
            let logits = train::confidence::predict_ensemble(&trained.confidence, &val_set, &val_poses, dev);
            let labels: Vec<bool> = val_poses.iter().map(|p| p.rmsd < 2.0).collect();
            let (auc, top1) = (train::confidence::auroc(&logits, &labels), train::confidence::top1_success(&val_poses, &logits));
            let members = trained.confidence.len();
            log(&format!("kept model on val ({members} network(s)): AUROC {auc:.3}, top-1 < 2 Å by confidence {:.1} %", 100.0 * top1));
            train::confidence::write_scored_poses(&path, &val_set, &val_poses, &logits)?;
            log(&format!("val poses with the kept model's logits: {}", path.display()));
        }
    }
    Ok(())
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> Result<()> {
    match &cli.command {
        Command::Dock(c) => run_dock(c, cli.quiet),
        Command::Screen(c) => run_screen(c, cli.quiet),
        Command::Batch(c) => run_batch(c, cli.quiet),
        Command::Score(c) => run_score(c, cli.quiet),
        Command::Benchmark(c) => run_benchmark_cmd(c, cli.quiet),
        Command::Prepare(c) => run_prepare(c, cli.quiet),
        Command::Pockets(c) => run_pockets(c),
        Command::Summarise(c) => run_summarise(c),
        Command::Train(c) => run_train(c, cli.quiet),
    }
}

/// Inserts `dock` when the first argument after the global flags is a docking flag
/// (`disco-dock --protein P --ligand L`, `disco-dock --quiet --protein P ...`).
pub fn with_default_subcommand(args: Vec<String>) -> Vec<String> {
    let is_global = |a: &str| a == "--quiet" || (a.starts_with('-') && a.len() > 1 && a[1..].chars().all(|c| c == 'v')) || a == "--verbose";
    let at = args.iter().skip(1).position(|a| !is_global(a)).map_or(args.len(), |p| p + 1);
    let first = args.get(at).map(String::as_str).unwrap_or("");
    let docking_flag = first.starts_with('-') && !matches!(first, "-h" | "--help" | "-V" | "--version");
    if docking_flag {
        let mut out = args[..at].to_vec();
        out.push("dock".to_string());
        out.extend(args[at..].iter().cloned());
        out
    } else {
        args
    }
}

#[cfg(test)]
mod tests {
    use super::with_default_subcommand;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn docking_flags_imply_dock_after_global_flags() {
        assert_eq!(with_default_subcommand(args("dd --protein p --ligand l")), args("dd dock --protein p --ligand l"));
        assert_eq!(with_default_subcommand(args("dd --quiet -vv --protein p")), args("dd --quiet -vv dock --protein p"));
        assert_eq!(with_default_subcommand(args("dd --quiet train score")), args("dd --quiet train score"));
        assert_eq!(with_default_subcommand(args("dd --help")), args("dd --help"));
        assert_eq!(with_default_subcommand(args("dd")), args("dd"));
    }

    #[test]
    fn confidence_training_options_on_docked_poses_need_docking() {
        use super::{Cli, Command, TrainCmd};
        use clap::Parser;
        for flag in ["--structure-only", "--train-poses a.jsonl", "--val-poses v.jsonl"] {
            assert!(Cli::try_parse_from(args(&format!("dd train confidence {flag}"))).is_err(), "{flag} without --docking");
        }
        let cli = Cli::try_parse_from(args("dd train confidence --docking --structure-only --train-poses a.jsonl b.jsonl --val-poses v.jsonl")).unwrap();
        let Command::Train(TrainCmd::Confidence { structure_only, train_poses, val_poses, .. }) = cli.command else { panic!("not train confidence") };
        assert!(structure_only);
        assert_eq!((train_poses.len(), val_poses.len()), (2, 1));
    }
}
