//! Error types of the library: every failure names the input it came from and what went wrong.

use std::path::PathBuf;

/// Result alias used throughout the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in disco-dock, with enough context for a user to fix the input.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying OS error.
        #[source]
        source: std::io::Error,
    },
    /// A structure or molecule file is malformed.
    #[error("{path}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Parse {
        /// The file (or a pseudo-name such as `<smiles>`) being parsed.
        path: PathBuf,
        /// 1-based line number, where one is known.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// RDKit rejected a molecule (sanitisation, embedding, ...).
    #[error("{path}: {message}")]
    Chemistry {
        /// Where the molecule came from.
        path: PathBuf,
        /// What RDKit or our checks reported.
        message: String,
    },
    /// The input is well-formed but unusable (empty pocket, protein too large, ...).
    #[error("{context}: {message}")]
    Invalid {
        /// What was being processed.
        context: String,
        /// Why it cannot be used.
        message: String,
    },
    /// A network, tensor or checkpoint problem.
    #[error("model: {0}")]
    Model(String),
}

impl Error {
    /// Builds a parse error for `path` at an optional 1-based `line`.
    pub fn parse(path: impl Into<PathBuf>, line: Option<usize>, message: impl Into<String>) -> Self {
        Error::Parse { path: path.into(), line, message: message.into() }
    }

    /// Builds an I/O error for `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }

    /// Builds a chemistry error for the molecule from `path`.
    pub fn chemistry(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Chemistry { path: path.into(), message: message.into() }
    }

    /// Builds an invalid-input error.
    pub fn invalid(context: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid { context: context.into(), message: message.into() }
    }
}

impl From<tch::TchError> for Error {
    fn from(e: tch::TchError) -> Self {
        Error::Model(e.to_string())
    }
}
