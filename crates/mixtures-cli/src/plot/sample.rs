//! Which points a plot draws when there are too many to draw them all.
//!
//! A scatter of two million rows drawn point by point is a 190 MB SVG that
//! no viewer opens, and its PNG is a solid blot. A scatter therefore draws at
//! most [`MAX_POINTS`] points:
//!
//! - every *marked* point (flagged, or a true anomaly by the labels) is
//!   kept, as long as they are at most [`MAX_MARKED`]; beyond that an evenly
//!   spread subset of [`MAX_MARKED`] of them is drawn (they are what the plot
//!   is about, but they must not crowd out the bulk entirely);
//! - the other points fill the rest of the budget with a uniform sample
//!   without replacement: the rows whose index has the smallest value under
//!   a fixed hash ([`rank`]). The hash, not a stride, avoids aliasing with
//!   data stored in a periodic order, and being fixed it picks the same rows
//!   on every run, on every machine.
//!
//! The plot says in its notes how many points it shows ([`Sample::note`]).
//! Curves (ROC, precision-recall) are thinned to at most [`MAX_VERTICES`]
//! vertices by [`thin`], evenly spread and with both ends kept.

/// Most points one scatter draws.
pub const MAX_POINTS: usize = 20_000;
/// Most marked (flagged or labelled-anomalous) points one scatter draws.
pub const MAX_MARKED: usize = 15_000;
/// Most vertices of one plotted curve (more than a 700-pixel-wide plot can
/// show).
pub const MAX_VERTICES: usize = 4_000;

/// The rows a scatter draws, in increasing order, and what was left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// Indices of the rows drawn, increasing.
    pub rows: Vec<usize>,
    /// Number of rows in the data.
    pub total: usize,
    /// Number of flagged rows in the data.
    pub flagged: usize,
    /// Number of flagged rows drawn.
    pub flagged_shown: usize,
}

impl Sample {
    /// Whether some rows are not drawn.
    pub fn is_partial(&self) -> bool {
        self.rows.len() < self.total
    }

    /// The note a plot carries when it shows a sample ("20 000 of 2 000 000
    /// points shown; all 1 234 flagged points kept"), `None` when every point
    /// is drawn.
    pub fn note(&self) -> Option<String> {
        if !self.is_partial() {
            return None;
        }
        let g = super::group;
        let mut note = format!(
            "{} of {} points shown (a fixed random sample)",
            g(self.rows.len()),
            g(self.total)
        );
        if self.flagged > 0 {
            if self.flagged_shown == self.flagged {
                note.push_str(&format!("; all {} flagged points kept", g(self.flagged)));
            } else {
                note.push_str(&format!(
                    "; {} of {} flagged points shown (evenly spread)",
                    g(self.flagged_shown),
                    g(self.flagged)
                ));
            }
        }
        Some(note)
    }
}

/// A fixed hash of a row index (SplitMix64's finalizer): the order in which
/// unmarked rows enter the sample.
pub fn rank(i: usize) -> u64 {
    let mut z = (i as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `m` of the `items`, evenly spread (all of them when `m >= len`).
fn spread(items: &[usize], m: usize) -> Vec<usize> {
    if m >= items.len() {
        return items.to_vec();
    }
    (0..m).map(|i| items[i * items.len() / m]).collect()
}

/// The rows to draw of `n`, at most `max_points`, keeping the rows that
/// `flagged` or `labels` mark (value 1) as described in the [module
/// documentation](self), at most `max_marked` of them.
pub fn choose(
    n: usize,
    flagged: Option<&[u8]>,
    labels: Option<&[u8]>,
    max_points: usize,
    max_marked: usize,
) -> Sample {
    let is = |v: Option<&[u8]>, i: usize| v.is_some_and(|v| v.get(i) == Some(&1));
    let flagged_total = (0..n).filter(|&i| is(flagged, i)).count();
    if n <= max_points {
        return Sample {
            rows: (0..n).collect(),
            total: n,
            flagged: flagged_total,
            flagged_shown: flagged_total,
        };
    }
    let (marked, mut plain): (Vec<usize>, Vec<usize>) =
        (0..n).partition(|&i| is(flagged, i) || is(labels, i));
    // Flagged rows first, then the labelled ones that are not flagged, so
    // that a bound on marked rows costs the flagged ones last.
    let (flag_rows, label_rows): (Vec<usize>, Vec<usize>) =
        marked.iter().partition(|&&i| is(flagged, i));
    let budget = max_marked.min(max_points);
    let mut rows = spread(&flag_rows, budget);
    let flagged_shown = rows.len();
    rows.extend(spread(&label_rows, budget - rows.len()));
    let room = max_points - rows.len();
    if plain.len() > room {
        if room > 0 {
            plain.select_nth_unstable_by_key(room - 1, |&i| rank(i));
        }
        plain.truncate(room);
    }
    rows.extend(plain);
    rows.sort_unstable();
    Sample {
        rows,
        total: n,
        flagged: flagged_total,
        flagged_shown,
    }
}

/// `points` thinned to at most `max` vertices, evenly spread by index, with
/// the first and the last kept (a curve's ends are where it starts and
/// stops).
pub fn thin<P: Copy>(points: &[P], max: usize) -> Vec<P> {
    let n = points.len();
    if n <= max || max < 2 {
        return points.to_vec();
    }
    (0..max).map(|i| points[i * (n - 1) / (max - 1)]).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn small_data_are_drawn_whole() {
        let flags = [0u8, 1, 0];
        let s = choose(3, Some(&flags), None, 10, 5);
        assert_eq!(s.rows, [0, 1, 2]);
        assert!(!s.is_partial());
        assert_eq!(s.note(), None);
    }

    #[test]
    fn every_flagged_row_is_kept_and_the_bound_holds() {
        let n = 100_000;
        // Flagged rows in a periodic pattern and a run at the end.
        let flags: Vec<u8> = (0..n)
            .map(|i| u8::from(i % 199 == 0 || i > n - 50))
            .collect();
        let s = choose(n, Some(&flags), None, 1_000, 800);
        assert_eq!(s.rows.len(), 1_000);
        assert!(s.rows.windows(2).all(|w| w[0] < w[1]));
        let flagged: Vec<usize> = (0..n).filter(|&i| flags[i] == 1).collect();
        assert!(flagged.iter().all(|i| s.rows.binary_search(i).is_ok()));
        assert_eq!(s.flagged_shown, flagged.len());
        let note = s.note().unwrap();
        assert!(
            note.starts_with("1\u{2009}000 of 100\u{2009}000 points shown"),
            "{note}"
        );
        assert!(note.contains(&format!("all {} flagged points kept", flagged.len())));
        // Deterministic.
        assert_eq!(s, choose(n, Some(&flags), None, 1_000, 800));
    }

    #[test]
    fn too_many_flagged_rows_are_spread_and_said() {
        let n = 10_000;
        let flags: Vec<u8> = (0..n).map(|i| u8::from(i % 2 == 0)).collect();
        let s = choose(n, Some(&flags), None, 1_000, 600);
        assert_eq!(s.rows.len(), 1_000);
        assert_eq!(s.flagged, 5_000);
        assert_eq!(s.flagged_shown, 600);
        let drawn_flagged = s.rows.iter().filter(|&&i| flags[i] == 1).count();
        assert_eq!(drawn_flagged, 600);
        assert!(
            s.note()
                .unwrap()
                .contains("600 of 5\u{2009}000 flagged points shown")
        );
    }

    #[test]
    fn the_sample_of_plain_rows_is_spread_over_the_data() {
        // Rows in two halves: a stride-free sample takes from both evenly.
        let s = choose(200_000, None, None, 10_000, 0);
        let first = s.rows.iter().filter(|&&i| i < 100_000).count();
        assert!((4_700..=5_300).contains(&first), "{first}");
    }

    #[test]
    fn labelled_anomalies_are_kept_after_flagged_ones() {
        let n = 5_000;
        let labels: Vec<u8> = (0..n).map(|i| u8::from(i % 10 == 0)).collect();
        let s = choose(n, None, Some(&labels), 1_000, 800);
        assert!((0..n).step_by(10).all(|i| s.rows.binary_search(&i).is_ok()));
    }

    #[test]
    fn curves_keep_their_ends() {
        let pts: Vec<(f64, f64)> = (0..10_001).map(|i| (i as f64, 0.0)).collect();
        let t = thin(&pts, 101);
        assert_eq!(t.len(), 101);
        assert_eq!(t[0].0, 0.0);
        assert_eq!(t[100].0, 10_000.0);
        assert_eq!(t[50].0, 5_000.0);
        assert_eq!(thin(&pts[..5], 101).len(), 5);
    }
}
