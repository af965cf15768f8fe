//! The library half of the `mixtures` command line: the CSV reader (whole,
//! or as a `RowSource` in chunks), Parquet and Arrow IPC files through
//! mixtures-arrow, the checks of output paths, and the command line's error
//! type.
//!
//! The binary (`src/main.rs`) holds the commands; only the input code lives
//! here, so that it can be tested and fuzzed on its own
//! ([`input::read_table`] takes any reader and never panics). The public
//! surface is kept to what a caller of the reader needs.

pub mod error;
pub mod files;
pub mod input;
