//! The command line's grammar (clap derive). The names and flags of the
//! commands are a contract (issue 7): add to them, do not rename.

pub use crate::missing_args::{ImputeCmd, MissingArgs};
pub use mixtures_dist::Family;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Mixture models and anomaly detection on CSV, Parquet and Arrow IPC files.
///
/// Data files are CSV with a header row, or Parquet (.parquet) or Arrow IPC
/// (.arrow, .ipc, .feather) files; every column except the label column is
/// a feature unless --columns picks some. Model files are the JSON format of
/// docs/model-format.md; a detector file is a model file with a threshold.
#[derive(Debug, Parser)]
#[command(name = "mixtures", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// Options every command takes.
    #[command(flatten)]
    pub global: GlobalArgs,
}

/// Options every command takes.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Print load, fit and score seconds to stderr.
    #[arg(long, global = true)]
    pub timings: bool,
    /// No progress output or notes on stderr (results and errors still print).
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Print results as one JSON object instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Write model and detector files as indented JSON, for people (they are
    /// compact by default).
    #[arg(long, global = true)]
    pub pretty: bool,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Fit a mixture model to a data file (or several, out of core) and write
    /// the model file.
    Fit(FitCmd),
    /// Score every row of a data file under a model (or detector) file.
    Score(ScoreCmd),
    /// Fit a model and an anomaly threshold; write the detector file.
    Detect(DetectCmd),
    /// Precision, recall, F1, ROC AUC, average precision and the confusion
    /// matrix of a model or detector on labelled data.
    Evaluate(EvaluateCmd),
    /// Fit a grid of models (numbers of components x covariance structures) and
    /// pick the best by an information criterion.
    Select(SelectCmd),
    /// Run the whole path on built-in synthetic data and write plots.
    Demo(DemoCmd),
    /// Per-feature contributions to the anomaly score of chosen rows: which
    /// features make a row anomalous.
    Explain(ExplainCmd),
    /// Fill the missing cells of a data file under a Gaussian model: the
    /// conditional mean of each, or draws for multiple imputation.
    Impute(ImputeCmd),
    /// Write a model or detector as code for devices: a Rust source file for
    /// the no_std `mixtures-score` crate, a C99 header, or the precomputed
    /// arrays as compact JSON (docs/embedded.md).
    Export(ExportCmd),
    /// DAGMM, the deep autoencoding Gaussian mixture model, and its variants
    /// (a build with the `deep` feature).
    #[cfg(feature = "deep")]
    #[command(subcommand)]
    Deep(crate::deep::DeepCmd),
}

/// Floating-point precision of the computation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Precision {
    /// Single precision: half the memory, faster on wide data.
    F32,
    /// Double precision (the default).
    F64,
}

/// Options of reading a data file (the CSV ones apply to CSV files only).
#[derive(Debug, Clone, Args)]
pub struct DataArgs {
    /// Feature columns by name, comma separated (default: every column but the
    /// label column).
    #[arg(long, value_delimiter = ',', value_name = "A,B,C")]
    pub columns: Option<Vec<String>>,
    /// A column of labels (0 normal, 1 anomaly), never used as a feature.
    #[arg(long, value_name = "NAME")]
    pub label_column: Option<String>,
    /// The file's format.
    #[command(flatten)]
    pub csv: CsvFormat,
}

/// How a CSV file is laid out.
#[derive(Debug, Clone, Copy, Args)]
pub struct CsvFormat {
    /// Field delimiter of the CSV file (one ASCII character; `\t` for tab).
    #[arg(long, default_value = ",", value_parser = parse_delimiter)]
    pub delimiter: u8,
    /// The file has no header row: the first row is data, and the columns
    /// are named f0, f1, ... (for --columns, and in the model file).
    #[arg(long)]
    pub no_header: bool,
}

/// Options of a model fit (shared by fit and detect).
#[derive(Debug, Clone, Args)]
pub struct FitArgs {
    /// Number of components. Without it, the model is chosen automatically:
    /// `fit` compares 1..=--max-components and the covariance structures by
    /// BIC; `detect` (without --covariance, --init or --family laplace) fits
    /// the library's default detector (`Detector::auto()`: standardized
    /// features, a shared covariance, BIC, small components dropped).
    #[arg(short = 'k', long)]
    pub components: Option<usize>,
    /// Covariance structure: full, diag, spherical, tied, tied-diag,
    /// tied-spherical, or an mclust name (VVV, VVI, VII, EEE, EEI, EII). Laplace
    /// mixtures take diag or spherical.
    #[arg(long, value_parser = parse_covariance)]
    pub covariance: Option<String>,
    /// Component family: gaussian, laplace (heavier tails), or student-t
    /// (multivariate t, degrees of freedom fitted per component).
    #[arg(long, value_parser = parse_family())]
    pub family: Option<Family>,
    /// Trimming and a noise component.
    #[command(flatten)]
    pub robust: RobustArgs,
    /// Seed of every random choice; the same seed gives the same model.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Restarts from different initializations; the best is kept
    /// [default: 1]. Not taken with --init (a warm start is one start).
    #[arg(long)]
    pub n_init: Option<usize>,
    /// Most EM iterations per restart [default: 100]. Not taken by the
    /// default detector.
    #[arg(long)]
    pub max_iter: Option<usize>,
    /// Convergence threshold on the change of the mean log-likelihood
    /// [default: 0.001]. Not taken by the default detector.
    #[arg(long, allow_negative_numbers = true)]
    pub tol: Option<f64>,
    /// Added to every variance after each M-step (Gaussian) [default: 1e-6].
    /// Not taken by the default detector, whose ridge is a tenth of each
    /// feature's variance.
    #[arg(long, allow_negative_numbers = true)]
    pub reg_covar: Option<f64>,
    /// Start from this model file (a warm start; also how a scikit-learn model
    /// written in the documented format is brought across).
    #[arg(long, value_name = "MODEL.json")]
    pub init: Option<PathBuf>,
    /// Largest number of components tried when --components is not given
    /// [default: 8 for fit; for the default detector 24, of which it tries
    /// 1, 2, 3, 4, 6, 8, 12, 16, 24].
    #[arg(long)]
    pub max_components: Option<usize>,
    /// When the model is chosen automatically, its candidates are fitted on
    /// at most this many rows (a seeded sample) and the chosen one is then
    /// refitted on every row from there [default: 100000]; 0 fits every
    /// candidate on every row. Not with --components or --init.
    #[arg(long, value_name = "N")]
    pub search_rows: Option<usize>,
    /// Floating-point precision of the fit.
    #[arg(long, value_enum, default_value_t = Precision::F64)]
    pub precision: Precision,
}

/// The robust options of an EM fit, for `fit`, `detect` and `select` (not
/// taken by the default detector or `--method mcd`, which set their own
/// model).
#[derive(Debug, Clone, Default, Args)]
pub struct RobustArgs {
    /// Trimmed likelihood EM: leave the least likely rows, this fraction of
    /// them, out of every iteration, so that contamination does not shape
    /// the model; in [0, 0.5) [default: 0].
    #[arg(long, allow_negative_numbers = true, value_name = "FRACTION")]
    pub trim: Option<f64>,
    /// Add a uniform noise component over the data's bounding box (mclust's
    /// noise): points it claims get the label K (one past the last
    /// component) from score.
    #[arg(long)]
    pub noise: bool,
    /// The noise component's volume (the bounding box widened about its
    /// centre to it) instead of the bounding box's; implies --noise.
    #[arg(long, allow_negative_numbers = true, value_name = "V")]
    pub noise_volume: Option<f64>,
}

impl RobustArgs {
    /// Each robust flag by name and whether it was given (for commands
    /// that take none of them).
    pub fn flags(&self) -> [(&'static str, bool); 3] {
        [
            ("--trim", self.trim.is_some()),
            ("--noise", self.noise),
            ("--noise-volume", self.noise_volume.is_some()),
        ]
    }

    /// `control` with these settings.
    pub fn apply(&self, control: mixtures_em::EmControl) -> mixtures_em::EmControl {
        mixtures_em::EmControl {
            trim: self.trim.unwrap_or(control.trim),
            noise: (self.noise || self.noise_volume.is_some())
                .then(|| match self.noise_volume {
                    Some(v) => mixtures_em::Noise::volume(v),
                    None => mixtures_em::Noise::bounding_box(),
                })
                .or(control.noise),
            ..control
        }
    }
}

/// `mixtures fit`.
#[derive(Debug, Clone, Args)]
pub struct FitCmd {
    /// The training data: CSV, Parquet (.parquet) or Arrow IPC (.arrow,
    /// .ipc, .feather) files. Several files, a directory or a quoted glob
    /// ('data/part-*.parquet') are read as one table, out of core (as with
    /// --chunk-rows); every file must have the first one's columns.
    #[arg(value_name = "DATA", required = true, num_args = 1..)]
    pub data: Vec<PathBuf>,
    /// Read the rows out of core, N rows at a time, once per EM iteration,
    /// never all in memory (for data larger than memory): Gaussian mixtures;
    /// without --components the candidates are fitted on the --search-rows
    /// sample and the chosen one refitted on every row [default with
    /// several files: 65536].
    #[arg(long, value_name = "N")]
    pub chunk_rows: Option<usize>,
    /// Where to write the model file.
    #[arg(short, long, value_name = "MODEL.json")]
    pub output: PathBuf,
    /// Fit options.
    #[command(flatten)]
    pub fit: FitArgs,
    /// CSV options.
    #[command(flatten)]
    pub input: DataArgs,
    /// Write plots, each as SVG and PNG (lower bound per iteration; a scatter
    /// of two features with the component ellipses) into this directory.
    #[arg(long, value_name = "DIR")]
    pub plot: Option<PathBuf>,
    /// The two features of the scatter plot, by name (default: the first
    /// two features).
    #[arg(long, value_name = "A,B", value_delimiter = ',', requires = "plot")]
    pub plot_features: Option<Vec<String>>,
    /// The variational (Bayesian) fit and its priors.
    #[command(flatten)]
    pub variational: VariationalArgs,
    /// Missing values.
    #[command(flatten)]
    pub missing: MissingArgs,
}

/// `fit --variational`: a variational Bayesian Gaussian mixture
/// (scikit-learn's `BayesianGaussianMixture`; the prior flags carry its
/// parameter names).
#[derive(Debug, Clone, Args)]
pub struct VariationalArgs {
    /// Fit a variational Bayesian Gaussian mixture with at most
    /// --components components [default 8]; those the data do not need end
    /// with almost no weight and are dropped from the model file (see
    /// --keep-all-components).
    #[arg(long)]
    pub variational: bool,
    /// The prior on the weights: a Dirichlet process (stick-breaking, the
    /// default) or a Dirichlet distribution.
    #[arg(long, value_enum, requires = "variational", value_name = "TYPE")]
    pub weight_concentration_prior_type: Option<WeightPriorArg>,
    /// The weight concentration (α₀ or γ) [default: 1/K]; smaller values
    /// favour fewer components. Positive.
    #[arg(
        long,
        requires = "variational",
        value_name = "C",
        allow_negative_numbers = true
    )]
    pub weight_concentration_prior: Option<f64>,
    /// The precision β₀ of the prior on the means [default: 1]. Positive.
    #[arg(
        long,
        requires = "variational",
        value_name = "B",
        allow_negative_numbers = true
    )]
    pub mean_precision_prior: Option<f64>,
    /// The prior on the means, one value per feature [default: the data
    /// mean].
    #[arg(
        long,
        requires = "variational",
        value_delimiter = ',',
        value_name = "M1,M2,...",
        allow_negative_numbers = true
    )]
    pub mean_prior: Option<Vec<f64>>,
    /// The degrees of freedom ν₀ of the Wishart prior [default: the number
    /// of features]; must exceed the number of features minus one.
    #[arg(
        long,
        requires = "variational",
        value_name = "NU",
        allow_negative_numbers = true
    )]
    pub degrees_of_freedom_prior: Option<f64>,
    /// Expected weight below which a component counts as empty [default:
    /// 0.01]; in [0, 1).
    #[arg(
        long,
        requires = "variational",
        value_name = "W",
        allow_negative_numbers = true
    )]
    pub weight_threshold: Option<f64>,
    /// Write every component to the model file, the empty ones too (by
    /// default those below --weight-threshold are dropped and the weights of
    /// the others rescaled to sum to one).
    #[arg(long, requires = "variational")]
    pub keep_all_components: bool,
}

/// The prior on the weights of a variational fit (scikit-learn's
/// `weight_concentration_prior_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WeightPriorArg {
    /// A truncated Dirichlet process (stick-breaking).
    #[value(alias = "dirichlet_process")]
    DirichletProcess,
    /// A symmetric Dirichlet distribution.
    #[value(alias = "dirichlet_distribution")]
    DirichletDistribution,
}

/// What `mixtures export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// A Rust source file: `static` arrays and a `SCORER` for mixtures-score.
    Rust,
    /// One C99 header: no allocation, reentrant, `<math.h>` only.
    C,
    /// The precomputed arrays as one compact JSON object.
    JsonCompact,
}

/// `mixtures export`.
#[derive(Debug, Clone, Args)]
pub struct ExportCmd {
    /// A model or detector file (a detector's threshold is exported too).
    #[arg(value_name = "MODEL.json")]
    pub model: PathBuf,
    /// What to write.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub to: ExportFormat,
    /// Where to write it (default: standard output).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Precision of the exported arrays, `float` or `double` in C (default:
    /// the model file's dtype, else f64). A model that does not fit f32 is
    /// refused with the parameter named.
    #[arg(long, value_enum)]
    pub precision: Option<Precision>,
    /// Prefix of the C header's names: PREFIX_log_prob, PREFIX_DIM, ...
    #[arg(long, default_value = "mixtures", value_name = "NAME")]
    pub prefix: String,
}

/// `mixtures explain`.
#[derive(Debug, Clone, Args)]
#[command(group(clap::ArgGroup::new("which").required(true).multiple(true).args(["rows", "top"])))]
pub struct ExplainCmd {
    /// A model or detector file.
    #[arg(value_name = "MODEL.json")]
    pub model: PathBuf,
    /// The data; the model's feature columns are read by name.
    #[arg(value_name = "DATA")]
    pub data: PathBuf,
    /// Rows to explain, by index: 0 is the first row after the header (the
    /// order of `score`'s output).
    #[arg(long, value_delimiter = ',', value_name = "I,J,...")]
    pub rows: Option<Vec<usize>>,
    /// Explain the N rows with the highest anomaly scores (with --rows: those
    /// rows, then these).
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,
    /// Features listed per row, largest contribution first [default: all].
    #[arg(long, value_name = "N")]
    pub top_features: Option<usize>,
    /// The data file's format.
    #[command(flatten)]
    pub csv: CsvFormat,
    /// Precision of the computation (default: the model file's dtype).
    #[arg(long, value_enum)]
    pub precision: Option<Precision>,
    /// Missing values: with --missing rows are ranked by the model's tail
    /// score and explained on their observed features (the contributions
    /// to -ln p(x_o) under the marginal mixture of those features).
    #[command(flatten)]
    pub missing: MissingArgs,
}

/// `mixtures score`.
#[derive(Debug, Clone, Args)]
pub struct ScoreCmd {
    /// A model or detector file.
    #[arg(value_name = "MODEL.json")]
    pub model: PathBuf,
    /// The data to score; the model's feature columns are read by name.
    #[arg(value_name = "DATA")]
    pub data: PathBuf,
    /// Where to write the scores (default: standard output).
    #[arg(short, long, value_name = "SCORES.csv")]
    pub output: Option<PathBuf>,
    /// The data file's format.
    #[command(flatten)]
    pub csv: CsvFormat,
    /// Input columns copied, as text, to the front of every output row (an
    /// id, the labels, anything), comma separated.
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    pub keep_columns: Vec<String>,
    /// Precision of the computation (default: the model file's dtype).
    #[arg(long, value_enum)]
    pub precision: Option<Precision>,
    /// Missing values (then the columns are log_likelihood of the observed
    /// features, anomaly_score the tail score, component, n_observed).
    #[command(flatten)]
    pub missing: MissingArgs,
}

/// `mixtures detect`.
#[derive(Debug, Clone, Args)]
pub struct DetectCmd {
    /// The training data.
    #[arg(value_name = "DATA")]
    pub data: PathBuf,
    /// Where to write the detector file.
    #[arg(short, long, value_name = "DETECTOR.json")]
    pub output: PathBuf,
    /// Expected fraction of anomalies in the training data: a robust fit that
    /// leaves out that fraction, and the threshold at that quantile of the
    /// scores.
    #[arg(long, value_name = "Q", group = "rule", allow_negative_numbers = true)]
    pub contamination: Option<f64>,
    /// A fixed threshold on the anomaly score (-ln p(x); with --missing the
    /// tail score).
    #[arg(long, value_name = "T", group = "rule", allow_negative_numbers = true)]
    pub threshold: Option<f64>,
    /// The threshold with the best F1 on the labels of --label-column.
    #[arg(long, group = "rule", requires = "label_column")]
    pub best_f1: bool,
    /// The model: a mixture fitted by EM (the default), or `mcd`, one
    /// Gaussian with the robust location and covariance of the minimum
    /// covariance determinant (scikit-learn's EllipticEnvelope), which takes
    /// --seed and --support-fraction.
    #[arg(long, value_enum, default_value_t = Method::Mixture)]
    pub method: Method,
    /// With --method mcd: the fraction of rows in the subset whose
    /// covariance has the smallest determinant, in (0.5, 1] [default:
    /// (n + d + 1) / 2n].
    #[arg(
        long,
        value_name = "F",
        requires = "method",
        allow_negative_numbers = true
    )]
    pub support_fraction: Option<f64>,
    /// With --method mcd: random starts of each kind (small (d + 1)-subsets
    /// and whole h-subsets), from 1 to 100000 [default: 500].
    #[arg(long, value_name = "N", requires = "method")]
    pub mcd_trials: Option<usize>,
    /// Fit options.
    #[command(flatten)]
    pub fit: FitArgs,
    /// CSV options.
    #[command(flatten)]
    pub input: DataArgs,
    /// Write plots, each as SVG and PNG (score histogram with the threshold;
    /// a scatter of two features with the ellipses and the flagged points;
    /// with labels, ROC and precision-recall curves).
    #[arg(long, value_name = "DIR")]
    pub plot: Option<PathBuf>,
    /// The two features of the scatter plot, by name (default: the first
    /// two features).
    #[arg(long, value_name = "A,B", value_delimiter = ',', requires = "plot")]
    pub plot_features: Option<Vec<String>>,
    /// Missing values: with --missing the model is fitted on the observed
    /// data (one component unless --components or --init fix it or
    /// --max-components asks BIC to choose) and rows are scored by the
    /// mixture's tail score, comparable whatever features a row observes;
    /// the detector file records that score.
    #[command(flatten)]
    pub missing: MissingArgs,
}

/// The model of `detect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Method {
    /// A mixture fitted by EM (or the default detector).
    Mixture,
    /// The minimum covariance determinant: one robust Gaussian.
    Mcd,
}

/// `mixtures evaluate`.
#[derive(Debug, Clone, Args)]
pub struct EvaluateCmd {
    /// A model or detector file.
    #[arg(value_name = "MODEL_OR_DETECTOR.json")]
    pub model: PathBuf,
    /// Labelled data.
    #[arg(value_name = "DATA")]
    pub data: PathBuf,
    /// The column of labels (0 normal, 1 anomaly).
    #[arg(long, value_name = "NAME")]
    pub label_column: String,
    /// Threshold to judge at (default: the detector file's; for a plain model,
    /// the threshold with the best F1 on these labels).
    #[arg(long, value_name = "T", allow_negative_numbers = true)]
    pub threshold: Option<f64>,
    /// The data file's format.
    #[command(flatten)]
    pub csv: CsvFormat,
    /// Precision of the computation (default: the model file's dtype).
    #[arg(long, value_enum)]
    pub precision: Option<Precision>,
    /// Write plots, each as SVG and PNG (ROC and precision-recall curves,
    /// score histogram).
    #[arg(long, value_name = "DIR")]
    pub plot: Option<PathBuf>,
    /// Missing values: with --missing every row is scored by the model's tail
    /// score (comparable whatever features a row observes); the threshold is
    /// the detector file's when it is on tail scores (`detect --missing`),
    /// else the best F1 on the labels.
    #[command(flatten)]
    pub missing: MissingArgs,
}

/// `mixtures select`.
#[derive(Debug, Clone, Args)]
pub struct SelectCmd {
    /// The data.
    #[arg(value_name = "DATA")]
    pub data: PathBuf,
    /// Numbers of components to try: `1..10` (inclusive), `2..=6`, `3` or
    /// `1,2,4`.
    #[arg(short = 'k', long, default_value = "1..8", value_parser = parse_components)]
    pub components: ComponentRange,
    /// Covariance structures, comma separated: names as for fit, `sklearn`
    /// (full, tied, diag, spherical; the default) or `all` (the six mclust
    /// structures). Laplace: diag, spherical or all.
    #[arg(long, default_value = "sklearn")]
    pub covariance: String,
    /// Component family: gaussian, laplace (heavier tails), or student-t.
    #[arg(long, default_value = "gaussian", value_parser = parse_family())]
    pub family: Family,
    /// The criterion that picks the best model (lower is better).
    #[arg(long, value_enum, default_value_t = CriterionArg::Bic)]
    pub criterion: CriterionArg,
    /// Restarts per cell.
    #[arg(long, default_value_t = mixtures_em::DEFAULT_N_INIT)]
    pub n_init: usize,
    /// Most EM iterations per restart.
    #[arg(long, default_value_t = mixtures_em::DEFAULT_MAX_ITER)]
    pub max_iter: usize,
    /// Convergence threshold.
    #[arg(long, default_value_t = mixtures_em::DEFAULT_TOL, allow_negative_numbers = true)]
    pub tol: f64,
    /// Added to every variance (Gaussian and Student-t) [default: 1e-6].
    #[arg(long, allow_negative_numbers = true)]
    pub reg_covar: Option<f64>,
    /// Seed of the grid; each cell's seed is derived from it.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Trimming and a noise component, for every cell.
    #[command(flatten)]
    pub robust: RobustArgs,
    /// Floating-point precision.
    #[arg(long, value_enum, default_value_t = Precision::F64)]
    pub precision: Precision,
    /// Write the chosen model to this file.
    #[arg(short, long, value_name = "MODEL.json")]
    pub output: Option<PathBuf>,
    /// CSV options.
    #[command(flatten)]
    pub input: DataArgs,
    /// Write a plot of the criterion against k per structure (SVG and PNG).
    #[arg(long, value_name = "DIR")]
    pub plot: Option<PathBuf>,
    /// Missing values: with --missing every candidate is fitted by EM on the
    /// observed data and judged by the criterion on the observed-data
    /// likelihood.
    #[command(flatten)]
    pub missing: MissingArgs,
}

/// An information criterion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CriterionArg {
    /// Bayesian information criterion.
    Bic,
    /// Akaike information criterion.
    Aic,
    /// Integrated completed likelihood (BIC plus the classification entropy).
    Icl,
}

/// `mixtures demo`.
#[derive(Debug, Clone, Args)]
pub struct DemoCmd {
    /// Directory for the plots, the data and the detector file.
    #[arg(short, long, value_name = "DIR", default_value = "mixtures-demo")]
    pub output: PathBuf,
    /// Seed of the synthetic data and of the fits.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Training rows (the test set has half as many).
    #[arg(long, default_value_t = 4000)]
    pub samples: usize,
}

/// Numbers of components: a range (kept as its ends, so that an absurd one
/// costs nothing before the data are read) or a list, ascending, without
/// duplicates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComponentRange {
    /// Every number from the first to the second, inclusive.
    Range(usize, usize),
    /// These numbers.
    List(Vec<usize>),
}

impl ComponentRange {
    /// The numbers, refused when the largest exceeds `rows` (a mixture has at
    /// most one component per row).
    ///
    /// # Errors
    /// A sentence for `-k`, naming the number of rows.
    pub fn values(&self, rows: usize) -> Result<Vec<usize>, String> {
        let largest = match self {
            Self::Range(_, b) => *b,
            Self::List(ks) => ks.last().copied().unwrap_or(0),
        };
        if largest > rows {
            return Err(format!(
                "--components asks for up to {largest} components, but the data have {rows} \
                 rows (at most one component per row)"
            ));
        }
        Ok(match self {
            Self::Range(a, b) => (*a..=*b).collect(),
            Self::List(ks) => ks.clone(),
        })
    }
}

fn parse_components(s: &str) -> Result<ComponentRange, String> {
    let num = |t: &str| {
        t.trim()
            .parse::<usize>()
            .map_err(|_| format!("{t:?} is not a number of components"))
    };
    let range = if let Some((a, b)) = s.split_once("..") {
        let (a, b) = (num(a)?, num(b.trim_start_matches('='))?);
        if a > b {
            return Err(format!("empty range {s:?}: {a} > {b}"));
        }
        if a == 0 {
            return Err("a mixture needs at least 1 component".to_owned());
        }
        ComponentRange::Range(a, b)
    } else {
        let mut ks = s.split(',').map(num).collect::<Result<Vec<_>, _>>()?;
        if ks.contains(&0) {
            return Err("a mixture needs at least 1 component".to_owned());
        }
        ks.sort_unstable();
        ks.dedup();
        ComponentRange::List(ks)
    };
    Ok(range)
}

fn parse_delimiter(s: &str) -> Result<u8, String> {
    match s {
        "\\t" | "tab" | "\t" => Ok(b'\t'),
        _ if s.len() == 1 && s.is_ascii() => Ok(s.as_bytes()[0]),
        _ => Err(format!("{s:?} is not one ASCII character")),
    }
}

/// Accepts every name mixtures-em knows (checked again against the family when
/// the command runs).
/// The families' names, as the library spells them.
fn parse_family() -> impl clap::builder::TypedValueParser<Value = Family> {
    clap::builder::TypedValueParser::try_map(
        clap::builder::PossibleValuesParser::new(Family::ALL.map(Family::as_str)),
        |s| s.parse::<Family>(),
    )
}

fn parse_covariance(s: &str) -> Result<String, String> {
    s.parse::<mixtures_em::Covariance>()
        .map(|_| s.to_owned())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn component_ranges() {
        let values = |s: &str| parse_components(s).unwrap().values(100).unwrap();
        assert_eq!(values("1..4"), [1, 2, 3, 4]);
        assert_eq!(values("2..=3"), [2, 3]);
        assert_eq!(values("4,1,4"), [1, 4]);
        // An absurd range is kept as its ends, and refused against the rows.
        let huge = parse_components("1..18446744073709551615").unwrap();
        assert!(huge.values(1000).unwrap_err().contains("1000 rows"));
        assert!(parse_components("0..3").is_err());
        assert!(parse_components("5..2").is_err());
        assert!(parse_components("x").is_err());
    }

    #[test]
    fn delimiters() {
        assert_eq!(parse_delimiter(";").unwrap(), b';');
        assert_eq!(parse_delimiter("\\t").unwrap(), b'\t');
        assert!(parse_delimiter("ab").is_err());
    }

    #[test]
    fn grammar_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
