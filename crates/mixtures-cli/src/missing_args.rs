//! The command line's grammar for missing values (issue 22): `--missing` and
//! `--missing-tokens` on `fit`, `score`, `detect`, `evaluate`, `explain` and
//! `select`, and `mixtures impute`. Kept out of `cli.rs`, which is long
//! enough.

use std::path::PathBuf;

use clap::Args;

use crate::cli::{CsvFormat, Precision};
use crate::input::DEFAULT_MISSING_TOKENS;

/// Reading missing values.
#[derive(Debug, Clone, Default, Args)]
pub struct MissingArgs {
    /// Read empty feature cells, and cells that are one of --missing-tokens,
    /// as missing values in a CSV file; nulls and NaN values in the feature
    /// columns of a Parquet or Arrow IPC file (a label must still be 0 or
    /// 1). `fit` then fits the mixture by EM on the observed data; `score`
    /// writes the log-density of each row's observed features and an anomaly
    /// score comparable across rows with different numbers of observed
    /// features (the tail score, which `detect` thresholds). Without it,
    /// such a cell (or null) is an error.
    #[arg(long)]
    pub missing: bool,
    /// The texts of a missing cell besides an empty one, comma separated,
    /// matched exactly after trimming spaces [default: NA,NaN,nan]. CSV
    /// files only: in Parquet and Arrow IPC files nulls and NaN are missing.
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "A,B,...",
        requires = "missing"
    )]
    pub missing_tokens: Option<Vec<String>>,
}

impl MissingArgs {
    /// The tokens of a missing cell when `--missing` was given.
    pub fn tokens(&self) -> Option<Vec<String>> {
        self.missing
            .then(|| tokens_or_default(self.missing_tokens.as_deref()))
    }
}

/// `tokens`, or the default ones.
pub fn tokens_or_default(tokens: Option<&[String]>) -> Vec<String> {
    tokens.map_or_else(
        || DEFAULT_MISSING_TOKENS.map(str::to_owned).to_vec(),
        <[String]>::to_vec,
    )
}

/// `mixtures impute`.
#[derive(Debug, Clone, Args)]
pub struct ImputeCmd {
    /// A Gaussian model (or detector) file.
    #[arg(value_name = "MODEL.json")]
    pub model: PathBuf,
    /// The data, a CSV file whose empty cells (and --missing-tokens) are the
    /// missing values, or a Parquet or Arrow IPC file (by its extension)
    /// whose nulls and NaN values are; the model's feature columns are read
    /// by name. The output is CSV either way.
    #[arg(value_name = "DATA.csv")]
    pub data: PathBuf,
    /// Where to write the filled data (default: standard output): the
    /// --keep-columns, then the model's features; observed cells as read,
    /// missing ones replaced.
    #[arg(short, long, value_name = "FILLED.csv")]
    pub output: Option<PathBuf>,
    /// Multiple imputation: N draws from each row's conditional
    /// distribution, stacked in one file with a first column `draw` (0 to
    /// N-1; every row of the data once per draw, in order). Without it: the
    /// conditional mean.
    #[arg(long, value_name = "N")]
    pub draws: Option<usize>,
    /// Seed of the draws.
    #[arg(long, default_value_t = 0, requires = "draws")]
    pub seed: u64,
    /// The texts of a missing cell besides an empty one, comma separated
    /// [default: NA,NaN,nan] (CSV files; in Parquet and Arrow IPC files
    /// nulls and NaN are missing).
    #[arg(long, value_delimiter = ',', value_name = "A,B,...")]
    pub missing_tokens: Option<Vec<String>>,
    /// Input columns copied, as text, to the front of every output row.
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    pub keep_columns: Vec<String>,
    /// The data file's format.
    #[command(flatten)]
    pub csv: CsvFormat,
    /// Precision of the computation (default: the model file's dtype).
    #[arg(long, value_enum)]
    pub precision: Option<Precision>,
}
