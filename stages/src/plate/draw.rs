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

/// The photo with every box drawn, the best one in green, as JPEG.
pub(crate) fn annotated(img: &RgbImage, boxes: &[Rect]) -> Result<Artifact, PlateError> {
    let mut canvas = img.clone();
    let thickness = ((img.width().max(img.height()) / 400) as i32).max(2);
    for (i, r) in boxes.iter().enumerate().rev() {
        outline(&mut canvas, *r, thickness, if i == 0 { BEST } else { OTHER });
    }
    let name = "annotated.jpg".to_string();
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

/// The pixels of box `rank` (1-based) as PNG, or `None` if it is empty.
pub(crate) fn crop(img: &RgbImage, r: Rect, rank: usize) -> Result<Option<Artifact>, PlateError> {
    let c = r.clip(img.width(), img.height());
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
        let (name, ctype, bytes) = annotated(&img, &[r]).expect("annotated");
        assert_eq!((name.as_str(), ctype), ("annotated.jpg", "image/jpeg"));
        let back = image::load_from_memory(&bytes).expect("jpeg").to_rgb8();
        assert!(back.get_pixel(9, 15)[1] > 150, "box drawn just outside the rect");
        let (cname, _, png) = crop(&img, r, 1).expect("crop").expect("non-empty");
        assert_eq!(cname, "plate-1.png");
        let c = image::load_from_memory(&png).expect("png");
        assert_eq!((c.width(), c.height()), (20, 8));
        assert!(crop(&img, Rect::new(60, 60, 5, 5), 2).expect("ok").is_none());
    }
}
