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
pub use confidence::{contact_inputs, pose_features, ConfidenceConfig, ConfidenceModel, POSE_FEATURES};
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

/// Tells glibc's malloc to keep freed memory for reuse instead of handing it back to the kernel
/// after each large tensor is freed. libtorch frees and reallocates many multi-megabyte buffers
/// per network call; with glibc's defaults each one is a fresh mmap whose pages the kernel must
/// zero, which took about half of docking time (system time 16 s of 36 s for one complex, 10 samples,
/// one thread; 0.7 s with this setting). Buffers over 256 MB (blind docking of very large
/// proteins) are still mapped and returned, which bounds the extra memory: blind docking of
/// 3vd4 (4060 residues, 10 samples) peaked at 4.1 GB, against 3.7 GB with glibc's defaults and
/// 5.1 GB with no mapping limit.
/// Users' own glibc settings (`MALLOC_MMAP_THRESHOLD_`, `MALLOC_TRIM_THRESHOLD_`,
/// `GLIBC_TUNABLES`) take precedence.
pub fn keep_freed_memory() {
    let user_set = ["MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES"].iter().any(|v| std::env::var_os(v).is_some());
    if user_set {
        return;
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only adjusts allocator parameters; called before heavy allocation starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_TOP_PAD, 64 << 20);
    }
}

#[cfg(test)]
pub(crate) mod tests;
