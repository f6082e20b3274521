//! The pure-Rust cascade returns exactly OpenCV's boxes (raw candidates and
//! grouped detections) on generated images, for Haar stumps, Haar trees,
//! tilted Haar features and LBP, using the BSD-licensed cascades that come
//! with OpenCV (pip `opencv-python-headless`, Debian `opencv-data`).
//!
//! The oracle is `scripts/cascade_oracle.py`. Without it the test prints why
//! and passes, unless `HAUL_REQUIRE_INTEROP=1`, which turns that into a failure.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod plate_common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use haul_stages::plate::cascade::{Cascade, MultiScale};
use haul_stages::plate::{Gray, Rect};
use plate_common::scenes::{SceneSpec, faces, png, scene};
use serde_json::Value;

/// Skips (one printed line), or fails when interop is required.
fn unavailable(reason: &str) -> anyhow::Result<()> {
    haul_pipeline::testing::skip(&format!("the OpenCV oracle is unavailable: {reason}"));
    Ok(())
}

fn oracle_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/plate/cascade_oracle.py")
}

fn python() -> String {
    std::env::var("HAUL_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Cascade folders reported by the oracle, or why there is no oracle.
fn oracle_dirs() -> Result<Vec<PathBuf>, String> {
    let out = Command::new(python())
        .arg(oracle_script())
        .arg("--list-cascade-dirs")
        .output()
        .map_err(|e| format!("cannot run {}: {e}", python()))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
    }
    let v: Value = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    Ok(v["dirs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d.as_str().map(PathBuf::from))
        .collect())
}

fn find(dirs: &[PathBuf], name: &str) -> Option<PathBuf> {
    dirs.iter().map(|d| d.join(name)).find(|p| p.is_file())
}

fn rects(v: &Value, with_n: bool) -> BTreeSet<Vec<i64>> {
    v.as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            r.as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_i64)
                .take(if with_n { 5 } else { 4 })
                .collect()
        })
        .collect()
}

fn ours(cascade: &Cascade, g: &Gray, p: &MultiScale) -> (BTreeSet<Vec<i64>>, BTreeSet<Vec<i64>>) {
    let v = |r: &Rect| vec![i64::from(r.x), i64::from(r.y), i64::from(r.width), i64::from(r.height)];
    let grouped = cascade.detect_multi_scale(&g.px, g.w, g.h, p).0;
    let raw = cascade
        .detect_candidates(&g.px, g.w, g.h, &MultiScale { min_neighbors: 0, ..*p })
        .0;
    (
        raw.iter().map(v).collect(),
        grouped
            .iter()
            .map(|(r, n)| {
                let mut x = v(r);
                x.push(i64::from(*n));
                x
            })
            .collect(),
    )
}

fn images(dir: &Path) -> anyhow::Result<Vec<(PathBuf, Gray)>> {
    let mut out = Vec::new();
    for (i, (w, h)) in [(240, 180), (300, 220), (280, 280)].into_iter().enumerate() {
        out.push(faces(w, h, 11 + i as u64));
    }
    for seed in [5, 6] {
        let spec = SceneSpec {
            width: 400,
            height: 300,
            plate_w: 130.0,
            angle: 3.0,
            contrast: 140.0,
            seed,
            aspect: 0.0,
            glyph_ratio: 0.0,
        };
        out.push(scene(&spec).0);
    }
    out.into_iter()
        .enumerate()
        .map(|(i, g)| {
            let path = dir.join(format!("img{i}.png"));
            std::fs::write(&path, png(&g)).with_context(|| format!("write {}", path.display()))?;
            Ok((path, g))
        })
        .collect()
}

fn compare(xml: &Path, imgs: &[(PathBuf, Gray)], p: &MultiScale) -> anyhow::Result<usize> {
    let cascade = Cascade::load(xml)?;
    let out = Command::new(python())
        .arg(oracle_script())
        .args(["--cascade", &xml.to_string_lossy()])
        .args(["--scale-factor", &p.scale_factor.to_string()])
        .args(["--min-neighbors", &p.min_neighbors.to_string()])
        .args(["--min-size", &p.min_size.0.to_string(), &p.min_size.1.to_string()])
        .args(imgs.iter().map(|(path, _)| path.as_os_str()))
        .output()
        .context("run oracle")?;
    if !out.status.success() {
        bail!(
            "oracle failed on {}: {}",
            xml.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let v: Value = serde_json::from_slice(&out.stdout)?;
    let results = v["results"].as_array().context("oracle results")?;
    let mut total = 0;
    for ((path, g), r) in imgs.iter().zip(results) {
        let (raw, grouped) = ours(&cascade, g, p);
        let (cv_raw, cv_grouped) = (rects(&r["candidates"], false), rects(&r["grouped"], true));
        let name = xml
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        anyhow::ensure!(
            raw == cv_raw,
            "{name} on {}: candidates differ\n ours {raw:?}\n cv   {cv_raw:?}",
            path.display()
        );
        anyhow::ensure!(
            grouped == cv_grouped,
            "{name} on {}: groups differ\n ours {grouped:?}\n cv   {cv_grouped:?}",
            path.display()
        );
        total += raw.len();
    }
    println!("{}: {total} candidates identical to OpenCV's", xml.display());
    Ok(total)
}

/// (file, scaleFactor, minNeighbors, minSize, also run threaded, must fire)
type Case = (&'static str, f64, i32, (i32, i32), bool, bool);

const CASES: [Case; 5] = [
    ("haarcascade_frontalface_default.xml", 1.1, 3, (0, 0), true, true),
    ("haarcascade_eye_tree_eyeglasses.xml", 1.1, 2, (0, 0), false, true),
    ("haarcascade_russian_plate_number.xml", 1.1, 3, (60, 20), false, true),
    ("lbpcascade_frontalface_improved.xml", 1.1, 3, (0, 0), false, false),
    ("lbpcascade_frontalface.xml", 1.2, 3, (24, 24), true, true),
];

/// Compares every case whose cascade is installed; returns the missing ones.
fn run_cases(dirs: &[PathBuf], imgs: &[(PathBuf, Gray)]) -> anyhow::Result<Vec<&'static str>> {
    let mut missing = Vec::new();
    for (name, scale_factor, min_neighbors, min_size, threaded, must_fire) in CASES {
        let Some(xml) = find(dirs, name) else {
            missing.push(name);
            continue;
        };
        let p = MultiScale {
            scale_factor,
            min_neighbors,
            min_size,
            ..MultiScale::default()
        };
        let hits = compare(&xml, imgs, &p)?;
        anyhow::ensure!(
            !must_fire || hits > 0,
            "{name} found nothing: the comparison would prove little"
        );
        if threaded {
            compare(&xml, imgs, &MultiScale { parallel: true, ..p })?;
        }
    }
    Ok(missing)
}

#[test]
fn cascade_boxes_match_opencv_on_generated_images() -> anyhow::Result<()> {
    let dirs = match oracle_dirs() {
        Ok(d) => d,
        Err(reason) => return unavailable(&reason),
    };
    let tmp = std::env::temp_dir().join(format!("haul-cascade-parity-{}", std::process::id()));
    std::fs::create_dir_all(&tmp)?;
    let imgs = images(&tmp)?;
    let result = run_cases(&dirs, &imgs);
    let _ = std::fs::remove_dir_all(&tmp);
    let missing = result?;
    if missing.iter().any(|m| m.starts_with("lbp")) {
        let reason = format!("cascades not found (install Debian opencv-data): {missing:?}");
        unavailable(&reason)?;
    }
    Ok(())
}
