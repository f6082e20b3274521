//! Artifacts: the photo with the boxes drawn, and a crop of each box.

use std::io::Cursor;

use image::{ImageEncoder, Rgb, RgbImage};

use super::error::PlateError;
use super::geometry::Rect;

/// An artifact: file name, content type, bytes.
pub type Artifact = (String, &'static str, Vec<u8>);

const BEST: Rgb<u8> = Rgb([0, 220, 60]);
const OTHER: Rgb<u8> = Rgb([255, 200, 0]);

/// Draws the outline of `r` (clipped) with the given thickness.
pub(crate) fn outline(img: &mut RgbImage, r: Rect, thickness: i32, color: Rgb<u8>) {
    let (w, h) = (img.width() as i32, img.height() as i32);
    let mut put = |x: i32, y: i32| {
        if x >= 0 && y >= 0 && x < w && y < h {
            img.put_pixel(x as u32, y as u32, color);
        }
    };
    for t in 0..thickness {
        let (x0, y0, x1, y1) = (r.x - t - 1, r.y - t - 1, r.right() + t, r.bottom() + t);
        for x in x0..=x1 {
            put(x, y0);
            put(x, y1);
        }
        for y in y0..=y1 {
            put(x0, y);
            put(x1, y);
        }
    }
}

/// A box to draw and its caption (`#1 4.12 AB123CD`: rank, score, what was read).
pub(crate) struct Labelled {
    /// Where.
    pub rect: Rect,
    /// What to write on it.
    pub caption: String,
}

/// The photo with every box drawn and captioned, the best one in green, as JPEG.
pub(crate) fn annotated(img: &RgbImage, boxes: &[Labelled]) -> Result<Artifact, PlateError> {
    let name = "annotated.jpg".to_string();
    let mut canvas = img.clone();
    let thickness = ((img.width().max(img.height()) / 400) as i32).max(2);
    let size = (img.width().max(img.height()) as f32 / 50.0).clamp(12.0, 40.0);
    for (i, b) in boxes.iter().enumerate().rev() {
        let colour = if i == 0 { BEST } else { OTHER };
        outline(&mut canvas, b.rect, thickness, colour);
        caption(&mut canvas, b.rect, thickness, &b.caption, size, colour).map_err(|detail| PlateError::Encode {
            name: name.clone(),
            detail,
        })?;
    }
    let mut out = Cursor::new(Vec::new());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 88)
        .write_image(
            canvas.as_raw(),
            canvas.width(),
            canvas.height(),
            image::ExtendedColorType::Rgb8,
        )
        .map_err(|e| PlateError::Encode {
            name: name.clone(),
            detail: e.to_string(),
        })?;
    Ok((name, "image/jpeg", out.into_inner()))
}

/// Writes `text` in black on a band of `colour` just above `r` (below it when the photo
/// has no room above), in the embedded font at `size` pixels.
fn caption(img: &mut RgbImage, r: Rect, thickness: i32, text: &str, size: f32, colour: Rgb<u8>) -> Result<(), String> {
    use ab_glyph::{Font, PxScale, ScaleFont, point};
    let font = crate::font::dejavu_sans()?;
    let scaled = font.as_scaled(PxScale::from(size));
    let (mut pen, mut previous, mut glyphs) = (0.0f32, None, Vec::new());
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = previous {
            pen += scaled.kern(p, id);
        }
        glyphs.push(id.with_scale_and_position(size, point(pen.round(), scaled.ascent())));
        pen += scaled.h_advance(id);
        previous = Some(id);
    }
    let pad = (size / 6.0).ceil() as i32;
    let (w, h) = (
        pen.ceil() as i32 + 2 * pad,
        (scaled.ascent() - scaled.descent()).ceil() as i32 + 2 * pad,
    );
    let above = r.y - thickness - h;
    let top = if above >= 0 { above } else { r.bottom() + thickness };
    let left = (r.x - thickness).clamp(0, (img.width() as i32 - w).max(0));
    let (iw, ih) = (img.width() as i32, img.height() as i32);
    for y in top.max(0)..(top + h).min(ih) {
        for x in left.max(0)..(left + w).min(iw) {
            img.put_pixel(x as u32, y as u32, colour);
        }
    }
    for glyph in glyphs {
        let Some(outlined) = font.outline_glyph(glyph) else {
            continue;
        };
        let bounds = outlined.px_bounds();
        outlined.draw(|gx, gy, coverage| {
            let x = left + pad + bounds.min.x as i32 + gx as i32;
            let y = top + pad + bounds.min.y as i32 + gy as i32;
            if x >= 0 && y >= 0 && x < iw && y < ih {
                let p = img.get_pixel_mut(x as u32, y as u32);
                for c in 0..3 {
                    p[c] = (f32::from(p[c]) * (1.0 - coverage)).round() as u8;
                }
            }
        });
    }
    Ok(())
}

/// `r` grown by a margin on every side (a quarter of its height, at least 4 pixels): a
/// detector's box cut tight at the plate's edge still gives a crop with the whole plate.
pub(crate) fn padded(r: Rect) -> Rect {
    let m = (r.height / 4).max(4);
    Rect::new(r.x - m, r.y - m, r.width + 2 * m, r.height + 2 * m)
}

/// The pixels of box `rank` (1-based) with a margin ([`padded`]) as PNG, or `None` if
/// it is empty.
pub(crate) fn crop(img: &RgbImage, r: Rect, rank: usize) -> Result<Option<Artifact>, PlateError> {
    let c = padded(r).clip(img.width(), img.height());
    if c.area() == 0 {
        return Ok(None);
    }
    let sub = image::imageops::crop_imm(img, c.x as u32, c.y as u32, c.width as u32, c.height as u32).to_image();
    let name = format!("plate-{rank}.png");
    let mut out = Cursor::new(Vec::new());
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(sub.as_raw(), sub.width(), sub.height(), image::ExtendedColorType::Rgb8)
        .map_err(|e| PlateError::Encode {
            name: name.clone(),
            detail: e.to_string(),
        })?;
    Ok(Some((name, "image/png", out.into_inner())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outline_and_crop_produce_images() {
        let img = RgbImage::from_pixel(50, 40, Rgb([10, 10, 10]));
        let r = Rect::new(10, 10, 20, 8);
        let boxes = [Labelled {
            rect: r,
            caption: String::new(),
        }];
        let (name, ctype, bytes) = annotated(&img, &boxes).expect("annotated");
        assert_eq!((name.as_str(), ctype), ("annotated.jpg", "image/jpeg"));
        let back = image::load_from_memory(&bytes).expect("jpeg").to_rgb8();
        assert!(back.get_pixel(9, 15)[1] > 150, "box drawn just outside the rect");
        let (cname, _, png) = crop(&img, r, 1).expect("crop").expect("non-empty");
        assert_eq!(cname, "plate-1.png");
        let c = image::load_from_memory(&png).expect("png");
        assert_eq!((c.width(), c.height()), (28, 16), "4 px of margin on every side");
        assert!(crop(&img, Rect::new(60, 60, 5, 5), 2).expect("ok").is_none());
    }

    #[test]
    fn each_box_carries_its_caption_in_dark_text_on_its_colour() {
        let img = RgbImage::from_pixel(400, 300, Rgb([128, 128, 128]));
        let best = Labelled {
            rect: Rect::new(100, 150, 160, 40),
            caption: "#1 4.12 AB123CD".into(),
        };
        let (_, _, bytes) = annotated(&img, &[best]).expect("annotated");
        let back = image::load_from_memory(&bytes).expect("jpeg").to_rgb8();
        // The band above the box is green with dark glyph pixels on it.
        let band: Vec<&Rgb<u8>> = (100..200)
            .flat_map(|x| (128..146).map(move |y| (x, y)))
            .map(|(x, y)| back.get_pixel(x, y))
            .collect();
        let green = band.iter().filter(|p| p[1] > 170 && p[0] < 90).count();
        let dark = band.iter().filter(|p| p[0] < 60 && p[1] < 60 && p[2] < 60).count();
        assert!(green > 400, "a caption band: {green} green pixels");
        assert!(dark > 80, "text on it: {dark} dark pixels");
    }

    #[test]
    fn a_crop_keeps_a_margin_around_a_tight_box_clipped_to_the_photo() {
        assert_eq!(padded(Rect::new(10, 10, 100, 20)), Rect::new(5, 5, 110, 30));
        let img = RgbImage::from_pixel(60, 30, Rgb([0, 0, 0]));
        let (_, _, png) = crop(&img, Rect::new(0, 0, 40, 20), 1)
            .expect("crop")
            .expect("non-empty");
        let c = image::load_from_memory(&png).expect("png");
        assert_eq!((c.width(), c.height()), (45, 25), "clipped at the photo's edge");
    }
}
