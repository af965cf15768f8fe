//! `mixtures score MODEL.json DATA.csv [-o SCORES.csv]`: one output row per
//! input row, in order: the columns of `--keep-columns`, then
//! `log_likelihood,anomaly_score,component`, and `is_anomaly` when the model
//! file is a detector.
//!
//! Rows are read, scored and written in chunks of [`CHUNK_ROWS`], so memory
//! does not grow with the file: a scored chunk is written before the next is
//! read. With `-o` the output is a temporary file renamed into place only
//! when every row is scored; on standard output, the rows before a bad one
//! have been printed when the error is reported.

use std::io::Write;

use crate::model_io::FileDetector;
use mixtures_core::{Dataset, Scalar};
use mixtures_dist::AnyMixture;
use mixtures_dist::json::shortest as json_shortest;
use serde_json::json;

use super::by_precision;
use crate::cli::{Precision, ScoreCmd};
use crate::error::{CliError, source_name};
use crate::files::check_files;
use crate::input::{Chunk, CsvReader, Selection, format_of, open, open_files};
use crate::model_io::{self, ModelText};
use crate::ui::{Ui, num, shortest};
use mixtures_arrow::ArrowFiles;

/// Rows per chunk: large enough that the parallel scoring of a chunk
/// amortizes its start, small enough that a chunk of 100 features in f64
/// stays near 50 MB.
pub const CHUNK_ROWS: usize = 65_536;

/// The output's own columns (a kept column must not take one of the names).
const COLUMNS: [&str; 4] = ["log_likelihood", "anomaly_score", "component", "is_anomaly"];

/// Runs `score`.
///
/// # Errors
/// Bad files (exit 2), failed writes (exit 1).
pub fn run(c: &ScoreCmd, ui: &mut Ui) -> Result<(), CliError> {
    check_files(
        &[c.model.as_path(), c.data.as_path()],
        c.output.as_deref().as_slice(),
        &[],
    )?;
    let text = ui.time("read model", || model_io::read(&c.model))?;
    let precision = c.precision.or(text.dtype).unwrap_or(Precision::F64);
    if c.missing.missing {
        return super::missing::score(c, &text, precision, ui);
    }
    by_precision!(precision, typed(c, &text, ui))
}

/// Output format.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    Json,
}

/// What was written.
#[derive(Default)]
struct Counts {
    rows: usize,
    flagged: usize,
}

/// Writes one CSV field, quoted when it holds a separator, a quote or a
/// line break.
pub(crate) fn csv_field(out: &mut dyn Write, text: &str) -> std::io::Result<()> {
    if text.contains([',', '"', '\n', '\r']) {
        write!(out, "\"{}\"", text.replace('"', "\"\""))
    } else {
        out.write_all(text.as_bytes())
    }
}

/// Where the rows come from: a CSV reader, read chunk by chunk, or Parquet
/// or Arrow IPC files, read batch by batch.
enum Input<R: std::io::Read> {
    Csv(CsvReader<R>),
    Files(ArrowFiles),
}

/// Keeps `e` as the error that stopped the output; the writer gets an I/O
/// error that only says it stopped.
pub(crate) fn fail(e: CliError, failure: &mut Option<CliError>) -> std::io::Error {
    *failure = Some(e);
    std::io::Error::other("stopped")
}

/// Scores the input chunk by chunk and writes every row to `out`.
struct Scorer<'a, T: Scalar> {
    model: &'a AnyMixture<T>,
    detector: Option<&'a FileDetector<T>>,
    /// The kept columns' names.
    kept: Vec<String>,
    /// The data file, for messages.
    path: std::path::PathBuf,
    format: Format,
}

/// One chunk's output columns.
struct Scored<T> {
    /// `ln p(x)` (for an ensemble, minus its score).
    ll: Vec<T>,
    /// The detector's score (`−ln p(x)` without a detector).
    scores: Vec<T>,
    component: Vec<usize>,
    flags: Option<Vec<u8>>,
}

impl<T: Scalar> Scorer<'_, T> {
    fn header(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let ours = if self.detector.is_some() { 4 } else { 3 };
        match self.format {
            Format::Csv => {
                for k in &self.kept {
                    csv_field(out, k)?;
                    out.write_all(b",")?;
                }
                writeln!(out, "{}", COLUMNS[..ours].join(","))
            }
            Format::Json => write!(out, "{{\"command\": \"score\", \"rows\": ["),
        }
    }

    fn rows(
        &self,
        out: &mut dyn Write,
        kept_text: &[String],
        (ll, scores): (&[T], &[T]),
        component: &[usize],
        flags: Option<&[u8]>,
        first: bool,
    ) -> std::io::Result<()> {
        let keep = self.kept.len();
        for i in 0..ll.len() {
            let kept = &kept_text[i * keep..(i + 1) * keep];
            match self.format {
                Format::Csv => {
                    for k in kept {
                        csv_field(out, k)?;
                        out.write_all(b",")?;
                    }
                    write!(
                        out,
                        "{},{},{}",
                        shortest(ll[i]),
                        shortest(scores[i]),
                        component[i]
                    )?;
                    if let Some(f) = flags {
                        write!(out, ",{}", f[i])?;
                    }
                    writeln!(out)?;
                }
                Format::Json => {
                    let mut row = serde_json::Map::new();
                    for (name, text) in self.kept.iter().zip(kept) {
                        row.insert(name.clone(), json!(text));
                    }
                    row.insert("log_likelihood".into(), num(json_shortest(ll[i])));
                    row.insert("anomaly_score".into(), num(json_shortest(scores[i])));
                    row.insert("component".into(), json!(component[i]));
                    if let Some(f) = flags {
                        row.insert("is_anomaly".into(), json!(f[i]));
                    }
                    let sep = if first && i == 0 { "\n" } else { ",\n" };
                    write!(out, "{sep}{}", serde_json::Value::Object(row))?;
                }
            }
        }
        Ok(())
    }

    /// Scores one chunk (`data`, with its kept text) and writes its rows.
    fn chunk(
        &self,
        ui: &mut Ui,
        out: &mut dyn Write,
        data: Result<Dataset<T>, CliError>,
        kept: &[String],
        counts: &mut Counts,
        failure: &mut Option<CliError>,
    ) -> std::io::Result<()> {
        let scored = data.and_then(|data| ui.time("score", || self.score(&data)));
        let Scored {
            ll,
            scores,
            component,
            flags,
        } = scored.map_err(|e| fail(e, failure))?;
        self.rows(
            out,
            kept,
            (&ll, &scores),
            &component,
            flags.as_deref(),
            counts.rows == 0,
        )?;
        counts.rows += ll.len();
        counts.flagged += flags.map_or(0, |f| f.iter().filter(|&&v| v == 1).count());
        Ok(())
    }

    /// Reads, scores and writes every row; the error that stopped it, if
    /// any, is kept in `failure` (the writer only carries I/O errors).
    fn run<R: std::io::Read>(
        &self,
        ui: &mut Ui,
        out: &mut dyn Write,
        failure: &mut Option<CliError>,
        input: &mut Input<R>,
    ) -> std::io::Result<Counts> {
        self.header(out)?;
        let mut counts = Counts::default();
        match input {
            Input::Csv(reader) => {
                let mut chunk = Chunk::default();
                let d = reader.features.len();
                loop {
                    let more = ui.time("read data", || reader.next_chunk(CHUNK_ROWS, &mut chunk));
                    match more {
                        Ok(true) => {}
                        Ok(false) => break,
                        Err(e) => return Err(fail(e, failure)),
                    }
                    let data = Dataset::from_row_major(&chunk.values, chunk.rows, d)
                        .map_err(|source| self.data_error(source));
                    self.chunk(ui, out, data, &chunk.kept, &mut counts, failure)?;
                }
            }
            Input::Files(files) => {
                // The files' batches come to a callback: a write error is
                // kept and the pass stopped.
                let mut io_error = None;
                let read = files.for_each_chunk::<T>(true, &mut |c| {
                    let data = Dataset::from_mat(c.rows).map_err(|source| self.data_error(source));
                    self.chunk(ui, out, data, c.kept, &mut counts, failure)
                        .map_err(|e| {
                            io_error = Some(e);
                            mixtures_core::source::SourceError::Consumer("stopped".to_owned())
                        })
                });
                if let Some(e) = io_error {
                    return Err(e);
                }
                if failure.is_some() {
                    return Err(std::io::Error::other("stopped"));
                }
                read.map_err(|e| fail(e.into(), failure))?;
            }
        }
        if counts.rows == 0 {
            return Err(fail(CliError::input(&self.path, "no data rows"), failure));
        }
        if self.format == Format::Json {
            let flagged = self.detector.map(|_| counts.flagged);
            writeln!(
                out,
                "\n], \"rows_scored\": {}, \"flagged\": {}}}",
                counts.rows,
                json!(flagged)
            )?;
        }
        out.flush()?;
        Ok(counts)
    }

    fn data_error(&self, source: mixtures_core::DataError) -> CliError {
        CliError::Data {
            path: source_name(&self.path),
            source,
        }
    }

    /// Log-likelihoods, scores, components and flags of one chunk.
    fn score(&self, data: &Dataset<T>) -> Result<Scored<T>, CliError> {
        let data_error = |source| self.data_error(source);
        data.check_dim(self.model.dim()).map_err(data_error)?;
        // A detector's own score (an ensemble's is not −ln p of its main part).
        let (ll, component) = match self.detector {
            Some(det) => det.log_prob_and_predict(data),
            None => self.model.log_prob_and_predict(data),
        }
        .map_err(data_error)?;
        // A tail-score detector's score is not −ln p(x).
        let scores = match self.detector {
            Some(det @ FileDetector::Tail(_)) => det.anomaly_scores(data).map_err(data_error)?,
            _ => ll.iter().map(|&l| -l).collect(),
        };
        let flags = self.detector.map(|det| det.threshold().predict(&scores));
        Ok(Scored {
            ll,
            scores,
            component,
            flags,
        })
    }
}

fn typed<T: Scalar>(c: &ScoreCmd, text: &ModelText, ui: &mut Ui) -> Result<(), CliError> {
    let loaded = text.model::<T>(&c.model)?;
    // The model's feature names pick the columns; other columns (ids, labels)
    // are ignored. A model without names reads every column but one named
    // `label`.
    let names = loaded.model.feature_names();
    let sel = Selection::for_model(names, c.keep_columns.clone(), c.csv.no_header);
    let (mut input, kept, left_out) = match format_of(&c.data) {
        Some(format) => {
            let files =
                open_files(std::slice::from_ref(&c.data), format, &sel)?.batch_rows(CHUNK_ROWS);
            let layout = files.layout().clone();
            (Input::Files(files), layout.kept, layout.left_out)
        }
        None => {
            let reader = CsvReader::new(open(&c.data)?, &c.data, c.csv.delimiter, &sel)?;
            let (kept, left_out) = (reader.kept.clone(), reader.left_out.clone());
            (Input::Csv(reader), kept, left_out)
        }
    };
    if let Some(k) = kept.iter().find(|k| COLUMNS.contains(&k.as_str())) {
        return Err(CliError::Usage(format!(
            "--keep-columns {k}: the output has a column of that name already"
        )));
    }
    if let Some(label) = &left_out {
        ui.note(&format!(
            "note: column {label:?} is left out of the features"
        ));
    }
    let format = if c.output.is_none() && ui.json {
        Format::Json
    } else {
        Format::Csv
    };
    let scorer = Scorer {
        model: &loaded.model,
        detector: loaded.detector.as_ref(),
        kept,
        path: c.data.clone(),
        format,
    };
    let counts = super::write_output(c.output.as_deref(), |out, failure| {
        scorer.run(ui, out, failure, &mut input)
    })?;
    if let Some(path) = &c.output {
        let flagged = loaded.detector.as_ref().map(|_| counts.flagged);
        let summary = match flagged {
            Some(f) => format!("scored {} rows, {f} flagged as anomalies\n", counts.rows),
            None => format!("scored {} rows\n", counts.rows),
        };
        let value = json!({
            "command": "score",
            "rows": counts.rows,
            "flagged": flagged,
            "output": path.display().to_string(),
        });
        ui.result(&summary, &value)?;
        ui.note(&format!("wrote {}", path.display()));
    }
    ui.print_timings();
    Ok(())
}
