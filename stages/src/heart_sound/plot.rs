//! PNG plot of the start of a recording: band-passed waveform, homomorphic envelope and the
//! S1 (red) and S2 (blue) sounds found, with a title line and a time axis drawn in the
//! built-in pixel font (no system fonts needed).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::analysis::Analysis;
use super::beats::Sound;
use super::envelope::FEATURE_RATE;
use super::error::HeartSoundError;
use super::font;

const S1_COLOUR: RGBColor = RGBColor(220, 40, 40);
const S2_COLOUR: RGBColor = RGBColor(40, 90, 220);
const UNLABELLED_COLOUR: RGBColor = RGBColor(150, 150, 150);
const WAVE_COLOUR: RGBColor = RGBColor(40, 40, 40);
const ENVELOPE_COLOUR: RGBColor = RGBColor(20, 140, 60);
const TITLE_H: u32 = 36;
const AXIS_H: u32 = 36;
const LEFT: u32 = 12;

type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

fn plot_error(e: impl std::fmt::Display) -> HeartSoundError {
    HeartSoundError::Plot { detail: e.to_string() }
}

/// Draw the analysis' plotted window as a PNG of `width` x `height` pixels.
pub fn render_plot(a: &Analysis, width: u32, height: u32) -> Result<Vec<u8>, HeartSoundError> {
    let mut rgb = vec![255u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
        draw(&root, a, height)?;
        root.present().map_err(plot_error)?;
    }
    encode_png(&rgb, width, height)
}

fn draw(root: &Area<'_>, a: &Analysis, height: u32) -> Result<(), HeartSoundError> {
    root.fill(&WHITE).map_err(plot_error)?;
    let secs = (a.trace.signal.len() as f64 / a.trace.rate.max(1.0)).max(0.1);
    let panels_h = height.saturating_sub(TITLE_H + AXIS_H);
    let (wave_area, env_area) = root
        .margin(TITLE_H, AXIS_H, LEFT, LEFT)
        .split_vertically(panels_h * 3 / 5);
    let sounds = sounds_in(a, secs);
    draw_waveform(&wave_area, a, secs, &sounds)?;
    let x_of = draw_envelope(&env_area, a, secs, &sounds)?;
    text(root, &title(a), LEFT as i32, 10, 2, &BLACK)?;
    text(root, "PCG", LEFT as i32 + 6, TITLE_H as i32 + 6, 2, &BLACK)?;
    let env_top = TITLE_H as i32 + (panels_h * 3 / 5) as i32;
    text(root, "ENVELOPE", LEFT as i32 + 6, env_top + 6, 2, &BLACK)?;
    draw_time_axis(root, secs, x_of, height as i32 - AXIS_H as i32)?;
    Ok(())
}

/// S1 and S2 sounds that fall in the plotted window (grey when they could not be labelled).
fn sounds_in(a: &Analysis, secs: f64) -> Vec<(Sound, RGBColor)> {
    let labelled: Vec<(Sound, RGBColor)> = a
        .beats
        .iter()
        .flat_map(|b| [(b.s1, S1_COLOUR), (b.s2, S2_COLOUR)])
        .filter_map(|(s, c)| s.map(|s| (s, c)))
        .collect();
    let all = match a.labelling.is_confident() {
        true => labelled,
        false => a.sounds.iter().map(|s| (*s, UNLABELLED_COLOUR)).collect(),
    };
    all.into_iter().filter(|(s, _)| s.onset_s < secs).collect()
}

fn title(a: &Analysis) -> String {
    let hr = a
        .heart_rate
        .map_or("HR -".to_string(), |h| format!("HR {:.0} BPM", h.bpm));
    let verdict = if a.quality.usable { "USABLE" } else { "UNUSABLE" };
    let labels = match a.labelling.is_confident() {
        true => format!("{} BEATS   S1 RED  S2 BLUE", a.beats.len()),
        false => format!("{} SOUNDS   S1/S2 UNCERTAIN", a.sounds.len()),
    };
    format!("{hr}   SQI {:.2} {verdict}   {labels}   TIME IN S", a.quality.index)
}

fn draw_waveform(
    area: &Area<'_>,
    a: &Analysis,
    secs: f64,
    sounds: &[(Sound, RGBColor)],
) -> Result<(), HeartSoundError> {
    let peak = a.trace.signal.iter().fold(1e-9f32, |m, v| m.max(v.abs())) as f64;
    let mut chart = ChartBuilder::on(area)
        .margin(4)
        .build_cartesian_2d(0.0..secs, -peak * 1.05..peak * 1.05)
        .map_err(plot_error)?;
    shade(&mut chart, sounds, -peak * 1.05, peak * 1.05)?;
    let cols = area.dim_in_pixel().0.max(1) as usize;
    let n = a.trace.signal.len();
    let mut points = Vec::with_capacity(2 * cols);
    for c in 0..cols {
        let (lo, hi) = (c * n / cols, ((c + 1) * n / cols).max(c * n / cols + 1).min(n));
        let Some(slice) = a.trace.signal.get(lo..hi) else {
            continue;
        };
        let t = lo as f64 / a.trace.rate;
        let (mn, mx) = slice
            .iter()
            .fold((f32::MAX, f32::MIN), |(a, b), v| (a.min(*v), b.max(*v)));
        points.push((t, mn as f64));
        points.push((t, mx as f64));
    }
    chart
        .draw_series(LineSeries::new(points, &WAVE_COLOUR))
        .map_err(plot_error)?;
    Ok(())
}

/// Draws the envelope panel and returns a function mapping seconds to an x pixel.
fn draw_envelope(
    area: &Area<'_>,
    a: &Analysis,
    secs: f64,
    sounds: &[(Sound, RGBColor)],
) -> Result<impl Fn(f64) -> i32 + use<>, HeartSoundError> {
    let top = a.trace.envelope.iter().fold(1e-9f32, |m, v| m.max(*v)) as f64 * 1.1;
    let mut chart = ChartBuilder::on(area)
        .margin(4)
        .build_cartesian_2d(0.0..secs, 0.0..top)
        .map_err(plot_error)?;
    shade(&mut chart, sounds, 0.0, top)?;
    let points = a
        .trace
        .envelope
        .iter()
        .enumerate()
        .map(|(t, v)| ((t as f64 + 0.5) / FEATURE_RATE, *v as f64));
    chart
        .draw_series(LineSeries::new(points, ENVELOPE_COLOUR.stroke_width(2)))
        .map_err(plot_error)?;
    let (x0, x1) = (chart.backend_coord(&(0.0, 0.0)).0, chart.backend_coord(&(secs, 0.0)).0);
    let offset = area.get_base_pixel().0;
    Ok(move |t: f64| offset + x0 + ((x1 - x0) as f64 * t / secs).round() as i32)
}

fn shade<DB: DrawingBackend>(
    chart: &mut ChartContext<
        '_,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    sounds: &[(Sound, RGBColor)],
    lo: f64,
    hi: f64,
) -> Result<(), HeartSoundError> {
    chart
        .draw_series(
            sounds
                .iter()
                .map(|(s, c)| Rectangle::new([(s.onset_s, lo), (s.end_s, hi)], c.mix(0.25).filled())),
        )
        .map_err(plot_error)?;
    Ok(())
}

fn draw_time_axis(root: &Area<'_>, secs: f64, x_of: impl Fn(f64) -> i32, y: i32) -> Result<(), HeartSoundError> {
    let step = [0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0]
        .into_iter()
        .find(|s| secs / s <= 12.0)
        .unwrap_or(120.0);
    let mut t = 0.0;
    while t <= secs + 1e-9 {
        let x = x_of(t);
        root.draw(&PathElement::new(vec![(x, y - 4), (x, y + 2)], BLACK))
            .map_err(plot_error)?;
        let label = if step < 1.0 {
            format!("{t:.1}")
        } else {
            format!("{t:.0}")
        };
        let label_w = font::width(&label, 2);
        let right = root.dim_in_pixel().0 as i32 - label_w;
        text(root, &label, (x - label_w / 2).clamp(0, right.max(0)), y + 6, 2, &BLACK)?;
        t += step;
    }
    Ok(())
}

/// Paint `s` with the built-in pixel font.
fn text(root: &Area<'_>, s: &str, x: i32, y: i32, scale: i32, colour: &RGBColor) -> Result<(), HeartSoundError> {
    for (px, py) in font::pixels(s, x, y, scale) {
        root.draw(&Rectangle::new(
            [(px, py), (px + scale - 1, py + scale - 1)],
            colour.filled(),
        ))
        .map_err(plot_error)?;
    }
    Ok(())
}

fn encode_png(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, HeartSoundError> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, width, height);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().map_err(plot_error)?;
        writer.write_image_data(rgb).map_err(plot_error)?;
    }
    Ok(out)
}
