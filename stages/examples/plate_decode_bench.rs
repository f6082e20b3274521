//! Times decoding of every JPEG, PNG and WebP file of a folder, best of N
//! passes over the whole set, and prints one JSON object (used by
//! `scripts/compare_opencv.py` next to Pillow's figures).
//!
//! cargo run --release --example decode_bench -- DIR [PASSES]

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use haul_stages::plate::{DecodeLimits, decode, decode_gray};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().unwrap_or_else(|| ".".into());
    let passes: usize = args.next().map(|p| p.parse()).transpose()?.unwrap_or(5);
    let mut names: Vec<std::path::PathBuf> = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .is_some_and(|x| x == "jpg" || x == "jpeg" || x == "png" || x == "webp")
        })
        .collect();
    names.sort();
    let n = names.len().max(1) as f64;
    let limits = DecodeLimits::default();
    let time = |f: &dyn Fn(&[u8]) -> usize| -> anyhow::Result<f64> {
        let mut best = f64::INFINITY;
        for _ in 0..passes {
            let t0 = Instant::now();
            let mut acc = 0;
            for p in &names {
                // Reading the file is part of the measurement, as for Pillow.
                acc += f(&std::fs::read(p)?);
            }
            best = best.min(t0.elapsed().as_secs_f64() * 1e3 / n);
            std::hint::black_box(acc);
        }
        Ok(best)
    };
    let rgb = time(&|b| decode(b, &limits).map(|d| d.width as usize).unwrap_or(0))?;
    let gray = time(&|b| decode_gray(b, &limits).map(|d| d.gray().px.len()).unwrap_or(0))?;
    let zune_luma = time(&|b| {
        let opts = zune_core::options::DecoderOptions::default()
            .jpeg_set_out_colorspace(zune_core::colorspace::ColorSpace::Luma);
        zune_jpeg::JpegDecoder::new_with_options(zune_core::bytestream::ZCursor::new(b), opts)
            .decode()
            .map(|v| v.len())
            .unwrap_or(0)
    })?;
    let plain = time(&|b| image::load_from_memory(b).map(|i| i.to_rgb8().len()).unwrap_or(0))?;
    println!(
        "{}",
        serde_json::json!({
            "images": names.len(),
            "rgb_ms": rgb,
            "gray_only_ms": gray,
            "image_crate_rgb_ms": plain,
            "zune_luma_raw_ms": zune_luma,
        })
    );
    Ok(())
}
