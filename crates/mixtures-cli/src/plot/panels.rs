//! Several series against the epoch, one panel each (their units differ:
//! a reconstruction error, an energy, a penalty).

use std::path::{Path, PathBuf};

use plotters::prelude::*;

use super::{CAPTION, PlotResult, line_chart, register_font, write_png};
use crate::error::CliError;

/// `dir/STEM.svg` and `.png`: every `(name, values)` series in its own
/// panel, against the epoch (from 1) on an integer axis, two panels a row.
///
/// # Errors
/// [`CliError::Output`].
pub fn epoch_panels(
    dir: &Path,
    stem: &str,
    caption: &str,
    series: &[(&str, Vec<f64>)],
) -> Result<Vec<PathBuf>, CliError> {
    let rows = series.len().div_ceil(2).max(1);
    let size = (1100u32, 120 + 380 * rows as u32);
    draw_both!(dir, stem, size, |root| {
        root.fill(&WHITE)?;
        let root = root.titled(caption, CAPTION)?;
        let areas = root.split_evenly((rows, 2));
        for ((name, values), area) in series.iter().zip(areas.iter()) {
            line_chart(area, values, "epoch", name, false)?;
        }
        root.present()?;
        Ok(())
    })
}
