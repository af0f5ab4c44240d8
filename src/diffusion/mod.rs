//! Pose diffusion over translation x SO(3) x torsions (DiffDock): one module per manifold with the
//! same functions (`sample`, `score`, `score_norm`), the noise schedule, pose updates, forward
//! noising for training and the reverse-time sampler.

mod grid;
pub mod noise;
pub mod pose;
pub mod r3;
pub mod sampler;
pub mod schedule;
pub mod so3;
pub mod torus;

pub use noise::{noise_pose, NoisedPose, ScoreNorms};
pub use pose::{apply_torsions, apply_update, apply_updates, torsion_angles, PoseUpdate};
pub use sampler::{
    random_initial_pose, sample, PoseScore, SamplerConfig, SamplerKind, ScoreModel, Temperature,
    Temperatures,
};
pub use schedule::{time_grid, NoiseSchedule, Sigmas};
