//! Scoring plate reading: the text read on the ground-truth box (the reader alone) and on
//! the top-ranked detected box (end to end), against the ground truth's text. Texts are
//! compared after upper-casing and keeping letters and digits only (spaces, dashes and
//! other separators dropped).

use serde::Serialize;

use super::decode::{DecodeLimits, decode_gray};
use super::detect::Detection;
use super::error::PlateError;
use super::geometry::Rect;
use super::read::Reader;

/// Reading figures over a data set (photos whose ground truth has a text).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TextReport {
    /// Photos with a ground-truth text.
    pub plates_with_text: usize,
    /// Share read exactly on the ground-truth box.
    pub text_exact_on_truth_box: f64,
    /// `1 - edit distance / length` over all ground-truth characters, on the truth box.
    pub text_char_accuracy: f64,
    /// Share read exactly on the top-ranked detected box.
    pub text_exact_end_to_end: f64,
    /// Mean milliseconds to read one box (the truth box: line, network, decoding).
    pub read_ms_per_plate: f64,
}

/// Reading results on one photo.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TextResult {
    /// The ground truth's text, normalised.
    pub truth_text: String,
    /// The text read on the ground-truth box.
    pub text_on_truth_box: String,
    /// The text read on the top-ranked detected box (empty when nothing was found).
    pub text_end_to_end: String,
    /// Edit distance between the truth-box reading and the truth.
    pub char_errors: usize,
    /// Milliseconds to read the truth box.
    pub read_ms: f64,
    /// Width of the network input for the truth box (height: the model's).
    pub input_width: usize,
}

/// Upper case, letters and digits only.
pub fn normalise(text: &str) -> String {
    text.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Levenshtein distance over characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let next = (row[j + 1] + 1).min(row[j] + 1).min(diag + usize::from(ca != cb));
            diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// Reads the truth box of a photo and takes the end-to-end text from its detection.
pub fn score_text(
    reader: &Reader,
    bytes: &[u8],
    limits: &DecodeLimits,
    truth: &Rect,
    truth_text: &str,
    detection: Option<&Detection>,
) -> Result<TextResult, PlateError> {
    let decoded = decode_gray(bytes, limits)?;
    let reading = reader.read(decoded.gray(), *truth)?;
    let truth_text = normalise(truth_text);
    let end_to_end = detection.and_then(|d| d.readings.first()).map(|r| r.text.clone());
    Ok(TextResult {
        char_errors: edit_distance(&reading.text, &truth_text),
        text_on_truth_box: reading.text,
        text_end_to_end: end_to_end.unwrap_or_default(),
        truth_text,
        read_ms: reading.ms,
        input_width: reading.input_width,
    })
}

/// The figures over the photos that have a text result.
pub fn summarise<'a>(results: impl Iterator<Item = &'a TextResult>) -> Option<TextReport> {
    let rows: Vec<&TextResult> = results.filter(|r| !r.truth_text.is_empty()).collect();
    if rows.is_empty() {
        return None;
    }
    let n = rows.len() as f64;
    let chars: usize = rows.iter().map(|r| r.truth_text.chars().count()).sum();
    let errors: usize = rows.iter().map(|r| r.char_errors).sum();
    let share = |f: &dyn Fn(&TextResult) -> bool| rows.iter().filter(|r| f(r)).count() as f64 / n;
    Some(TextReport {
        plates_with_text: rows.len(),
        text_exact_on_truth_box: share(&|r| r.text_on_truth_box == r.truth_text),
        text_char_accuracy: 1.0 - errors as f64 / chars.max(1) as f64,
        text_exact_end_to_end: share(&|r| r.text_end_to_end == r.truth_text),
        read_ms_per_plate: rows.iter().map(|r| r.read_ms).sum::<f64>() / n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_compare_upper_case_without_separators() {
        assert_eq!(normalise("rk-755 aj·"), "RK755AJ");
        assert_eq!(edit_distance("RK755AJ", "RK755AJ"), 0);
        assert_eq!(edit_distance("RK75AJ", "RK755AJ"), 1);
        assert_eq!(edit_distance("XK755AJ1", "RK755AJ"), 2);
        assert_eq!(edit_distance("", "ABC"), 3);
    }

    #[test]
    fn the_summary_counts_exact_reads_and_character_errors() {
        let row = |truth: &str, read: &str, e2e: &str| TextResult {
            truth_text: truth.into(),
            text_on_truth_box: read.into(),
            text_end_to_end: e2e.into(),
            char_errors: edit_distance(read, truth),
            read_ms: 2.0,
            input_width: 224,
        };
        let rows = [row("AB12", "AB12", ""), row("CD34", "CD3", "CD34"), row("", "X", "X")];
        let s = summarise(rows.iter()).expect("two rows with a text");
        assert_eq!(s.plates_with_text, 2);
        assert_eq!(s.text_exact_on_truth_box, 0.5);
        assert_eq!(s.text_exact_end_to_end, 0.5);
        assert!((s.text_char_accuracy - 7.0 / 8.0).abs() < 1e-12);
        assert!(summarise([].iter()).is_none());
    }
}
