//! Runs the pure-Rust cascade on gray images and prints the same JSON as
//! `scripts/cascade_oracle.py`, for parity checks and timing.
//!
//! cargo run --release --example cascade_dump -- CASCADE SCALE MIN_NEIGHBORS MIN_W MIN_H [--parallel] [--repeat N] IMAGES...

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use haul_stages::plate::cascade::{Cascade, MultiScale};

fn main() -> anyhow::Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let parallel = take_flag(&mut args, "--parallel");
    let repeat = take_value(&mut args, "--repeat")?.unwrap_or(1).max(1);
    if args.len() < 5 {
        bail!("usage: cascade_dump CASCADE SCALE MIN_NEIGHBORS MIN_W MIN_H [--parallel] [--repeat N] IMAGES...");
    }
    let cascade = Cascade::load(&PathBuf::from(&args[0]))?;
    let params = MultiScale {
        scale_factor: args[1].parse().context("scale factor")?,
        min_neighbors: args[2].parse().context("min neighbors")?,
        min_size: (args[3].parse().context("min w")?, args[4].parse().context("min h")?),
        max_size: (0, 0),
        parallel,
    };
    let candidate_params = MultiScale {
        min_neighbors: 0,
        ..params
    };
    let mut results = Vec::new();
    for path in &args[5..] {
        let gray = image::open(path).with_context(|| format!("open {path}"))?.to_luma8();
        let (w, h) = (gray.width() as usize, gray.height() as usize);
        let mut best = f64::INFINITY;
        let mut grouped = Vec::new();
        for _ in 0..repeat {
            let t0 = Instant::now();
            grouped = cascade.detect_multi_scale(gray.as_raw(), w, h, &params).0;
            best = best.min(t0.elapsed().as_secs_f64() * 1000.0);
        }
        let (cands, _) = cascade.detect_candidates(gray.as_raw(), w, h, &candidate_params);
        results.push(serde_json::json!({
            "file": path,
            "width": w,
            "height": h,
            "grouped": grouped.iter().map(|(r, n)| [r.x, r.y, r.width, r.height, *n]).collect::<Vec<_>>(),
            "candidates": cands.iter().map(|r| [r.x, r.y, r.width, r.height]).collect::<Vec<_>>(),
            "ms": best,
        }));
    }
    println!("{}", serde_json::json!({ "results": results }));
    Ok(())
}

fn take_flag(args: &mut Vec<String>, name: &str) -> bool {
    let before = args.len();
    args.retain(|a| a != name);
    args.len() != before
}

fn take_value(args: &mut Vec<String>, name: &str) -> anyhow::Result<Option<usize>> {
    let Some(i) = args.iter().position(|a| a == name) else {
        return Ok(None);
    };
    if i + 1 >= args.len() {
        bail!("{name} needs a value");
    }
    let v = args[i + 1].parse().with_context(|| format!("{name} value"))?;
    args.drain(i..=i + 1);
    Ok(Some(v))
}
