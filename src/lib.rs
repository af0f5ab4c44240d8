//! disco-dock: molecular docking by DisCo-Diff (discrete-continuous latent diffusion) applied to
//! DiffDock-style pose diffusion over translation, rotation and torsion angles.
//!
//! Modules, one per concept: [`io`] (files), [`chem`] (molecules, RDKit), [`graph`] (geometric
//! graphs), [`geometry`] (Kabsch, RMSD), [`diffusion`] (pose diffusion and samplers), [`model`]
//! (networks), [`physics`] (scoring, refinement, validity checks), [`train`], [`dock`] and [`bench`].

pub mod bench;
pub mod chem;
pub mod diffusion;
pub mod dock;
pub mod error;
pub mod geometry;
pub mod graph;
pub mod io;
pub mod model;
pub mod physics;
pub mod train;

pub use error::{Error, Result};
