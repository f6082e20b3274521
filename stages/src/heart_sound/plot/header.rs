//! The plot's text outside the rows: title with the heart rate, the stage's findings, what
//! the recording was, the legend; under the rows the time axis title and, for a recording
//! longer than the plot, the note saying where it stops.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::font::{Align, draw_text, text_width};
use super::layout::{HEADER_H, LEFT, Layout};
use super::marks::{Mark, MarkKind};
use super::plot_error;
use crate::heart_sound::analysis::Analysis;
use crate::heart_sound::error::HeartSoundError;
use crate::heart_sound::params::Params;
use crate::heart_sound::summary_line::SummaryParts;

type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

const MUTED: RGBColor = RGBColor(90, 90, 90);
const WARNING: RGBColor = RGBColor(180, 70, 0);

/// Draws the title, the findings line, the recording line and the legend.
pub fn draw_header(
    root: &Area<'_>,
    a: &Analysis,
    parts: &SummaryParts,
    marks: &[Mark],
    params: &Params,
) -> Result<(), HeartSoundError> {
    let x = 16;
    let title = match a.heart_rate {
        Some(_) => format!("Heart rate {}", parts.rate),
        None => "No heart rate found".to_owned(),
    };
    draw_text(root, &title, (x, 10), 24.0, BLACK, Align::TopLeft, false)?;
    let findings = format!(
        "{}  ·  {}  ·  {}  ·  {}",
        parts.count, parts.labelling, parts.murmur, parts.quality
    );
    draw_text(root, &findings, (x, 44), 16.0, BLACK, Align::TopLeft, false)?;
    let s = &a.source;
    let recording = format!(
        "{:.1} s recording ({} {}, {} Hz, {} ch)  ·  band-pass {:.0}–{:.0} Hz  ·  {} s per row  ·  \
         amplitude: band-passed signal over its 99.9th percentile (arbitrary units)",
        s.duration_s,
        s.container,
        s.codec,
        s.sample_rate_hz,
        s.channels,
        params.band_low_hz,
        params.band_high_hz,
        params.plot_row_s,
    );
    draw_text(root, &recording, (x, 72), 13.0, MUTED, Align::TopLeft, false)?;
    legend(root, marks)
}

/// Swatches for the kinds of marks the plot holds, at the right of the title.
fn legend(root: &Area<'_>, marks: &[Mark]) -> Result<(), HeartSoundError> {
    let kinds: Vec<(MarkKind, &str)> = [
        (MarkKind::S1, "S1"),
        (MarkKind::S2, "S2"),
        (MarkKind::Sound, "heart sound (S1/S2 uncertain)"),
    ]
    .into_iter()
    .filter(|(k, _)| marks.iter().any(|m| m.kind == *k))
    .collect();
    let mut x = root.dim_in_pixel().0 as i32 - 16;
    for (kind, name) in kinds.iter().rev() {
        x -= text_width(name, 15.0)?.ceil() as i32;
        draw_text(root, name, (x, 21), 15.0, BLACK, Align::CentreLeft, false)?;
        x -= 22;
        root.draw(&Rectangle::new(
            [(x, 14), (x + 16, 28)],
            kind.colour().mix(0.35).filled(),
        ))
        .map_err(plot_error)?;
        root.draw(&Rectangle::new([(x, 14), (x + 16, 28)], kind.colour()))
            .map_err(plot_error)?;
        x -= 18;
    }
    Ok(())
}

/// Under the rows: the time axis title, and the note when the recording is cut.
pub fn draw_footer(root: &Area<'_>, layout: &Layout, params: &Params) -> Result<(), HeartSoundError> {
    let top = (HEADER_H + layout.row_starts.len() as u32 * layout.row_height) as i32;
    let centre = (LEFT as i32 + root.dim_in_pixel().0 as i32) / 2;
    let axis = "time (s) from the start of the recording";
    draw_text(root, axis, (centre, top + 6), 14.0, BLACK, Align::TopCentre, false)?;
    if layout.truncated() {
        let note = format!(
            "Plot limited to the first {:.0} s of {:.1} s ({} rows of {} s, the stage's plot_max_rows); \
             the analysis covers the whole recording.",
            layout.shown_s, layout.duration_s, params.plot_max_rows, params.plot_row_s
        );
        draw_text(root, &note, (16, top + 30), 14.0, WARNING, Align::TopLeft, false)?;
    }
    Ok(())
}
