//! The files themselves: their format (from the extension), lists of them
//! (a directory, a glob), and a reader of one file's record batches, opened
//! afresh for every pass. Every failure of the arrow and parquet readers,
//! a panic in them on a corrupt file included, is a [`SourceError::Read`]
//! naming the file.

use std::fs::File;
use std::io::{BufReader, Read};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use arrow::datatypes::SchemaRef;
use arrow::ipc::reader::{FileReader, StreamReader};
use arrow::record_batch::RecordBatch;
use mixtures_core::source::SourceError;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};

/// A columnar file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Apache Parquet (`.parquet`, `.parq`, `.pq`).
    Parquet,
    /// The Arrow IPC file format, which Feather v2 is, or the IPC stream
    /// format (`.arrow`, `.ipc`, `.feather`, `.arrows`); which of the two is
    /// told by the file's first bytes.
    ArrowIpc,
}

impl Format {
    /// The format a file name's extension names (any case), if any.
    ///
    /// ```
    /// use mixtures_arrow::Format;
    /// assert_eq!(Format::of("data/part-0.PARQUET".as_ref()), Some(Format::Parquet));
    /// assert_eq!(Format::of("x.feather".as_ref()), Some(Format::ArrowIpc));
    /// assert_eq!(Format::of("x.csv".as_ref()), None);
    /// ```
    pub fn of(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "parquet" | "parq" | "pq" => Some(Self::Parquet),
            "arrow" | "ipc" | "feather" | "arrows" => Some(Self::ArrowIpc),
            _ => None,
        }
    }

    /// The format's name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Parquet => "Parquet",
            Self::ArrowIpc => "Arrow IPC",
        }
    }
}

/// A read error about `path`.
pub(crate) fn read_error(path: &Path, message: impl ToString) -> SourceError {
    SourceError::Read {
        location: path.display().to_string(),
        message: message.to_string(),
    }
}

/// Runs a call into the arrow or parquet readers, turning a panic (which a
/// corrupt file may provoke in them) into a read error about `path`.
pub(crate) fn guard<R>(
    path: &Path,
    f: impl FnOnce() -> Result<R, SourceError>,
) -> Result<R, SourceError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(read_error(
            path,
            "the reader failed on this file (is it corrupt or truncated?)",
        ))
    })
}

/// The files a pattern names: a directory gives its files (not those whose
/// names start with `.` or `_`, such as the `_SUCCESS` and `.crc` files Spark
/// writes beside its parts); a pattern with `*`, `?` or `[` gives the files
/// it matches; anything else is taken as one file's path. Sorted by path, so
/// the rows come in the same order on every run.
///
/// # Errors
/// [`SourceError::Read`] for a directory that cannot be listed, a bad
/// pattern, or a directory or pattern that names no file.
pub fn expand(pattern: &str) -> Result<Vec<PathBuf>, SourceError> {
    let path = Path::new(pattern);
    let hidden = |p: &Path| {
        p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.') || n.starts_with('_'))
    };
    let mut files = if path.is_dir() {
        let entries = std::fs::read_dir(path).map_err(|e| read_error(path, e))?;
        let mut files = Vec::new();
        for entry in entries {
            let p = entry.map_err(|e| read_error(path, e))?.path();
            if p.is_file() && !hidden(&p) {
                files.push(p);
            }
        }
        files
    } else if pattern.contains(['*', '?', '[']) && !path.exists() {
        let paths = glob::glob(pattern).map_err(|e| read_error(path, e))?;
        let mut files = Vec::new();
        for p in paths {
            let p = p.map_err(|e| read_error(path, e))?;
            if p.is_file() {
                files.push(p);
            }
        }
        files
    } else {
        return Ok(vec![path.to_path_buf()]);
    };
    if files.is_empty() {
        return Err(read_error(path, "names no file"));
    }
    files.sort();
    Ok(files)
}

/// An open file: its schema, its number of rows when the file says it
/// (Parquet's footer), and a reader of its record batches.
pub(crate) struct Opened {
    pub schema: SchemaRef,
    pub rows: Option<u64>,
    pub batches: Batches,
}

/// The record batches of one file.
pub(crate) enum Batches {
    Parquet(ParquetRecordBatchReader),
    IpcFile(FileReader<BufReader<File>>),
    IpcStream(StreamReader<BufReader<File>>),
    /// Only the schema was asked for.
    None,
}

impl Batches {
    /// The next record batch, or `None` at the end of the file.
    pub fn next_batch(&mut self, path: &Path) -> Result<Option<RecordBatch>, SourceError> {
        guard(path, || {
            let next = match self {
                Self::Parquet(r) => r.next(),
                Self::IpcFile(r) => r.next(),
                Self::IpcStream(r) => r.next(),
                Self::None => None,
            };
            next.transpose().map_err(|e| read_error(path, e))
        })
    }
}

fn open_file(path: &Path) -> Result<File, SourceError> {
    File::open(path).map_err(|e| read_error(path, format!("cannot read: {e}")))
}

/// The magic bytes that open an Arrow IPC file (the stream format has none).
const IPC_MAGIC: &[u8; 6] = b"ARROW1";

/// A reader's refusal of a file as one of `format`.
fn not_readable(path: &Path, format: Format, e: impl std::fmt::Display) -> SourceError {
    read_error(path, format!("not a readable {} file: {e}", format.name()))
}

/// Opens `path`. With `columns`, its record batches hold those columns
/// (by name) in batches of about `batch_rows` rows; without, only the
/// schema is read.
pub(crate) fn open(
    path: &Path,
    format: Format,
    columns: Option<&[&str]>,
    batch_rows: usize,
) -> Result<Opened, SourceError> {
    guard(path, || match format {
        Format::Parquet => {
            let builder = ParquetRecordBatchReaderBuilder::try_new(open_file(path)?)
                .map_err(|e| not_readable(path, format, e))?;
            let schema = builder.schema().clone();
            let rows = u64::try_from(builder.metadata().file_metadata().num_rows()).ok();
            let batches = match columns {
                Some(names) => {
                    let roots = indices(path, &schema, names)?;
                    let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
                    let reader = builder
                        .with_projection(mask)
                        .with_batch_size(batch_rows.max(1))
                        .build()
                        .map_err(|e| read_error(path, e))?;
                    Batches::Parquet(reader)
                }
                None => Batches::None,
            };
            Ok(Opened {
                schema,
                rows,
                batches,
            })
        }
        Format::ArrowIpc => {
            let mut file = open_file(path)?;
            let mut magic = [0u8; 6];
            let is_file = file.read_exact(&mut magic).is_ok() && &magic == IPC_MAGIC;
            // The readers start from the beginning: open it again rather
            // than seek, which a FIFO cannot.
            let file = open_file(path)?;
            let schema = if is_file {
                FileReader::try_new_buffered(file, None).map(|r| r.schema())
            } else {
                StreamReader::try_new_buffered(file, None).map(|r| r.schema())
            }
            .map_err(|e| not_readable(path, format, e))?;
            let batches = match columns {
                Some(names) => {
                    let projection = Some(indices(path, &schema, names)?);
                    let file = open_file(path)?;
                    if is_file {
                        Batches::IpcFile(
                            FileReader::try_new_buffered(file, projection)
                                .map_err(|e| read_error(path, e))?,
                        )
                    } else {
                        Batches::IpcStream(
                            StreamReader::try_new_buffered(file, projection)
                                .map_err(|e| read_error(path, e))?,
                        )
                    }
                }
                None => Batches::None,
            };
            Ok(Opened {
                schema,
                rows: None,
                batches,
            })
        }
    })
}

/// The positions of `names` in the schema, ascending, each once (readers
/// project in file order; the batches' own schemas say where each is).
fn indices(path: &Path, schema: &SchemaRef, names: &[&str]) -> Result<Vec<usize>, SourceError> {
    let mut idx = Vec::with_capacity(names.len());
    for name in names {
        let i = schema.index_of(name).map_err(|_| SourceError::Schema {
            location: path.display().to_string(),
            message: format!("no column named {name:?}"),
        })?;
        idx.push(i);
    }
    idx.sort_unstable();
    idx.dedup();
    Ok(idx)
}
