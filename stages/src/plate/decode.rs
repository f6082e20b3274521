//! Image decoding with the `image` crate: JPEG, PNG and WebP, EXIF
//! orientation applied, size limits checked from the header before any
//! pixel buffer is allocated, and corrupt or truncated files rejected.

use std::io::Cursor;
use std::sync::OnceLock;

use image::metadata::Orientation;
use image::{DynamicImage, GrayImage, ImageDecoder, ImageError, ImageFormat, ImageReader, RgbImage};

use super::error::PlateError;
use super::exif::ExifInfo;
use super::gray::Gray;
use super::jpeg::decode_jpeg;

/// Decode limits against decompression bombs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Largest accepted width or height in pixels.
    pub max_side: u32,
    /// Largest accepted width x height.
    pub max_pixels: u64,
    /// Largest accepted encoded size in bytes.
    pub max_file_bytes: u64,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            max_side: 16_384,
            max_pixels: 50_000_000,
            max_file_bytes: 64 << 20,
        }
    }
}

/// A decoded photo, upright (EXIF orientation applied).
#[derive(Debug, Clone)]
pub struct Decoded {
    /// Width of the upright photo.
    pub width: u32,
    /// Height of the upright photo.
    pub height: u32,
    /// Colour pixels, when asked for ([`decode`]; [`decode_gray`] skips them).
    pub rgb: Option<RgbImage>,
    /// Luma, decoded directly ([`decode_gray`]) or derived from `rgb` when first asked.
    gray: OnceLock<Gray>,
    /// Container format: `jpeg`, `png` or `webp`.
    pub format: &'static str,
    /// Capture time, GPS and camera, when the file carries EXIF.
    pub exif: Option<ExifInfo>,
}

fn map_err(e: ImageError) -> PlateError {
    match e {
        ImageError::Limits(l) => PlateError::TooLarge { detail: l.to_string() },
        ImageError::Unsupported(u) => PlateError::UnsupportedFormat { detail: u.to_string() },
        ImageError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => PlateError::CorruptImage {
            detail: "truncated: the data ends before the image does".into(),
        },
        other => PlateError::CorruptImage {
            detail: other.to_string(),
        },
    }
}

fn sniff(bytes: &[u8]) -> Result<(ImageFormat, &'static str), PlateError> {
    match image::guess_format(bytes) {
        Ok(ImageFormat::Jpeg) => Ok((ImageFormat::Jpeg, "jpeg")),
        Ok(ImageFormat::Png) => Ok((ImageFormat::Png, "png")),
        Ok(ImageFormat::WebP) => Ok((ImageFormat::WebP, "webp")),
        Ok(other) => Err(PlateError::UnsupportedFormat {
            detail: format!("{other:?} is not one of JPEG, PNG, WebP"),
        }),
        Err(_) => Err(PlateError::UnsupportedFormat {
            detail: format!(
                "not a JPEG, PNG or WebP file (starts with {:02x?})",
                &bytes[..bytes.len().min(8)]
            ),
        }),
    }
}

impl Decoded {
    /// Luma (BT.601) of the upright photo.
    pub fn gray(&self) -> &Gray {
        self.gray.get_or_init(|| match &self.rgb {
            Some(rgb) => Gray::from_rgb(rgb),
            None => Gray::filled(0, 0, 0),
        })
    }
}

/// A JPEG whose last scan is not followed by an end-of-image marker was cut
/// short (the decoder itself pads truncated scans silently). Entropy-coded
/// data never contains `FF D9` or `FF DA`, so the markers can be searched;
/// searching backwards from the end keeps this cheap for complete files.
fn check_jpeg_complete(bytes: &[u8]) -> Result<(), PlateError> {
    let is = |w: &[u8], m: u8| w[0] == 0xFF && w[1] == m;
    let truncated = match bytes.windows(2).rposition(|w| is(w, 0xD9)) {
        None => true,
        Some(eoi) => bytes[eoi..].windows(2).any(|w| is(w, 0xDA)),
    };
    if truncated {
        return Err(PlateError::CorruptImage {
            detail: "truncated JPEG: no end-of-image marker after the last scan".into(),
        });
    }
    Ok(())
}

/// A WebP file shorter than its RIFF header announces was cut short.
fn check_riff_complete(bytes: &[u8]) -> Result<(), PlateError> {
    let announced = bytes
        .get(4..8)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(|b| u64::from(u32::from_le_bytes(b)) + 8);
    match announced {
        Some(n) if n > bytes.len() as u64 => Err(PlateError::CorruptImage {
            detail: format!(
                "truncated WebP: the header announces {n} bytes, the file has {}",
                bytes.len()
            ),
        }),
        _ => Ok(()),
    }
}

/// Decodes an encoded photo within `limits`, keeping colour and luma.
pub fn decode(bytes: &[u8], limits: &DecodeLimits) -> Result<Decoded, PlateError> {
    decode_with(bytes, limits, true)
}

/// Decodes luma only (what detection needs); for JPEG this skips chroma
/// upsampling and colour conversion.
pub fn decode_gray(bytes: &[u8], limits: &DecodeLimits) -> Result<Decoded, PlateError> {
    decode_with(bytes, limits, false)
}

fn decode_with(bytes: &[u8], limits: &DecodeLimits, want_rgb: bool) -> Result<Decoded, PlateError> {
    if bytes.len() as u64 > limits.max_file_bytes {
        return Err(PlateError::TooLarge {
            detail: format!("{} bytes, limit {}", bytes.len(), limits.max_file_bytes),
        });
    }
    let (format, name) = sniff(bytes)?;
    if format == ImageFormat::WebP {
        check_riff_complete(bytes)?;
    }
    let (rgb, gray, raw_exif) = if format == ImageFormat::Jpeg {
        check_jpeg_complete(bytes)?;
        let raw = decode_jpeg(bytes, limits, want_rgb)?;
        (raw.rgb, raw.gray, raw.exif)
    } else {
        let (rgb, exif) = decode_other(bytes, format, limits)?;
        if want_rgb {
            (Some(rgb), None, exif)
        } else {
            (None, Some(Gray::from_rgb(&rgb)), exif)
        }
    };
    let exif = raw_exif.as_deref().and_then(ExifInfo::parse);
    let orientation = raw_exif
        .as_deref()
        .and_then(|raw| Orientation::from_exif_chunk(raw.strip_prefix(b"Exif\0\0").unwrap_or(raw)))
        .unwrap_or(Orientation::NoTransforms);
    let gray = gray.map(|g| orient_gray(g, orientation));
    let rgb = rgb.map(|rgb| orient_rgb(rgb, orientation));
    let (width, height) = match (&gray, &rgb) {
        (Some(g), _) => (g.w as u32, g.h as u32),
        (None, Some(c)) => (c.width(), c.height()),
        (None, None) => (0, 0),
    };
    let cell = OnceLock::new();
    if let Some(g) = gray {
        let _ = cell.set(g);
    }
    Ok(Decoded {
        width,
        height,
        rgb,
        gray: cell,
        format: name,
        exif,
    })
}

/// PNG and WebP through the `image` crate, with its allocation limits.
fn decode_other(
    bytes: &[u8],
    format: ImageFormat,
    limits: &DecodeLimits,
) -> Result<(RgbImage, Option<Vec<u8>>), PlateError> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut lim = image::Limits::default();
    lim.max_image_width = Some(limits.max_side);
    lim.max_image_height = Some(limits.max_side);
    lim.max_alloc = Some(limits.max_pixels.saturating_mul(8).max(1 << 20));
    reader.limits(lim);
    let mut decoder = reader.into_decoder().map_err(map_err)?;
    let (w, h) = decoder.dimensions();
    if u64::from(w) * u64::from(h) > limits.max_pixels {
        return Err(PlateError::TooLarge {
            detail: format!("{w}x{h} pixels, limit {}", limits.max_pixels),
        });
    }
    let exif = decoder.exif_metadata().ok().flatten();
    let img = DynamicImage::from_decoder(decoder).map_err(map_err)?;
    let rgb = match img {
        DynamicImage::ImageRgb8(rgb) => rgb,
        other => other.to_rgb8(),
    };
    Ok((rgb, exif))
}

fn orient_rgb(rgb: RgbImage, o: Orientation) -> RgbImage {
    if o == Orientation::NoTransforms {
        return rgb;
    }
    let mut img = DynamicImage::ImageRgb8(rgb);
    img.apply_orientation(o);
    img.into_rgb8()
}

fn orient_gray(g: Gray, o: Orientation) -> Gray {
    if o == Orientation::NoTransforms {
        return g;
    }
    let (w, h) = (g.w, g.h);
    let Some(buf) = GrayImage::from_raw(w as u32, h as u32, g.px) else {
        return Gray::filled(w, h, 0);
    };
    let mut img = DynamicImage::ImageLuma8(buf);
    img.apply_orientation(o);
    let out = img.into_luma8();
    Gray {
        w: out.width() as usize,
        h: out.height() as usize,
        px: out.into_raw(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use haul_pipeline::ErrorClass;

    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        let img = RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 7) as u8, (y * 5) as u8, 90]));
        let mut out = Cursor::new(Vec::new());
        let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90);
        img.write_with_encoder(enc).expect("encode jpeg");
        out.into_inner()
    }

    #[test]
    fn decodes_a_jpeg() {
        let d = decode(&jpeg(40, 30), &DecodeLimits::default()).expect("decodes");
        assert_eq!((d.width, d.height, d.format), (40, 30, "jpeg"));
        let rgb = d.rgb.as_ref().expect("colour kept");
        assert_eq!((rgb.width(), rgb.height()), (40, 30));
        let g = decode_gray(&jpeg(40, 30), &DecodeLimits::default()).expect("decodes");
        assert!(g.rgb.is_none());
        let diff = g
            .gray()
            .px
            .iter()
            .zip(&d.gray().px)
            .map(|(a, b)| (i32::from(*a) - i32::from(*b)).abs())
            .max();
        assert!(diff.unwrap_or(0) <= 3, "luma paths agree");
    }

    #[test]
    fn truncated_jpeg_is_a_permanent_error_naming_truncation() {
        let data = jpeg(64, 48);
        let err = decode(&data[..data.len() * 2 / 3], &DecodeLimits::default()).expect_err("truncated");
        assert!(err.is_permanent());
        assert!(err.to_string().contains("truncated"), "{err}");
    }

    #[test]
    fn exif_orientation_rotates_the_image() {
        let data = jpeg(40, 30);
        let block = crate::plate::exif::sample_block();
        let mut with_exif = data[..2].to_vec();
        with_exif.extend_from_slice(&[0xFF, 0xE1]);
        with_exif.extend_from_slice(&((block.len() + 8) as u16).to_be_bytes());
        with_exif.extend_from_slice(b"Exif\0\0");
        with_exif.extend_from_slice(&block);
        with_exif.extend_from_slice(&data[2..]);
        let d = decode(&with_exif, &DecodeLimits::default()).expect("decodes");
        assert_eq!((d.width, d.height), (30, 40));
        assert_eq!(d.rgb.as_ref().map(|r| (r.width(), r.height())), Some((30, 40)));
        let g = decode_gray(&with_exif, &DecodeLimits::default()).expect("decodes");
        assert_eq!((g.gray().w, g.gray().h), (30, 40));
        let exif = d.exif.expect("exif");
        assert_eq!(exif.captured_at.as_deref(), Some("2024-05-17T08:30:12+02:00"));
        assert!(exif.gps.is_some());
    }

    #[test]
    fn oversized_dimensions_are_rejected_before_decoding() {
        let limits = DecodeLimits {
            max_pixels: 100,
            ..DecodeLimits::default()
        };
        let err = decode(&jpeg(40, 30), &limits).expect_err("too large");
        assert!(matches!(err, PlateError::TooLarge { .. }), "{err}");
        assert!(err.is_permanent());
    }

    #[test]
    fn unknown_bytes_are_unsupported() {
        let err = decode(b"hello world, not an image", &DecodeLimits::default()).expect_err("unsupported");
        assert!(matches!(err, PlateError::UnsupportedFormat { .. }));
    }
}
