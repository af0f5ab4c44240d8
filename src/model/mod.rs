//! Networks (tch): the equivariant core, score network with discrete latents, latent encoder,
//! autoregressive prior and confidence model, plus batching and device choice.

pub mod batch;
pub mod confidence;
pub mod encoder;
pub mod features;
pub mod painn;
pub mod prior;
pub mod score;
pub mod store;

pub use batch::{Batch, ComplexGraph, PoseSample};
pub use confidence::{ConfidenceConfig, ConfidenceModel};
pub use encoder::{EncoderConfig, LatentEncoder};
pub use painn::PainnConfig;
pub use prior::{LatentPrior, PriorConfig};
pub use score::{ScoreConfig, ScoreModel, ScoreOutput};

use crate::error::{Error, Result};

/// Which device the networks run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum DeviceChoice {
    /// CUDA when available, else CPU.
    #[default]
    Auto,
    /// Always the CPU.
    Cpu,
    /// The first CUDA device (an error when none is available).
    Cuda,
}

impl std::str::FromStr for DeviceChoice {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "auto" => Ok(DeviceChoice::Auto),
            "cpu" => Ok(DeviceChoice::Cpu),
            "cuda" | "gpu" => Ok(DeviceChoice::Cuda),
            other => Err(Error::invalid("--device", format!("'{other}' is not one of auto, cpu, cuda"))),
        }
    }
}

/// Resolves the device choice (the one place where the device is decided).
pub fn select_device(choice: DeviceChoice) -> Result<tch::Device> {
    match choice {
        DeviceChoice::Cpu => Ok(tch::Device::Cpu),
        DeviceChoice::Auto => Ok(tch::Device::cuda_if_available()),
        DeviceChoice::Cuda if tch::Cuda::is_available() => Ok(tch::Device::Cuda(0)),
        DeviceChoice::Cuda => Err(Error::invalid(
            "--device cuda",
            "no CUDA device is available (build with --features cuda and a CUDA libtorch, or use --device cpu)",
        )),
    }
}

/// Sets the number of CPU threads libtorch uses (0 keeps its default).
pub fn set_threads(threads: usize) {
    if threads > 0 {
        tch::set_num_threads(threads as i32);
    }
}

#[cfg(test)]
mod tests;
