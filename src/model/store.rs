//! Saving and loading networks: a JSON config next to safetensors weights, one pair per network.

use crate::error::{Error, Result};
use serde::{de::DeserializeOwned, Serialize};
use std::path::{Path, PathBuf};
use tch::nn::VarStore;

/// Paths of a network's files in a model folder: `<dir>/<name>.json` and `<dir>/<name>.safetensors`.
pub fn network_paths(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    (dir.join(format!("{name}.json")), dir.join(format!("{name}.safetensors")))
}

/// Writes a network's config and weights.
pub fn save_network<C: Serialize>(dir: &Path, name: &str, config: &C, vs: &VarStore) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let (cfg_path, weights) = network_paths(dir, name);
    let json = serde_json::to_string_pretty(config).map_err(|e| Error::Model(e.to_string()))?;
    std::fs::write(&cfg_path, json).map_err(|e| Error::io(&cfg_path, e))?;
    let tmp = weights.with_extension("tmp.safetensors");
    vs.save(&tmp).map_err(|e| Error::Model(format!("{}: {e}", weights.display())))?;
    std::fs::rename(&tmp, &weights).map_err(|e| Error::io(&weights, e))
}

/// Reads a network's config.
pub fn load_config<C: DeserializeOwned>(dir: &Path, name: &str) -> Result<C> {
    let (cfg_path, _) = network_paths(dir, name);
    let text = std::fs::read_to_string(&cfg_path).map_err(|e| Error::io(&cfg_path, e))?;
    serde_json::from_str(&text).map_err(|e| Error::parse(&cfg_path, None, e.to_string()))
}

/// Loads weights into an already-built VarStore.
pub fn load_weights(dir: &Path, name: &str, vs: &mut VarStore) -> Result<()> {
    let (_, weights) = network_paths(dir, name);
    vs.load(&weights).map_err(|e| Error::Model(format!("{}: {e}", weights.display())))
}

/// Whether a network's files exist in `dir`.
pub fn has_network(dir: &Path, name: &str) -> bool {
    let (c, w) = network_paths(dir, name);
    c.exists() && w.exists()
}

/// Loads the weights of `dir`'s network whose names the VarStore shares with it, leaving the
/// others as they are; returns the names of the variables the file did not have.
pub fn load_weights_partial(dir: &Path, name: &str, vs: &mut VarStore) -> Result<Vec<String>> {
    let (_, weights) = network_paths(dir, name);
    vs.load_partial(&weights).map_err(|e| Error::Model(format!("{}: {e}", weights.display())))
}
