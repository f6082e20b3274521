//! Detector A finds generated plates: a plate-like rectangle with dark
//! glyphs on a cluttered background, across sizes, angles and contrasts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod plate_common;

use haul_stages::plate::{Params, PlateDetector};
use plate_common::scenes::{SceneSpec, scene, varied};

fn detector() -> PlateDetector {
    PlateDetector::new(&Params::default()).expect("default params are valid")
}

#[test]
fn generated_plates_are_found_by_the_classical_detector() {
    let det = detector();
    let scenes = varied(36, 7);
    let mut top1 = 0;
    let mut misses = Vec::new();
    for (spec, gray, truth) in &scenes {
        let boxes = det.detect_gray(gray);
        let rank = boxes.iter().position(|b| b.rect.iou(truth) >= 0.5);
        match rank {
            Some(0) => top1 += 1,
            Some(_) => {}
            None => misses.push((
                spec.seed,
                spec.plate_w,
                spec.angle,
                spec.contrast,
                boxes.first().map(|b| b.rect),
            )),
        }
    }
    println!("top-1 {top1}/{}; missed {}: {misses:?}", scenes.len(), misses.len());
    assert!(
        misses.is_empty(),
        "plates not found in the first five boxes: {misses:?}"
    );
    assert!(top1 * 10 >= scenes.len() * 9, "top-1 {top1} of {}", scenes.len());
}

#[test]
fn small_tilted_low_contrast_plate_is_found() {
    let spec = SceneSpec {
        width: 640,
        height: 480,
        plate_w: 90.0,
        angle: -7.0,
        contrast: 70.0,
        seed: 99,
        aspect: 0.0,
        glyph_ratio: 0.0,
    };
    let (gray, truth) = scene(&spec);
    let boxes = detector().detect_gray(&gray);
    assert!(
        boxes.iter().any(|b| b.rect.iou(&truth) >= 0.5),
        "{truth:?} not in {boxes:?}"
    );
}

#[test]
fn plates_of_other_layouts_are_found_among_the_first_boxes() {
    // Squarer plates with smaller glyphs (North-American-like 2:1, 50%).
    let det = detector();
    let mut found = 0;
    let n = 12;
    for i in 0..n {
        let spec = SceneSpec {
            width: 640,
            height: 480,
            plate_w: 110.0 + 10.0 * i as f64,
            angle: -5.0 + i as f64,
            contrast: 90.0 + 8.0 * i as f64,
            seed: 500 + i as u64,
            aspect: 2.0,
            glyph_ratio: 0.5,
        };
        let (gray, truth) = scene(&spec);
        let boxes = det.detect_gray(&gray);
        if boxes.iter().any(|b| b.rect.iou(&truth) >= 0.5) {
            found += 1;
        } else {
            println!(
                "missed {truth:?}: {:?}",
                boxes.iter().map(|b| b.rect).collect::<Vec<_>>()
            );
        }
    }
    println!("other layout: {found}/{n} found in the first five boxes");
    assert!(found * 6 >= n * 5, "{found} of {n}");
}
