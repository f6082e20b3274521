//! Corrupt, truncated and oversized photos are permanent errors that name
//! the problem; valid JPEG, PNG and WebP photos decode.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod plate_common;

use std::io::Cursor;

use haul_pipeline::ErrorClass;
use haul_stages::plate::{Params, PlateDetector, PlateError};
use image::{ImageEncoder, RgbImage};
use plate_common::scenes::{SceneSpec, scene};

fn photo() -> RgbImage {
    let (g, _) = scene(&SceneSpec {
        width: 320,
        height: 240,
        plate_w: 110.0,
        angle: 2.0,
        contrast: 150.0,
        seed: 3,
        aspect: 0.0,
        glyph_ratio: 0.0,
    });
    RgbImage::from_fn(320, 240, |x, y| {
        let v = g.px[y as usize * 320 + x as usize];
        image::Rgb([v, v.saturating_add(10), v / 2])
    })
}

fn encode(format: &str, img: &RgbImage) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    let (w, h, raw) = (img.width(), img.height(), img.as_raw());
    let res = match format {
        "jpeg" => image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90).write_image(
            raw,
            w,
            h,
            image::ExtendedColorType::Rgb8,
        ),
        "png" => image::codecs::png::PngEncoder::new(&mut out).write_image(raw, w, h, image::ExtendedColorType::Rgb8),
        _ => image::codecs::webp::WebPEncoder::new_lossless(&mut out).write_image(
            raw,
            w,
            h,
            image::ExtendedColorType::Rgb8,
        ),
    };
    res.expect("encode test photo");
    out.into_inner()
}

fn detector() -> PlateDetector {
    PlateDetector::new(&Params::default()).expect("default params")
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn jpeg_png_and_webp_photos_decode_and_give_artifacts() {
    let det = detector();
    for format in ["jpeg", "png", "webp"] {
        let d = det.detect_bytes(&encode(format, &photo())).expect(format);
        assert_eq!((d.width, d.height, d.format), (320, 240, format));
        let arts = det.artifacts(&d).expect("artifacts");
        assert!(
            arts.iter()
                .any(|(n, t, b)| n == "annotated.jpg" && *t == "image/jpeg" && !b.is_empty())
        );
        assert_eq!(arts.len(), 1 + d.plates.len());
    }
}

#[test]
fn truncated_photos_are_permanent_errors() {
    let det = detector();
    for format in ["jpeg", "png", "webp"] {
        let data = encode(format, &photo());
        let err = det.detect_bytes(&data[..data.len() / 2]).expect_err(format);
        assert!(err.is_permanent(), "{format}: {err}");
        assert!(matches!(err, PlateError::CorruptImage { .. }), "{format}: {err:?}");
        println!("{format}: {err}");
    }
}

#[test]
fn corrupt_photos_are_permanent_errors() {
    let det = detector();
    // A JPEG whose frame header is garbage.
    let mut jpeg = encode("jpeg", &photo());
    let sof = jpeg.windows(2).position(|w| w == [0xFF, 0xC0]).expect("SOF0 marker");
    for b in &mut jpeg[sof + 4..sof + 12] {
        *b = 0;
    }
    // A PNG with a broken IDAT checksum and payload.
    let mut png = encode("png", &photo());
    let idat = png.windows(4).position(|w| w == b"IDAT").expect("IDAT");
    for b in &mut png[idat + 8..idat + 40] {
        *b ^= 0x5A;
    }
    for (name, data) in [("jpeg", jpeg), ("png", png), ("text", b"GIF89a not really".to_vec())] {
        let err = det.detect_bytes(&data).expect_err(name);
        assert!(err.is_permanent(), "{name}: {err}");
        println!("{name}: {err}");
    }
}

#[test]
fn oversized_photos_are_rejected_before_decoding() {
    let det = detector();
    // JPEG frame header claiming 60000 x 60000 pixels.
    let mut jpeg = encode("jpeg", &photo());
    let sof = jpeg.windows(2).position(|w| w == [0xFF, 0xC0]).expect("SOF0 marker");
    jpeg[sof + 5..sof + 9].copy_from_slice(&[0xEA, 0x60, 0xEA, 0x60]);
    // PNG header claiming 100000 x 100000 pixels, with a valid checksum.
    let mut png = encode("png", &photo());
    png[16..24].copy_from_slice(&[0, 1, 0x86, 0xA0, 0, 1, 0x86, 0xA0]);
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    for (name, data) in [("jpeg", jpeg), ("png", png)] {
        let err = det.detect_bytes(&data).expect_err(name);
        assert!(matches!(err, PlateError::TooLarge { .. }), "{name}: {err:?}");
        assert!(err.is_permanent());
    }
    // A normal photo over a configured pixel limit.
    let small = PlateDetector::new(&Params {
        max_pixels: 10_000,
        ..Params::default()
    })
    .expect("params");
    let err = small.detect_bytes(&encode("webp", &photo())).expect_err("over limit");
    assert!(matches!(err, PlateError::TooLarge { .. }), "{err:?}");
}
