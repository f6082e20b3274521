//! The PNG plot of a recording, for a clinician and an engineer: the whole recording wrapped
//! into rows of `plot_row_s` seconds (10 s by default) on one time scale, the band-passed
//! waveform on a grid of 1 s and 0.2 s, S1 (red) and S2 (blue) shaded and labelled on each
//! beat (every heart sound in grey when S1 and S2 could not be told apart), the heart rate
//! in the title and the stage's findings under it. Text is DejaVu Sans, embedded.
//!
//! Axes: time in seconds from the start of the recording; amplitude in arbitrary units, the
//! band-passed signal divided by its 99.9th percentile (so 1 is about the loudest heart
//! sound; a rare spike above 1.2 is drawn clipped).
//!
//! Limit: at most `plot_max_rows` rows (12, two minutes at 10 s per row). A longer recording
//! is plotted up to there, with a note in the image; the analysis still covers all of it.
//! The image is `plot_width` pixels wide and grows by `plot_row_height` per row (1200 x 476
//! for 20 s; 1200 x 2076 for two minutes).

mod font;
mod header;
mod layout;
mod marks;
mod png;
mod row;

pub use layout::Layout;

use plotters::prelude::*;

use super::analysis::Analysis;
use super::error::HeartSoundError;
use super::params::Params;
use super::summary_line::SummaryParts;
use row::{Row, draw_row};

fn plot_error(e: impl std::fmt::Display) -> HeartSoundError {
    HeartSoundError::Plot { detail: e.to_string() }
}

/// Draws `a` as a PNG with the plot options of `params`.
pub fn render_plot(a: &Analysis, params: &Params) -> Result<Vec<u8>, HeartSoundError> {
    font::ensure_registered()?;
    let rate = a.trace.rate.max(1.0);
    let duration = a.source.duration_s.max(a.trace.signal.len() as f64 / rate);
    let layout = Layout::new(duration, params);
    let (width, height) = (layout.width, layout.height());
    let output = serde_json::to_value(a).map_err(plot_error)?;
    let parts = SummaryParts::of(&output);
    let marks = marks::marks(a);
    let mut rgb = vec![255u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
        header::draw_header(&root, a, &parts, &marks, params)?;
        let scale = marks::amplitude_scale(&a.trace.signal);
        for (i, start_s) in layout.row_starts.iter().enumerate() {
            let top = layout.row_top(i);
            let area = root.clone().shrink((0, top), (width, layout.row_height));
            let row = Row {
                start_s: *start_s,
                row_s: layout.row_s,
                shown_s: layout.shown_s,
                signal: &a.trace.signal,
                rate,
                scale,
                marks: &marks,
            };
            draw_row(&area, &row)?;
        }
        header::draw_footer(&root, &layout, params)?;
        root.present().map_err(plot_error)?;
    }
    png::encode(&rgb, width, height)
}
