//! Speed of the plate stage: decoding, detector A, detector B single- and
//! multi-threaded.
//!
//! Scenes are generated. Detector B needs a cascade file: set
//! `HAUL_BENCH_CASCADE=path.xml` (for example OpenALPR's `eu.xml`, supplied
//! by the user), else OpenCV's LBP face cascade from Debian's `opencv-data`
//! is used when installed; without either, the cascade benches are skipped.
//! `HAUL_BENCH_PHOTO=photo.jpg` replaces the generated scene with a real photo.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/plate_common/scenes.rs"]
mod scenes;

use std::hint::black_box;
use std::io::Cursor;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use haul_stages::plate::cascade::{Cascade, MultiScale};
use haul_stages::plate::{DecodeLimits, Gray, Params, PlateDetector, decode, decode_gray};
use image::ImageEncoder;
use scenes::{SceneSpec, scene};

fn photo() -> (Vec<u8>, Gray) {
    if let Some(bytes) = std::env::var_os("HAUL_BENCH_PHOTO").and_then(|p| std::fs::read(p).ok())
        && let Ok(d) = decode_gray(&bytes, &DecodeLimits::default())
    {
        return (bytes, d.gray().clone());
    }
    let (g, _) = scene(&SceneSpec {
        width: 640,
        height: 480,
        plate_w: 140.0,
        angle: 3.0,
        contrast: 150.0,
        seed: 42,
        aspect: 0.0,
        glyph_ratio: 0.0,
    });
    let rgb: Vec<u8> = g.px.iter().flat_map(|&v| [v, v, v.saturating_sub(20)]).collect();
    let mut out = Cursor::new(Vec::new());
    let encoded = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90).write_image(
        &rgb,
        g.w as u32,
        g.h as u32,
        image::ExtendedColorType::Rgb8,
    );
    (if encoded.is_ok() { out.into_inner() } else { Vec::new() }, g)
}

fn cascade_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("HAUL_BENCH_CASCADE") {
        return Some(PathBuf::from(p));
    }
    let debian = PathBuf::from("/usr/share/opencv4/lbpcascades/lbpcascade_frontalface_improved.xml");
    debian.is_file().then_some(debian)
}

fn bench(c: &mut Criterion) {
    let (jpeg, gray) = photo();
    let limits = DecodeLimits::default();
    c.bench_function("decode jpeg rgb", |b| {
        b.iter(|| decode(black_box(&jpeg), &limits).map(|d| d.width))
    });
    c.bench_function("decode jpeg gray", |b| {
        b.iter(|| decode_gray(black_box(&jpeg), &limits).map(|d| d.width))
    });

    let classical = PlateDetector::new(&Params::default());
    if let Ok(det) = classical {
        c.bench_function("detector A (classical)", |b| {
            b.iter(|| det.detect_gray(black_box(&gray)).len())
        });
    }

    let Some(path) = cascade_path() else {
        eprintln!("cascade benches skipped: set HAUL_BENCH_CASCADE or install opencv-data");
        return;
    };
    let Ok(cascade) = Cascade::load(&path) else {
        eprintln!("cascade benches skipped: cannot load {}", path.display());
        return;
    };
    let single = MultiScale {
        min_size: (65, 18),
        ..MultiScale::default()
    };
    let multi = MultiScale {
        parallel: true,
        ..single
    };
    c.bench_function("detector B (cascade) 1 thread", |b| {
        b.iter(|| {
            cascade
                .detect_multi_scale(black_box(&gray.px), gray.w, gray.h, &single)
                .0
                .len()
        })
    });
    c.bench_function("detector B (cascade) all cores", |b| {
        b.iter(|| {
            cascade
                .detect_multi_scale(black_box(&gray.px), gray.w, gray.h, &multi)
                .0
                .len()
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = bench
}
criterion_main!(benches);
