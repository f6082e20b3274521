//! The plot's text: DejaVu Sans, embedded (see `stages/assets/fonts/README.md` for its
//! origin and licence), registered with plotters (`ab_glyph` feature) and rasterised by it.
//! No system font, no fontconfig.
//!
//! plotters 0.3.7 places each glyph of a string at the truncated pen position and drops its
//! left side bearing, which makes small text uneven (`s p er row`). [`draw_text`] lays the
//! string out itself with ab_glyph (advance, kerning, bearing, pen rounded to the nearest
//! pixel) and has plotters draw it glyph by glyph.

use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, ScaleFont};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{FontFamily, FontStyle, FontTransform, IntoFont, TextStyle};

use crate::heart_sound::error::HeartSoundError;

use crate::font::DEJAVU_SANS;
/// The name the font is registered under in plotters' (process-wide) font table.
const FAMILY: &str = "haul-dejavu-sans";

type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// Where `at` is on the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// `at` is the top left corner.
    TopLeft,
    /// `at` is the middle of the top edge.
    TopCentre,
    /// `at` is the middle of the bottom edge (the descender line).
    BottomCentre,
    /// `at` is the middle of the left edge.
    CentreLeft,
}

/// The parsed font, registered with plotters; an error names what failed.
fn font() -> Result<&'static FontRef<'static>, HeartSoundError> {
    static FONT: OnceLock<Result<FontRef<'static>, String>> = OnceLock::new();
    FONT.get_or_init(|| {
        let font = crate::font::dejavu_sans()?.clone();
        plotters::style::register_font(FAMILY, FontStyle::Normal, DEJAVU_SANS)
            .map_err(|_| "plotters cannot register the embedded font".to_owned())?;
        Ok(font)
    })
    .as_ref()
    .map_err(|detail| HeartSoundError::Plot { detail: detail.clone() })
}

/// Registers the font with plotters (once per process).
pub fn ensure_registered() -> Result<(), HeartSoundError> {
    font().map(|_| ())
}

/// plotters' text style of the font, `size` pixels, for the text plotters draws itself
/// (the axis labels).
pub fn style(size: f64, colour: RGBColor) -> TextStyle<'static> {
    (FontFamily::Name(FAMILY), size).into_font().color(&colour)
}

/// Width of `text` at `size` pixels.
pub fn text_width(text: &str, size: f64) -> Result<f64, HeartSoundError> {
    Ok(layout(font()?, text, size).1)
}

/// Pen offsets of the glyphs of `text` (left edge of each glyph's bitmap) and the width.
fn layout(font: &FontRef<'static>, text: &str, size: f64) -> (Vec<(char, f32)>, f64) {
    let scaled = font.as_scaled(size as f32);
    let mut pen = 0f32;
    let mut prev = None;
    let mut glyphs = Vec::with_capacity(text.len());
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = prev {
            pen += scaled.kern(p, id);
        }
        if let Some(outline) = scaled.outline_glyph(scaled.scaled_glyph(c)) {
            glyphs.push((c, pen.round() + outline.px_bounds().min.x));
        }
        pen += scaled.h_advance(id);
        prev = Some(id);
    }
    (glyphs, pen as f64)
}

/// Draws `text` at `size` pixels in `colour`, placed by `align` at `at`; `up` turns it to
/// read from bottom to top (an axis title), `at` then being the middle of its left edge.
pub fn draw_text(
    area: &Area<'_>,
    text: &str,
    at: (i32, i32),
    size: f64,
    colour: RGBColor,
    align: Align,
    up: bool,
) -> Result<(), HeartSoundError> {
    let font = font()?;
    let (glyphs, width) = layout(font, text, size);
    let scaled = font.as_scaled(size as f32);
    let (ascent, descent) = (scaled.ascent() as f64, -scaled.descent() as f64);
    // plotters puts the baseline `size / 2` below the position it is given.
    let top_to_pos = ascent - size / 2.0;
    let (dx, dy) = match align {
        Align::TopLeft => (0.0, top_to_pos),
        Align::TopCentre => (-width / 2.0, top_to_pos),
        Align::BottomCentre => (-width / 2.0, -descent - size / 2.0),
        Align::CentreLeft => (0.0, (ascent - descent) / 2.0 - size / 2.0),
    };
    let mut style = style(size, colour);
    if up {
        style = style.transform(FontTransform::Rotate270);
    }
    for (c, x) in glyphs {
        let along = (dx + x as f64).round() as i32;
        let pos = match up {
            false => (at.0 + along, at.1 + dy.round() as i32),
            true => (
                at.0 + top_to_pos.round() as i32,
                at.1 + (width / 2.0).round() as i32 - along,
            ),
        };
        let mut buf = [0u8; 4];
        area.draw(&Text::new(c.encode_utf8(&mut buf) as &str, pos, style.clone()))
            .map_err(|e| HeartSoundError::Plot { detail: e.to_string() })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_font_registers_and_measures_proportional_text() {
        ensure_registered().unwrap();
        let w = text_width("Heart rate 72 bpm", 20.0).unwrap();
        assert!((120.0..220.0).contains(&w), "{w}");
        let (narrow, wide) = (text_width("ii", 20.0).unwrap(), text_width("WW", 20.0).unwrap());
        assert!(wide > narrow * 2.0, "a proportional font: {narrow} {wide}");
    }

    #[test]
    fn glyphs_keep_their_bearing_so_spacing_is_even() {
        let (glyphs, _) = layout(font().unwrap(), "per", 13.0);
        let gaps: Vec<f32> = glyphs.windows(2).map(|w| w[1].1 - w[0].1).collect();
        assert!(gaps.iter().all(|g| (6.0..=9.0).contains(g)), "{gaps:?}");
    }
}
