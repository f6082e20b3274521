//! Plate reading with a user-supplied ONNX network, on the tiny network of
//! `tests/fixtures/plate_read` (a black bar reads `1`, a white bar `A`, mid-gray is the
//! CTC blank) and generated photos.
#![cfg(feature = "read")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use haul_pipeline::ErrorClass;
use haul_stages::plate::{Gray, Params, PlateDetector, PlateError, ReadParams, Reader, Rect};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/plate_read")
        .join(name)
}

fn params() -> ReadParams {
    ReadParams {
        region: "none".into(),
        ..ReadParams::new(fixture("tiny_rec.onnx"))
    }
}

/// A gray photo with a plate at `plate`: mid-gray ground (as the rest of the photo), one
/// bar per symbol (`1` black, `A` white), `rows` rows of bars, rotated by `deg` about the
/// plate's centre. Mostly black bars make it dark text on a light ground.
fn photo(plate: Rect, rows: &[&str], deg: f64) -> Gray {
    let mut g = Gray::filled(360, 240, 128);
    let (cx, cy) = plate.center();
    let (s, c) = deg.to_radians().sin_cos();
    let row_h = f64::from(plate.height) * 0.62 / rows.len() as f64;
    for y in 0..g.h {
        for x in 0..g.w {
            // Back-rotate into plate coordinates.
            let (dx, dy) = (x as f64 - cx, y as f64 - cy);
            let (u, v) = (dx * c + dy * s, -dx * s + dy * c);
            let (u, v) = (u + f64::from(plate.width) / 2.0, v + f64::from(plate.height) / 2.0);
            if u < 0.0 || v < 0.0 || u >= f64::from(plate.width) || v >= f64::from(plate.height) {
                continue;
            }
            g.px[y * g.w + x] = shade(rows, u, v, f64::from(plate.height), row_h);
        }
    }
    g
}

fn shade(rows: &[&str], u: f64, v: f64, plate_h: f64, row_h: f64) -> u8 {
    let gap = 0.4 * row_h;
    let top = (plate_h - row_h * rows.len() as f64 - gap * (rows.len() - 1) as f64) / 2.0;
    for (i, text) in rows.iter().enumerate() {
        let y0 = top + i as f64 * (row_h + gap);
        if v < y0 || v >= y0 + row_h {
            continue;
        }
        let (bar, step) = (0.28 * row_h, 0.62 * row_h);
        let x0 = 14.0;
        let k = ((u - x0) / step).floor();
        if k >= 0.0 && (u - x0 - k * step) < bar && (k as usize) < text.len() {
            return if text.as_bytes()[k as usize] == b'1' { 0 } else { 255 };
        }
    }
    128
}

#[test]
fn a_plate_of_bars_reads_as_its_symbols_with_confidences_and_its_box() {
    let plate = Rect::new(80, 90, 200, 56);
    let reader = Reader::new(&params()).expect("tiny model");
    let r = reader.read(&photo(plate, &["11A11"], 0.0), plate).expect("read");
    assert_eq!(r.text, "11A11");
    assert_eq!(r.chars.len(), 5);
    assert!(r.confidence > 0.9, "{r:?}");
    assert!(r.chars.iter().all(|c| c.confidence >= r.confidence));
    assert_eq!((r.rect, r.rows, r.pattern.as_deref()), (plate, 1, None));
}

#[test]
fn a_skewed_plate_is_straightened_before_reading() {
    let plate = Rect::new(80, 90, 200, 56);
    let reader = Reader::new(&params()).expect("tiny model");
    let r = reader.read(&photo(plate, &["1A111"], 6.0), plate).expect("read");
    assert_eq!(r.text, "1A111");
    assert!((r.skew_deg - 6.0).abs() <= 1.0, "skew {}", r.skew_deg);
}

#[test]
fn a_two_row_plate_reads_the_top_row_then_the_bottom_row() {
    let plate = Rect::new(110, 60, 130, 110);
    let reader = Reader::new(&params()).expect("tiny model");
    let r = reader.read(&photo(plate, &["11", "1A11"], 0.0), plate).expect("read");
    assert_eq!((r.text.as_str(), r.rows), ("111A11", 2));
}

#[test]
fn exporter_idioms_read_the_same_as_the_plain_network() {
    // The spelt-out hard-swish and the int32 shape arithmetic of paddle2onnx exports are
    // rewritten before loading; shape arithmetic through float is typed per width.
    let plates = [
        (Rect::new(80, 90, 200, 56), "11A11"),
        (Rect::new(60, 90, 260, 56), "1A1A111"),
    ];
    for model in ["tiny_rec_paddle.onnx", "tiny_rec_float_shape.onnx"] {
        let with = ReadParams {
            model: fixture(model),
            ..params()
        };
        let (plain, other) = (Reader::new(&params()).expect("tiny"), Reader::new(&with).expect(model));
        for (plate, text) in plates {
            let g = photo(plate, &[text], 0.0);
            let (a, b) = (
                plain.read(&g, plate).expect("read"),
                other.read(&g, plate).expect(model),
            );
            assert_eq!((a.text.as_str(), b.text.as_str()), (text, text), "{model}");
            assert!((a.confidence - b.confidence).abs() < 1e-4, "{model}: {a:?} {b:?}");
        }
    }
}

#[test]
fn a_format_decides_a_symbol_the_glyphs_leave_open() {
    let plate = Rect::new(80, 90, 200, 56);
    let g = photo(plate, &["1A11"], 0.0);
    // A letter first: the black bar (`1`) becomes its look-alike `I`.
    let with = ReadParams {
        patterns: vec!["@@##".into()],
        ..params()
    };
    let r = Reader::new(&with).expect("reader").read(&g, plate).expect("read");
    assert_eq!((r.text.as_str(), r.pattern.as_deref()), ("IA11", Some("@@##")));
    // A format the glyphs do not fit: free text wins, unless a format is required, where
    // the forced reading says how unsure it is.
    let five = ReadParams {
        patterns: vec!["#####".into()],
        ..params()
    };
    let r = Reader::new(&five).expect("reader").read(&g, plate).expect("read");
    assert_eq!((r.text.as_str(), r.pattern.as_deref()), ("1A11", None));
    let strict = ReadParams {
        require_pattern: true,
        ..five
    };
    let r = Reader::new(&strict).expect("reader").read(&g, plate).expect("read");
    assert_eq!((r.text.len(), r.pattern.as_deref()), (5, Some("#####")));
    assert!(
        r.text.chars().all(|c| c.is_ascii_digit()) && r.confidence < 0.5,
        "{r:?}"
    );
}

#[test]
fn the_character_list_comes_from_the_metadata_or_a_keys_file() {
    let plate = Rect::new(80, 90, 200, 56);
    let g = photo(plate, &["11A1"], 0.0);
    let keys = ReadParams {
        model: fixture("tiny_rec_nometa.onnx"),
        charset: Some(fixture("keys.txt")),
        ..params()
    };
    let r = Reader::new(&keys).expect("keys file").read(&g, plate).expect("read");
    assert_eq!(r.text, "11A1");
    let none = ReadParams {
        model: fixture("tiny_rec_nometa.onnx"),
        ..params()
    };
    let e = Reader::new(&none).expect_err("no list anywhere");
    assert!(
        matches!(e, PlateError::Charset { .. }) && e.to_string().contains("`charset`"),
        "{e}"
    );
}

#[test]
fn a_charset_that_does_not_fit_the_output_is_a_permanent_error_naming_both_sizes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let keys = dir.path().join("keys.txt");
    std::fs::write(&keys, "1\nA\nB\nC\n").expect("write");
    let p = ReadParams {
        charset: Some(keys),
        ..params()
    };
    let e = Reader::new(&p).expect_err("4 characters, 4 classes");
    assert!(e.is_permanent());
    let msg = e.to_string();
    assert!(
        msg.contains("4 characters") && msg.contains("4 output classes"),
        "{msg}"
    );
}

#[test]
fn a_model_file_that_is_not_onnx_is_a_permanent_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, bytes) in [
        ("rec.onnx", &b"\xff\xd8\xff\xe0 not a network"[..]),
        ("empty.onnx", &b""[..]),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).expect("write");
        let e = Reader::new(&ReadParams::new(&path)).expect_err(name);
        assert!(matches!(e, PlateError::Model { .. }) && e.is_permanent(), "{name}: {e}");
        assert!(e.to_string().contains(name), "{e}");
    }
    let e = Reader::new(&ReadParams::new(dir.path().join("missing.onnx"))).expect_err("missing");
    assert!(e.is_permanent() && e.to_string().contains("missing.onnx"), "{e}");
}

#[test]
fn the_stage_output_carries_each_box_reading_and_the_best_text() {
    let plate = Rect::new(80, 90, 200, 56);
    let g = photo(plate, &["11A11"], 0.0);
    let detector = PlateDetector::new(&Params {
        read: Some(params()),
        ..Params::default()
    })
    .expect("detector");
    let boxes = vec![haul_stages::plate::PlateBox {
        rect: plate,
        score: 1.0,
        detector: "cascade",
    }];
    let readings = detector.read_boxes(&g, &boxes).expect("read");
    assert_eq!(readings.len(), 1);
    assert_eq!(readings[0].text, "11A11");
    let json = serde_json::to_value(&readings[0]).expect("json");
    for key in ["text", "confidence", "chars", "rect", "rows", "ms"] {
        assert!(json.get(key).is_some(), "{key} missing in {json}");
    }
}

#[test]
fn the_evaluation_reports_text_figures_for_truth_and_detected_boxes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let plate = Rect::new(80, 90, 200, 56);
    let g = photo(plate, &["11A11"], 0.0);
    let img = image::GrayImage::from_raw(g.w as u32, g.h as u32, g.px.clone()).expect("image");
    img.save(dir.path().join("car.png")).expect("png");
    std::fs::write(dir.path().join("car.txt"), "car.png\t80\t90\t200\t56\t11-A11\n").expect("truth");
    let p = Params {
        read: Some(params()),
        ..Params::default()
    };
    let report = haul_stages::plate::evaluate(dir.path(), &p).expect("evaluate");
    let text = report.text.expect("text figures");
    assert_eq!(text.plates_with_text, 1);
    assert_eq!((text.text_exact_on_truth_box, text.text_char_accuracy), (1.0, 1.0));
    assert!(text.read_ms_per_plate > 0.0);
    let json = serde_json::to_value(&report).expect("json");
    for key in [
        "text_exact_on_truth_box",
        "text_char_accuracy",
        "text_exact_end_to_end",
        "read_ms_per_plate",
    ] {
        assert!(json.get(key).is_some(), "{key} missing");
    }
}
