//! The set of trained networks used for docking, loaded from a model folder
//! (`score`, `prior`, `confidence`; each `<name>.json` + `<name>.safetensors`).

use crate::error::{Error, Result};
use crate::model::store::{has_network, load_config, load_weights};
use crate::model::{ConfidenceConfig, ConfidenceModel, LatentPrior, PriorConfig, ScoreConfig, ScoreModel};
use std::path::{Path, PathBuf};
use tch::nn::VarStore;
use tch::Device;

/// Trained networks on one device. The prior and confidence model are optional: without a
/// prior the score network runs unconditionally; without a confidence model poses are ranked by energy.
pub struct Models {
    /// Score network.
    pub score: ScoreModel,
    /// Autoregressive latent prior.
    pub prior: Option<LatentPrior>,
    /// Confidence model.
    pub confidence: Option<ConfidenceModel>,
    /// Device the networks live on.
    pub device: Device,
    _stores: Vec<VarStore>,
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
        let confidence = if has_network(dir, "confidence") {
            let (m, vs) = load::<ConfidenceConfig, _>(dir, "confidence", device, ConfidenceModel::new)?;
            stores.push(vs);
            Some(m)
        } else {
            None
        };
        Ok(Models { score, prior, confidence, device, _stores: stores })
    }

    /// Wraps networks built elsewhere (e.g. during training).
    pub fn from_parts(score: ScoreModel, prior: Option<LatentPrior>, confidence: Option<ConfidenceModel>, device: Device) -> Models {
        Models { score, prior, confidence, device, _stores: Vec::new() }
    }
}
