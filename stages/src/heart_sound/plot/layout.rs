//! Where things go on the plot: the rows the recording is wrapped into and their pixels.

use crate::heart_sound::params::Params;

/// Height of the header (title, summary, recording line, legend) in pixels.
pub const HEADER_H: u32 = 104;
/// Height of the footer (time axis title and, when the plot is cut, the note).
pub const FOOTER_H: u32 = 52;
/// Width left of each row's plotting area, for the amplitude labels and title (px).
pub const LEFT: u32 = 64;
/// Margin right of the plotting area (px).
pub const RIGHT: u32 = 18;
/// Space above each row's plotting area, for the S1/S2 labels (px).
pub const MARGIN_TOP: u32 = 16;
/// Height of the time labels under each row's plotting area (px).
pub const X_LABELS_H: u32 = 20;

/// The rows of one plot.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// Duration of the recording (s).
    pub duration_s: f64,
    /// Seconds drawn: the whole recording, or the first `row_s * max_rows` of a longer one.
    pub shown_s: f64,
    /// Seconds per row.
    pub row_s: f64,
    /// Start of each row's time axis (s); every row spans `row_s`, the last one may extend
    /// past `shown_s`.
    pub row_starts: Vec<f64>,
    /// Image width (px).
    pub width: u32,
    /// Height of one row (px).
    pub row_height: u32,
}

impl Layout {
    /// The layout of a recording of `duration_s` seconds.
    pub fn new(duration_s: f64, params: &Params) -> Self {
        let row_s = params.plot_row_s as f64;
        let duration_s = if duration_s.is_finite() {
            duration_s.max(0.0)
        } else {
            0.0
        };
        let shown_s = duration_s.min(row_s * params.plot_max_rows as f64);
        // A recording of exactly n rows gets n rows, not n and an empty one.
        let rows = ((shown_s / row_s - 1e-9).ceil() as usize).max(1);
        Self {
            duration_s,
            shown_s,
            row_s,
            row_starts: (0..rows).map(|i| i as f64 * row_s).collect(),
            width: params.plot_width,
            row_height: params.plot_row_height,
        }
    }

    /// Whether the recording is longer than what is drawn.
    pub fn truncated(&self) -> bool {
        self.shown_s < self.duration_s - 1e-6
    }

    /// Image height (px): header, rows, footer.
    pub fn height(&self) -> u32 {
        HEADER_H + self.row_starts.len() as u32 * self.row_height + FOOTER_H
    }

    /// Top pixel of row `i`.
    pub fn row_top(&self, i: usize) -> u32 {
        HEADER_H + i as u32 * self.row_height
    }

    /// First and last pixel columns of every row's plotting area.
    pub fn plot_columns(&self) -> (u32, u32) {
        (LEFT, self.width.saturating_sub(RIGHT + 1))
    }

    /// First and last pixel rows of row `i`'s plotting area.
    pub fn plot_rows(&self, i: usize) -> (u32, u32) {
        let top = self.row_top(i);
        (top + MARGIN_TOP, top + self.row_height.saturating_sub(X_LABELS_H + 1))
    }

    /// The row showing time `t_s` and its pixel column; None past what is drawn.
    pub fn locate(&self, t_s: f64) -> Option<(usize, u32)> {
        if !(0.0..self.shown_s).contains(&t_s) {
            return None;
        }
        let row = ((t_s / self.row_s) as usize).min(self.row_starts.len() - 1);
        let (x0, x1) = self.plot_columns();
        let frac = (t_s - self.row_starts[row]) / self.row_s;
        Some((row, x0 + (frac * (x1 - x0) as f64).round() as u32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(row_s: f32, max_rows: u32) -> Params {
        Params {
            plot_row_s: row_s,
            plot_max_rows: max_rows,
            ..Params::default()
        }
    }

    #[test]
    fn rows_cover_the_whole_recording_without_an_empty_last_row() {
        for (duration, rows) in [(19.6, 2), (20.0, 2), (20.01, 3), (3.0, 1), (0.0, 1), (95.0, 10)] {
            let l = Layout::new(duration, &params(10.0, 12));
            assert_eq!(l.row_starts.len(), rows, "{duration} s");
            assert_eq!(l.shown_s, duration);
            assert!(!l.truncated());
            let end = l.row_starts.last().unwrap() + l.row_s;
            assert!(l.row_starts[0] == 0.0 && end >= duration);
            assert!(
                duration == 0.0 || end - duration < l.row_s,
                "{duration} s: an empty last row"
            );
        }
    }

    #[test]
    fn a_long_recording_stops_at_the_row_limit_and_says_so() {
        let l = Layout::new(300.0, &params(10.0, 12));
        assert_eq!((l.row_starts.len(), l.shown_s), (12, 120.0));
        assert!(l.truncated());
    }

    #[test]
    fn the_height_grows_with_the_rows() {
        let one = Layout::new(5.0, &Params::default());
        let three = Layout::new(25.0, &Params::default());
        assert_eq!(three.height() - one.height(), 2 * Params::default().plot_row_height);
        assert_eq!(three.row_top(2), HEADER_H + 2 * three.row_height);
    }

    #[test]
    fn a_time_is_located_in_its_row_and_column() {
        let l = Layout::new(25.0, &Params::default());
        let (x0, x1) = l.plot_columns();
        assert_eq!(l.locate(0.0), Some((0, x0)));
        assert_eq!(l.locate(15.0), Some((1, (x0 + x1) / 2 + (x0 + x1) % 2)));
        assert_eq!(l.locate(25.0), None);
        assert_eq!(l.locate(-1.0), None);
    }
}
