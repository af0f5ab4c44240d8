//! Training: the score network with its latent encoder (end-to-end, DisCo-Diff), the
//! autoregressive prior, the confidence model, and a knowledge-based pair potential from crystal
//! contacts, and the template library of the training complexes. Training resumes from
//! checkpoints.

pub mod confidence;
pub mod data;
pub mod potential;
pub mod prior;
pub mod score;
pub mod templates;

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tch::nn::VarStore;

/// An exponential moving average of a VarStore's weights, kept in a second VarStore of the same shape.
pub struct Ema {
    decay: f64,
    pairs: Vec<(tch::Tensor, tch::Tensor)>,
}

impl Ema {
    /// Tracks `source` into `target` (built with identical variable names); starts as a copy.
    pub fn new(source: &VarStore, target: &mut VarStore, decay: f64) -> Result<Ema> {
        target.copy(source).map_err(|e| Error::Model(e.to_string()))?;
        let src = source.variables();
        let dst = target.variables();
        let mut pairs = Vec::with_capacity(src.len());
        for (name, s) in src {
            let d = dst.get(&name).ok_or_else(|| Error::Model(format!("EMA store lacks {name}")))?;
            pairs.push((d.shallow_clone(), s));
        }
        Ok(Ema { decay, pairs })
    }

    /// One EMA step: `ema = decay * ema + (1 - decay) * weights`.
    pub fn update(&mut self) {
        let _guard = tch::no_grad_guard();
        for (ema, w) in &mut self.pairs {
            let next = &*ema * self.decay + &*w * (1.0 - self.decay);
            ema.copy_(&next);
        }
    }
}

/// Progress saved next to checkpoints so an interrupted run resumes where it stopped.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TrainState {
    /// Optimiser steps done.
    pub step: u64,
    /// Epochs done.
    pub epoch: u64,
    /// Best validation metric so far (higher is better).
    pub best_metric: Option<f64>,
    /// Seconds of training so far (over all resumed runs).
    pub seconds: f64,
    /// Log of (epoch, step, train loss, validation metric).
    pub history: Vec<(u64, u64, f64, Option<f64>)>,
}

impl TrainState {
    /// Reads `state.json` from a run folder (a fresh state when absent).
    pub fn load(dir: &Path) -> Result<TrainState> {
        let p = dir.join("state.json");
        match std::fs::read_to_string(&p) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| Error::parse(&p, None, e.to_string())),
            Err(_) => Ok(TrainState::default()),
        }
    }

    /// Writes `state.json` atomically.
    pub fn save(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let p = dir.join("state.json");
        let tmp = dir.join("state.json.tmp");
        let text = serde_json::to_string_pretty(self).map_err(|e| Error::Model(e.to_string()))?;
        std::fs::write(&tmp, text).map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, &p).map_err(|e| Error::io(&p, e))
    }
}

/// Where a training run keeps its files: `<run>/last` (resume point) and `<run>/best` (selected).
pub fn run_dirs(run: &Path) -> (PathBuf, PathBuf) {
    (run.join("last"), run.join("best"))
}

/// Cosine learning-rate schedule with linear warm-up. The cosine follows the larger of the step
/// fraction (`step / total`) and the wall-clock fraction `budget_used` (elapsed / budget), so a
/// run stopped by its time budget still anneals.
pub fn learning_rate(base: f64, step: u64, warmup: u64, total: u64, budget_used: f64) -> f64 {
    if step < warmup {
        return base * (step + 1) as f64 / warmup as f64;
    }
    let by_steps = (step - warmup) as f64 / (total.saturating_sub(warmup)).max(1) as f64;
    let progress = by_steps.max(budget_used).clamp(0.0, 1.0);
    base * (0.05 + 0.95 * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos()))
}

#[cfg(test)]
mod tests {
    use super::learning_rate;

    #[test]
    fn schedule_warms_up_then_anneals_by_steps_or_budget() {
        assert!(learning_rate(1e-3, 0, 100, 1000, 0.0) < 2e-5);
        let peak = learning_rate(1e-3, 100, 100, 1000, 0.0);
        assert!((peak - 1e-3).abs() < 1e-9);
        // a time-limited run anneals with its budget even when few of the planned steps ran
        let half_budget = learning_rate(1e-3, 150, 100, 100_000, 0.5);
        assert!((half_budget - 1e-3 * (0.05 + 0.95 * 0.5)).abs() < 1e-9);
        assert!((learning_rate(1e-3, 150, 100, 100_000, 1.0) - 5e-5).abs() < 1e-12);
        assert!((learning_rate(1e-3, 1000, 100, 1000, 0.1) - 5e-5).abs() < 1e-12);
    }
}
