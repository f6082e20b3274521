//! JPEG decoding straight through `zune-jpeg` (the decoder the `image`
//! crate wraps), so that a detection-only run can ask for the luma plane
//! alone and skip chroma upsampling and colour conversion.

use image::RgbImage;
use zune_core::bytestream::ZCursor;
use zune_core::colorspace::ColorSpace;
use zune_core::options::DecoderOptions;
use zune_jpeg::JpegDecoder;

use super::decode::DecodeLimits;
use super::error::PlateError;
use super::gray::Gray;

/// Pixels of a decoded JPEG, before orientation.
pub(crate) struct RawJpeg {
    pub rgb: Option<RgbImage>,
    /// Set when only luma was decoded; else derived from `rgb` on demand.
    pub gray: Option<Gray>,
    pub exif: Option<Vec<u8>>,
}

fn corrupt(e: impl std::fmt::Display) -> PlateError {
    PlateError::CorruptImage { detail: e.to_string() }
}

fn decoder(bytes: &[u8], out: ColorSpace) -> JpegDecoder<ZCursor<&[u8]>> {
    let opts = DecoderOptions::default()
        .set_strict_mode(false)
        .set_max_width(usize::MAX)
        .set_max_height(usize::MAX)
        .jpeg_set_out_colorspace(out);
    JpegDecoder::new_with_options(ZCursor::new(bytes), opts)
}

/// Decodes a JPEG; `want_rgb` also keeps the colour pixels.
pub(crate) fn decode_jpeg(bytes: &[u8], limits: &DecodeLimits, want_rgb: bool) -> Result<RawJpeg, PlateError> {
    let mut dec = decoder(bytes, if want_rgb { ColorSpace::RGB } else { ColorSpace::Luma });
    dec.decode_headers().map_err(corrupt)?;
    let info = dec.info().ok_or_else(|| corrupt("no JPEG header"))?;
    let (w, h) = (u32::from(info.width), u32::from(info.height));
    if w > limits.max_side || h > limits.max_side || u64::from(w) * u64::from(h) > limits.max_pixels {
        return Err(PlateError::TooLarge {
            detail: format!(
                "{w}x{h} pixels, limits {} per side and {} in all",
                limits.max_side, limits.max_pixels
            ),
        });
    }
    let exif = dec.exif().cloned();
    let ycc = matches!(dec.input_colorspace(), Some(ColorSpace::YCbCr | ColorSpace::Luma));
    let (w, h) = (w as usize, h as usize);
    if !want_rgb && ycc {
        let px = dec.decode().map_err(corrupt)?;
        if px.len() != w * h {
            return Err(corrupt("decoded size does not match the header"));
        }
        return Ok(RawJpeg {
            rgb: None,
            gray: Some(Gray { w, h, px }),
            exif,
        });
    }
    let px = if want_rgb {
        dec.decode()
    } else {
        decoder(bytes, ColorSpace::RGB).decode()
    }
    .map_err(corrupt)?;
    let rgb =
        RgbImage::from_raw(w as u32, h as u32, px).ok_or_else(|| corrupt("decoded size does not match the header"))?;
    let (rgb, gray) = if want_rgb {
        (Some(rgb), None)
    } else {
        (None, Some(Gray::from_rgb(&rgb)))
    };
    Ok(RawJpeg { rgb, gray, exif })
}
