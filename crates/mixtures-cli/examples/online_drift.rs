//! An online detector on a drifting stream, and the figure of it
//! (docs/figures/online-drift.png): one feature, two components, one whose
//! mean swings back and forth and one that drifts away and, from batch
//! 250, spreads out. The detector (stepwise EM with a constant step and a
//! threshold from a window of quantile sketches) is compared with a frozen
//! one, fitted on the first batch and never updated.
//!
//! `cargo run --release -p mixtures-cli --example online_drift [OUT_DIR]`
//! (default docs/figures); prints the summary docs/online.md quotes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::error::Error;
use std::path::Path;

use mixtures_anomaly::{DensityModel, OnlineDetector};
use mixtures_core::Dataset;
use mixtures_em::{Covariance, GaussianMixture, StepSize};
use plotters::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const BATCHES: usize = 400;
const ROWS: usize = 2000;
const CONTAMINATION: f64 = 0.01;
/// The step size: the model remembers about the last 1/η = 10 batches.
const ETA: f64 = 0.1;

/// The truth at batch `t`: (weight, mean, standard deviation) of each
/// component.
fn truth(t: usize) -> [(f64, f64, f64); 2] {
    let s = t as f64;
    [
        (
            0.6,
            3.0 * (2.0 * std::f64::consts::PI * s / 200.0).sin(),
            1.0,
        ),
        (
            0.4,
            8.0 + 6.0 * s / BATCHES as f64,
            if t < 250 { 1.0 } else { 1.5 },
        ),
    ]
}

fn normal(r: &mut StdRng) -> f64 {
    let u1: f64 = 1.0 - r.random::<f64>();
    let u2: f64 = r.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

fn batch(t: usize) -> Vec<f64> {
    let mut r = StdRng::seed_from_u64(t as u64 + 1);
    let parts = truth(t);
    (0..ROWS)
        .map(|_| {
            let (_, m, sd) = if r.random::<f64>() < parts[0].0 {
                parts[0]
            } else {
                parts[1]
            };
            m + sd * normal(&mut r)
        })
        .collect()
}

/// One batch's record for the figure.
struct Row {
    true_means: [f64; 2],
    means: [f64; 2],
    threshold: f64,
    frozen_threshold: f64,
    share: f64,
    frozen_share: f64,
    /// Where the score crosses the threshold: the edges of the region of
    /// normal values.
    edges: Vec<f64>,
    sample: Vec<f64>,
}

fn main() -> Result<(), Box<dyn Error>> {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "docs/figures".into());
    let em = GaussianMixture::params(2)
        .covariance(Covariance::Full)
        .seed(3)
        .online()
        .step_size(StepSize::Constant(ETA));
    let mut detector = OnlineDetector::new(em).contamination(CONTAMINATION);
    let mut frozen = None;
    let grid: Vec<f64> = (0..=4000).map(|i| -10.0 + 0.01 * i as f64).collect();
    let grid_data = Dataset::from_row_major(&grid, grid.len(), 1)?;
    let mut rows = Vec::with_capacity(BATCHES);
    for t in 0..BATCHES {
        let x = batch(t);
        let data = Dataset::from_row_major(&x, ROWS, 1)?;
        let up = detector.update(&data)?;
        if t == 0 {
            frozen = detector.detector()?;
        }
        let frozen = frozen.as_ref().ok_or("no frozen detector")?;
        let frozen_flags = frozen.predict(&data)?;
        let model = detector.model().ok_or("no model")?;
        let mut means = [model.components().mean(0)[0], model.components().mean(1)[0]];
        means.sort_by(f64::total_cmp);
        let threshold = detector.threshold().ok_or("no threshold")?;
        let scores = model.anomaly_scores(&grid_data)?;
        let edges = grid
            .windows(2)
            .zip(scores.windows(2))
            .filter(|(_, s)| (s[0] < threshold) != (s[1] < threshold))
            .map(|(g, _)| 0.5 * (g[0] + g[1]))
            .collect();
        let share = |f: &[u8]| f.iter().map(|&v| f64::from(v)).sum::<f64>() / f.len() as f64;
        let tr = truth(t);
        rows.push(Row {
            true_means: [tr[0].1, tr[1].1],
            means,
            threshold: up.threshold,
            frozen_threshold: frozen.threshold().value(),
            share: share(&up.flags),
            frozen_share: share(&frozen_flags),
            edges,
            sample: x.iter().step_by(ROWS / 12).copied().collect(),
        });
    }
    summarize(&rows, detector.rank_error());
    std::fs::create_dir_all(&out)?;
    let path = Path::new(&out).join("online-drift.png");
    draw(&path, &rows)?;
    println!("wrote {}", path.display());
    Ok(())
}

fn summarize(rows: &[Row], rank_error: f64) {
    let avg = |f: &dyn Fn(&Row) -> f64, from: usize, to: usize| {
        rows[from..to].iter().map(f).sum::<f64>() / (to - from) as f64
    };
    let lag = |r: &Row| {
        (r.means[0] - r.true_means[0])
            .abs()
            .max((r.means[1] - r.true_means[1]).abs())
    };
    println!("batches of {ROWS} rows, step size {ETA}, contamination {CONTAMINATION}");
    for (from, to) in [(20, 250), (270, BATCHES)] {
        println!(
            "batches {from}..{to}: largest mean error {:.3} (mean over batches), flagged {:.4} online, {:.4} frozen, threshold {:.3}",
            avg(&lag, from, to),
            avg(&|r| r.share, from, to),
            avg(&|r| r.frozen_share, from, to),
            avg(&|r| r.threshold, from, to),
        );
    }
    let peak = |f: &dyn Fn(&Row) -> f64| {
        rows.iter()
            .enumerate()
            .skip(20)
            .map(|(t, r)| (f(r), t))
            .fold((0.0, 0), |a, b| if b.0 > a.0 { b } else { a })
    };
    let (online, at) = peak(&|r| r.share);
    let (frozen, frozen_at) = peak(&|r| r.frozen_share);
    println!(
        "largest share flagged after batch 20: {online:.4} online (batch {at}), {frozen:.4} frozen (batch {frozen_at})"
    );
    println!("rank error of the last threshold's sketches: {rank_error:.2e}");
}

fn register_font() -> Result<(), Box<dyn Error>> {
    static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
    plotters::style::register_font("sans-serif", FontStyle::Normal, FONT)
        .map_err(|_| "the embedded font could not be loaded".into())
}

fn draw(path: &Path, rows: &[Row]) -> Result<(), Box<dyn Error>> {
    register_font()?;
    let size = (1200u32, 1100u32);
    let mut rgb = vec![0u8; size.0 as usize * size.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
        root.fill(&WHITE)?;
        let root = root.titled(
            "Online detector on a drifting stream (stepwise EM, eta = 0.1; 1 % flagged)",
            ("sans-serif", 24),
        )?;
        let panels = root.split_by_breakpoints::<i32, i32, _, _>([], [560, 800]);
        let n = rows.len() as f64;
        let axis = ("sans-serif", 17);
        let ticks = ("sans-serif", 14);

        // 1. The data, the true and estimated means, and the region the
        // threshold leaves normal.
        let mut c = ChartBuilder::on(&panels[0])
            .margin(15)
            .x_label_area_size(35)
            .y_label_area_size(55)
            .build_cartesian_2d(0.0..n, -7.0..22.0)?;
        c.configure_mesh()
            .axis_desc_style(axis)
            .label_style(ticks)
            .x_desc("batch (2000 rows each)")
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_desc("x")
            .draw()?;
        let grey = RGBColor(170, 170, 170);
        c.draw_series(rows.iter().enumerate().flat_map(|(t, r)| {
            r.sample
                .iter()
                .map(move |&v| Circle::new((t as f64, v), 1, grey.filled()))
        }))?;
        let red = RGBColor(214, 39, 40);
        c.draw_series(rows.iter().enumerate().flat_map(|(t, r)| {
            r.edges
                .iter()
                .map(move |&v| Circle::new((t as f64, v), 1, red.filled()))
        }))?
        .label("edges of the normal region (score = threshold)")
        .legend(move |(x, y)| Circle::new((x + 10, y), 3, red.filled()));
        let blue = RGBColor(31, 119, 180);
        for j in 0..2 {
            let s = c.draw_series(LineSeries::new(
                rows.iter()
                    .enumerate()
                    .map(|(t, r)| (t as f64, r.true_means[j])),
                BLACK.stroke_width(2),
            ))?;
            if j == 0 {
                s.label("true means").legend(|(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], BLACK.stroke_width(2))
                });
            }
            let s = c.draw_series(LineSeries::new(
                rows.iter().enumerate().map(|(t, r)| (t as f64, r.means[j])),
                blue.stroke_width(2),
            ))?;
            if j == 0 {
                s.label("online estimates").legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], blue.stroke_width(2))
                });
            }
        }
        c.configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font(ticks)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;

        // 2. The thresholds.
        let (lo, hi) = rows
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), r| {
                (
                    a.min(r.threshold).min(r.frozen_threshold),
                    b.max(r.threshold).max(r.frozen_threshold),
                )
            });
        let mut c = ChartBuilder::on(&panels[1])
            .margin(15)
            .x_label_area_size(35)
            .y_label_area_size(55)
            .build_cartesian_2d(0.0..n, (lo - 0.2)..(hi + 0.2))?;
        c.configure_mesh()
            .axis_desc_style(axis)
            .label_style(ticks)
            .x_desc("batch")
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_desc("threshold on -ln p(x)")
            .draw()?;
        c.draw_series(LineSeries::new(
            rows.iter()
                .enumerate()
                .map(|(t, r)| (t as f64, r.threshold)),
            blue.stroke_width(2),
        ))?
        .label("online (quantile of the last 10 batches' scores)")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], blue.stroke_width(2)));
        let orange = RGBColor(255, 127, 14);
        c.draw_series(LineSeries::new(
            rows.iter()
                .enumerate()
                .map(|(t, r)| (t as f64, r.frozen_threshold)),
            orange.stroke_width(2),
        ))?
        .label("frozen after the first batch")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], orange.stroke_width(2)));
        c.configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font(ticks)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;

        // 3. The share of each batch flagged, on a log scale.
        let floor = 1e-4;
        let mut c = ChartBuilder::on(&panels[2])
            .margin(15)
            .x_label_area_size(40)
            .y_label_area_size(55)
            .build_cartesian_2d(0.0..n, (floor..1.0).log_scale())?;
        c.configure_mesh()
            .axis_desc_style(axis)
            .label_style(ticks)
            .x_desc("batch")
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_desc("share flagged")
            .y_label_formatter(&|v| format!("{v:.0e}"))
            .draw()?;
        c.draw_series(LineSeries::new(
            [(0.0, CONTAMINATION), (n, CONTAMINATION)],
            BLACK.stroke_width(1),
        ))?
        .label("target 1 %")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLACK.stroke_width(1)));
        c.draw_series(LineSeries::new(
            rows.iter()
                .enumerate()
                .map(|(t, r)| (t as f64, r.share.max(floor))),
            blue.stroke_width(2),
        ))?
        .label("online")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], blue.stroke_width(2)));
        c.draw_series(LineSeries::new(
            rows.iter()
                .enumerate()
                .map(|(t, r)| (t as f64, r.frozen_share.max(floor))),
            orange.stroke_width(2),
        ))?
        .label("frozen")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], orange.stroke_width(2)));
        c.configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .label_font(ticks)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
        root.present()?;
    }
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, size.0, size.1);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Best);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&rgb)?;
    writer.finish()?;
    mixtures_core::io::write_bytes_atomic(path, &bytes)?;
    Ok(())
}
