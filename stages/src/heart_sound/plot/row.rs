//! One row of the plot: `row_s` seconds of waveform on a time grid, with the heart sounds
//! shaded and labelled.

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::font::{self, Align, draw_text, text_width};
use super::layout::{LEFT, MARGIN_TOP, RIGHT, X_LABELS_H};
use super::marks::Mark;
use super::plot_error;
use crate::heart_sound::error::HeartSoundError;

/// Half the height of the amplitude axis; the scale's full level is 1.
pub const Y_MAX: f64 = 1.3;
/// Samples beyond the scale are drawn clipped at this level.
const Y_CLIP: f64 = 1.2;
const WAVE_COLOUR: RGBColor = RGBColor(25, 25, 25);
const GRID_MAJOR: RGBColor = RGBColor(205, 205, 205);
const GRID_MINOR: RGBColor = RGBColor(236, 236, 236);
const AFTER_END: RGBColor = RGBColor(240, 240, 240);
const MUTED: RGBColor = RGBColor(90, 90, 90);

type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;
type Chart<'a, 'b> = ChartContext<'a, BitMapBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// What one row shows.
pub struct Row<'a> {
    /// Start of the row's time axis (s).
    pub start_s: f64,
    /// Length of the time axis (s).
    pub row_s: f64,
    /// End of the drawn signal (s); the rest of the row is greyed.
    pub shown_s: f64,
    /// The band-passed signal from time 0.
    pub signal: &'a [f32],
    /// Its rate (Hz).
    pub rate: f64,
    /// The amplitude drawn as 1.
    pub scale: f32,
    /// Every mark of the plot (the row picks its own).
    pub marks: &'a [Mark],
}

/// Draws `row` into `area`.
pub fn draw_row(area: &Area<'_>, row: &Row<'_>) -> Result<(), HeartSoundError> {
    let end = row.start_s + row.row_s;
    let step = tick_step(row.row_s);
    let mut chart = ChartBuilder::on(area)
        .margin_top(MARGIN_TOP)
        .margin_right(RIGHT)
        .x_label_area_size(X_LABELS_H)
        .y_label_area_size(LEFT)
        .build_cartesian_2d(row.start_s..end, -Y_MAX..Y_MAX)
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .x_labels((row.row_s / step).round() as usize + 1)
        .x_max_light_lines(4)
        .y_labels(3)
        .y_max_light_lines(1)
        .bold_line_style(GRID_MAJOR)
        .light_line_style(GRID_MINOR)
        .axis_style(MUTED)
        .x_label_style(font::style(13.0, BLACK))
        .y_label_style(font::style(13.0, BLACK))
        .x_label_formatter(&|t| time_label(*t, step))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .draw()
        .map_err(plot_error)?;
    let plot_h = area.dim_in_pixel().1.saturating_sub(MARGIN_TOP + X_LABELS_H);
    let mid = (MARGIN_TOP + plot_h / 2) as i32;
    let title = match text_width("amplitude (a.u.)", 12.0)? < plot_h as f64 {
        true => "amplitude (a.u.)",
        false => "a.u.",
    };
    draw_text(area, title, (6, mid), 12.0, MUTED, Align::CentreLeft, true)?;
    let marks: Vec<&Mark> = row
        .marks
        .iter()
        .filter(|m| m.sound.end_s > row.start_s && m.sound.onset_s < end.min(row.shown_s))
        .collect();
    shade(&mut chart, &marks, row.start_s, end)?;
    if row.shown_s < end {
        after_end(&mut chart, row.shown_s, end)?;
    }
    waveform(&mut chart, row)?;
    labels(&chart, row, &marks)
}

/// Seconds between labelled ticks: at most 12 labels a row.
fn tick_step(row_s: f64) -> f64 {
    [0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0]
        .into_iter()
        .find(|s| row_s / s <= 12.0)
        .unwrap_or(120.0)
}

fn time_label(t: f64, step: f64) -> String {
    match step < 1.0 {
        true => format!("{t:.1}"),
        false => format!("{t:.0}"),
    }
}

/// Shades each sound's span, cut to the row's time axis (`from`..`to`).
fn shade(chart: &mut Chart<'_, '_>, marks: &[&Mark], from: f64, to: f64) -> Result<(), HeartSoundError> {
    let spans = marks.iter().map(|m| {
        Rectangle::new(
            [(m.sound.onset_s.max(from), -Y_MAX), (m.sound.end_s.min(to), Y_MAX)],
            m.kind.colour().mix(0.22).filled(),
        )
    });
    chart.draw_series(spans).map_err(plot_error)?;
    Ok(())
}

fn after_end(chart: &mut Chart<'_, '_>, from: f64, to: f64) -> Result<(), HeartSoundError> {
    let rect = Rectangle::new([(from, -Y_MAX), (to, Y_MAX)], AFTER_END.filled());
    chart.draw_series(std::iter::once(rect)).map_err(plot_error)?;
    let (x0, x1) = (chart.backend_coord(&(from, 0.0)).0, chart.backend_coord(&(to, 0.0)).0);
    let label = "end of recording";
    if (x1 - x0) as f64 > text_width(label, 13.0)? + 16.0 {
        let area = chart.plotting_area().strip_coord_spec();
        let (left, y) = (x0 - area.get_base_pixel().0 + 8, area.dim_in_pixel().1 as i32 / 2);
        draw_text(&area, label, (left, y), 13.0, MUTED, Align::CentreLeft, false)?;
    }
    Ok(())
}

/// The signal as one vertical min-max stroke per pixel column, so no peak is lost however
/// many samples fall into a column.
fn waveform(chart: &mut Chart<'_, '_>, row: &Row<'_>) -> Result<(), HeartSoundError> {
    let cols = chart.plotting_area().dim_in_pixel().0.max(1) as usize;
    let per_col = row.row_s / cols as f64;
    let scale = 1.0 / row.scale as f64;
    let mut points = Vec::with_capacity(2 * cols);
    for c in 0..cols {
        let t = row.start_s + c as f64 * per_col;
        if t >= row.shown_s {
            break;
        }
        let lo = (t * row.rate) as usize;
        let hi = (((t + per_col) * row.rate) as usize).max(lo + 1).min(row.signal.len());
        let Some(slice) = row.signal.get(lo..hi) else {
            break;
        };
        let (mn, mx) = slice
            .iter()
            .fold((f32::MAX, f32::MIN), |(a, b), v| (a.min(*v), b.max(*v)));
        points.push((t, (mn as f64 * scale).clamp(-Y_CLIP, Y_CLIP)));
        points.push((t, (mx as f64 * scale).clamp(-Y_CLIP, Y_CLIP)));
    }
    chart
        .draw_series(LineSeries::new(points, WAVE_COLOUR))
        .map_err(plot_error)?;
    Ok(())
}

/// `S1` / `S2` above each labelled sound whose centre is in the row (a sound cut by the
/// row's edge is labelled in the row holding its centre).
fn labels(chart: &Chart<'_, '_>, row: &Row<'_>, marks: &[&Mark]) -> Result<(), HeartSoundError> {
    let area = chart.plotting_area().strip_coord_spec();
    let width = area.dim_in_pixel().0 as f64;
    let end = row.start_s + row.row_s;
    for m in marks.iter().filter(|m| (row.start_s..end).contains(&m.sound.centre_s)) {
        let Some(label) = m.kind.label() else {
            continue;
        };
        let x = ((m.sound.centre_s - row.start_s) / row.row_s * width).round() as i32;
        draw_text(&area, label, (x, -1), 13.0, m.kind.colour(), Align::BottomCentre, false)?;
    }
    Ok(())
}
