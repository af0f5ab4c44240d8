//! The set of trained networks used for docking, loaded from a model folder
//! (`score`, `prior`, `confidence`; each `<name>.json` + `<name>.safetensors`), with the
//! learned pair potential of the ranking (`potential.json`, optional), the template library
//! (`templates.json.gz`, optional) and the inference
//! settings tuned for them on val (`sampling.json`, optional).

use crate::diffusion::sampler::Temperatures;
use crate::error::{Error, Result};
use crate::model::store::{has_network, load_config, load_weights};
use crate::model::{ConfidenceConfig, ConfidenceModel, LatentPrior, PriorConfig, ScoreConfig, ScoreModel};
use crate::physics::PairPotential;
use super::templates::{TemplateLibrary, TEMPLATES_FILE};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tch::nn::VarStore;
use tch::Device;

/// Trained networks on one device. The prior and confidence models are optional: without a
/// prior the score network runs unconditionally; without a confidence model poses are ranked by energy.
pub struct Models {
    /// Score network.
    pub score: ScoreModel,
    /// Autoregressive latent prior.
    pub prior: Option<LatentPrior>,
    /// Confidence models: an ensemble whose logits are averaged (empty: none). The folder holds
    /// them as `confidence`, `confidence_2`, `confidence_3`, ... (see [`confidence_name`]).
    pub confidence: Vec<ConfidenceModel>,
    /// Pair potential added to the energy when ranking (`potential.json`; none: not used).
    pub potential: Option<PairPotential>,
    /// Known complexes whose ligands become templates for homologous proteins
    /// (`templates.json.gz`; none: no templates).
    pub templates: Option<std::sync::Arc<TemplateLibrary>>,
    /// Device the networks live on.
    pub device: Device,
    /// Inference settings tuned for these networks (defaults of the docking commands).
    pub defaults: InferenceDefaults,
    _stores: Vec<VarStore>,
}

/// Monte Carlo search steps per sampled pose when a model folder does not say: on val (first 50,
/// pocket given, 10 samples) 0 / 30 / 100 steps put a pose within 2 Å first for 24 / 34 / 36 %.
pub const DEFAULT_SEARCH_STEPS: usize = 100;

/// Weight of ln(1 + population) in energy ranking when a model folder does not say: on val
/// (pocket given, 40 samples, all 100) 0 / 0.25 / 0.5 / 1 / 2 put a pose within 2 Å first for
/// 39 / 40 / 39 / 41 / 40 % (on test_dev 1 gave 28.3 % against 33.3 % for 0: noise level).
pub const DEFAULT_POPULATION_WEIGHT: f64 = 1.0;

/// Weight of the confidence logit in energy ranking when a model folder does not say: off,
/// until a confidence model earns it on val (see `sampling.json` of the shipped model).
pub const DEFAULT_CONFIDENCE_WEIGHT: f64 = 0.0;

/// Weight of the learned pair potential in energy ranking when a model folder does not say:
/// 1, the scale it was fitted at (energy + potential).
pub const DEFAULT_POTENTIAL_WEIGHT: f64 = 1.0;

/// File of the learned pair potential in a model folder.
pub const POTENTIAL_FILE: &str = "potential.json";

/// Inference settings that belong to a trained model because they were tuned on val for it:
/// read from `sampling.json` in the model folder; every field is optional.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InferenceDefaults {
    /// Low-temperature sampling of translation, rotation and torsions.
    pub temperatures: Temperatures,
    /// Temperature of the latent prior.
    pub latent_temperature: f64,
    /// Monte Carlo search steps per sampled pose.
    pub search_steps: usize,
    /// Monte Carlo search steps per torsion for flexible ligands (0: `search_steps` for all;
    /// [`super::DockOptions::search_steps_per_torsion`]).
    pub search_steps_per_torsion: f64,
    /// Weight of ln(1 + population) subtracted from the energy when ranking (kcal/mol).
    pub population_weight: f64,
    /// Weight of the confidence logit subtracted from the energy when ranking (kcal/mol).
    pub confidence_weight: f64,
    /// Weight of the learned pair potential added to the energy when ranking.
    pub potential_weight: f64,
    /// Weight (kcal/mol) of a pose's overlap with template ligands (0 to 1) subtracted from the
    /// energy when ranking.
    pub template_weight: f64,
    /// Weight (kcal/mol per ligand atom) of the bias towards template ligands that refinement
    /// and the Monte Carlo search minimise in pocket boxes (0: none).
    pub search_template_weight: f64,
    /// Least aligned sequence identity of a library template's protein that shares too few
    /// sequence words with the target ([`super::templates::MIN_IDENTITY`]; above 1: close
    /// homologues by shared words only).
    pub template_identity: f64,
    /// Least similarity (Tanimoto) of a distant template's ligand to the docked ligand for it
    /// to count as a close one ([`super::templates::MIN_SIMILARITY`]; above 1: never).
    pub template_similarity: f64,
    /// Weight of the learned pair potential added to the energy the refinement and Monte Carlo
    /// search minimise (pocket boxes; 0: they minimise the Vina-like energy alone).
    pub search_potential_weight: f64,
    /// RDKit conformers docked per ligand in a given box, sharing the samples (1: one conformer).
    pub conformers: usize,
    /// RDKit conformers docked per ligand in blind docking.
    pub blind_conformers: usize,
    /// ETKDG conformers generated per ligand in a given box, the most typical of them docked
    /// (1: the first seeds' conformers).
    pub conformer_candidates: usize,
    /// ETKDG conformers generated per ligand in blind docking.
    pub blind_conformer_candidates: usize,
    /// Blind docking into several pockets: conformers (the first ones) that explore them before
    /// all share the leading one (0: all; [`super::DockOptions::explore_conformers`]).
    pub explore_conformers: usize,
}

impl Default for InferenceDefaults {
    fn default() -> Self {
        InferenceDefaults { temperatures: Temperatures::default(), latent_temperature: 1.5, search_steps: DEFAULT_SEARCH_STEPS, search_steps_per_torsion: 0.0, population_weight: DEFAULT_POPULATION_WEIGHT, confidence_weight: DEFAULT_CONFIDENCE_WEIGHT, potential_weight: DEFAULT_POTENTIAL_WEIGHT, template_weight: 0.0, search_template_weight: 0.0, template_identity: super::templates::MIN_IDENTITY, template_similarity: super::templates::MIN_SIMILARITY, search_potential_weight: 0.0, conformers: 1, blind_conformers: 1, conformer_candidates: 1, blind_conformer_candidates: 1, explore_conformers: 0 }
    }
}

impl InferenceDefaults {
    /// The weights energy ranking uses with these settings.
    pub fn rank_weights(&self) -> super::RankWeights {
        super::RankWeights { population: self.population_weight, confidence: self.confidence_weight, potential: self.potential_weight, template: self.template_weight }
    }

    /// File name inside a model folder.
    pub const FILE: &'static str = "sampling.json";

    /// Reads `dir/sampling.json`, or the defaults when the file is absent.
    pub fn load(dir: &Path) -> Result<InferenceDefaults> {
        let path = dir.join(Self::FILE);
        if !path.exists() {
            return Ok(InferenceDefaults::default());
        }
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        serde_json::from_str(&text).map_err(|e| Error::parse(&path, None, e.to_string()))
    }
}

/// The folder of the model shipped with disco-dock (`data/models/default` in the source tree,
/// or `$DISCO_DOCK_MODEL`).
pub fn default_model_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("DISCO_DOCK_MODEL") {
        return PathBuf::from(dir);
    }
    let local = PathBuf::from("data/models/default");
    if local.exists() {
        return local;
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/models/default")
}

/// File stem of the `k`-th (from 0) confidence model of an ensemble in a model folder:
/// `confidence`, then `confidence_2`, `confidence_3`, ... Loading stops at the first missing one.
pub fn confidence_name(k: usize) -> String {
    if k == 0 {
        "confidence".into()
    } else {
        format!("confidence_{}", k + 1)
    }
}

fn load<C: serde::de::DeserializeOwned, M>(
    dir: &Path,
    name: &str,
    device: Device,
    build: impl Fn(&tch::nn::Path, &C) -> M,
) -> Result<(M, VarStore)> {
    let config: C = load_config(dir, name)?;
    let mut vs = VarStore::new(device);
    let model = build(&vs.root(), &config);
    load_weights(dir, name, &mut vs)?;
    Ok((model, vs))
}

impl Models {
    /// Loads the networks present in `dir` (the score network is required).
    pub fn load(dir: &Path, device: Device) -> Result<Models> {
        if !has_network(dir, "score") {
            return Err(Error::invalid(
                dir.display().to_string(),
                "no trained score network here (score.json + score.safetensors); train one with `disco-dock train score`",
            ));
        }
        let (score, vs_s) = load::<ScoreConfig, _>(dir, "score", device, ScoreModel::new)?;
        let mut stores = vec![vs_s];
        let prior = if has_network(dir, "prior") {
            let (m, vs) = load::<PriorConfig, _>(dir, "prior", device, LatentPrior::new)?;
            stores.push(vs);
            Some(m)
        } else {
            None
        };
        let mut confidence = Vec::new();
        while has_network(dir, &confidence_name(confidence.len())) {
            let (m, vs) = load::<ConfidenceConfig, _>(dir, &confidence_name(confidence.len()), device, ConfidenceModel::new)?;
            stores.push(vs);
            confidence.push(m);
        }
        let potential_path = dir.join(POTENTIAL_FILE);
        let potential = if potential_path.exists() { Some(PairPotential::load(&potential_path)?) } else { None };
        let templates_path = dir.join(TEMPLATES_FILE);
        let templates = if templates_path.exists() { Some(std::sync::Arc::new(TemplateLibrary::load(&templates_path)?)) } else { None };
        let defaults = InferenceDefaults::load(dir)?;
        Ok(Models { score, prior, confidence, potential, templates, device, defaults, _stores: stores })
    }

    /// Wraps networks built elsewhere (e.g. during training).
    pub fn from_parts(score: ScoreModel, prior: Option<LatentPrior>, confidence: Vec<ConfidenceModel>, device: Device) -> Models {
        Models { score, prior, confidence, potential: None, templates: None, device, defaults: InferenceDefaults::default(), _stores: Vec::new() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes a tiny score network and one confidence network per seed (as `confidence`,
    /// `confidence_2`, ...) into `dir`.
    fn write_models(dir: &Path, seeds: &[i64]) {
        use crate::model::store::save_network;
        use crate::model::PainnConfig;
        let core = PainnConfig { hidden: 8, layers: 1, rbf: 8, ..Default::default() };
        let score = ScoreConfig { core: PainnConfig { node_extra: 8, ..core.clone() }, time_dim: 8, ..Default::default() };
        let vs = VarStore::new(Device::Cpu);
        ScoreModel::new(&vs.root(), &score);
        save_network(dir, "score", &score, &vs).unwrap();
        let confidence = ConfidenceConfig { core, pose_features: crate::model::POSE_FEATURES, ..Default::default() };
        for (k, &seed) in seeds.iter().enumerate() {
            tch::manual_seed(seed);
            let vs = VarStore::new(Device::Cpu);
            ConfidenceModel::new(&vs.root(), &confidence);
            save_network(dir, &confidence_name(k), &confidence, &vs).unwrap();
        }
    }

    #[test]
    fn a_pair_potential_in_the_folder_is_loaded_and_a_broken_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        write_models(dir.path(), &[]);
        assert!(Models::load(dir.path(), Device::Cpu).unwrap().potential.is_none());
        let potential = PairPotential::from_values(vec![0.5; PairPotential::LEN], 3).unwrap();
        potential.save(&dir.path().join(POTENTIAL_FILE)).unwrap();
        assert_eq!(Models::load(dir.path(), Device::Cpu).unwrap().potential, Some(potential));
        std::fs::write(dir.path().join(POTENTIAL_FILE), "{}").unwrap();
        let err = Models::load(dir.path(), Device::Cpu).err().unwrap().to_string();
        assert!(err.contains(POTENTIAL_FILE), "{err}");
    }

    #[test]
    fn a_confidence_ensemble_loads_every_member_and_averages_their_logits() {
        use crate::dock::sampling::confidence_logits;
        use crate::model::tests::{toy_ligand, toy_protein};
        use crate::model::ComplexGraph;
        let (ligand, torsions) = toy_ligand("CC(=O)Nc1ccc(O)cc1");
        let protein = toy_protein(30);
        let graph = ComplexGraph::new(&ligand, &protein, torsions);
        let poses = vec![ligand.coords.clone(), ligand.coords.iter().map(|p| p + crate::chem::Vec3::new(1.0, 0.0, 0.0)).collect()];
        let features = [[0.0, 0.5], [1.0, 0.0]];
        // Both members are written once and copied, so the single-member folders hold exactly the
        // ensemble's weights whatever other tests do to libtorch's global random state meanwhile.
        let both_dir = tempfile::tempdir().unwrap();
        write_models(both_dir.path(), &[1, 2]);
        let single = |member: usize| {
            let dir = tempfile::tempdir().unwrap();
            write_models(dir.path(), &[]);
            for ext in ["json", "safetensors"] {
                let from = both_dir.path().join(format!("{}.{ext}", confidence_name(member)));
                std::fs::copy(from, dir.path().join(format!("{}.{ext}", confidence_name(0)))).unwrap();
            }
            dir
        };
        let logits = |dir: &Path, members: usize| {
            let models = Models::load(dir, Device::Cpu).unwrap();
            assert_eq!(models.confidence.len(), members);
            confidence_logits(&models, &graph, &protein, &poses, &features)
        };
        let none = tempfile::tempdir().unwrap();
        write_models(none.path(), &[]);
        assert_eq!(logits(none.path(), 0), None, "no confidence network: no logits");
        let (a, b) = (logits(single(0).path(), 1).unwrap(), logits(single(1).path(), 1).unwrap());
        let both = logits(both_dir.path(), 2).unwrap();
        assert!(a.iter().zip(&b).any(|(x, y)| (x - y).abs() > 1e-6), "members differ");
        for ((x, y), m) in a.iter().zip(&b).zip(&both) {
            assert!((m - (x + y) / 2.0).abs() < 1e-5, "{m} vs mean of {x} and {y}");
        }
        assert_eq!(confidence_name(0), "confidence");
        assert_eq!(confidence_name(2), "confidence_3");
    }

    #[test]
    fn inference_defaults_read_partial_files_and_reject_typos() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(InferenceDefaults::load(dir.path()).unwrap(), InferenceDefaults::default());
        std::fs::write(dir.path().join(InferenceDefaults::FILE), r#"{"search_steps": 7, "temperatures": {"rot": {"sampling": 2.0}}}"#).unwrap();
        let read = InferenceDefaults::load(dir.path()).unwrap();
        assert_eq!(read.search_steps, 7);
        assert_eq!(read.temperatures.rot.sampling, 2.0);
        assert_eq!(read.temperatures.tr, Temperatures::default().tr);
        std::fs::write(dir.path().join(InferenceDefaults::FILE), r#"{"search_step": 7}"#).unwrap();
        let err = InferenceDefaults::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("sampling.json"), "{err}");
    }
}
