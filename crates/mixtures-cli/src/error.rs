//! The command line's errors and their exit codes.
//!
//! Exit code 2 means the user can fix it (bad usage, a bad file, a parameter
//! out of range, data the model cannot be fitted to as asked); exit code 1 is
//! anything else (a fit that degenerated, a file that cannot be written, an
//! internal error). Every message names what it is about: the file, and for a
//! CSV cell the line and the column.

use mixtures_anomaly::AnomalyError;
use mixtures_core::DataError;
use mixtures_core::source::SourceError;
use mixtures_dist::ModelError;
use mixtures_em::FitError;
use mixtures_select::SelectError;
use thiserror::Error;

/// Why a command failed.
#[derive(Debug, Error)]
pub enum CliError {
    /// Flags that do not fit together, or a value clap could not check.
    #[error("{0}")]
    Usage(String),
    /// An input file that cannot be read or is malformed; the message names
    /// the line and column where there is one.
    #[error("{path}: {message}")]
    Input {
        /// The file.
        path: String,
        /// What is wrong, and where.
        message: String,
    },
    /// A model or detector file that cannot be read or is invalid.
    #[error("{path}: {source}")]
    Model {
        /// The file.
        path: String,
        /// What the model reader said.
        #[source]
        source: ModelError,
    },
    /// Data rejected by a library crate (reported for a whole file).
    #[error("{path}: {source}")]
    Data {
        /// The file the data came from.
        path: String,
        /// What was wrong.
        #[source]
        source: DataError,
    },
    /// Rows that could not be read from a file (Parquet, Arrow IPC, or CSV
    /// read in chunks); the message names the file and, where there is one,
    /// the row.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// A fit that could not start or produced nothing.
    #[error(transparent)]
    Fit(#[from] FitError),
    /// A model selection that could not start or produced nothing.
    #[error(transparent)]
    Select(#[from] SelectError),
    /// Scoring, thresholds, detectors and metrics.
    #[error(transparent)]
    Anomaly(#[from] AnomalyError),
    /// A model or detector that cannot be exported as asked (it does not
    /// fit the precision); the message names the parameter.
    #[error("{path}: {source}")]
    Export {
        /// The model file.
        path: String,
        /// What the exporter said (boxed: it holds a model error, and every
        /// `Result` of the command line carries this type).
        #[source]
        source: Box<mixtures_anomaly::export::ExportError>,
    },
    /// An output file or directory that cannot be written.
    #[error("cannot write {path}: {message}")]
    Output {
        /// The file or directory.
        path: String,
        /// What the system (or the plotting library) said.
        message: String,
    },
    /// DAGMM: settings, data, files and training (the `deep` feature).
    #[cfg(feature = "deep")]
    #[error(transparent)]
    Deep(#[from] mixtures_deep::DeepError),
    /// Standard output closed early (`mixtures score ... | head`): not a
    /// failure, the command stops quietly.
    #[error("standard output closed")]
    BrokenPipe,
}

/// Exit code of a usage or input error.
pub const EXIT_USAGE: u8 = 2;
/// Exit code of any other failure.
pub const EXIT_FAILURE: u8 = 1;

impl CliError {
    /// The process exit code for this error (0 for a closed standard output).
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Usage(_)
            | Self::Input { .. }
            | Self::Model { .. }
            | Self::Data { .. }
            | Self::Export { .. } => EXIT_USAGE,
            Self::Source(e) => source_code(e),
            Self::Fit(e) => fit_code(e),
            Self::Select(e) => select_code(e),
            Self::Anomaly(e) => anomaly_code(e),
            Self::Output { .. } => EXIT_FAILURE,
            #[cfg(feature = "deep")]
            Self::Deep(e) => deep_code(e),
            Self::BrokenPipe => 0,
        }
    }

    /// An input error about `path` (`-` is called standard input).
    pub fn input(path: &std::path::Path, message: impl Into<String>) -> Self {
        Self::Input {
            path: source_name(path),
            message: message.into(),
        }
    }

    /// A write error about `path`.
    pub fn output(path: &std::path::Path, message: impl ToString) -> Self {
        Self::Output {
            path: path.display().to_string(),
            message: message.to_string(),
        }
    }

    /// A model or detector file that could not be saved to `path`.
    pub fn save(path: &std::path::Path, source: ModelError) -> Self {
        match source {
            ModelError::Io { message, .. } => Self::output(path, message),
            other => Self::output(path, other),
        }
    }

    /// A model-file error about `path`. The library's I/O error already names
    /// the path, so it is not repeated.
    pub fn model(path: &std::path::Path, source: ModelError) -> Self {
        match source {
            ModelError::Io { path, message } => Self::Input {
                path,
                message: format!("cannot read: {message}"),
            },
            source => Self::Model {
                path: path.display().to_string(),
                source,
            },
        }
    }
}

/// Bad settings, data and files are the user's to mend (2); a diverged
/// training, a failed write or a backend failure is 1.
#[cfg(feature = "deep")]
fn deep_code(e: &mixtures_deep::DeepError) -> u8 {
    use mixtures_deep::DeepError as E;
    match e {
        E::InvalidConfig { .. }
        | E::Data(_)
        | E::OutOfRange { .. }
        | E::Incompatible(_)
        | E::Format { .. } => EXIT_USAGE,
        E::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => EXIT_USAGE,
        _ => EXIT_FAILURE,
    }
}

/// What messages call an input: its path, or "standard input" for `-`.
pub fn source_name(path: &std::path::Path) -> String {
    if crate::input::is_stdin(path) {
        "standard input".to_owned()
    } else {
        path.display().to_string()
    }
}

/// A file that cannot be read, has other columns or bad values, or changed
/// while it was read is the user's to mend; a consumer's own failure carried
/// through a source is not.
fn source_code(e: &SourceError) -> u8 {
    match e {
        SourceError::Consumer(_) => EXIT_FAILURE,
        _ => EXIT_USAGE,
    }
}

/// Parameters out of range and data that do not allow the fit asked for are
/// the user's to fix; a fit that degenerated is not.
fn fit_code(e: &FitError) -> u8 {
    match e {
        FitError::Data(_)
        | FitError::Model(_)
        | FitError::InvalidParameter { .. }
        | FitError::TooFewDistinctPoints { .. }
        | FitError::DataScale { .. }
        | FitError::Precision { .. }
        | FitError::WarmStartDimension { .. }
        | FitError::InvalidPrior { .. }
        | FitError::CovariancePriorNotPositiveDefinite { .. }
        | FitError::ResponsibilitiesShape { .. }
        | FitError::InvalidResponsibility { .. }
        | FitError::NeedsRowsInMemory { .. } => EXIT_USAGE,
        FitError::Source(s) => source_code(s),
        _ => EXIT_FAILURE,
    }
}

fn select_code(e: &SelectError) -> u8 {
    match e {
        SelectError::Fit(f) => fit_code(f),
        SelectError::AllCellsFailed { .. } => EXIT_FAILURE,
        _ => EXIT_USAGE,
    }
}

fn anomaly_code(e: &AnomalyError) -> u8 {
    match e {
        AnomalyError::Fit(f) => fit_code(f),
        AnomalyError::Data(_)
        | AnomalyError::Model(_)
        | AnomalyError::LabelsLength { .. }
        | AnomalyError::InvalidLabel { .. }
        | AnomalyError::LabelsRequired { .. }
        | AnomalyError::NoAnomalies { .. }
        | AnomalyError::NoNormals { .. }
        | AnomalyError::InvalidParameter { .. } => EXIT_USAGE,
        _ => EXIT_FAILURE,
    }
}

/// A `std::io::Error` on standard output: a closed pipe is a quiet stop.
pub fn stdout_error(e: &std::io::Error) -> CliError {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        CliError::BrokenPipe
    } else {
        CliError::Output {
            path: "standard output".to_owned(),
            message: e.to_string(),
        }
    }
}
